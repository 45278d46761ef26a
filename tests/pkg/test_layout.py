"""The package's layout shows its parts (issue 13): models import nothing of training,
teaching or grading; old flat module paths still import; the grader sees through them."""

from __future__ import annotations

import ast
import importlib
import warnings
from pathlib import Path

import pytest

import course_pkg
from course_pkg._moved import MOVED, current_name
from course_pkg.grading.notebook import SKIP_MODULES
from course_pkg.grading.static import find_forbidden

PKG = Path(course_pkg.__file__).resolve().parent
MODEL_FILES = sorted((PKG / "models").glob("*.py"))
ALLOWED_IN_MODELS = {"__future__", "math", "numbers", "typing", "dataclasses", "torch"}


def imports_of(path: Path) -> set[str]:
    """Absolute names of the modules ``path`` imports (relative imports resolved)."""
    rel = path.relative_to(PKG.parent).with_suffix("")
    package = list(rel.parts[:-1])
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            name = ".".join(base + ([node.module] if node.module else []))
            found.add(name)
            if not node.module:
                found.update(f"{name}.{a.name}" for a in node.names)
    return found


@pytest.mark.parametrize("path", MODEL_FILES, ids=lambda p: p.stem)
def test_model_code_imports_only_torch_and_other_models(path):
    for name in imports_of(path):
        top = name.split(".")[0]
        if top == "course_pkg":
            assert name.startswith(("course_pkg.models", "course_pkg._checks")), (path.name, name)
        else:
            assert top in ALLOWED_IN_MODELS, (path.name, name)


def test_every_model_of_the_course_is_in_models():
    assert {p.stem for p in MODEL_FILES} >= {
        "attention",
        "patches",
        "positional",
        "vit",
        "crossvit",
        "mae",
        "distill",
        "cnn",
    }


def test_no_flat_module_is_left_beside_the_parts():
    flat = {p.stem for p in PKG.glob("*.py")}
    assert not flat & {old.split(".")[1] for old in MOVED}, flat
    assert not flat & {"recipes", "examples", "chapter_text", "viz", "i18n"}, flat


@pytest.mark.parametrize("old", sorted(MOVED))
def test_an_old_flat_path_gives_the_module_at_its_new_place(old):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        module = importlib.import_module(old)
    assert module is importlib.import_module(MOVED[old])
    assert (
        any(
            issubclass(w.category, DeprecationWarning) and MOVED[old] in str(w.message)
            for w in caught
        )
        or old in __import__("sys").modules
    )


def test_current_name_maps_submodules_and_leaves_others():
    assert current_name("course_pkg.models.attention") == "course_pkg.models.attention"
    assert current_name("course_pkg.models.attention.x") == "course_pkg.models.attention.x"
    assert current_name("course_pkg.attention_cost") == "course_pkg.attention_cost"
    assert current_name("torch.nn") == "torch.nn"


@pytest.mark.parametrize(
    "source",
    [
        "from course_pkg.models.attention import scaled_dot_product_attention as f",
        "import course_pkg.models.attention",
        "from course_pkg import attention",
        "from course_pkg.models import attention",
        "from course_pkg.models.attention import scaled_dot_product_attention",
    ],
)
def test_the_static_scan_sees_a_reference_module_under_any_of_its_names(source):
    cells = [{"index": 0, "source": source}]
    hits = find_forbidden(cells, {"attrs": set(), "modules": {"course_pkg.models.attention"}})
    assert hits and hits[0]["name"] == "course_pkg.models.attention", hits


def test_selfcheck_cells_are_recognised_under_old_and_new_names():
    for name in (
        "course_pkg.teaching.selfcheck",
        "course_pkg.teaching.selfcheck",
        "course_pkg.teaching.widgets",
        "course_pkg.teaching.widgets",
    ):
        assert name.startswith(SKIP_MODULES), name
