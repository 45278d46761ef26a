"""Notebook content the reader and the code preparation must survive (no sandbox)."""

from __future__ import annotations

import json

import pytest

from course_pkg.grading.notebook import NotebookError, code_cells, parse_notebook, strip_magics
from course_pkg.grading.static import find_forbidden

from .nbfactory import CORRECT_01, notebook


def _nb(cells, **extra) -> dict:
    return dict(
        {
            "nbformat": 4,
            "nbformat_minor": 5,
            "metadata": {},
            "cells": [
                {"cell_type": "code", "source": c, "metadata": {}, "outputs": []} for c in cells
            ],
        },
        **extra,
    )


def _raw(nb) -> bytes:
    return json.dumps(nb).encode()


@pytest.mark.parametrize(
    "raw, key",
    [
        (b"", "nb_bad_json"),
        (b"{not json", "nb_bad_json"),
        (b"\xff\xfe{}", "nb_bad_json"),
        (b"[" * 100_000, "nb_bad_json"),
        (b"null", "nb_not_notebook"),
        (b"[]", "nb_not_notebook"),
        (b'{"cells": {}}', "nb_not_notebook"),
        (b'{"nbformat": 4}', "nb_not_notebook"),
        (b'{"nbformat": 3, "cells": []}', "nb_bad_version"),
        (b'{"nbformat": "4", "cells": []}', "nb_bad_version"),
        (b'{"nbformat": true, "cells": []}', "nb_bad_version"),
        (b'{"nbformat": 4, "cells": [1]}', "nb_not_notebook"),
        (b'{"nbformat": 4, "cells": [{"cell_type": "code", "source": 5}]}', "nb_not_notebook"),
        (b'{"nbformat": 4, "cells": [{"cell_type": "code", "source": [1, 2]}]}', "nb_not_notebook"),
        (b"\x00" * 64, "nb_bad_json"),
    ],
)
def test_unusable_notebooks_name_the_problem(raw, key):
    with pytest.raises(NotebookError) as err:
        parse_notebook(raw)
    assert err.value.key == key


def test_bom_and_lone_surrogates_are_readable():
    nb = _nb(["x = '\ud800'\n", CORRECT_01], metadata={"course": {"lang": "\udcff"}})
    raw = b"\xef\xbb\xbf" + _raw(nb)  # json.dumps escapes the surrogates as \ud800
    parsed = parse_notebook(raw)
    cells = code_cells(parsed)
    assert len(cells) == 2  # the surrogate cell is kept as is: the sandbox reports it


@pytest.mark.parametrize(
    "source",
    [
        "x = 1\x00\n",
        "x = '\ud800'\n",
        "(" * 5000 + ")" * 5000,
        "-" * 200_000 + "1",
        "def f(:\n",
        "\t\n  x\n\ty\n",
        "é = 1\n" * 10,
        "if True:\n" + "    " * 200 + "pass\n",
        "x = " + "[" * 3000 + "]" * 3000,
    ],
)
def test_code_the_parser_rejects_is_kept_for_the_sandbox(source):
    cells = code_cells(_nb([source, CORRECT_01]))
    assert cells[-1]["source"] == CORRECT_01
    find_forbidden(cells, {"attrs": {"scaled_dot_product_attention"}, "modules": set()})


def test_ten_thousand_cells_are_prepared():
    cells = code_cells(_nb([f"x{i} = {i}\n" for i in range(10_000)] + [CORRECT_01]))
    assert len(cells) == 10_001


def test_huge_outputs_are_ignored():
    nb = _nb([CORRECT_01])
    nb["cells"][0]["outputs"] = [
        {"output_type": "stream", "name": "stdout", "text": "x" * 5_000_000}
    ]
    assert code_cells(parse_notebook(_raw(nb)))[0]["source"] == CORRECT_01


def test_definitions_are_never_stripped_with_selfcheck_names():
    cells = [
        "from course_pkg.teaching.selfcheck import check\nresult = check('attention')\n",
        CORRECT_01.replace(
            "    return weights @ v, weights",
            "    result = weights @ v\n    return result, weights",
        ),
        "print(result)\n",
    ]
    prepared = code_cells(_nb(cells))
    assert [c["index"] for c in prepared] == [1]  # the self-check cells go, the def stays
    assert "result = weights @ v" in prepared[0]["source"]


def test_selfcheck_call_beside_a_definition_keeps_the_definition():
    cell = (
        "from course_pkg import selfcheck\n"
        + CORRECT_01
        + "selfcheck.check(scaled_dot_product_attention)\n"
    )
    source = code_cells(_nb([cell]))[0]["source"]
    assert "def scaled_dot_product_attention" in source and "selfcheck.check" not in source
    assert len(source.split("\n")) == len(cell.split("\n"))  # line numbers kept


@pytest.mark.parametrize(
    "line",
    [
        "x = 1  # is this right?",
        "s = 'why?'",
        "y = a if b else c  # ok?",
        "d = {'a': 1}  # %matplotlib",
        "z = 10 % 3",
    ],
)
def test_valid_python_is_never_touched_by_magic_stripping(line):
    assert strip_magics(line) == line


@pytest.mark.parametrize(
    "cell, kept",
    [
        ("%matplotlib inline\nx = 1", "x = 1"),
        ("!pip install torch\nx = 1", "x = 1"),
        ("files = !ls\nx = 1", "x = 1"),
        ("len?\nx = 1", "x = 1"),
    ],
)
def test_magics_are_dropped_keeping_line_numbers(cell, kept):
    out = strip_magics(cell)
    assert out.split("\n")[1] == kept and out.split("\n")[0].strip() == "pass"


def test_cell_magic_bodies():
    assert strip_magics("%%bash\nrm -rf /\n") is None
    assert strip_magics("%%time\nx = 1\n").split("\n")[1] == "x = 1"


def test_metadata_of_any_shape_is_tolerated():
    for meta in (
        None,
        [],
        "x",
        {"course": None},
        {"course": {"lang": 5, "assignment": []}},
        {"course": {"assignment": "x" * 10_000}},
    ):
        nb = notebook([CORRECT_01])
        nb["metadata"] = meta
        from course_pkg.grading.notebook import course_metadata

        assert course_metadata(nb) == (None, None)
