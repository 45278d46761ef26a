"""Figures for the chapters (matplotlib), labelled in the reader's language.

Every helper calls :func:`setup_fonts` first, so Japanese and Chinese text is drawn
with a Noto Sans CJK font instead of empty boxes, and never calls ``plt.show()``:
single-panel helpers return their ``Axes`` (draw into ``ax=`` if you pass one),
multi-panel helpers return their ``Figure``.

Images may be torch tensors or NumPy arrays, ``(C, H, W)`` with C in {1, 3} or
``(H, W)``, values in [0, 1].
"""

from __future__ import annotations

import math
import re

import numpy as np
import torch

from .fonts import setup_fonts
from .language import tr

MESSAGES = {
    "patch_grid": {
        "ja": "{n} 個のパッチ（{p}×{p} 画素）",
        "zh": "{n} 个 patch（{p}×{p} 像素）",
        "en": "{n} patches ({p}×{p} pixels)",
    },
    "attention": {"ja": "アテンションの重み", "zh": "注意力权重", "en": "attention weights"},
    "query": {"ja": "クエリ（行）", "zh": "查询（行）", "en": "query (row)"},
    "key": {"ja": "キー（列）", "zh": "键（列）", "en": "key (column)"},
    "attention_on_image": {
        "ja": "画像上のアテンション",
        "zh": "图像上的注意力",
        "en": "attention on the image",
    },
    "position_similarity": {
        "ja": "位置埋め込みのコサイン類似度",
        "zh": "位置嵌入的余弦相似度",
        "en": "cosine similarity of position embeddings",
    },
    "input_patch_row": {"ja": "パッチの行", "zh": "patch 的行", "en": "patch row"},
    "input_patch_col": {"ja": "パッチの列", "zh": "patch 的列", "en": "patch column"},
    "masked": {
        "ja": "マスク後（{ratio:.0%} を隠す）",
        "zh": "掩码后（遮住 {ratio:.0%}）",
        "en": "masked ({ratio:.0%} hidden)",
    },
    "reconstruction": {
        "ja": "再構成（＋見えるパッチ）",
        "zh": "重建（＋可见 patch）",
        "en": "reconstruction (+ visible)",
    },
    "original": {"ja": "元の画像", "zh": "原图", "en": "original"},
    "epoch": {"ja": "エポック", "zh": "轮次", "en": "epoch"},
    "loss": {"ja": "損失", "zh": "损失", "en": "loss"},
    "train_loss": {"ja": "訓練損失", "zh": "训练损失", "en": "training loss"},
    "accuracy": {"ja": "精度", "zh": "准确率", "en": "accuracy"},
    "train": {"ja": "訓練", "zh": "训练", "en": "train"},
    "test": {"ja": "テスト", "zh": "测试", "en": "test"},
}

# Figures in a notebook (and on the website, which shows the executed notebooks): SVG, so text and
# lines stay sharp at any zoom and on HiDPI screens; the pixels of an image inside a figure
# (imshow) are rasterised at FIGURE_DPI, two image pixels per CSS pixel (a CSS inch is 96 px).
FIGURE_DPI = 192
# The smallest text of a figure as the notebook shows it, in points (smaller text is drawn at this
# size): the site's 688 px column shows a 10-inch (960 CSS px) figure at 0.72 of its size, where
# 10.5 pt is still 10 CSS px.
MIN_FONT_PT = 10.5


def figure_words(fig) -> tuple[list[str], float | None]:
    """The texts a figure shows (titles, labels, tick labels, annotations; in drawing order, each
    once) and the smallest font size among them in points (``None`` without text)."""
    from matplotlib.text import Text

    shown = [t for t in fig.findobj(Text) if t.get_visible() and t.get_text().strip()]
    words = list(dict.fromkeys(" ".join(t.get_text().split()) for t in shown))
    return words, min((t.get_fontsize() for t in shown), default=None)


_EMBEDDED_PNG = re.compile(r'"data:image/png;base64,\s*([A-Za-z0-9+/=\s]+)"')
JPEG_QUALITY = 85
PHOTO_COLOURS = 4096  # an opaque image with more colours than this is a photo: JPEG, not PNG


