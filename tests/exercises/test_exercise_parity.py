"""JA/ZH parity of solutions and exercises: same files, identical code cells, own-language prose."""
from __future__ import annotations

import re

import pytest

from ._nb import ASSIGNMENTS, EXERCISES, SOLUTIONS, code_cells, load, source

KANA = re.compile(r"[\u3040-\u30ff]")


@pytest.mark.parametrize("root", [SOLUTIONS, EXERCISES], ids=["solutions", "exercises"])
def test_same_files_in_both_languages(root):
    ja = sorted(p.name for p in (root / "ja").glob("*.ipynb"))
    zh = sorted(p.name for p in (root / "zh").glob("*.ipynb"))
    assert ja == zh == [f"{a}.ipynb" for a in ASSIGNMENTS]


@pytest.mark.parametrize("root", [SOLUTIONS, EXERCISES], ids=["solutions", "exercises"])
@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_code_cells_identical_prose_in_own_language(root, assignment):
    ja, zh = (load(root / lang / f"{assignment}.ipynb") for lang in ("ja", "zh"))
    if root == EXERCISES:  # only the localised stub message may differ
        strip = lambda cells: [re.sub(r'NotImplementedError\(".*"\)', "NIE", c) for c in cells]  # noqa: E731
        assert strip(code_cells(ja)) == strip(code_cells(zh))
    else:
        assert code_cells(ja) == code_cells(zh)
    assert [c["cell_type"] for c in ja["cells"]] == [c["cell_type"] for c in zh["cells"]]
    for lang, nb in (("ja", ja), ("zh", zh)):
        assert nb["metadata"]["course"] == {"lang": lang, "assignment": assignment}
        prose = "\n".join(source(c) for c in nb["cells"] if c["cell_type"] == "markdown")
        assert bool(KANA.search(prose)) == (lang == "ja")


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_solutions_stored_without_outputs(assignment):
    for lang in ("ja", "zh"):
        for cell in load(SOLUTIONS / lang / f"{assignment}.ipynb")["cells"]:
            if cell["cell_type"] == "code":
                assert cell["outputs"] == [] and cell["execution_count"] is None
