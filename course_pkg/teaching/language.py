"""The course's editions (ja, zh, en) and message lookup in the reader's language.

:data:`LANGS` is the one list of editions: the book (``book/<lang>``), the exercises, the site
builder, the translation tools and the tests all iterate over it. Every module keeps its own
table ``{"key": {"ja": ..., "zh": ..., "en": ...}}`` with an entry for each edition and calls
:func:`tr` with it.
"""

from __future__ import annotations

import os
from pathlib import Path

LANGS = ("ja", "zh", "en")
DEFAULT_LANG = "ja"
# What each edition calls itself (the language switch, the root page) ...
LANG_NAMES = {"ja": "日本語", "zh": "中文", "en": "English"}
# ... and its BCP 47 tag for HTML's lang attribute (Chinese is written in simplified characters).
HTML_LANG = {"ja": "ja", "zh": "zh-CN", "en": "en"}


def normalize_lang(lang: str | None) -> str | None:
    """Map 'ja', 'ja_JP', 'zh', 'zh_CN', 'zh-Hans', 'en', 'en_US' to a short code; None stays None."""
    if lang is None:
        return None
    short = str(lang).replace("-", "_").split("_")[0].lower()
    if short not in LANGS:
        raise ValueError(f"language {lang!r} is not supported; expected one of {LANGS}")
    return short


def lang_of_path(path: str | os.PathLike) -> str | None:
    """The edition a path belongs to: its innermost folder named after one (``book/en/x`` -> 'en')."""
    for part in reversed(Path(os.fsdecode(path)).parts):
        if part in LANGS:
            return part
    return None


def current_lang(path: str | os.PathLike | None = None) -> str:
    """The language to speak: ``COURSE_LANG``, else an edition's folder in the path, else 'ja'.

    ``path`` defaults to the working directory, which Jupyter sets to the notebook's folder.
    """
    env = os.environ.get("COURSE_LANG")
    if env:
        return normalize_lang(env)
    return lang_of_path(Path(path if path is not None else os.getcwd()).resolve()) or DEFAULT_LANG


def tr(messages: dict, key: str, lang: str | None = None, **fmt) -> str:
    """Look ``key`` up in ``messages`` for ``lang`` (default :func:`current_lang`) and format it."""
    lang = normalize_lang(lang) or current_lang()
    try:
        entry = messages[key]
    except KeyError:
        raise ValueError(f"no message {key!r}; known keys: {sorted(messages)}") from None
    text = entry.get(lang) or entry.get("en") or next(iter(entry.values()))
    return text.format(**fmt) if fmt else text