def _photo_as_jpeg(match) -> str:
    """An embedded opaque photo re-encoded as JPEG (a few times smaller than its PNG); drawings,
    heat maps with few colours and transparent overlays stay PNG."""
    import base64
    import io

    from PIL import Image

    png = base64.b64decode(match[1])
    image = Image.open(io.BytesIO(png))
    if image.mode == "RGBA" and image.getextrema()[3][0] == 255:
        image = image.convert("RGB")
    if image.mode != "RGB" or image.getcolors(PHOTO_COLOURS) is not None:
        return match[0]
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=JPEG_QUALITY)
    if out.tell() >= len(png):
        return match[0]
    return '"data:image/jpeg;base64,' + base64.b64encode(out.getvalue()).decode("ascii") + '"'


def figure_svg(fig) -> str | None:
    """``fig`` as the SVG the notebook shows: text as paths, no text under ``MIN_FONT_PT``, images
    at ``FIGURE_DPI`` (photos as JPEG), no date (the same figure gives the same file), with a
    ``<title>`` holding its texts and the smallest font size in ``data-min-font-pt`` (the site
    builds alt text and a legible width from both)."""
    import html

    from IPython.core.pylabtools import print_figure
    from matplotlib.image import AxesImage
    from matplotlib.text import Text

    # An image drawn pixel by pixel ("nearest") goes into the SVG at its own resolution, marked
    # for the browser to enlarge without smoothing (matplotlib does that for "none"): exact at
    # any zoom, and smaller than resampled pixels.
    blocky = [im for im in fig.findobj(AxesImage) if im.get_interpolation() == "nearest"]
    small = [(t, t.get_fontsize()) for t in fig.findobj(Text) if t.get_fontsize() < MIN_FONT_PT]
    for im in blocky:
        im.set_interpolation("none")
    for text, _ in small:
        text.set_fontsize(MIN_FONT_PT)
    try:
        svg = print_figure(fig, "svg", dpi=FIGURE_DPI, metadata={"Date": None})
        words, min_pt = figure_words(fig)
    finally:
        for im in blocky:
            im.set_interpolation("nearest")
        for text, size in small:
            text.set_fontsize(size)
    if svg is None:  # an empty figure shows nothing
        return None
    svg = _EMBEDDED_PNG.sub(_photo_as_jpeg, svg)
    head = svg.index(">", svg.index("<svg")) + 1
    attr = f' data-min-font-pt="{min_pt:g}"' if min_pt else ""
    title = f"<title>{html.escape(' / '.join(words))}</title>" if words else ""
    return svg[: head - 1] + attr + ">" + title + svg[head:]


def use_vector_figures() -> bool:
    """Show inline figures as :func:`figure_svg`; return whether an IPython kernel was there to
    configure. Called by :func:`course_pkg.teaching.fonts.setup_fonts`, so every chapter that sets
    up its fonts gets crisp
    figures; outside IPython nothing changes."""
    import matplotlib as mpl

    try:
        from IPython import get_ipython
        from matplotlib.figure import Figure
        from matplotlib_inline.backend_inline import set_matplotlib_formats
    except ImportError:
        return False
    shell = get_ipython()
    if shell is None or not hasattr(shell, "display_formatter"):
        return False
    mpl.rcParams["svg.hashsalt"] = "course_pkg"  # the same ids in every build
    set_matplotlib_formats("svg")  # and no PNG
    shell.display_formatter.formatters["image/svg+xml"].for_type(Figure, figure_svg)
    return True


# ---------------------------------------------------------------------------
# Conversions
# ---------------------------------------------------------------------------


def _to_numpy(name: str, x) -> np.ndarray:
    if isinstance(x, torch.Tensor):
        return x.detach().float().cpu().numpy()
    if isinstance(x, np.ndarray):
        return x.astype(np.float32)
    raise ValueError(f"{name} must be a torch.Tensor or numpy array, got {type(x).__name__}")


def to_hwc(image) -> np.ndarray:
    """``(C, H, W)`` (C = 1 or 3) or ``(H, W)`` -> ``(H, W)`` or ``(H, W, 3)`` clipped to [0, 1]."""
    a = _to_numpy("image", image)
    if a.ndim == 3 and a.shape[0] in (1, 3):
        a = a[0] if a.shape[0] == 1 else a.transpose(1, 2, 0)
    elif a.ndim != 2:
        raise ValueError(
            f"image must have shape (C, H, W) with C in (1, 3) or (H, W), got {tuple(a.shape)}"
        )
    return np.clip(a, 0.0, 1.0)


def _imshow(ax, image) -> None:
    a = to_hwc(image)
    ax.imshow(a, cmap="gray" if a.ndim == 2 else None, vmin=0.0, vmax=1.0, interpolation="nearest")
    ax.set_xticks([])
    ax.set_yticks([])


