"""Explorers driven in code: controls change the state and the figure, which match the reference."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from course_pkg.models.attention import merge_heads, scaled_dot_product_attention, split_heads
from course_pkg.models.mae import random_masking, unshuffle
from course_pkg.models.patches import patchify, unpatchify
from course_pkg.models.positional import sincos_1d
from course_pkg.teaching import widgets as W


def _ni(*args, **kwargs):
    raise NotImplementedError


def _softmax_rows(q, k, factor, mask=None):
    scores = torch.from_numpy(q) @ torch.from_numpy(k).T * factor
    if mask is not None:
        scores = scores.masked_fill(~torch.from_numpy(mask), float("-inf"))
    return torch.nan_to_num(torch.softmax(scores, -1)).numpy()


def test_attention_explorer_controls_drive_state_and_figure():
    w = W.attention_explorer(scaled_dot_product_attention, lang="ja")
    s = w.state
    assert s["match"] is True and bytes(w.image.value).startswith(b"\x89PNG")
    assert s["tokens"][:6] == [tok for tok, _ in W.SENTENCES["ja"]]
    dk = s["q"].shape[1]
    assert s["factor"] == pytest.approx(1 / math.sqrt(dk))
    np.testing.assert_allclose(s["weights"], _softmax_rows(s["q"], s["k"], s["factor"]), atol=1e-6)
    np.testing.assert_allclose(w.figure.axes[0].images[0].get_array(), s["weights"], atol=1e-6)
    png, peak = bytes(w.image.value), s["weights"].max(1)

    w.controls["temperature"].value = 0.1
    s = w.state
    assert s["factor"] == pytest.approx(10 / math.sqrt(dk))
    np.testing.assert_allclose(s["row_sums"], 1, atol=1e-5)
    assert (s["weights"].max(1)[:6] >= peak[:6] - 1e-6).all() and bytes(w.image.value) != png

    w.set(temperature=1.0, scale=False, mask="causal")
    s = w.state
    assert s["factor"] == pytest.approx(1.0)
    np.testing.assert_allclose(
        s["weights"], _softmax_rows(s["q"], s["k"], 1.0, s["mask"]), atol=1e-5
    )
    assert np.allclose(np.triu(s["weights"], 1), 0) and s["match"]

    w.set(mask="padding", source="image", query=9)
    s = w.state
    assert len(s["tokens"]) == 16 and s["weights"].shape == (16, 16) and s["query"] == 9
    assert np.allclose(s["weights"][:, 12:], 0) and s["match"]
    np.testing.assert_allclose(s["output"], s["weights"] @ s["v"], atol=1e-5)


def test_attention_explorer_reports_differences_and_todo():
    def unscaled(q, k, v, mask=None):
        w = torch.softmax(q @ k.transpose(-2, -1), dim=-1)
        return w @ v, w

    w = W.attention_explorer(unscaled, lang="zh")
    assert w.state["match"] is False and "✗" in w.status.value and "weights" in w.status.value
    w.controls["scale"].value = False  # the explorer passes q * √d_k: unscaled code still differs
    assert w.state["match"] is False

    todo = W.attention_explorer(_ni, lang="zh")
    assert todo.state["weights"] is None and todo.state["match"] is None
    assert W.exercise_messages.text("not_implemented", "zh", fn="_ni") in todo.status.value
    assert bytes(todo.image.value).startswith(b"\x89PNG")  # the reference is drawn instead
    bundle = todo._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle and "image/png" in bundle


def test_head_splitter_reference_and_reshape_without_transpose():
    w = W.head_splitter(split_heads, merge_heads, lang="ja")
    assert w.state["mixed"] is False and w.state["merge_ok"] is True
    w.controls["heads"].value = 4
    s = w.state
    assert s["heads"] == 4 and s["split"].shape == (1, 4, 4, 3) == s["shapes"]["transpose"]
    assert (s["receiver"] == np.arange(12)[None] // 3).all()
    np.testing.assert_array_equal(s["split"], s["ref_split"])

    w.controls["dim"].value = 8
    assert list(w.controls["heads"].options) == [1, 2, 4, 8] and w.state["dim"] == 8

    def no_transpose(x, num_heads):
        B, N, D = x.shape
        return x.reshape(B, num_heads, N, D // num_heads)

    bad = W.head_splitter(no_transpose, lang="zh")
    assert bad.state["mixed"] is True and "transpose" in bad.status.value
    assert (bad.state["receiver"] != np.arange(12)[None] // 4).any()
    bad.controls["heads"].value = 1  # with one head nothing can be mixed
    assert bad.state["mixed"] is False


def test_masking_explorer_uses_the_explored_mask():
    from course_pkg.checkpoints import available

    w = W.masking_explorer(random_masking, unshuffle, lang="ja")
    s = w.state
    assert s["kept"] == s["expected_kept"] == 16 and s["mask"].sum() == 48 and s["valid"]
    grey = (np.abs(s["visible"] - 0.5) < 1e-6).all(0)  # (128, 128) pixels painted grey
    assert grey.sum() == 48 * 16 * 16
    first = s["mask"].copy()
    w.controls["seed"].value = 5
    assert not np.array_equal(first, w.state["mask"])
    w.controls["mask_ratio"].value = 0.5
    assert w.state["kept"] == 32 and w.state["mask"].sum() == 32
    if "mae_digits" in available():
        recon = w.state["reconstruction"]
        size = w._mae.config.img_size
        assert recon.shape == (1, size, size) and w.state["digit_mask"].shape == (
            (size // w._mae.patch_size) ** 2,
        )
        w.controls["mask_ratio"].value = 0.9
        assert not np.allclose(recon, w.state["reconstruction"])
    else:
        assert w.state["reconstruction"] is None and "MAE" in w.status.value

    def keeps_one_too_few(x, mask_ratio, generator=None):
        x_kept, mask, ids = random_masking(x, mask_ratio, generator)
        return x_kept[:, 1:], mask, ids

    bad = W.masking_explorer(keeps_one_too_few, lang="zh")
    assert bad.state["valid"] is False and bad.state["kept"] == 15 and "✗" in bad.status.value
    todo = W.masking_explorer(_ni, _ni, lang="zh")
    assert todo.state["valid"] is None and todo.state["kept"] == 16


def test_patch_explorer_divisible_and_not():
    w = W.patch_explorer(patchify, unpatchify, lang="zh")
    s = w.state
    assert s["divides"] and s["grid"] == 6 and s["patches"].shape == (36, 16 * 16 * 3)
    assert s["match"] and s["roundtrip_ok"]
    np.testing.assert_array_equal(w.figure.axes[1].images[0].get_array(), s["patches"])
    w.controls["patch_size"].value = 8
    assert w.state["patches"].shape == (144, 192) and w.controls["patch"].max == 143
    w.controls["patch_size"].value = 7
    s = w.state
    assert not s["divides"] and s["patches"] is None
    assert "96" in s["explanation"] and "7" in s["explanation"] and "98" in s["explanation"]
    todo = W.patch_explorer(_ni, lang="ja")
    assert todo.state["patches"] is None and todo.state["match"] is None


def test_positional_explorer():
    w = W.positional_explorer(sincos_1d, lang="ja")
    assert w.state["match"] and w.state["pe"].shape == (64, 32)
    w.controls["dim"].value = 64
    s = w.state
    assert s["pe"].shape == (64, 64) and w.controls["column"].max == 63
    np.testing.assert_allclose(s["similarity"], s["pe"] @ s["pe"].T, atol=1e-4)
    np.testing.assert_allclose(w.figure.axes[1].lines[0].get_ydata(), s["ref_pe"][:, s["column"]])

    def swapped(n, d):
        pe = sincos_1d(n, d)
        return pe[:, [i + 1 if i % 2 == 0 else i - 1 for i in range(d)]]

    assert W.positional_explorer(swapped, lang="zh").state["match"] is False


def test_masking_explorer_reconstructs_from_exactly_that_mask(monkeypatch):
    """With an (untrained) MAE of the shipped recipe's shape, the reconstruction uses the
    mask that the explored function returned for the digit's patches."""
    import course_pkg.checkpoints as ckpt
    from course_pkg.models.mae import MaskedAutoencoder

    torch.manual_seed(0)
    MAE_DIGITS = ckpt.pretrained_info("mae_digits")["config"]
    model = MaskedAutoencoder(**MAE_DIGITS).eval()
    masks_given, masks_used = [], []

    def recording_masking(x, mask_ratio, generator=None):
        result = random_masking(x, mask_ratio, generator)
        masks_given.append(result[1].clone())
        return result

    def recording_reconstruct(imgs, mask, paste_visible=False):
        masks_used.append(mask.clone())
        return MaskedAutoencoder.reconstruct(model, imgs, mask, paste_visible)

    monkeypatch.setattr(model, "reconstruct", recording_reconstruct)
    monkeypatch.setattr(ckpt, "load_pretrained", lambda name, device=None: model)
    w = W.masking_explorer(recording_masking, unshuffle, lang="ja")
    size, P = MAE_DIGITS["img_size"], MAE_DIGITS["patch_size"]
    g = size // P
    for seed in (0, 3):
        w.controls["seed"].value = seed
        s = w.state
        assert s["reconstruction"].shape == (1, size, size)
        np.testing.assert_array_equal(masks_used[-1].cpu(), masks_given[-1])  # exactly that mask
        np.testing.assert_array_equal(s["digit_mask"], masks_given[-1][0].numpy())
        assert s["digit_mask"].sum() == g * g - int(g * g * 0.25)
        removed = s["digit_mask"].reshape(g, g).astype(bool)
        blocks = s["digit_masked"][0].reshape(g, P, g, P).transpose(0, 2, 1, 3)
        assert np.allclose(blocks[removed], 0.5)


