"""`tools/translations.py sync-code --from LANG`: one edition's code cells into the other editions."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from course_pkg.teaching.language import LANGS

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tools"))

import translations  # noqa: E402

PROSE = {"ja": "## 説明", "zh": "## 说明", "en": "## Explanation"}


def _cell(kind: str, source: str, cell_id: str, **extra) -> dict:
    cell = {
        "cell_type": kind,
        "id": cell_id,
        "metadata": {},
        "source": source.splitlines(keepends=True),
    }
    if kind == "code":
        cell.update(outputs=[], execution_count=None)
    cell.update(extra)
    return cell


def _notebook(lang: str, code: list[str], extra_prose: int = 0) -> dict:
    cells = [_cell("markdown", f"# {lang}", "title")]
    for i, src in enumerate(code):
        cells += [_cell("markdown", PROSE[lang], f"m{i}"), _cell("code", src, f"c{i}")]
    cells += [_cell("markdown", f"{PROSE[lang]} {k}", f"x{k}") for k in range(extra_prose)]
    return {
        "cells": cells,
        "metadata": {"course": {"lang": lang}},
        "nbformat": 4,
        "nbformat_minor": 5,
    }


def _write(path: Path, nb: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


def _code(path: Path) -> list[str]:
    return [
        "".join(c["source"])
        for c in json.loads(path.read_text(encoding="utf-8"))["cells"]
        if c["cell_type"] == "code"
    ]


@pytest.fixture
def repo(tmp_path):
    """book/ and solutions/ with every edition; ja's import line has moved, the others' not yet."""
    old = ["from course_pkg.models.vit import attention\n", "x = attention(1)  # (B, N, D)\n"]
    new = ["from course_pkg.models.attention import attention\n", old[1]]
    for folder, name in (("book", "03_self_attention.ipynb"), ("solutions", "01_attention.ipynb")):
        for lang in LANGS:
            # The English edition has one more Markdown cell: only code cells must correspond.
            _write(
                tmp_path / folder / lang / name,
                _notebook(lang, new if lang == "ja" else old, extra_prose=1 if lang == "en" else 0),
            )
    return tmp_path


def test_copies_the_code_cells_and_keeps_every_editions_prose(repo):
    before = {p: p.read_text(encoding="utf-8") for p in repo.rglob("*.ipynb")}
    plans = translations.sync_code(repo, "ja")
    assert sorted((p.target.relative_to(repo).as_posix(), p.changed) for p in plans) == sorted(
        (f"{folder}/{lang}/{name}", 1)
        for folder, name in (
            ("book", "03_self_attention.ipynb"),
            ("solutions", "01_attention.ipynb"),
        )
        for lang in LANGS
        if lang != "ja"
    )
    for folder in ("book", "solutions"):
        [ja] = (repo / folder / "ja").glob("*.ipynb")
        assert ja.read_text(encoding="utf-8") == before[ja]  # the source edition is not touched
        for lang in LANGS:
            target = repo / folder / lang / ja.name
            assert _code(target) == _code(ja)
            nb = json.loads(target.read_text(encoding="utf-8"))
            assert [c["id"] for c in nb["cells"] if c["cell_type"] == "code"] == ["c0", "c1"]
            prose = ["".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "markdown"]
            assert prose[0] == f"# {lang}" and PROSE[lang] in prose[1]
            # Same on-disk form as the project's notebooks: a second run changes nothing.
            assert (
                target.read_text(encoding="utf-8")
                == json.dumps(nb, indent=1, ensure_ascii=False) + "\n"
            )
    assert all(p.changed == 0 for p in translations.sync_code(repo, "ja"))


def test_refuses_when_the_code_cells_do_not_correspond_and_writes_nothing(repo):
    zh = repo / "book" / "zh" / "03_self_attention.ipynb"
    nb = json.loads(zh.read_text(encoding="utf-8"))
    nb["cells"].append(_cell("code", "print('only in zh')\n", "extra"))
    _write(zh, nb)
    (repo / "solutions" / "en" / "01_attention.ipynb").unlink()
    before = {p: p.read_text(encoding="utf-8") for p in repo.rglob("*.ipynb")}
    with pytest.raises(ValueError) as err:
        translations.sync_code(repo, "ja")
    message = str(err.value)
    assert "copied nothing" in message
    assert (
        f"{zh}: 3 code cells, but {repo / 'book' / 'ja' / '03_self_attention.ipynb'} has 2"
        in message
    )
    assert "solutions/en/01_attention.ipynb does not exist" in message
    assert {p: p.read_text(encoding="utf-8") for p in repo.rglob("*.ipynb")} == before


def test_copies_from_any_edition_and_names_a_bad_one(repo):
    plans = translations.sync_code(repo, "en")
    assert {p.target.parent.name for p in plans} == {"ja", "zh"}
    assert _code(repo / "book" / "ja" / "03_self_attention.ipynb")[0].startswith(
        "from course_pkg.models.vit"
    )
    with pytest.raises(ValueError, match=r"'fr'.*\('ja', 'zh', 'en'\)"):
        translations.sync_code(repo, "fr")


def test_command_line_of_the_repository_is_a_no_op_when_editions_agree():
    """On the repository itself the editions already share their code cells (test_parity)."""
    done = subprocess.run(
        [
            sys.executable,
            str(ROOT / "tools" / "translations.py"),
            "sync-code",
            "--from",
            "ja",
            "--dry-run",
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr
    assert "would copy" not in done.stdout


def test_command_regenerates_the_exercises_of_changed_solutions(repo, monkeypatch, capsys):
    monkeypatch.setattr(translations, "ROOT", repo)
    assert translations.main(["sync-code", "--from", "ja", "--dry-run"]) == 0
    assert (
        "book/zh/03_self_attention.ipynb: would copy 1 code cells from ja"
        in capsys.readouterr().out
    )
    assert not (repo / "exercises").exists()
    assert translations.main(["sync-code", "--from", "ja"]) == 0
    out = capsys.readouterr().out
    for lang in LANGS:
        exercise = repo / "exercises" / lang / "01_attention.ipynb"
        assert f"exercises/{lang}/01_attention.ipynb: regenerated" in out
        assert _code(exercise) == _code(repo / "solutions" / "ja" / "01_attention.ipynb")
    (repo / "book" / "en" / "03_self_attention.ipynb").unlink()
    assert translations.main(["sync-code", "--from", "ja"]) == 1
    assert "book/en/03_self_attention.ipynb does not exist" in capsys.readouterr().err


def test_status_lists_each_edition_whose_counterparts_changed(tmp_path, monkeypatch, capsys):
    book = tmp_path / "book"
    for lang in LANGS:
        (book / lang).mkdir(parents=True)
        (book / lang / "glossary.md").write_text(f"# {lang}\n", encoding="utf-8")
    monkeypatch.setattr(translations, "BOOK", book)
    assert translations.main(["sync", "--all"]) == 0
    assert translations.main(["status"]) == 0 and capsys.readouterr().out == ""
    (book / "zh" / "glossary.md").write_text("# 术语表\n", encoding="utf-8")
    assert translations.main(["status"]) == 1
    assert capsys.readouterr().out.splitlines() == [
        f"{lang}/glossary: its zh counterpart changed since the last sync"
        for lang in LANGS
        if lang != "zh"
    ]