def _new_ax(ax, figsize=(4, 4)):
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=figsize)
    return ax


def _grid(name: str, n: int, grid_size) -> tuple[int, int]:
    """``grid_size`` (int, pair or None = square root of n) checked against n tokens."""
    if grid_size is None:
        side = math.isqrt(n)
        grid_size = side
    gh, gw = (grid_size, grid_size) if isinstance(grid_size, int) else tuple(grid_size)
    if gh * gw != n:
        raise ValueError(
            f"{name} has {n} entries, which does not fit a {gh}x{gw} patch grid; expected {gh * gw}"
        )
    return gh, gw


# ---------------------------------------------------------------------------
# Patches and attention
# ---------------------------------------------------------------------------


def show_patch_grid(image, patch_size: int, ax=None, numbers: bool = True, lang=None):
    """Draw ``image (C, H, W)`` with its ``patch_size`` grid and raster patch numbers.

    Returns the Axes. Patch ``n`` (row ``i``, column ``j``) is ``n = i * W/P + j``,
    the token order of :func:`course_pkg.models.patches.patchify`.
    """
    setup_fonts(lang)
    a = to_hwc(image)
    H, W = a.shape[:2]
    if (
        isinstance(patch_size, bool)
        or not isinstance(patch_size, int)
        or patch_size <= 0
        or H % patch_size
        or W % patch_size
    ):
        raise ValueError(
            f"patch_size must be a positive integer dividing the image size "
            f"{(H, W)}, got {patch_size!r}"
        )
    ax = _new_ax(ax)
    _imshow(ax, image)
    gh, gw = H // patch_size, W // patch_size
    for i in range(1, gh):
        ax.axhline(i * patch_size - 0.5, color="white", lw=1)
    for j in range(1, gw):
        ax.axvline(j * patch_size - 0.5, color="white", lw=1)
    if numbers and gh * gw <= 256:
        # Up to 10 x 10 every patch is numbered; on finer grids only the first row, the first
        # column and the last patch, which is enough to read the raster order and stays legible.
        from matplotlib import patheffects

        dense = max(gh, gw) > 10
        outline = [patheffects.withStroke(linewidth=2, foreground="black")]
        for i in range(gh):
            for j in range(gw):
                n = i * gw + j
                if dense and not (i == 0 or j == 0 or n == gh * gw - 1):
                    continue
                centre = (j + 0.5) * patch_size - 0.5, (i + 0.5) * patch_size - 0.5
                ax.text(
                    *centre,
                    str(n),
                    color="yellow",
                    ha="center",
                    va="center",
                    fontsize=MIN_FONT_PT if dense else 12,
                    path_effects=outline,
                )
    ax.set_title(tr(MESSAGES, "patch_grid", lang, n=gh * gw, p=patch_size))
    return ax


def show_attention(weights, query_labels=None, key_labels=None, ax=None, title=None, lang=None):
    """Heat map of attention ``weights (Nq, Nk)``: row i = query i, column j = key j.

    A colour bar shows the scale; each row of softmax weights sums to 1. Labels
    are optional sequences of length Nq and Nk. Returns the Axes.
    """
    setup_fonts(lang)
    w = _to_numpy("weights", weights)
    if w.ndim != 2:
        raise ValueError(
            f"weights must have shape (Nq, Nk); got {tuple(w.shape)} "
            "(select one batch element and head first, e.g. w[0, h])"
        )
    nq, nk = w.shape
    for name, labels, n in (("query_labels", query_labels, nq), ("key_labels", key_labels, nk)):
        if labels is not None and len(labels) != n:
            raise ValueError(f"{name} has {len(labels)} entries; expected {n}")
    ax = _new_ax(ax, figsize=(1.5 + 0.35 * nk, 1.0 + 0.35 * nq))
    im = ax.imshow(w, cmap="viridis", vmin=0.0, aspect="auto")
    ax.figure.colorbar(im, ax=ax, fraction=0.046, pad=0.04)
    ax.set_xlabel(tr(MESSAGES, "key", lang))
    ax.set_ylabel(tr(MESSAGES, "query", lang))
    if key_labels is not None:
        ax.set_xticks(range(nk), [str(s) for s in key_labels], rotation=90)
    if query_labels is not None:
        ax.set_yticks(range(nq), [str(s) for s in query_labels])
    ax.set_title(title if title is not None else tr(MESSAGES, "attention", lang))
    return ax