def test_each_unimplemented_function_is_named_in_the_status():
    def split_heads(x, num_heads):
        raise NotImplementedError

    def merge_heads(x):
        raise NotImplementedError

    w = W.head_splitter(split_heads, merge_heads, lang="ja")
    text = w.status.value
    assert W.exercise_messages.text("not_implemented", "ja", fn="split_heads") in text
    assert W.exercise_messages.text("not_implemented", "ja", fn="merge_heads") in text


def test_no_control_label_is_cut_off():
    w = W.positional_explorer(lambda n, d: (_ for _ in ()).throw(NotImplementedError()), lang="zh")
    for control in w.controls.values():
        assert control.style.description_width == "initial", control.description
    assert w.controls["column"].description == W.tr(W.MESSAGES, "dim_index", "zh")


# --- one description, two versions (course_pkg.teaching.widget_specs -> ipywidgets and the page) ----------

from course_pkg.teaching import live  # noqa: E402
from course_pkg.teaching import widget_specs as specs  # noqa: E402

EXPLORERS = {
    name: (lambda lang, name=name: W.reference_explorer(name, lang)) for name in specs.SPECS
}


def _ipywidget_description(control) -> dict:
    """What an ipywidget offers, in the description's terms."""
    out = {"label": control.description, "value": control.value}
    if hasattr(control, "options"):
        out["options"] = (
            [v for _, v in control.options]
            if control.options and isinstance(control.options[0], tuple)
            else list(control.options)
        )
    for attr in ("min", "max", "step", "base"):
        if hasattr(control, attr):
            out[attr] = getattr(control, attr)
    return out


