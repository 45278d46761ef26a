"""What each explorer offers the reader: its controls, their labels and the figure's layout.

One description per widget, as plain data (no numerics, no ipywidgets). Both versions of a
widget are built from it:

* the notebook version (``course_pkg.teaching.widgets``, ipywidgets in a kernel, running the student's
  own function) makes one ipywidget per control with :func:`course_pkg.teaching.widgets.build_control`;
* the page version (``course_pkg.teaching.live``, a dependency-free script in the browser, running the
  course's reference implementation) gets the same description as JSON and makes one HTML
  control per entry.

So a control added here appears in both, with the same name, range, options and label.

A control is a dict:

``name``      key in ``explorer.controls`` and in the page's state;
``kind``      ``toggle`` (one of a few buttons), ``int`` (integer slider), ``float`` (slider),
              ``log`` (slider over ``base ** x`` for x in [min, max]), ``check`` (on/off),
              ``choice`` (drop-down) or ``steps`` (slider over a list of options);
``label``     message key (``course_pkg.teaching.widgets.MESSAGES``) of the control's name;
``options``   for toggle/choice/steps: a list of values, or of ``[message key, value]`` pairs;
``value``     the first value; ``min``/``max``/``step`` for sliders (for ``log``: exponents);
``depends``   optional ``{"on": other control, "max": {str(value): max}}`` or
              ``{"on": ..., "options": {str(value): [options]}}``: the range or the options of
              this control follow the value of another one (a table, so both versions agree).

``rows`` lists the control names shown on each row; ``panels`` names the figure's panels (a
message key for each title); ``alt`` is the message key of the figure's alt text, formatted
with the page state (control values and read-outs).
"""

from __future__ import annotations

import copy

from ..data import SAMPLE_IMAGES

PATCH_IMAGE_SIZE = 96  # the patch explorer cuts a 96 px photograph
PATCH_SIZES = (4, 5, 6, 7, 8, 10, 12, 16, 20, 24, 32)
POSITIONS = 64  # rows of the positional explorer's encoding
MODEL_DIMS = (16, 32, 64, 128)
HEAD_DIMS = (8, 12, 24)
SENTENCE_TOKENS = 8  # six words and two [PAD] tokens
IMAGE_TOKENS = 16  # a 64 px photo cut into 4 x 4 patches


def divisors(n: int) -> list[int]:
    """Every positive divisor of ``n``, ascending: the head counts that split ``D = n``."""
    return [d for d in range(1, n + 1) if n % d == 0]


