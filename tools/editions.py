"""The course's editions (``course_pkg.teaching.language``) for the build tools, without importing course_pkg.

``course_pkg/__init__.py`` imports torch, which costs each Sphinx build (one per edition) and
every run of the tools about 4 s: the tools read the one list of editions straight from
``course_pkg/teaching/language.py``, a module with no imports of the package.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

_PATH = Path(__file__).resolve().parents[1] / "course_pkg" / "teaching" / "language.py"
_spec = importlib.util.spec_from_file_location("course_editions", _PATH)
_i18n = importlib.util.module_from_spec(_spec)
sys.modules.setdefault(_spec.name, _i18n)
_spec.loader.exec_module(_i18n)

LANGS = _i18n.LANGS
DEFAULT_LANG = _i18n.DEFAULT_LANG
LANG_NAMES = _i18n.LANG_NAMES
HTML_LANG = _i18n.HTML_LANG
normalize_lang = _i18n.normalize_lang