@pytest.mark.parametrize("widget", sorted(EXPLORERS))
def test_notebook_and_page_versions_offer_the_same_controls(widget):
    specs.check_spec(widget, specs.SPECS[widget])
    w = EXPLORERS[widget]("zh")
    page = live.bundle(w)
    assert (
        [c["name"] for c in page["controls"]]
        == list(w.controls)
        == [c["name"] for c in w.spec["controls"]]
    )
    for c, shown in zip(page["controls"], w.controls.values()):
        nb = _ipywidget_description(shown)
        assert c["label"] == nb["label"] and c["value"] == pytest.approx(nb["value"])
        if "options" in c:
            assert [v for _, v in c["options"]] == nb["options"], c["name"]
            assert all(isinstance(label, str) and label for label, _ in c["options"])
        else:
            for attr in ("min", "max", "step", "base"):
                if attr in c:
                    assert c[attr] == pytest.approx(nb[attr]), (c["name"], attr)
    assert page["rows"] == w.spec["rows"] and page["lang"] == "zh"
    assert page["alt"] in page["text"] and page["note"] in page["text"]


def test_a_control_added_to_the_description_appears_in_both_versions(monkeypatch):
    extra = {"name": "extra_toggle", "kind": "check", "label": "scale", "value": False}
    description = dict(
        specs.SPECS["positional"],
        controls=specs.SPECS["positional"]["controls"] + [extra],
        rows=specs.SPECS["positional"]["rows"] + [["extra_toggle"]],
    )
    monkeypatch.setitem(specs.SPECS, "positional", description)
    w = W.positional_explorer(sincos_1d, lang="ja")
    assert isinstance(w.controls["extra_toggle"], W.widgets.Checkbox)
    assert (
        w.box.children[len(description["rows"]) - 1] is w.controls["extra_toggle"]
    )  # its own row, shown
    assert live.bundle(w)["controls"][-1]["name"] == "extra_toggle"


