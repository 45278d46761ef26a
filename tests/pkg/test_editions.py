"""Every edition (course_pkg.teaching.language.LANGS) is spoken everywhere: messages, figures, widgets, exercises."""

from __future__ import annotations

import importlib
import json
import pkgutil
import re

import matplotlib

matplotlib.use("Agg")

import pytest  # noqa: E402

import course_pkg  # noqa: E402
from course_pkg.teaching import figures as viz  # noqa: E402
from course_pkg.teaching import fonts, live, widgets  # noqa: E402
from course_pkg.teaching import language as i18n  # noqa: E402
from course_pkg.teaching.language import LANGS  # noqa: E402
from course_pkg.teaching.widget_specs import SPECS  # noqa: E402

CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uff00-\uffef]")  # kana, ideographs, full-width forms
FIELD = re.compile(r"{(\w+)")


def _tables(value, where: str):
    """Message tables inside ``value``: dicts whose every value maps some editions to text."""
    if (
        not isinstance(value, dict)
        or not value
        or not all(isinstance(v, dict) and v for v in value.values())
    ):
        return
    if all(set(v) <= set(LANGS) and set(v) & set(LANGS) for v in value.values()):
        yield where, value
        return
    for key, inner in value.items():
        yield from _tables(inner, f"{where}[{key!r}]")


def message_tables() -> dict[str, dict]:
    found = {}
    for info in pkgutil.walk_packages(course_pkg.__path__, "course_pkg."):
        if info.name.endswith("__main__") or info.name == "course_pkg.grading.forkserver":
            continue  # command-line entry points: importing them runs them
        module = importlib.import_module(info.name)
        for name, value in vars(module).items():
            if (
                not name.startswith("_")
                and getattr(value, "__module__", module.__name__) == module.__name__
            ):
                found.update(_tables(value, f"{info.name}.{name}"))
    return found


TABLES = message_tables()


def test_the_message_tables_are_found():
    """The discovery sees the tables every reader-facing module keeps (so the tests below bite)."""
    for module in (
        "teaching.figures",
        "teaching.fonts",
        "teaching.widgets",
        "teaching.live",
        "exercises.generate",
        "grading.messages",
        "train",
    ):
        assert any(where.startswith(f"course_pkg.{module}.") for where in TABLES), module


@pytest.mark.parametrize("where", sorted(TABLES))
def test_every_message_speaks_every_edition_with_the_same_fields(where):
    problems = []
    for key, entry in TABLES[where].items():
        missing = [
            lang
            for lang in LANGS
            if not isinstance(entry.get(lang), str) or not entry[lang].strip()
        ]
        if missing:
            problems.append(f"{key!r}: no {missing}")
            continue
        fields = {lang: sorted(FIELD.findall(entry[lang])) for lang in LANGS}
        if len({tuple(f) for f in fields.values()}) != 1:
            problems.append(f"{key!r}: placeholders differ {fields}")
        if CJK.search(entry["en"]):
            problems.append(f"{key!r}: the English text has CJK characters: {entry['en']!r}")
    assert not problems, problems


@pytest.mark.parametrize(
    "spelling,lang",
    [("en", "en"), ("en_US", "en"), ("EN-gb", "en"), ("zh-Hans", "zh"), ("ja_JP.UTF-8", "ja")],
)
def test_language_names_map_to_editions(spelling, lang):
    assert i18n.normalize_lang(spelling) == lang


@pytest.mark.parametrize("bad", ["fr", "", "english", "e n"])
def test_an_unknown_language_names_itself_and_the_editions(bad):
    with pytest.raises(ValueError, match=re.escape(repr(bad)) + r".*\('ja', 'zh', 'en'\)"):
        i18n.normalize_lang(bad)


