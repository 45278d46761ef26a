"""Student-controlled text made safe for records, Markdown, HTML and CSV.

Everything a student controls (exception messages, printed output, file names) passes
through :func:`clean` before it is stored: lone surrogates and other characters that
cannot be written as UTF-8 become U+FFFD, NUL and other control characters become
spaces, host paths are cut to their last component, and the length is bounded. The
writers then escape for their format: :func:`md_escape` (CommonMark backslash escapes,
so no emphasis, link, HTML or table cell can be forged), ``html.escape`` and
:func:`csv_cell` (no spreadsheet formula: OWASP "CSV injection").
"""

from __future__ import annotations

import os
import re
import sys
import unicodedata

MAX_TEXT = 300
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
# An absolute path of two or more components: what a grader's path looks like in a message.
_ABS_PATH = re.compile(r"(?<![\w.~])/(?:[^\s/'\"`<>|:,;()\[\]{}]+/)+([^\s/'\"`<>|:,;()\[\]{}]*)")
_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>|#~!])")  # what emphasis, code, links, HTML, tables need
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _host_strings() -> list[str]:
    """The grader's own folders (repository, Python, home), longest first."""
    here = os.path.dirname(os.path.abspath(__file__))
    repo = os.path.dirname(os.path.dirname(here))
    found = {repo, sys.prefix, sys.base_prefix, os.path.expanduser("~")}
    found |= {p.lstrip("/") for p in found}
    return sorted((p for p in found if len(p) > 4), key=len, reverse=True)


_HOST_STRINGS = _host_strings()


def scrub(text: str) -> str:
    """``text`` with every lone surrogate replaced by U+FFFD (always encodable as UTF-8)."""
    if not isinstance(text, str):
        text = str(text)
    if not _has_surrogate(text):
        return text
    return text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")


def _has_surrogate(text: str) -> bool:
    try:
        text.encode("utf-8")
        return False
    except UnicodeEncodeError:
        return True


def clean(text, limit: int = MAX_TEXT) -> str:
    """Student text for a record: encodable, one line, no host path, at most ``limit`` chars."""
    text = scrub(text)
    text = _CONTROL.sub(" ", text.replace("\n", " ").replace("\r", " "))
    text = _ABS_PATH.sub(lambda m: "…/" + m.group(1), text)
    for host in _HOST_STRINGS:  # the grader's folders however they were cut up
        text = text.replace(host, "…")
    return bounded(text, limit)


def bounded(text: str, limit: int = MAX_TEXT) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def scrub_tree(value):
    """A JSON-like value with every string :func:`scrub`-bed (records before writing)."""
    if isinstance(value, str):
        return scrub(value)
    if isinstance(value, dict):
        return {scrub(str(k)): scrub_tree(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [scrub_tree(v) for v in value]
    return value


def md_escape(text: str) -> str:
    """``text`` as literal Markdown inline text: one line, every character that could start
    emphasis, code, a link, an image, raw HTML or a table cell backslash-escaped."""
    text = _CONTROL.sub(" ", scrub(text).replace("\r", " ").replace("\n", " "))
    return _MD_SPECIAL.sub(r"\\\1", text)


def csv_cell(value):
    """A CSV cell that no spreadsheet evaluates: text starting with = + - @ gets a quote."""
    if isinstance(value, str):
        value = scrub(value).replace("\r", " ").replace("\n", " ")
        if value.startswith(_FORMULA_START):
            return "'" + value
    return value


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)