def test_dependent_ranges_follow_the_description_table():
    w = EXPLORERS["patches"]("ja")
    for P in (5, 8, 32):
        w.controls["patch_size"].value = P
        assert w.controls["patch"].max == max((96 // P) ** 2 - 1, 0)
    w = EXPLORERS["attention"]("ja")
    w.controls["source"].value = "image"
    assert w.controls["query"].max == specs.IMAGE_TOKENS - 1
    w.controls["query"].value = 15
    w.controls["source"].value = "sentence"
    assert w.controls["query"].max == specs.SENTENCE_TOKENS - 1 and w.controls["query"].value == 7


def test_bad_descriptions_and_values_are_named():
    with pytest.raises(ValueError, match="'nope'"):
        specs.spec("nope")
    with pytest.raises(ValueError, match="'rocket2'.*options"):
        specs.spec("masking", image="rocket2")
    with pytest.raises(ValueError, match="no control 'colour'"):
        specs.spec("patches", colour="red")
    bad = dict(
        specs.SPECS["heads"], controls=[dict(specs.SPECS["heads"]["controls"][0], kind="knob")]
    )
    with pytest.raises(ValueError, match="kind 'knob'"):
        specs.check_spec("heads", bad)
    with pytest.raises(ValueError, match="unknown kind 'knob'"):
        W.build_control(dict(specs.SPECS["heads"]["controls"][0], kind="knob"), str)


def test_page_version_only_while_the_site_is_built(monkeypatch):
    w = EXPLORERS["positional"]("ja")
    monkeypatch.delenv(live.ENV, raising=False)
    assert "text/html" not in w._repr_mimebundle_()
    monkeypatch.setenv(live.ENV, "1")
    bundle = w._repr_mimebundle_()
    assert (
        'class="course-live' in bundle["text/html"]
        and "application/vnd.jupyter.widget-view+json" in bundle
    )

    # An explored function that runs but differs would make the page lie: no page version then.
    def unscaled(q, k, v, mask=None):
        wts = torch.softmax(q @ k.transpose(-2, -1), dim=-1)
        return wts @ v, wts

    assert W.attention_explorer(unscaled, lang="ja").live_html() is None
    # A stub (NotImplementedError) falls back to the reference, and the page says so.
    todo = W.attention_explorer(_ni, lang="zh")
    assert live.bundle(todo)["note"] == "live_note"
    heads_bad = W.head_splitter(lambda x, h: x.reshape(1, h, 4, -1), _ni, lang="zh")
    page = live.bundle(heads_bad)
    assert page["note"] == "live_note_recorded"  # it shows that function's split
    assert all(page["data"]["merge"].values())  # and the reference's merge, not a stub's "failure"
    assert (
        page["data"]["split"]["12,3"]
        != live.bundle(EXPLORERS["heads"]("zh"))["data"]["split"]["12,3"]
    )


def test_page_data_is_json_and_the_script_is_inlined_once(monkeypatch):
    import json

    monkeypatch.setattr(live, "_emitted_script", False)
    first = live.page_html(EXPLORERS["heads"]("ja"))
    second = live.page_html(EXPLORERS["positional"]("ja"))
    assert first.count("<script>") == 1 and "<script>" not in second
    payload = second.split('class="course-live-data">')[1].split("</script>")[0]
    assert json.loads(payload.replace("<\\/", "</"))["widget"] == "positional"


def test_packed_floats_keep_six_decimals():
    import base64
    import zlib

    a = np.random.default_rng(0).random((5, 7)).astype(np.float32)
    back = np.frombuffer(zlib.decompress(base64.b64decode(live.packed(a))), dtype="<f4").reshape(
        a.shape
    )
    assert np.abs(back - a).max() <= 2.5e-7 and not np.array_equal(back, a)
    exact = np.frombuffer(
        zlib.decompress(base64.b64decode(live.packed(a, drop_bits=0))), dtype="<f4"
    )
    np.testing.assert_array_equal(exact.reshape(a.shape), a)
