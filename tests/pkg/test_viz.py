"""Figures: localized titles, CJK-capable fonts, no plt.show(), shape errors."""

from __future__ import annotations

import warnings

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from matplotlib import font_manager  # noqa: E402
from matplotlib.ft2font import FT2Font  # noqa: E402

from course_pkg.teaching import figures as viz  # noqa: E402
from course_pkg.teaching import fonts  # noqa: E402
from course_pkg.teaching.language import (
    LANGS,  # noqa: E402
    tr,  # noqa: E402
)

CJK_LANGS = list(fonts.CJK_FONTS)  # the editions whose figures need a CJK font


@pytest.fixture(autouse=True)
def no_show(monkeypatch):
    def fail(*a, **k):
        raise AssertionError("a helper called plt.show()")

    monkeypatch.setattr(plt, "show", fail)
    with matplotlib.rc_context():  # setup_fonts changes rcParams; restore them afterwards
        yield
    plt.close("all")


def cjk_available(lang):
    """The font ``lang``'s figures need is installed (English needs none beyond matplotlib's)."""
    return lang not in fonts.CJK_FONTS or fonts.find_font(fonts.CJK_FONTS[lang]) is not None


def assert_renders_text(fig, text_obj, expected):
    """The text is what we expect, its font has a glyph for every character, and
    drawing the figure raises no missing-glyph warning."""
    assert text_obj.get_text() == expected
    path = font_manager.findfont(text_obj.get_fontproperties())
    font = FT2Font(path)
    missing = [c for c in expected if not c.isspace() and font.get_char_index(ord(c)) == 0]
    assert not missing, f"{path} has no glyph for {missing}"
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # "Glyph ... missing from font" would raise
        fig.canvas.draw()


def image():
    return torch.rand(1, 8, 8)


@pytest.mark.parametrize("lang", CJK_LANGS)
def test_setup_fonts_picks_noto_cjk(lang):
    if not cjk_available(lang):
        pytest.skip("fonts-noto-cjk not installed")
    assert fonts.setup_fonts(lang) == fonts.CJK_FONTS[lang]
    assert matplotlib.rcParams["font.sans-serif"][0] == fonts.CJK_FONTS[lang]


def test_setup_fonts_warns_when_font_missing(monkeypatch):
    monkeypatch.setattr(fonts, "find_font", lambda family: None)
    with pytest.warns(UserWarning, match="Noto Sans CJK SC"):
        chosen = fonts.setup_fonts("zh")
    assert "CJK" not in chosen


@pytest.mark.parametrize("lang", LANGS)
def test_patch_grid_title_localized(lang):
    if not cjk_available(lang):
        pytest.skip("fonts-noto-cjk not installed")
    ax = viz.show_patch_grid(image(), 2, lang=lang)
    assert isinstance(ax, matplotlib.axes.Axes)
    assert_renders_text(ax.figure, ax.title, tr(viz.MESSAGES, "patch_grid", lang, n=16, p=2))
    assert len(ax.texts) == 16 and ax.texts[5].get_text() == "5"


@pytest.mark.parametrize("lang", LANGS)
def test_attention_heatmap(lang):
    if not cjk_available(lang):
        pytest.skip("fonts-noto-cjk not installed")
    w = torch.softmax(torch.randn(3, 5), -1)
    ax = viz.show_attention(w, query_labels=list("abc"), key_labels=list("vwxyz"), lang=lang)
    assert np.allclose(ax.images[0].get_array(), w.numpy())
    assert len(ax.figure.axes) == 2  # the heat map and its colour bar
    assert_renders_text(ax.figure, ax.xaxis.label, tr(viz.MESSAGES, "key", lang))
    assert_renders_text(ax.figure, ax.yaxis.label, tr(viz.MESSAGES, "query", lang))
    assert ax.title.get_text() == tr(viz.MESSAGES, "attention", lang)
    ax2 = viz.show_attention(w, title="自定义", lang=lang)
    assert ax2.title.get_text() == "自定义"


@pytest.mark.parametrize("lang", LANGS)
def test_attention_on_image(lang):
    img = torch.rand(3, 16, 16)
    ax = viz.show_attention_on_image(img, torch.arange(16.0), lang=lang)
    overlay = ax.images[1].get_array()
    assert overlay.shape == (16, 16)
    assert overlay[0, 0] == 0 and overlay[-1, -1] == 1  # rescaled, patch blocks
    assert ax.title.get_text() == tr(viz.MESSAGES, "attention_on_image", lang)