def test_the_folder_of_an_edition_chooses_it(tmp_path, monkeypatch):
    monkeypatch.delenv("COURSE_LANG", raising=False)
    for lang in LANGS:
        (tmp_path / "book" / lang / "sub").mkdir(parents=True)
        assert i18n.current_lang(tmp_path / "book" / lang / "sub") == lang
    # The innermost edition folder wins; a folder merely containing "en" in its name does not count.
    assert i18n.lang_of_path(tmp_path / "ja" / "copy" / "en" / "x.ipynb") == "en"
    assert i18n.lang_of_path(tmp_path / "english" / "enx" / "x.ipynb") is None
    assert i18n.lang_of_path(b"/srv/class/zh/\xff.ipynb") == "zh"  # bytes, not UTF-8
    monkeypatch.setenv("COURSE_LANG", "en_US")
    assert i18n.current_lang(tmp_path / "book" / "ja") == "en"


def test_every_edition_has_a_name_and_an_html_tag():
    assert set(i18n.LANG_NAMES) == set(i18n.HTML_LANG) == set(LANGS)
    assert len(set(i18n.LANG_NAMES.values())) == len(LANGS)


@pytest.mark.parametrize("widget", sorted(SPECS))
def test_every_explorer_speaks_english_on_the_page_and_in_the_notebook(widget):
    explorer = widgets.reference_explorer(widget, "en")
    page = live.bundle(explorer)
    assert page["lang"] == "en" and 'lang="en"' in live.page_html(explorer, with_script=False)
    shown = [c["label"] for c in page["controls"]]
    shown += [
        label
        for c in page["controls"]
        for label, _ in c.get("options", [])
        if isinstance(label, str)
    ]
    shown += list(page["text"].values())
    shown += [c.description for c in explorer.controls.values()]
    assert all(isinstance(s, str) and s for s in shown)
    # Photo names and tokens are data; every label and read-out is English.
    assert not [s for s in shown if CJK.search(s)], [s for s in shown if CJK.search(s)]
    texts = [t.get_text() for t in explorer.figure.findobj(matplotlib.text.Text)]
    assert texts and not [t for t in texts if CJK.search(t)], texts


def test_english_figures_keep_a_latin_font_first_and_english_labels():
    import torch

    fonts.setup_fonts("en")
    assert matplotlib.rcParams["font.sans-serif"][0] not in fonts.CJK_FONTS.values()
    ax = viz.show_attention(torch.softmax(torch.randn(3, 4), -1), lang="en")
    assert (ax.get_title(), ax.get_xlabel(), ax.get_ylabel()) == (
        "attention weights",
        "key (column)",
        "query (row)",
    )
    fig = viz.show_mae_triptych(
        torch.rand(3, 8, 8), torch.tensor([1.0, 0, 0, 1]), torch.rand(3, 8, 8), lang="en"
    )
    assert [a.get_title() for a in fig.axes] == [
        "masked (50% hidden)",
        "reconstruction (+ visible)",
        "original",
    ]


def test_english_exercises_stub_in_english(tmp_path):
    from course_pkg.exercises import generate as exercises

    cell = (
        "def f(x):\n    # BEGIN SOLUTION\n    # HINT: return x\n    return x\n    # END SOLUTION\n"
    )
    nb = {
        "nbformat": 4,
        "nbformat_minor": 5,
        "metadata": {},
        "cells": [
            {
                "cell_type": "code",
                "source": cell,
                "metadata": {},
                "outputs": [],
                "execution_count": None,
            }
        ],
    }
    by_folder = exercises.make_exercise(nb, tmp_path / "solutions" / "en" / "01_x.ipynb")
    nb["metadata"]["course"] = {"lang": "en"}
    by_metadata = exercises.make_exercise(nb, tmp_path / "solutions" / "ja" / "01_x.ipynb")
    for ex in (by_folder, by_metadata):
        source = ex["cells"][0]["source"]
        assert json.dumps(exercises.MESSAGES["stub"]["en"]) in source and not CJK.search(source)


def test_the_grader_reads_english_from_metadata_or_folder():
    from course_pkg.grading.notebook import course_metadata, detect_lang

    nb = {"metadata": {"course": {"lang": "en", "assignment": "01_attention"}}}
    assert course_metadata(nb) == ("en", "01_attention")
    assert detect_lang(nb, "/class/ja/taro.ipynb") == "en"
    assert detect_lang({"metadata": {"course": {"lang": "fr"}}}, "/class/en/taro.ipynb") == "en"
    assert detect_lang(None, "/class/misc/taro.ipynb", default="zh") == "zh"
