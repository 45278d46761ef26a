"""One message catalogue per language (``ja.py``, ``zh.py``, ``en.py``) for the exercises.

The self-check, the explorers' ✓/✗ and the grader all speak from these tables: the titles of
the properties (``prop.<name>``), their diagnoses (the keys a property raises, see
``course_pkg.exercises.core``) and the self-check's framing. Each table maps a key to a
``str.format`` template; every language has the same keys and the same fields.
"""

from __future__ import annotations

from ...teaching.language import current_lang, normalize_lang
from . import en, ja, zh

LANGS = ("ja", "zh", "en")
CATALOGUES = {"ja": ja.MESSAGES, "zh": zh.MESSAGES, "en": en.MESSAGES}


def has(key: str) -> bool:
    return key in CATALOGUES["en"]


def text(key: str, lang: str | None = None, **fmt) -> str:
    """The message ``key`` in ``lang`` (default: the reader's), formatted with ``fmt``."""
    table = CATALOGUES[normalize_lang(lang) or current_lang()]
    if key not in table:
        raise ValueError(f"no exercise message {key!r}; known keys: {sorted(table)}")
    return table[key].format(**fmt) if fmt else table[key]