def show_attention_on_image(
    image, attn_map_over_patches, ax=None, grid_size=None, alpha: float = 0.6, title=None, lang=None
):
    """Overlay an attention map over the patches on ``image (C, H, W)``.

    ``attn_map_over_patches`` is ``(N,)`` (raster order; ``grid_size`` defaults to a
    square grid) or ``(gh, gw)``; it is rescaled to [0, 1] and stretched to the image
    (nearest neighbour, so each patch is one flat block). Returns the Axes.
    """
    setup_fonts(lang)
    a = to_hwc(image)
    m = _to_numpy("attn_map_over_patches", attn_map_over_patches)
    if m.ndim == 1:
        m = m.reshape(_grid("attn_map_over_patches", m.size, grid_size))
    elif m.ndim != 2:
        raise ValueError(
            f"attn_map_over_patches must have shape (N,) or (gh, gw), got {tuple(m.shape)}"
        )
    H, W = a.shape[:2]
    gh, gw = m.shape
    if H % gh or W % gw:
        raise ValueError(f"a {gh}x{gw} attention map does not tile an image of size {(H, W)}")
    if not 0.0 <= alpha <= 1.0:
        raise ValueError(f"alpha must be in [0, 1], got {alpha!r}")
    m = (m - m.min()) / (m.max() - m.min() + 1e-12)
    big = np.kron(m, np.ones((H // gh, W // gw)))
    ax = _new_ax(ax)
    _imshow(ax, image)
    ax.imshow(big, cmap="inferno", alpha=alpha, vmin=0.0, vmax=1.0, interpolation="nearest")
    ax.set_title(title if title is not None else tr(MESSAGES, "attention_on_image", lang))
    return ax


def show_position_similarity(pos_embed, grid_size, positions=None, figsize=None, lang=None):
    """ViT Fig. 7 (centre): cosine similarity of each patch's position embedding with all others.

    ``pos_embed`` is ``(N, D)``, ``(N+1, D)`` or ``(1, N(+1), D)``; a leading class-token
    row (N+1 rows) is dropped. ``grid_size`` is ``gh`` or ``(gh, gw)`` with
    ``N = gh * gw``. Tile (i, j) shows ``cos(E_pos[i*gw+j], E_pos[k])`` for every k as a
    ``gh x gw`` image. ``positions`` optionally restricts the tiles to some patch indices.
    Returns the Figure.
    """
    import matplotlib.pyplot as plt

    setup_fonts(lang)
    e = _to_numpy("pos_embed", pos_embed)
    if e.ndim == 3 and e.shape[0] == 1:
        e = e[0]
    if e.ndim != 2:
        raise ValueError(
            f"pos_embed must have shape (N, D), (N+1, D) or (1, N+1, D), "
            f"got {tuple(np.shape(pos_embed))}"
        )
    gh, gw = (grid_size, grid_size) if isinstance(grid_size, int) else tuple(grid_size)
    n = gh * gw
    if e.shape[0] == n + 1:
        e = e[1:]
    if e.shape[0] != n:
        raise ValueError(
            f"pos_embed has {e.shape[0]} rows; expected {n} or {n + 1} for a {gh}x{gw} grid"
        )
    unit = e / (np.linalg.norm(e, axis=1, keepdims=True) + 1e-12)
    sim = unit @ unit.T  # (N, N)
    positions = list(range(n)) if positions is None else list(positions)
    if not positions or any(not 0 <= p < n for p in positions):
        raise ValueError(f"positions must be patch indices in [0, {n}), got {positions!r}")
    cols = gw if len(positions) == n else min(len(positions), 8)
    rows = math.ceil(len(positions) / cols)
    fig, axes = plt.subplots(
        rows, cols, figsize=figsize or (1.1 * cols + 1.2, 1.1 * rows + 0.8), squeeze=False
    )
    for ax in axes.flat:
        ax.set_axis_off()
    for ax, p in zip(axes.flat, positions):
        im = ax.imshow(sim[p].reshape(gh, gw), cmap="viridis", vmin=float(sim.min()), vmax=1.0)
    fig.colorbar(im, ax=axes.ravel().tolist(), shrink=0.8)
    fig.suptitle(tr(MESSAGES, "position_similarity", lang))
    fig.supxlabel(tr(MESSAGES, "input_patch_col", lang))
    fig.supylabel(tr(MESSAGES, "input_patch_row", lang))
    return fig


# ---------------------------------------------------------------------------
# MAE and training curves
# ---------------------------------------------------------------------------


def mask_to_image(mask, image_shape) -> np.ndarray:
    """Patch mask ``(N,)`` (1 = removed) -> pixel mask ``(H, W)`` for an image of ``(.., H, W)``."""
    m = _to_numpy("mask", mask)
    if m.ndim != 1:
        raise ValueError(f"mask must have shape (N,) for one image, got {tuple(m.shape)}")
    H, W = image_shape[-2:]
    gh, gw = _grid("mask", m.size, None)
    if H % gh or W % gw:
        raise ValueError(f"a mask of {m.size} patches does not tile an image of size {(H, W)}")
    return np.kron(m.reshape(gh, gw), np.ones((H // gh, W // gw)))


def show_mae_triptych(
    image, mask, reconstruction, paste_visible: bool = True, axes=None, lang=None
):
    """MAE Fig. 2 layout: masked input | reconstruction | original.

    ``image`` and ``reconstruction`` are ``(C, H, W)``; ``mask`` is ``(N,)`` over a square
    patch grid, 1 = removed (shown grey). With ``paste_visible`` the visible patches of
    the reconstruction panel are the original pixels, a visual aid the MAE paper chose not
    to use: its Fig. 2 shows the raw output on visible patches too (He et al., 2022, Fig. 2
    caption). ``paste_visible=False`` gives the paper's view. Returns the Figure.
    """
    import matplotlib.pyplot as plt

    setup_fonts(lang)
    img, rec = to_hwc(image), to_hwc(reconstruction)
    if img.shape != rec.shape:
        raise ValueError(
            f"image {img.shape} and reconstruction {rec.shape} must have the same shape"
        )
    pix = mask_to_image(mask, img.shape[:2])
    if img.ndim == 3:
        pix = pix[..., None]
    masked = img * (1 - pix) + 0.5 * pix
    if paste_visible:
        rec = img * (1 - pix) + rec * pix
    if axes is None:
        fig, axes = plt.subplots(1, 3, figsize=(7.5, 2.8))
    else:
        if len(axes) != 3:
            raise ValueError(f"axes must hold 3 Axes, got {len(axes)}")
        fig = axes[0].figure
    ratio = float(_to_numpy("mask", mask).mean())
    panels = (
        (masked, tr(MESSAGES, "masked", lang, ratio=ratio)),
        (rec, tr(MESSAGES, "reconstruction", lang)),
        (img, tr(MESSAGES, "original", lang)),
    )
    for ax, (a, title) in zip(axes, panels):
        ax.imshow(a, cmap="gray" if a.ndim == 2 else None, vmin=0, vmax=1, interpolation="nearest")
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_title(title, fontsize=10)
    return fig


def plot_history(history: dict, lang=None):
    """Learning curves from :func:`course_pkg.train.train`: loss, and accuracy if recorded.

    ``history`` maps ``"loss"`` (and optionally ``"train_acc"``, ``"test_acc"``,
    ``"epoch"``) to per-epoch lists. Returns the Figure.
    """
    import matplotlib.pyplot as plt

    setup_fonts(lang)
    if not isinstance(history, dict) or not history.get("loss"):
        raise ValueError(
            "history must be a dict with a non-empty 'loss' list, as returned by "
            f"course_pkg.train.train; got {type(history).__name__} "
            f"with keys {sorted(history) if isinstance(history, dict) else None}"
        )
    loss = history["loss"]
    epochs = history.get("epoch") or list(range(1, len(loss) + 1))
    accs = [(k, history.get(k)) for k in ("train_acc", "test_acc") if history.get(k)]
    fig, axes = plt.subplots(1, 2 if accs else 1, figsize=(8 if accs else 4, 3), squeeze=False)
    ax = axes[0, 0]
    ax.plot(epochs, loss, marker=".")
    ax.set_xlabel(tr(MESSAGES, "epoch", lang))
    ax.set_ylabel(tr(MESSAGES, "loss", lang))
    ax.set_title(tr(MESSAGES, "train_loss", lang))
    if accs:
        ax = axes[0, 1]
        for key, values in accs:
            label = tr(MESSAGES, "train" if key == "train_acc" else "test", lang)
            ax.plot(epochs[: len(values)], values, marker=".", label=label)
        ax.set_xlabel(tr(MESSAGES, "epoch", lang))
        ax.set_ylabel(tr(MESSAGES, "accuracy", lang))
        ax.set_title(tr(MESSAGES, "accuracy", lang))
        ax.legend()
    fig.tight_layout()
    return fig