@pytest.mark.parametrize("lang", LANGS)
def test_position_similarity(lang):
    from course_pkg.models.positional import sincos_2d

    pe = sincos_2d(4, 32, cls_token=True)
    fig = viz.show_position_similarity(pe, 4, lang=lang)
    tiles = [ax for ax in fig.axes if ax.images and ax.get_label() != "<colorbar>"][:16]
    assert len(tiles) == 16
    for p, ax in enumerate(tiles):
        sim = ax.images[0].get_array()
        assert sim.shape == (4, 4) and np.isclose(sim.flat[p], 1.0)  # itself
        assert sim.flat[p] == sim.max()
    assert fig._suptitle.get_text() == tr(viz.MESSAGES, "position_similarity", lang)
    if cjk_available(lang):
        assert_renders_text(fig, fig._suptitle, tr(viz.MESSAGES, "position_similarity", lang))
    sub = viz.show_position_similarity(pe, 4, positions=[0, 5], lang=lang)
    assert len([a for a in sub.axes if a.images and a.get_label() != "<colorbar>"]) == 2


@pytest.mark.parametrize("lang", LANGS)
def test_mae_triptych(lang):
    img = torch.rand(1, 8, 8)
    rec = torch.zeros(1, 8, 8)
    mask = torch.zeros(16)
    mask[[0, 5]] = 1
    fig = viz.show_mae_triptych(img, mask, rec, lang=lang)
    masked, recon, orig = (ax.images[0].get_array() for ax in fig.axes)
    # patch 0 = pixels [0:2, 0:2], patch 5 = [2:4, 2:4]; patches 8..15 (rows 4:8) are visible
    assert np.allclose(masked[:2, :2], 0.5) and np.allclose(masked[2:4, 2:4], 0.5)
    assert np.allclose(masked[4:], img[0, 4:]) and np.allclose(masked[:2, 2:4], img[0, :2, 2:4])
    assert np.allclose(recon[:2, :2], 0.0) and np.allclose(recon[2:4, 2:4], 0.0)
    assert np.allclose(recon[4:], img[0, 4:])
    assert np.allclose(orig, img[0])
    titles = [ax.title.get_text() for ax in fig.axes]
    assert titles == [
        tr(viz.MESSAGES, "masked", lang, ratio=2 / 16),
        tr(viz.MESSAGES, "reconstruction", lang),
        tr(viz.MESSAGES, "original", lang),
    ]
    if cjk_available(lang):
        assert_renders_text(fig, fig.axes[0].title, titles[0])


@pytest.mark.parametrize("lang", LANGS)
def test_plot_history(lang):
    fig = viz.plot_history(
        {
            "epoch": [1, 2, 3],
            "loss": [2.0, 1.0, 0.5],
            "train_acc": [0.3, 0.6, 0.9],
            "test_acc": [0.2, 0.5, 0.8],
        },
        lang=lang,
    )
    loss_ax, acc_ax = fig.axes
    assert list(loss_ax.lines[0].get_ydata()) == [2.0, 1.0, 0.5]
    assert len(acc_ax.lines) == 2
    assert [t.get_text() for t in acc_ax.get_legend().get_texts()] == [
        tr(viz.MESSAGES, "train", lang),
        tr(viz.MESSAGES, "test", lang),
    ]
    if cjk_available(lang):
        assert_renders_text(fig, loss_ax.xaxis.label, tr(viz.MESSAGES, "epoch", lang))
    only_loss = viz.plot_history({"loss": [1.0, 0.5], "train_acc": [], "test_acc": []}, lang=lang)
    assert len(only_loss.axes) == 1


def test_errors_name_the_bad_input():
    with pytest.raises(ValueError, match=r"weights must have shape \(Nq, Nk\); got \(1, 3, 3\)"):
        viz.show_attention(torch.rand(1, 3, 3))
    with pytest.raises(ValueError, match="key_labels has 2 entries; expected 3"):
        viz.show_attention(torch.rand(3, 3), key_labels=["a", "b"])
    with pytest.raises(ValueError, match="patch_size .* got 3"):
        viz.show_patch_grid(image(), 3)
    with pytest.raises(ValueError, match="pos_embed has 10 rows; expected 16 or 17"):
        viz.show_position_similarity(torch.rand(10, 8), 4)
    with pytest.raises(ValueError, match=r"image must have shape .* got \(2, 8, 8\)"):
        viz.show_patch_grid(torch.rand(2, 8, 8), 2)
    with pytest.raises(ValueError, match="'loss'"):
        viz.plot_history({"loss": []})
    with pytest.raises(ValueError, match="15 entries"):
        viz.show_attention_on_image(image(), torch.rand(15))
    with pytest.raises(ValueError, match="mask must have shape"):
        viz.show_mae_triptych(image(), torch.zeros(2, 16), image())