SPECS: dict[str, dict] = {
    "attention": {
        "controls": [
            {
                "name": "source",
                "kind": "toggle",
                "label": "source",
                "options": [["sentence", "sentence"], ["image", "image"]],
                "value": "sentence",
            },
            {
                "name": "query",
                "kind": "int",
                "label": "query",
                "min": 0,
                "max": SENTENCE_TOKENS - 1,
                "step": 1,
                "value": 3,
                "depends": {
                    "on": "source",
                    "max": {"sentence": SENTENCE_TOKENS - 1, "image": IMAGE_TOKENS - 1},
                },
            },
            {
                "name": "temperature",
                "kind": "log",
                "label": "temperature",
                "base": 10,
                "min": -1,
                "max": 1,
                "step": 0.05,
                "value": 1.0,
            },
            {"name": "scale", "kind": "check", "label": "scale", "value": True},
            {
                "name": "mask",
                "kind": "toggle",
                "label": "mask",
                "options": [
                    ["mask_none", "none"],
                    ["mask_causal", "causal"],
                    ["mask_padding", "padding"],
                ],
                "value": "none",
            },
        ],
        "rows": [["source"], ["query", "temperature", "scale"], ["mask"]],
        "panels": ["weights_title", "row_title", "output_title"],
        "alt": "alt_attention",
    },
    "heads": {
        "controls": [
            {
                "name": "dim",
                "kind": "choice",
                "label": "dim",
                "options": list(HEAD_DIMS),
                "value": 12,
            },
            {
                "name": "heads",
                "kind": "steps",
                "label": "heads",
                "options": divisors(12),
                "value": 3,
                "depends": {"on": "dim", "options": {str(d): divisors(d) for d in HEAD_DIMS}},
            },
        ],
        "rows": [["dim", "heads"]],
        "panels": ["input_title", "heads_title"],
        "alt": "alt_heads",
    },
    "masking": {
        "controls": [
            {
                "name": "mask_ratio",
                "kind": "float",
                "label": "mask_ratio",
                "min": 0.0,
                "max": 0.95,
                "step": 0.05,
                "value": 0.75,
            },
            {
                "name": "seed",
                "kind": "int",
                "label": "seed",
                "min": 0,
                "max": 20,
                "step": 1,
                "value": 0,
            },
            {
                "name": "image",
                "kind": "choice",
                "label": "photo",
                "options": list(SAMPLE_IMAGES),
                "value": "chelsea",
            },
        ],
        "rows": [["mask_ratio", "seed", "image"]],
        "panels": ["original", "visible", "digit", "digit_masked", "mae_recon"],
        "alt": "alt_masking",
    },
    "patches": {
        "controls": [
            {
                "name": "patch_size",
                "kind": "choice",
                "label": "patch_size",
                "options": list(PATCH_SIZES),
                "value": 16,
            },
            {
                "name": "patch",
                "kind": "int",
                "label": "patch_index",
                "min": 0,
                "max": (PATCH_IMAGE_SIZE // 16) ** 2 - 1,
                "step": 1,
                "value": 0,
                "depends": {
                    "on": "patch_size",
                    "max": {str(p): max((PATCH_IMAGE_SIZE // p) ** 2 - 1, 0) for p in PATCH_SIZES},
                },
            },
            {
                "name": "image",
                "kind": "choice",
                "label": "photo",
                "options": list(SAMPLE_IMAGES),
                "value": "astronaut",
            },
        ],
        "rows": [["patch_size", "patch", "image"]],
        "panels": ["grid_title", "vectors_title", "one_vector"],
        "alt": "alt_patches",
    },
    "positional": {
        "controls": [
            {
                "name": "dim",
                "kind": "choice",
                "label": "model_dim",
                "options": list(MODEL_DIMS),
                "value": 32,
            },
            {
                "name": "column",
                "kind": "int",
                "label": "dim_index",
                "min": 0,
                "max": 31,
                "step": 1,
                "value": 6,
                "depends": {"on": "dim", "max": {str(d): d - 1 for d in MODEL_DIMS}},
            },
            {
                "name": "position",
                "kind": "int",
                "label": "position",
                "min": 0,
                "max": POSITIONS - 1,
                "step": 1,
                "value": 20,
            },
        ],
        "rows": [["dim", "column", "position"]],
        "panels": ["pe_title", "column_title", "simmat_title", "sim_title"],
        "alt": "alt_positional",
    },
}

KINDS = ("toggle", "int", "float", "log", "check", "choice", "steps")


def spec(widget: str, **values) -> dict:
    """A copy of ``SPECS[widget]``; keyword arguments override first values (``image="rocket"``)."""
    if widget not in SPECS:
        raise ValueError(f"unknown widget {widget!r}; expected one of {sorted(SPECS)}")
    out = copy.deepcopy(SPECS[widget])
    names = [c["name"] for c in out["controls"]]
    for name, value in values.items():
        if name not in names:
            raise ValueError(f"widget {widget!r} has no control {name!r}; its controls: {names}")
        control = out["controls"][names.index(name)]
        allowed = option_values(control)
        if allowed is not None and value not in allowed:
            raise ValueError(f"{widget}.{name} = {value!r} is not one of its options {allowed}")
        control["value"] = value
    return out


def option_values(control: dict) -> list | None:
    """The values a toggle/choice/steps control offers (labels dropped); None for sliders."""
    if "options" not in control:
        return None
    return [o[1] if isinstance(o, list) else o for o in control["options"]]


def check_spec(widget: str, description: dict) -> None:
    """Raise ValueError naming the first malformed entry of a description (used by the tests)."""
    names = [c.get("name") for c in description["controls"]]
    if len(set(names)) != len(names):
        raise ValueError(f"{widget}: duplicate control names {names}")
    for c in description["controls"]:
        if c.get("kind") not in KINDS:
            raise ValueError(
                f"{widget}.{c.get('name')}: kind {c.get('kind')!r}, expected one of {KINDS}"
            )
        dep = c.get("depends")
        if dep and dep["on"] not in names:
            raise ValueError(f"{widget}.{c['name']} depends on unknown control {dep['on']!r}")
    shown = [n for row in description["rows"] for n in row]
    if sorted(shown) != sorted(names):
        raise ValueError(
            f"{widget}: rows {description['rows']} must show each control once: {names}"
        )
