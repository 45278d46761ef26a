"""The reader's language (ja or zh) and message lookup.

Every module keeps its own table ``{"key": {"ja": ..., "zh": ..., "en": ...}}``
and calls :func:`tr` with it.
"""
from __future__ import annotations

import os
from pathlib import Path

LANGS = ("ja", "zh")
DEFAULT_LANG = "ja"


def normalize_lang(lang: str | None) -> str | None:
    """Map 'ja', 'ja_JP', 'zh', 'zh_CN', 'zh-Hans', 'en' to a short code; None stays None."""
    if lang is None:
        return None
    short = str(lang).replace("-", "_").split("_")[0].lower()
    if short not in LANGS + ("en",):
        raise ValueError(f"language {lang!r} is not supported; expected one of {LANGS + ('en',)}")
    return short


def current_lang(path: str | os.PathLike | None = None) -> str:
    """The language to speak: ``COURSE_LANG``, else a ``ja``/``zh`` folder in the path, else 'ja'.

    ``path`` defaults to the working directory, which Jupyter sets to the notebook's folder.
    """
    env = os.environ.get("COURSE_LANG")
    if env:
        return normalize_lang(env)
    parts = Path(path if path is not None else os.getcwd()).resolve().parts
    for part in reversed(parts):
        if part in LANGS:
            return part
    return DEFAULT_LANG


def tr(messages: dict, key: str, lang: str | None = None, **fmt) -> str:
    """Look ``key`` up in ``messages`` for ``lang`` (default :func:`current_lang`) and format it."""
    lang = normalize_lang(lang) or current_lang()
    try:
        entry = messages[key]
    except KeyError:
        raise ValueError(f"no message {key!r}; known keys: {sorted(messages)}") from None
    text = entry.get(lang) or entry.get("en") or next(iter(entry.values()))
    return text.format(**fmt) if fmt else text
