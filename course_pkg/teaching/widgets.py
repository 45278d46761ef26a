"""Interactive explorers for the exercises and chapters (plain ipywidgets 8 + matplotlib).

Each explorer takes the function to explore as an argument, so an exercise
passes the student's function and a chapter passes the package's reference.
Every explorer:

* exposes its controls as ``w.controls[name]`` and the latest computed data as
  ``w.state`` (numpy arrays), so tests and readers can drive it in code;
* draws one matplotlib figure into an ``ipywidgets.Image`` (PNG), already at
  construction time, so the first view is meaningful as a static image;
* speaks the reader's language (``course_pkg.teaching.language``);
* treats ``NotImplementedError`` from the explored function as "not
  implemented yet" and shows the reference instead;
* runs the exercise's properties (``course_pkg.exercises``, the self-check's and the
  grader's) on the explored functions once, and lists every one that fails, ✗ with its
  name and diagnosis, above the figure of the first view (``w.verdict``).

Display an explorer by making it the last expression of a cell.
"""

from __future__ import annotations

import base64
import html
import io
import math
from collections.abc import Callable

import ipywidgets as widgets
import numpy as np
import torch
from matplotlib import colormaps, rc_context
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from ..data import TOY_ROLES, TOY_SENTENCES
from ..exercises import core as exercise_core
from ..exercises import load as load_exercise
from ..exercises import messages as exercise_messages
from .fonts import font_families
from .language import current_lang, normalize_lang, tr
from .widget_specs import (
    HEAD_DIMS,
    KINDS,
    PATCH_IMAGE_SIZE,
    POSITIONS,
    divisors,
    option_values,
    spec,
)

DPI = 72

MESSAGES = {
    # shared
    "showing_reference": {
        "ja": "今は {fn} の参照実装の結果を表示しています。",
        "zh": "现在显示的是 {fn} 参考实现的结果。",
        "en": "Showing the reference {fn} instead.",
    },
    "error": {
        "ja": "✗ あなたの {fn} がエラーになりました：{err}",
        "zh": "✗ 你的 {fn} 出错了：{err}",
        "en": "✗ your {fn} raised an error: {err}",
    },
    "match": {
        "ja": "✓ 参照実装と一致しています。",
        "zh": "✓ 与参考实现一致。",
        "en": "✓ matches the reference.",
    },
    "yours": {"ja": "あなたの実装", "zh": "你的实现", "en": "yours"},
    "reference": {"ja": "参照実装", "zh": "参考实现", "en": "reference"},
    "shape_differs": {
        "ja": "✗ {what} の形が違います: {got}（参照実装は {want}）",
        "zh": "✗ {what} 的形状不同：{got}（参考实现为 {want}）",
        "en": "✗ {what} has shape {got} (reference: {want})",
    },
    "values_differ": {
        "ja": "✗ {what} が参照実装と違います（最大の差 {diff:.3g}、位置 {where}）",
        "zh": "✗ {what} 与参考实现不同（最大差 {diff:.3g}，位置 {where}）",
        "en": "✗ {what} differs from the reference (max difference {diff:.3g} at {where})",
    },
    # attention explorer
    "source": {"ja": "入力", "zh": "输入", "en": "input"},
    "sentence": {"ja": "文のトークン", "zh": "句子的 token", "en": "sentence tokens"},
    "image": {"ja": "画像パッチ", "zh": "图像 patch", "en": "image patches"},
    "query": {"ja": "クエリ", "zh": "查询", "en": "query"},
    "scale": {"ja": "√d_k で割る", "zh": "除以 √d_k", "en": "divide by √d_k"},
    "temperature": {"ja": "温度 T", "zh": "温度 T", "en": "temperature T"},
    "mask": {"ja": "マスク", "zh": "掩码", "en": "mask"},
    "mask_none": {"ja": "なし", "zh": "无", "en": "none"},
    "mask_causal": {"ja": "因果マスク", "zh": "因果掩码", "en": "causal"},
    "mask_padding": {"ja": "パディング", "zh": "填充", "en": "padding"},
    "key": {"ja": "キー", "zh": "键", "en": "key"},
    "weights_title": {
        "ja": "重み（行 = クエリ、列 = キー）",
        "zh": "权重（行 = 查询，列 = 键）",
        "en": "weights (rows = queries, columns = keys)",
    },
    "row_title": {
        "ja": "クエリ「{tok}」の重み",
        "zh": "查询“{tok}”的权重",
        "en": "weights of query '{tok}'",
    },
    "output_title": {
        "ja": "クエリ「{tok}」の出力",
        "zh": "查询“{tok}”的输出",
        "en": "output of query '{tok}'",
    },
    "channel": {"ja": "チャネル", "zh": "通道", "en": "channel"},
    "patch": {"ja": "パッチ {i}", "zh": "patch {i}", "en": "patch {i}"},
    "row_sums": {
        "ja": "各行の和（あなたの実装）: {sums}",
        "zh": "每行之和（你的实现）：{sums}",
        "en": "row sums (yours): {sums}",
    },
    "scores_note": {
        "ja": "スコア = QKᵀ × {factor:.3g}（√d_k で割る：{scaled}、T = {t:.2g}、d_k = {dk}）。"
        "あなたの関数は常に √d_k で割るので、クエリに c = {c:.3g} を掛けた q × c を渡しています"
        "（c = 1/T：√d_k で割るとき、c = √d_k/T：割らないとき）。",
        "zh": "分数 = QKᵀ × {factor:.3g}（除以 √d_k：{scaled}，T = {t:.2g}，d_k = {dk}）。"
        "你的函数总会除以 √d_k，所以传入的查询是 q × c，其中 c = {c:.3g}"
        "（除以 √d_k 时 c = 1/T，不除时 c = √d_k/T）。",
        "en": "scores = QKᵀ × {factor:.3g} (divide by √d_k: {scaled}, T = {t:.2g}, d_k = {dk}). "
        "Your function always divides by √d_k, so it receives q × c with c = {c:.3g} "
        "(c = 1/T with the division, c = √d_k/T without).",
    },
    "yes": {"ja": "オン", "zh": "开", "en": "on"},
    "no": {"ja": "オフ", "zh": "关", "en": "off"},
    "padding_token": {"ja": "[PAD]", "zh": "[PAD]", "en": "[PAD]"},
    # page version (course_pkg.teaching.live): read-outs and alt text of the reference's figure
    "row_sums_page": {"ja": "各行の和: {sums}", "zh": "每行之和：{sums}", "en": "row sums: {sums}"},
    "scores_page": {
        "ja": "スコア = QKᵀ × {factor:.3g}（√d_k で割る：{scaled}、T = {t:.2g}、d_k = {dk}）",
        "zh": "分数 = QKᵀ × {factor:.3g}（除以 √d_k：{scaled}，T = {t:.2g}，d_k = {dk}）",
        "en": "scores = QKᵀ × {factor:.3g} (divide by √d_k: {scaled}, T = {t:.2g}, d_k = {dk})",
    },
    "alt_heads": {
        "ja": "ヘッドへの分割の図。D = {D}、H = {H}（1 ヘッド D/H = {dh} チャネル）。{status}",
        "zh": "分头示意图。D = {D}，H = {H}（每个头 D/H = {dh} 个通道）。{status}",
        "en": "split into heads: D = {D}, H = {H} ({dh} channels per head). {status}",
    },
    "alt_masking": {
        "ja": "写真「{image}」のマスク：マスク率 {ratio:.2f}、シード {seed}、{n} パッチのうち {kept} 個が見え、残りは灰色。"
        "数字画像に同じマスクをかけ、MAE が再構成した図。",
        "zh": "照片“{image}”的掩码：掩码率 {ratio:.2f}，种子 {seed}，{n} 个 patch 中 {kept} 个可见，其余为灰色。"
        "同样的掩码作用于数字图像，并由 MAE 重建。",
        "en": "mask of photo '{image}': ratio {ratio:.2f}, seed {seed}, {kept} of {n} patches visible, the rest grey; "
        "the same mask on a digit and the MAE's reconstruction.",
    },
    "alt_patches": {
        "ja": "写真「{image}」をパッチサイズ P = {p} で分割した図。{verdict}",
        "zh": "把照片“{image}”按 patch 大小 P = {p} 切分的图。{verdict}",
        "en": "photo '{image}' cut into patches of size P = {p}. {verdict}",
    },
    "alt_patches_ok": {
        "ja": "{g}×{g} = {n} パッチ、パッチ {i} とその平坦化したベクトルを強調。",
        "zh": "{g}×{g} = {n} 个 patch，突出显示 patch {i} 及其展平后的向量。",
        "en": "{g}×{g} = {n} patches; patch {i} and its flattened vector highlighted.",
    },
    "alt_patches_bad": {
        "ja": "P = {p} は {s} を割り切らず、右端と下端の余り（赤）はどのパッチにも入らない。",
        "zh": "P = {p} 不能整除 {s}，右边和下边的剩余部分（红色）不属于任何 patch。",
        "en": "P = {p} does not divide {s}: the red strips belong to no patch.",
    },
    "alt_positional": {
        "ja": "位置エンコーディング（{n} 位置 × d_model = {d}）のヒートマップ、次元 {c} の値（{kind}、波長 {wl:.3g}）、"
        "位置どうしの内積と位置 {p} の内積。",
        "zh": "位置编码（{n} 个位置 × d_model = {d}）的热图、维度 {c} 的值（{kind}，波长 {wl:.3g}）、"
        "位置之间的点积以及位置 {p} 的点积。",
        "en": "positional encoding ({n} positions × d_model = {d}) heatmap, dimension {c} ({kind}, wavelength {wl:.3g}), "
        "dot products between positions and those of position {p}.",
    },
    "pe_shape": {"ja": "PE の形: {shape}", "zh": "PE 的形状：{shape}", "en": "PE shape: {shape}"},
    "alt_attention": {
        "ja": "注意の重みのヒートマップ。入力：{source}、クエリ {i}「{tok}」、√d_k で割る：{scaled}、温度 T = {t:.2g}、マスク：{mask}",
        "zh": "注意力权重热图。输入：{source}，查询 {i}“{tok}”，除以 √d_k：{scaled}，温度 T = {t:.2g}，掩码：{mask}",
        "en": "attention weights heatmap; input: {source}, query {i} ('{tok}'), divide by √d_k: {scaled}, "
        "temperature T = {t:.2g}, mask: {mask}",
    },
}

# The toy sentence (course_pkg.data) with the role of each token, from which the explorer
# builds queries and keys.
SENTENCES, ROLES = TOY_SENTENCES, TOY_ROLES
LOOKS_FOR = {"adj": "noun", "noun": "adj", "verb": "noun", "part": "noun"}


# ---------------------------------------------------------------------------
# Base class
# ---------------------------------------------------------------------------


def _lang(lang: str | None) -> str:
    return normalize_lang(lang) or current_lang()


def _png(fig: Figure) -> bytes:
    buf = io.BytesIO()
    FigureCanvasAgg(fig)
    fig.savefig(buf, format="png", dpi=DPI)
    return buf.getvalue()


def _max_diff(a: np.ndarray, b: np.ndarray) -> tuple[float, tuple]:
    d = np.nan_to_num(np.abs(a.astype(np.float64) - b.astype(np.float64)), nan=np.inf)
    where = np.unravel_index(int(np.argmax(d)), d.shape)
    return float(d.max()), tuple(int(i) for i in where)


def _bits(removed) -> str:
    """A boolean vector ``(N,)`` as a hexadecimal number whose bit i is element i."""
    return format(sum(1 << i for i, r in enumerate(_np(removed).reshape(-1)) if r), "x")


def _is_reference(fn: Callable) -> bool:
    """Whether ``fn`` is one of the package's own implementations."""
    return (getattr(fn, "__module__", None) or "").startswith("course_pkg.")


def _np(t) -> np.ndarray:
    return t.detach().cpu().numpy() if isinstance(t, torch.Tensor) else np.asarray(t)


def _option_pairs(control: dict, t: Callable) -> list:
    """``(label, value)`` pairs of a toggle/choice/steps control (numbers label themselves)."""
    return [(t(o[0]), o[1]) if isinstance(o, list) else (str(o), o) for o in control["options"]]


def build_control(control: dict, t: Callable) -> widgets.Widget:
    """The ipywidget of one control of a description (``course_pkg.teaching.widget_specs``)."""
    kind, label, value = control["kind"], t(control["label"]), control["value"]
    if kind == "toggle":
        return widgets.ToggleButtons(
            options=_option_pairs(control, t), value=value, description=label
        )
    if kind == "choice":
        return widgets.Dropdown(options=_option_pairs(control, t), value=value, description=label)
    if kind == "steps":
        return widgets.SelectionSlider(
            options=_option_pairs(control, t),
            value=value,
            description=label,
            continuous_update=False,
        )
    if kind == "check":
        return widgets.Checkbox(value=value, description=label)
    sliders = {
        "int": widgets.IntSlider,
        "float": widgets.FloatSlider,
        "log": widgets.FloatLogSlider,
    }
    if kind not in sliders:
        raise ValueError(
            f"control {control['name']!r}: unknown kind {kind!r}; expected one of {KINDS}"
        )
    extra = {"base": control["base"]} if kind == "log" else {}
    return sliders[kind](
        value=value,
        min=control["min"],
        max=control["max"],
        step=control["step"],
        description=label,
        continuous_update=False,
        **extra,
    )


class Explorer:
    """Common parts: controls, state, a figure shown as PNG, a status line.

    Subclasses name their description (``widget``, a key of ``course_pkg.teaching.widget_specs.SPECS``),
    from which the controls are built, and implement :meth:`compute` (fill ``self.state``),
    :meth:`draw` (draw ``self.state`` on a figure) and :meth:`page_data` (the inputs the page
    version needs, see ``course_pkg.teaching.live``).
    """

    widget = ""
    exercise = ""  # the exercise whose properties the explored functions must have
    figsize = (10, 4)
    margins = {"left": 0.07, "right": 0.98, "top": 0.9, "bottom": 0.2, "wspace": 0.35}

    def __init__(self, lang: str | None = None, **values):
        self.lang = _lang(lang)
        self.spec = spec(self.widget, **values)
        self.controls: dict[str, widgets.Widget] = {
            c["name"]: build_control(c, self.t) for c in self.spec["controls"]
        }
        self.state: dict = {}
        self.figure: Figure | None = None
        self.image = widgets.Image(format="png", layout=widgets.Layout(max_width="100%"))
        self.status = widgets.HTML()
        self.notes = widgets.HTML()
        self._finish()

    def t(self, key: str, **fmt) -> str:
        return tr(MESSAGES, key, self.lang, **fmt)

    def _finish(self) -> None:
        """Lay out the controls by rows, wire them and their dependencies, compute and render once."""
        for c in self.spec["controls"]:
            if "depends" in c:
                self.controls[c["depends"]["on"]].observe(
                    lambda change, c=c: self._follow(c, change["new"]), names="value"
                )
        for control in self.controls.values():
            control.observe(self._on_change, names="value")
            if hasattr(control, "style") and hasattr(control.style, "description_width"):
                control.style.description_width = "initial"  # never cut a label ("パッチサイ…")
        rows = [
            widgets.HBox([self.controls[n] for n in row]) if len(row) > 1 else self.controls[row[0]]
            for row in self.spec["rows"]
        ]
        self.box = widgets.VBox(rows + [self.status, self.image, self.notes])
        self.verdict = self._verdict()
        self.update()

    def _follow(self, control: dict, value) -> None:
        """Set the range or options of ``control`` from its ``depends`` table for ``value``."""
        dep, widget = control["depends"], self.controls[control["name"]]
        if "max" in dep:
            widget.max = dep["max"][str(value)]
            return
        options = dep["options"][str(value)]
        old = widget.value
        with widget.hold_trait_notifications():
            widget.options = options
            widget.value = old if old in options else options[len(options) // 2]

    def _on_change(self, _change=None) -> None:
        self.update()

    def set(self, **values) -> Explorer:
        """Set several controls at once (recomputes once per control)."""
        for name, value in values.items():
            self.controls[name].value = value
        return self

    def update(self) -> None:
        """Recompute the state and redraw the figure from the current control values."""
        self.compute()
        with rc_context(
            {
                "font.family": "sans-serif",
                "font.sans-serif": font_families(self.lang),
                "axes.unicode_minus": False,
            }
        ):
            fig = Figure(figsize=self.figsize)
            fig.subplots_adjust(**self.margins)
            self.draw(fig)
            self.image.value = _png(fig)
        self.figure = fig
        failed = (
            [html.escape(line) for line in self.verdict.lines() if line.startswith("✗")]
            if self.verdict is not None
            else []
        )
        self.status.value = "<br>".join(failed + self.state.get("messages", []))

    def explored(self) -> dict[str, Callable]:
        """The explored functions by the exercise's names (those given)."""
        return {}

    def _verdict(self) -> exercise_core.CheckResult | None:
        """The exercise's properties run on the explored functions (None for the package's own)."""
        given = {name: fn for name, fn in self.explored().items() if fn is not None}
        if not self.exercise or not given or all(_is_reference(fn) for fn in given.values()):
            return None
        return exercise_core.verdict(
            load_exercise(self.exercise), given, self.lang, only_given=True
        )

    def compute(self) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def draw(self, fig: Figure) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def _call_user(self, fn: Callable, *args, **kwargs):
        """Call the explored function; return ``(result, problem)`` with problem None, 'todo' or text."""
        try:
            return fn(*args, **kwargs), None
        except NotImplementedError:
            return None, "todo"
        except Exception as err:  # noqa: BLE001 - shown to the reader
            return None, f"{type(err).__name__}: {err}"

    def _problem_message(self, problem: str, fn: Callable) -> str:
        """The status line for a failed call of the explored function ``fn``, named in it."""
        name = getattr(fn, "__name__", "?")
        if problem == "todo":
            return (
                exercise_messages.text("not_implemented", self.lang, fn=name)
                + " "
                + self.t("showing_reference", fn=name)
            )
        return self.t("error", fn=name, err=html.escape(problem))

    def _compare(
        self, what: str, got: np.ndarray, want: np.ndarray, atol: float = 1e-5
    ) -> str | None:
        """A message if ``got`` differs from ``want`` (shape or values), else None."""
        if got.shape != want.shape:
            return self.t("shape_differs", what=what, got=tuple(got.shape), want=tuple(want.shape))
        if not np.allclose(got, want, atol=atol, equal_nan=False):
            diff, where = _max_diff(got, want)
            return self.t("values_differ", what=what, diff=diff, where=where)
        return None

    # page version ----------------------------------------------------------
    def page_data(self) -> tuple[dict, bool]:  # pragma: no cover - abstract
        """``(data, recorded)``: the inputs of the page version (``course_pkg.teaching.live``), and whether
        they are the explored function's recorded results (True) or inputs from which the page
        computes the reference (False)."""
        raise NotImplementedError

    def live_html(self) -> str | None:
        """The page version as HTML, or None when the page could not show the same figure: an
        explored function that runs but differs from the reference, in a widget whose page
        version computes the reference (it would show other numbers than the notebook)."""
        from . import live

        if self.state.get("match") is False and not self.records_function:
            return None
        return live.page_html(self)

    records_function = False  # True: page_data holds the explored function's results

    # display -------------------------------------------------------------
    def _repr_mimebundle_(self, **kwargs):
        from . import live

        bundle = self.box._repr_mimebundle_(**kwargs) or {}
        if self.image.value:
            bundle["image/png"] = base64.b64encode(self.image.value).decode("ascii")
        if live.exporting():
            page = self.live_html()
            if page:
                bundle["text/html"] = page
        return bundle

    def __repr__(self) -> str:
        return f"<{type(self).__name__} { ({k: c.value for k, c in self.controls.items()}) }>"


# ---------------------------------------------------------------------------
# 01: attention explorer
# ---------------------------------------------------------------------------


def _sentence_qkv(lang: str, seed: int = 0):
    """Tokens and ``q, k, v (N, 8)`` built from the role of each token (see ``SENTENCES``)."""
    pairs = SENTENCES[lang]
    g = torch.Generator().manual_seed(seed)
    n, d = len(pairs), 8
    noise = 0.4 * torch.randn(3, n, d, generator=g)
    role = torch.zeros(n, d)
    looks = torch.zeros(n, d)
    for i, (_, r) in enumerate(pairs):
        role[i, ROLES.index(r)] = 2.0
        looks[i, ROLES.index(LOOKS_FOR[r])] = 2.0
    pos = torch.arange(n, dtype=torch.float32)
    role[:, 4] = torch.cos(pos)  # a little position information, so equal roles differ
    role[:, 5] = torch.sin(pos)
    q = looks + noise[0]
    k = role + noise[1]
    v = role + noise[2]
    return [tok for tok, _ in pairs], q, k, v


def _image_qkv(size: int = 64, patch: int = 16, name: str = "chelsea"):
    """Patches of a photograph as tokens: ``q = k`` = normalised 4x4-pooled patch colours."""
    try:
        from ..data import sample_image

        img = sample_image(name, size)
    except Exception:  # noqa: BLE001 - fall back to a synthetic image if data is unavailable
        yy, xx = torch.meshgrid(
            torch.linspace(0, 1, size), torch.linspace(0, 1, size), indexing="ij"
        )
        img = torch.stack([xx, yy, (xx - 0.5) ** 2 + (yy - 0.5) ** 2])
    pooled = torch.nn.functional.avg_pool2d(img.unsqueeze(0), patch // 4)  # (1, 3, 16, 16)
    g = size // patch
    feats = pooled.reshape(3, g, 4, g, 4).permute(1, 3, 2, 4, 0).reshape(g * g, 48)
    feats = feats - feats.mean(0)
    feats = 4.0 * feats / feats.norm(dim=1, keepdim=True).clamp_min(1e-6)  # self-score 16/√48 ≈ 2.3
    mean_colour = img.reshape(3, g, patch, g, patch).mean((2, 4)).permute(1, 2, 0).reshape(g * g, 3)
    return img, feats, feats.clone(), mean_colour


class AttentionExplorer(Explorer):
    """Explore ``fn(q, k, v, mask=None) -> (output, weights)`` next to a reference.

    Controls: ``source`` ("sentence"/"image"), ``query`` (index), ``scale`` (divide by
    √d_k), ``temperature``, ``mask`` ("none"/"causal"/"padding").
    State: ``tokens``, ``q``, ``k``, ``v``, ``mask``, ``factor``, ``weights``/``output``
    (the explored function, None if it failed), ``ref_weights``/``ref_output``,
    ``row_sums``, ``match`` (bool or None) and ``messages``.
    """

    figsize = (11, 3.8)
    margins = {"left": 0.08, "right": 0.98, "top": 0.9, "bottom": 0.24, "wspace": 0.3}

    widget = "attention"
    exercise = "01_attention"

    def explored(self) -> dict[str, Callable]:
        return {"scaled_dot_product_attention": self.fn}

    def __init__(self, fn: Callable, reference: Callable | None = None, lang: str | None = None):
        from ..models.attention import scaled_dot_product_attention

        self.fn = fn
        self.reference = reference or scaled_dot_product_attention
        self._sentence = _sentence_qkv(_lang(lang))
        self._image = None  # built lazily: loading a photograph takes a moment
        super().__init__(lang)

    def _tokens(self) -> list[str]:
        if self.controls["source"].value == "sentence":
            return self._sentence[0] + [self.t("padding_token")] * 2
        return [self.t("patch", i=i) for i in range(16)]

    def _inputs(self):
        """``tokens, q, k, v, mask (N, N) or None`` for the current source and mask choice."""
        if self.controls["source"].value == "sentence":
            tokens, q, k, v = self._sentence
            tokens = tokens + [self.t("padding_token")] * 2
            pad = torch.zeros(2, q.shape[1])
            q, k, v = torch.cat([q, pad]), torch.cat([k, pad]), torch.cat([v, pad])
            n_real = len(tokens) - 2
        else:
            if self._image is None:
                self._image = _image_qkv()
            _, q, k, _ = self._image
            v = self._image[3]  # mean colour of each patch: the output is a colour
            tokens = self._tokens()
            n_real = len(tokens) - 4  # the last row of patches plays the padding
        n = len(tokens)
        kind = self.controls["mask"].value
        if kind == "causal":
            mask = torch.ones(n, n, dtype=torch.bool).tril()
        elif kind == "padding":
            mask = torch.zeros(n, n, dtype=torch.bool)
            mask[:, :n_real] = True
        else:
            mask = None
        return tokens, q, k, v, mask

    def compute(self) -> None:
        tokens, q, k, v, mask = self._inputs()
        dk = q.shape[-1]
        scaled = self.controls["scale"].value
        temp = float(self.controls["temperature"].value)
        # fn divides by sqrt(d_k) itself: passing q * c gives scores q k^T * c / sqrt(d_k).
        c = (1.0 if scaled else math.sqrt(dk)) / temp
        factor = c / math.sqrt(dk)
        # The reference in float64: the numbers the page version (float64 in the browser) shows.
        ref_out, ref_w = self.reference(q.double() * c, k.double(), v.double(), mask=mask)
        result, problem = self._call_user(self.fn, q * c, k, v, mask=mask)
        messages = [
            self.t(
                "scores_note",
                factor=factor,
                scaled=self.t("yes" if scaled else "no"),
                t=temp,
                dk=dk,
                c=c,
            )
        ]
        out = w = None
        match = None
        if problem is None:
            if not isinstance(result, tuple) or len(result) != 2:
                problem = f"expected (output, weights), got {type(result).__name__}"
            else:
                out, w = (_np(r) for r in result)
        if problem is not None:
            messages.insert(0, self._problem_message(problem, self.fn))
        else:
            diffs = [
                m
                for m in (
                    self._compare("weights", w, _np(ref_w)),
                    self._compare("output", out, _np(ref_out)),
                )
                if m
            ]
            match = not diffs
            messages[:0] = diffs or [self.t("match")]
            if w.ndim == 2 and w.shape[0] == len(tokens):
                sums = ", ".join(f"{s:.2f}" for s in w.sum(-1))
                messages.append(self.t("row_sums", sums=sums))
        self.state = {
            "tokens": tokens,
            "q": _np(q),
            "k": _np(k),
            "v": _np(v),
            "mask": None if mask is None else _np(mask),
            "factor": factor,
            "weights": w,
            "output": out,
            "ref_weights": _np(ref_w),
            "ref_output": _np(ref_out),
            "row_sums": None if w is None else w.sum(-1),
            "match": match,
            "query": int(self.controls["query"].value),
            "messages": messages,
        }

    def page_data(self) -> tuple[dict, bool]:
        """Queries, keys and values of both sources (float32), their tokens and the photo."""
        from .live import f32, image_uri

        tokens, q, k, v = self._sentence
        pad = self.t("padding_token")
        zeros = torch.zeros(2, q.shape[1])
        sentence = {
            "tokens": tokens + [pad] * 2,
            "n_real": len(tokens),
            "q": f32(torch.cat([q, zeros])),
            "k": f32(torch.cat([k, zeros])),
            "v": f32(torch.cat([v, zeros])),
        }
        if self._image is None:
            self._image = _image_qkv()
        img, iq, ik, iv = self._image
        image = {
            "tokens": [self.t("patch", i=i) for i in range(iq.shape[0])],
            "n_real": iq.shape[0] - 4,
            "q": f32(iq),
            "k": "q" if torch.equal(iq, ik) else f32(ik),
            "v": f32(iv),
            "photo": image_uri(_np(img)),
            "grid": 4,
        }
        return {"sentence": sentence, "image": image}, False

    def draw(self, fig: Figure) -> None:
        s = self.state
        tokens, i = s["tokens"], s["query"]
        shown = (
            s["weights"]
            if s["match"] is not None and s["weights"].shape == s["ref_weights"].shape
            else s["ref_weights"]
        )
        ax_w, ax_row, ax_out = fig.subplots(1, 3, gridspec_kw={"width_ratios": [1.1, 1.2, 1]})
        ax_w.imshow(shown, cmap="viridis", vmin=0, vmax=1)
        ax_w.set_title(self.t("weights_title"), fontsize=10)
        n = len(tokens)
        if self.controls["source"].value == "sentence":
            ax_w.set_xticks(range(n), tokens, rotation=60, fontsize=8)
            ax_w.set_yticks(range(n), tokens, fontsize=8)
        else:
            ax_w.set_xticks(range(0, n, 4))
            ax_w.set_yticks(range(0, n, 4))
        ax_w.axhline(i - 0.5, color="red", lw=1.5)
        ax_w.axhline(i + 0.5, color="red", lw=1.5)
        ax_w.set_xlabel(self.t("key"))
        ax_w.set_ylabel(self.t("query"))

        tok = tokens[i]
        if self.controls["source"].value == "image" and self._image is not None:
            img = self._image[0].permute(1, 2, 0).numpy()
            ax_row.imshow(img)
            g = 4
            ax_row.imshow(
                shown[i].reshape(g, g),
                cmap="magma",
                alpha=0.55,
                vmin=0,
                vmax=max(shown[i].max(), 1e-6),
                extent=(0, img.shape[1], img.shape[0], 0),
            )
            r, col = divmod(i, g)
            p = img.shape[0] / g
            ax_row.add_patch(Rectangle((col * p, r * p), p, p, fill=False, ec="cyan", lw=2))
            ax_row.set_axis_off()
        else:
            x = np.arange(n)
            ax_row.bar(
                x - 0.2, s["ref_weights"][i], width=0.4, label=self.t("reference"), color="0.6"
            )
            if s["weights"] is not None and s["weights"].shape == s["ref_weights"].shape:
                ax_row.bar(
                    x + 0.2, s["weights"][i], width=0.4, label=self.t("yours"), color="tab:blue"
                )
            ax_row.set_xticks(x, tokens, rotation=60, fontsize=8)
            ax_row.set_ylim(0, 1)
            ax_row.legend(fontsize=8)
        ax_row.set_title(self.t("row_title", tok=tok), fontsize=10)

        ref_o = s["ref_output"][i]
        x = np.arange(ref_o.shape[-1])
        ax_out.bar(x - 0.2, ref_o, width=0.4, color="0.6", label=self.t("reference"))
        if s["output"] is not None and s["output"].shape == s["ref_output"].shape:
            ax_out.bar(
                x + 0.2, s["output"][i], width=0.4, color="tab:orange", label=self.t("yours")
            )
        ax_out.set_xlabel(self.t("channel"))
        ax_out.set_title(self.t("output_title", tok=tok), fontsize=10)
        ax_out.legend(fontsize=8)


def attention_explorer(
    fn: Callable, reference: Callable | None = None, lang: str | None = None
) -> AttentionExplorer:
    """Widget that runs ``fn(q, k, v, mask=None) -> (output, weights)`` on a sentence or on
    image patches, with √d_k scaling on/off, a temperature and a causal/padding mask, and
    compares it with ``reference`` (default :func:`course_pkg.models.attention.scaled_dot_product_attention`).
    """
    return AttentionExplorer(fn, reference, lang)


# ---------------------------------------------------------------------------
# 02: head splitter
# ---------------------------------------------------------------------------

MESSAGES.update(
    {
        "heads": {"ja": "ヘッド数 H", "zh": "头数 H", "en": "heads H"},
        "dim": {"ja": "次元 D", "zh": "维度 D", "en": "dim D"},
        "input_title": {
            "ja": "入力 x: 各チャネルを受け取るヘッドの色",
            "zh": "输入 x：按接收该通道的头着色",
            "en": "input x: coloured by the head that receives each channel",
        },
        "heads_title": {
            "ja": "ヘッド {h}（色 = 本来のヘッド）",
            "zh": "头 {h}（颜色 = 应属的头）",
            "en": "head {h} (colour = head it belongs to)",
        },
        "token": {"ja": "トークン", "zh": "token", "en": "token"},
        "shapes": {
            "ja": "形の流れ（参照実装）: x {x} → view {v} → transpose(1, 2) {t}。あなたの split_heads: {s}、merge_heads: {m}",
            "zh": "形状变化（参考实现）：x {x} → view {v} → transpose(1, 2) {t}。你的 split_heads：{s}，merge_heads：{m}",
            "en": "shapes (reference): x {x} → view {v} → transpose(1, 2) {t}. Your split_heads: {s}, merge_heads: {m}",
        },
        "mixed": {
            "ja": "✗ ヘッド間でチャネルが混ざっています（{n} 個の値が違う場所にあります）。例: ヘッド {h} のトークン {tok} の位置 {c} に、トークン {src_tok} のチャネル {src_d}（本来はヘッド {src_h}）が入っています。"
            "(B, N, D) をそのまま (B, H, N, D/H) に reshape すると、こうなります。先に (B, N, H, D/H) に分けてから transpose してください。",
            "zh": "✗ 各头之间的通道混在了一起（有 {n} 个值不在正确位置）。例如：头 {h} 的 token {tok} 的位置 {c} 上，是 token {src_tok} 的通道 {src_d}（本应属于头 {src_h}）。"
            "把 (B, N, D) 直接 reshape 成 (B, H, N, D/H) 就会这样。应先分成 (B, N, H, D/H)，再做 transpose。",
            "en": "✗ channels are mixed across heads ({n} values in the wrong place). E.g. head {h}, token {tok}, position {c} holds token {src_tok} channel {src_d} (head {src_h}). "
            "Reshaping (B, N, D) straight to (B, H, N, D/H) does this; split to (B, N, H, D/H) first, then transpose.",
        },
        "merge_ok": {
            "ja": "✓ merge_heads(split_heads(x)) は x に戻ります。",
            "zh": "✓ merge_heads(split_heads(x)) 能还原 x。",
            "en": "✓ merge_heads(split_heads(x)) gives back x.",
        },
        "merge_bad": {
            "ja": "✗ merge_heads(split_heads(x)) が x に戻りません。",
            "zh": "✗ merge_heads(split_heads(x)) 没有还原 x。",
            "en": "✗ merge_heads(split_heads(x)) does not give back x.",
        },
    }
)


class HeadSplitter(Explorer):
    """Explore ``split_fn(x, num_heads)`` (and optionally ``merge_fn``) on a labelled tensor.

    ``x[0, n, d] = n * D + d``, so every value tells which token and channel it came
    from. Controls: ``dim`` (D), ``heads`` (H, a divisor of D). State: ``split`` /
    ``ref_split`` ``(1, H, N, D/H)``, ``receiver`` ``(N, D)`` (the head that receives
    each input channel in the explored split, -1 if none), ``mixed`` (bool or None),
    ``shapes``, ``merge_ok``.
    """

    figsize = (11, 3.4)
    margins = {"left": 0.05, "right": 0.99, "top": 0.85, "bottom": 0.12, "wspace": 0.3}
    num_tokens = 4

    widget = "heads"
    exercise = "02_multihead"

    def explored(self) -> dict[str, Callable]:
        return {
            "split_heads": self.split_fn,
            "merge_heads": self.merge_fn,
            "multi_head_attention": self.attention_fn,
        }

    def __init__(
        self,
        split_fn: Callable,
        merge_fn: Callable | None = None,
        lang: str | None = None,
        attention_fn: Callable | None = None,
    ):
        self.split_fn, self.merge_fn, self.attention_fn = split_fn, merge_fn, attention_fn
        super().__init__(lang)

    def compute(self) -> None:
        from ..models.attention import split_heads as ref_split

        D, H, N = (
            int(self.controls["dim"].value),
            int(self.controls["heads"].value),
            self.num_tokens,
        )
        if D % H:  # transient state while the options change
            H = divisors(D)[0]
        x = torch.arange(N * D, dtype=torch.float32).reshape(1, N, D)
        want = ref_split(x, H)
        messages = []
        got, problem = self._call_user(self.split_fn, x, H)
        receiver = np.full((N, D), -1)
        mixed = None
        split = None
        if problem is not None:
            messages.append(self._problem_message(problem, self.split_fn))
        else:
            split = _np(got)
            if split.shape != tuple(want.shape):
                messages.append(
                    self.t(
                        "shape_differs",
                        what="split_heads(x)",
                        got=split.shape,
                        want=tuple(want.shape),
                    )
                )
            else:
                wrong = []
                Dh = D // H
                for h in range(H):
                    for n in range(N):
                        for c in range(Dh):
                            src_n, src_d = divmod(int(round(split[0, h, n, c])), D)
                            receiver[src_n, src_d] = h
                            if (src_n, src_d) != (n, h * Dh + c):
                                wrong.append((h, n, c, src_n, src_d, src_d // Dh))
                mixed = bool(wrong)
                if wrong:
                    h, n, c, sn, sd, sh = wrong[0]
                    messages.append(
                        self.t(
                            "mixed", n=len(wrong), h=h, tok=n, c=c, src_tok=sn, src_d=sd, src_h=sh
                        )
                    )
                else:
                    messages.append(self.t("match"))
        merged_shape, merge_ok = "—", None
        if self.merge_fn is not None:
            merged, mproblem = self._call_user(self.merge_fn, want)
            if mproblem is not None:
                messages.append(self._problem_message(mproblem, self.merge_fn))
            else:
                merged_shape = tuple(_np(merged).shape)
                merge_ok = merged_shape == tuple(x.shape) and np.array_equal(_np(merged), _np(x))
                messages.append(self.t("merge_ok" if merge_ok else "merge_bad"))
        shapes = {
            "x": (1, N, D),
            "view": (1, N, H, D // H),
            "transpose": tuple(want.shape),
            "split": None if split is None else split.shape,
            "merge": merged_shape,
        }
        messages.append(
            self.t(
                "shapes",
                x=shapes["x"],
                v=shapes["view"],
                t=shapes["transpose"],
                s=shapes["split"] or "—",
                m=merged_shape,
            )
        )
        self.state = {
            "dim": D,
            "heads": H,
            "x": _np(x),
            "split": split,
            "ref_split": _np(want),
            "receiver": receiver,
            "mixed": mixed,
            "shapes": shapes,
            "merge_ok": merge_ok,
            "messages": messages,
        }

    records_function = True

    def page_data(self) -> tuple[dict, bool]:
        """For every (D, H) the controls offer: where each value of the explored split came from
        (``x[0, n, d] = n * D + d``, so a value is its source index), and whether merging the
        reference split gives ``x`` back. A function that fails is replaced by the reference."""
        from ..models.attention import merge_heads as ref_merge
        from ..models.attention import split_heads as ref_split

        N, split, merge, fallback = self.num_tokens, {}, {}, False
        for D in HEAD_DIMS:
            x = torch.arange(N * D, dtype=torch.float32).reshape(1, N, D)
            for H in divisors(D):
                want = ref_split(x, H)
                got, problem = self._call_user(self.split_fn, x, H)
                ok = problem is None and tuple(_np(got).shape) == tuple(want.shape)
                fallback |= not ok
                split[f"{D},{H}"] = (
                    np.rint(_np(got if ok else want)).astype(int).reshape(-1).tolist()
                )
                if self.merge_fn is not None:
                    merged, mproblem = self._call_user(self.merge_fn, want)
                    if mproblem is not None:  # not implemented or failing: the reference's
                        merged = ref_merge(want)
                    merge[f"{D},{H}"] = tuple(_np(merged).shape) == tuple(x.shape) and bool(
                        np.array_equal(_np(merged), _np(x))
                    )
        return {
            "tokens": N,
            "split": split,
            "merge": merge if self.merge_fn is not None else None,
        }, not fallback

    def draw(self, fig: Figure) -> None:
        s = self.state
        D, H, N = s["dim"], s["heads"], self.num_tokens
        Dh = D // H
        cmap = colormaps["tab10"]
        split = s["split"] if s["mixed"] is not None else s["ref_split"]
        receiver = (
            s["receiver"] if s["mixed"] is not None else np.repeat(np.arange(D)[None] // Dh, N, 0)
        )
        axes = fig.subplots(1, H + 2, gridspec_kw={"width_ratios": [D, 1] + [Dh] * H})
        ax_in = axes[0]
        axes[1].set_axis_off()
        rgb = np.ones((N, D, 3))
        for n in range(N):
            for d in range(D):
                if receiver[n, d] >= 0:
                    rgb[n, d] = cmap(receiver[n, d] % 10)[:3]
        ax_in.imshow(rgb, aspect="auto")
        ax_in.set_title(self.t("input_title"), fontsize=9)
        ax_in.set_xticks(range(D))
        ax_in.set_yticks(range(N))
        ax_in.set_ylabel(self.t("token"))
        ax_in.set_xlabel(self.t("channel"))
        for h in range(H):
            ax = axes[h + 2]
            block = np.ones((N, Dh, 3))
            for n in range(N):
                for c in range(Dh):
                    src_n, src_d = divmod(int(round(split[0, h, n, c])), D)
                    block[n, c] = cmap((src_d // Dh) % 10)[:3]
                    if Dh * H <= 24:
                        ax.text(c, n, str(src_d), ha="center", va="center", fontsize=7)
            ax.imshow(block, aspect="auto")
            ax.set_title(self.t("heads_title", h=h), fontsize=8, color=cmap(h % 10))
            ax.set_xticks([])
            ax.set_yticks([])


def head_splitter(
    split_fn: Callable,
    merge_fn: Callable | None = None,
    lang: str | None = None,
    attention_fn: Callable | None = None,
) -> HeadSplitter:
    """Widget: choose H among the divisors of D and see which head receives each channel of
    ``split_fn(x, H)``; a split that mixes channels across heads is detected and explained.
    Given ``attention_fn`` (the exercise's ``multi_head_attention``), its properties are listed
    too."""
    return HeadSplitter(split_fn, merge_fn, lang, attention_fn)


# ---------------------------------------------------------------------------
# 03: masking explorer
# ---------------------------------------------------------------------------

MESSAGES.update(
    {
        "mask_ratio": {"ja": "マスク率", "zh": "掩码率", "en": "mask ratio"},
        "seed": {"ja": "シード", "zh": "种子", "en": "seed"},
        "photo": {"ja": "写真", "zh": "照片", "en": "photo"},
        "kept": {
            "ja": "残したパッチ: {kept} / {n}（int(N · (1 − マスク率)) = {want}）",
            "zh": "保留的 patch：{kept} / {n}（int(N · (1 − 掩码率)) = {want}）",
            "en": "kept patches: {kept} / {n} (int(N · (1 − ratio)) = {want})",
        },
        "masking_ok": {
            "ja": "✓ mask・x_kept・ids_restore が整合しています。",
            "zh": "✓ mask、x_kept、ids_restore 彼此一致。",
            "en": "✓ mask, x_kept and ids_restore agree.",
        },
        "original": {"ja": "元の画像", "zh": "原图", "en": "original"},
        "visible": {
            "ja": "見えるパッチ（unshuffle 後）",
            "zh": "可见 patch（unshuffle 之后）",
            "en": "visible (after unshuffle)",
        },
        "digit": {"ja": "数字画像", "zh": "数字图像", "en": "digit"},
        "digit_masked": {"ja": "あなたのマスク", "zh": "你的掩码", "en": "your mask"},
        "mae_recon": {"ja": "MAE の再構成", "zh": "MAE 重建", "en": "MAE reconstruction"},
        "no_mae": {
            "ja": "学習済みの小さな MAE が見つからないため、再構成は表示しません（{err}）。",
            "zh": "找不到预训练的小型 MAE，因此不显示重建结果（{err}）。",
            "en": "the tiny pretrained MAE is not available, so no reconstruction ({err}).",
        },
    }
)

PHOTO_GRID = 8  # the photo (128 px) is cut into 8 x 8 = 64 patches of 16 px


def _grey_out(
    images: torch.Tensor, removed: torch.Tensor, patch: int, grey: float = 0.5
) -> torch.Tensor:
    """``(C, H, W)`` with the removed patches ``(N,)`` bool painted grey."""
    from ..models.patches import patchify, unpatchify

    tokens = patchify(images.unsqueeze(0), patch)[0]
    tokens[removed] = grey
    return unpatchify(tokens.unsqueeze(0), patch, tuple(images.shape[-2:]))[0]


class MaskingExplorer(Explorer):
    """Explore ``random_masking_fn(x, mask_ratio, generator)`` (and ``unshuffle_fn``).

    The photo (128 px) is cut into 8 x 8 patches and masked by the explored function;
    the visible patches are put back in place with ``unshuffle_fn``. The explored
    function also masks the patches of a digit (with a generator of the same seed), and
    the shipped tiny MAE (trained on digits) reconstructs the digit from exactly that mask.
    Controls: ``mask_ratio``, ``seed``, ``image``. State: ``mask`` (N,) 1 = removed,
    ``kept``, ``expected_kept``, ``ids_restore``, ``visible`` (3, H, W), ``valid`` (bool or
    None if not implemented), ``digit_mask``, ``digit_masked``, ``reconstruction`` (1, h, w)
    or None when the MAE is unavailable.
    """

    widget = "masking"
    exercise = "03_mae_masking"

    def explored(self) -> dict[str, Callable]:
        return {"random_masking": self.fn, "unshuffle": self.unshuffle_fn}

    figsize = (11, 3.0)
    margins = {"left": 0.02, "right": 0.98, "top": 0.88, "bottom": 0.04, "wspace": 0.08}
    photo_size = 128

    def __init__(
        self,
        random_masking_fn: Callable,
        unshuffle_fn: Callable | None = None,
        lang: str | None = None,
        image: str = "chelsea",
        digit_index: int = 0,
    ):
        self.fn, self.unshuffle_fn = random_masking_fn, unshuffle_fn
        self._photos: dict[str, torch.Tensor] = {}
        self._digit = None
        self._mae = None
        self._mae_error = None
        self.digit_index = digit_index
        super().__init__(lang, image=image)

    def _photo(self) -> torch.Tensor:
        from ..data import sample_image

        name = self.controls["image"].value
        if name not in self._photos:
            self._photos[name] = sample_image(name, self.photo_size)
        return self._photos[name]

    def _load_mae(self):
        if self._mae is None and self._mae_error is None:
            try:
                from ..checkpoints import load_pretrained
                from ..data import load_digits

                # float64: the same reconstruction on any number of threads (float32 differs by
                # ~1e-6 between one and two), so the page's precomputed one is the notebook's.
                self._mae = load_pretrained("mae_digits").double()
                size = self._mae.config.img_size
                self._digit = load_digits(size)[0][self.digit_index : self.digit_index + 1]
            except Exception as err:  # noqa: BLE001 - the widget still works without the MAE
                self._mae_error = f"{type(err).__name__}: {err}"
        return self._mae

    def _mask(self, x: torch.Tensor, ratio: float, seed: int):
        """Run the explored function on tokens ``x (1, N, D)`` and validate what it returns.

        Returns ``x_kept, removed (N,) bool, ids_restore, kept, valid, messages``; when the
        function is not implemented or fails, the reference's result with ``valid`` None/False.
        """
        from ..models.mae import random_masking as ref_masking

        N = x.shape[1]
        want_keep = int(N * (1 - ratio))
        messages = []
        result, problem = self._call_user(
            self.fn, x, ratio, generator=torch.Generator().manual_seed(seed)
        )
        if problem is None and (not isinstance(result, tuple) or len(result) != 3):
            problem = f"expected (x_kept, mask, ids_restore), got {type(result).__name__}"
        if problem is not None:
            messages.append(self._problem_message(problem, self.fn))
            x_kept, mask, ids_restore = ref_masking(
                x, ratio, generator=torch.Generator().manual_seed(seed)
            )
            valid = None if problem == "todo" else False
            removed = mask.reshape(-1) > 0.5
            return x_kept, removed, ids_restore, x_kept.shape[1], valid, messages
        x_kept, mask, ids_restore = result
        removed = (mask.bool() if mask.dtype == torch.bool else mask > 0.5).reshape(-1)
        kept = int(x_kept.shape[1]) if x_kept.dim() == 3 else -1
        valid = True
        # what is wrong is said by the exercise's properties (self.verdict), once
        ids = ids_restore.reshape(-1)
        if kept != want_keep or ids.numel() != N or sorted(int(i) for i in ids) != list(range(N)):
            valid = False
        elif (
            removed.numel() != N
            or int(removed.sum()) != N - kept
            or not torch.equal(
                torch.sort(x_kept[0], 0).values, torch.sort(x[0][~removed], 0).values
            )
        ):
            valid = False
        if valid:
            messages.append(self.t("masking_ok"))
        return x_kept, removed, ids_restore, kept, valid, messages

    def _visible(self, x, x_kept, ids_restore, P, messages) -> np.ndarray:
        """Kept tokens, then grey mask tokens, put back in place by the (explored) unshuffle."""
        from ..models.mae import unshuffle as ref_unshuffle
        from ..models.patches import unpatchify

        N, kept = x.shape[1], x_kept.shape[1]
        shuffled = torch.cat([x_kept, torch.full((1, N - kept, x.shape[2]), 0.5)], dim=1)
        want = ref_unshuffle(shuffled, ids_restore)
        if self.unshuffle_fn is not None:
            out, problem = self._call_user(self.unshuffle_fn, shuffled, ids_restore)
            if problem is not None:
                messages.append(self._problem_message(problem, self.unshuffle_fn))
            elif (
                isinstance(out, torch.Tensor)
                and tuple(out.shape) == tuple(want.shape)
                and torch.equal(out, want)
            ):
                want = out
        return _np(unpatchify(want, P, self.photo_size)[0])

    def compute(self) -> None:
        from ..models.patches import patchify

        ratio = float(self.controls["mask_ratio"].value)
        seed = int(self.controls["seed"].value)
        photo = self._photo()
        P = self.photo_size // PHOTO_GRID
        x = patchify(photo.unsqueeze(0), P)  # (1, 64, P*P*3)
        N = x.shape[1]
        x_kept, removed, ids_restore, kept, valid, messages = self._mask(x, ratio, seed)
        messages.insert(0, self.t("kept", kept=kept, n=N, want=int(N * (1 - ratio))))
        if valid is not False:
            visible = self._visible(x, x_kept, ids_restore, P, messages)
        else:
            visible = _np(_grey_out(photo, removed, P)) if removed.numel() == N else _np(photo)
        recon = digit_masked = digit_mask = None
        mae = self._load_mae()
        if mae is None:
            messages.append(self.t("no_mae", err=html.escape(str(self._mae_error))))
        else:
            Pm = mae.patch_size
            d_tokens = patchify(self._digit, Pm)
            _, d_removed, _, _, d_valid, _ = self._mask(d_tokens, ratio, seed)
            if d_valid is not False and d_removed.numel() == d_tokens.shape[1]:
                device = next(mae.parameters()).device
                mask = d_removed.float().unsqueeze(0).to(device)
                recon = _np(mae.reconstruct(self._digit.double().to(device), mask)[0]).clip(0, 1)
                digit_masked = _np(_grey_out(self._digit[0], d_removed, Pm))
                digit_mask = _np(d_removed).astype(np.float32)
        self.state = {
            "mask_ratio": ratio,
            "seed": seed,
            "mask": _np(removed).astype(np.float32),
            "kept": kept,
            "expected_kept": int(N * (1 - ratio)),
            "ids_restore": _np(ids_restore),
            "photo": _np(photo),
            "visible": visible,
            "digit": None if self._digit is None else _np(self._digit[0]),
            "digit_mask": digit_mask,
            "digit_masked": digit_masked,
            "reconstruction": recon,
            "valid": valid,
            "messages": messages,
        }

    records_function = True

    def page_data(self) -> tuple[dict, bool]:
        """Every setting the controls offer (see :meth:`_page_data`), on one thread: the tiny
        model's calls are 20 times faster so on a busy machine than with a thread per core."""
        threads = torch.get_num_threads()
        torch.set_num_threads(1)
        try:
            return self._page_data()
        finally:
            torch.set_num_threads(threads)

    def _page_data(self) -> tuple[dict, bool]:
        """Every setting the controls offer, precomputed (the browser has no torch generator):
        per (mask ratio, seed), the removed patches of the photo and of the digit (hex bit
        strings, patch 0 = lowest bit) and the tiny MAE's reconstruction of the digit from that
        mask (float32, deflated, one per distinct mask). The photos are JPEG: only shown."""
        from ..models.patches import patchify
        from .live import f32, image_uri, packed

        ratio_c, seed_c = (
            next(c for c in self.spec["controls"] if c["name"] == n) for n in ("mask_ratio", "seed")
        )
        ratios = [
            round(ratio_c["min"] + k * ratio_c["step"], 10)
            for k in range(round((ratio_c["max"] - ratio_c["min"]) / ratio_c["step"]) + 1)
        ]
        seeds = list(range(seed_c["min"], seed_c["max"] + 1, seed_c["step"]))
        P = self.photo_size // PHOTO_GRID
        x = patchify(self._photo().unsqueeze(0), P)
        mae = self._load_mae()
        d_tokens = patchify(self._digit, mae.patch_size) if mae is not None else None
        photo_masks, digit_masks, distinct, valid = {}, {}, {}, True
        for r in ratios:
            for seed in seeds:
                key = f"{r:.2f},{seed}"
                _, removed, _, _, ok, _ = self._mask(x, r, seed)
                valid &= ok is True
                photo_masks[key] = _bits(removed)
                if d_tokens is not None:
                    _, d_removed, _, _, _, _ = self._mask(d_tokens, r, seed)
                    digit_masks[key] = distinct.setdefault(_bits(d_removed), len(distinct))
        data = {
            "ratios": ratios,
            "photos": {
                name: image_uri(_np(self._sample(name)), "jpeg", 70)
                for name in option_values(self.spec["controls"][2])
            },
            "tokens": x.shape[1],
            "grid": PHOTO_GRID,
            "photo_masks": photo_masks,
        }
        if d_tokens is not None:
            order = sorted(distinct, key=distinct.get)
            removed = torch.tensor(
                [[(int(h, 16) >> i) & 1 for i in range(d_tokens.shape[1])] for h in order]
            )
            device = next(mae.parameters()).device
            digit = self._digit.double().to(device)
            # One mask at a time, as compute() does: a batch would round differently (~1e-6).
            recon = torch.cat(
                [
                    mae.reconstruct(digit, row.float().unsqueeze(0).to(device)).cpu()
                    for row in removed
                ]
            )
            data.update(
                {
                    "digit": f32(self._digit[0, 0]),
                    "digit_patch": mae.patch_size,
                    "digit_tokens": d_tokens.shape[1],
                    "digit_masks": digit_masks,
                    "digit_mask_bits": order,
                    "recon": packed(_np(recon).clip(0, 1)),
                    "recon_shape": list(recon.shape[1:]),
                }
            )
        return data, valid

    def _sample(self, name: str) -> torch.Tensor:
        from ..data import sample_image

        return (
            self._photos.get(name) if name in self._photos else sample_image(name, self.photo_size)
        )

    def draw(self, fig: Figure) -> None:
        s = self.state
        axes = fig.subplots(1, 5)
        panels = [
            (s["photo"], "original"),
            (s["visible"], "visible"),
            (s["digit"], "digit"),
            (s["digit_masked"], "digit_masked"),
            (s["reconstruction"], "mae_recon"),
        ]
        for ax, (img, key) in zip(axes, panels):
            ax.set_axis_off()
            if img is None:
                continue
            img = np.asarray(img)
            if img.shape[0] == 1:
                ax.imshow(img[0], cmap="gray", vmin=0, vmax=1, interpolation="nearest")
            else:
                ax.imshow(np.transpose(img, (1, 2, 0)).clip(0, 1))
            ax.set_title(self.t(key), fontsize=10)


def masking_explorer(
    random_masking_fn: Callable,
    unshuffle_fn: Callable | None = None,
    lang: str | None = None,
    image: str = "chelsea",
    digit_index: int = 0,
) -> MaskingExplorer:
    """Widget: mask ratio and seed sliders, a photograph with the masked patches greyed out,
    the number of kept patches, and the shipped tiny MAE's reconstruction of a digit from
    exactly the mask that ``random_masking_fn`` returns for the digit's patches."""
    return MaskingExplorer(random_masking_fn, unshuffle_fn, lang, image, digit_index)


# ---------------------------------------------------------------------------
# 04: patch explorer
# ---------------------------------------------------------------------------

MESSAGES.update(
    {
        "patch_size": {"ja": "パッチサイズ P", "zh": "patch 大小 P", "en": "patch size P"},
        "patch_index": {"ja": "パッチ番号", "zh": "patch 编号", "en": "patch index"},
        "grid_title": {
            "ja": "{g}×{g} = {n} パッチ（P = {p}）",
            "zh": "{g}×{g} = {n} 个 patch（P = {p}）",
            "en": "{g}×{g} = {n} patches (P = {p})",
        },
        "vectors_title": {
            "ja": "平坦化したベクトル (N, P·P·C) = {shape}",
            "zh": "展平后的向量 (N, P·P·C) = {shape}",
            "en": "flattened vectors (N, P·P·C) = {shape}",
        },
        "one_vector": {
            "ja": "パッチ {i} のベクトル（{k} 個の値、行 → 列 → チャネル）",
            "zh": "patch {i} 的向量（{k} 个值，行 → 列 → 通道）",
            "en": "vector of patch {i} ({k} values, row → col → channel)",
        },
        "pixel_index": {
            "ja": "画素の番号 0〜{n}−1（1 画素 = R, G, B の 3 値）",
            "zh": "像素序号 0–{n}−1（每个像素 = R、G、B 三个值）",
            "en": "pixel index 0–{n}−1 (one pixel = 3 values R, G, B)",
        },
        "not_divisible": {
            "ja": "P = {p} は画像の一辺 {s} を割り切りません（{s} = {q} × {p} + {r}）。右端と下端に幅 {r} ピクセルの余りが出て（赤い帯）、"
            "どのパッチにも入りません。ViT は一辺が P の倍数の画像を前提にしているので、実際には画像を {lo} か {hi} ピクセルにリサイズ（または切り抜き・パディング）してから分割します。"
            "たとえば ViT-B/16 は 224 = 14 × 16 ピクセルの画像を使います。",
            "zh": "P = {p} 不能整除图像边长 {s}（{s} = {q} × {p} + {r}）。右边和下边会剩下宽 {r} 像素的部分（红色条带），"
            "不属于任何 patch。ViT 假设图像边长是 P 的整数倍，所以实际做法是先把图像缩放（或裁剪、填充）到 {lo} 或 {hi} 像素再切分。"
            "例如 ViT-B/16 使用 224 = 14 × 16 像素的图像。",
            "en": "P = {p} does not divide the side {s} ({s} = {q} × {p} + {r}); a {r}-pixel strip (red) belongs to no patch. "
            "Resize (or crop / pad) to {lo} or {hi} pixels first; ViT-B/16 uses 224 = 14 × 16.",
        },
        "roundtrip_ok": {
            "ja": "✓ unpatchify(patchify(x)) は x に戻ります。",
            "zh": "✓ unpatchify(patchify(x)) 能还原 x。",
            "en": "✓ unpatchify(patchify(x)) gives back x.",
        },
        "roundtrip_bad": {
            "ja": "✗ unpatchify(patchify(x)) が x に戻りません。",
            "zh": "✗ unpatchify(patchify(x)) 没有还原 x。",
            "en": "✗ unpatchify(patchify(x)) does not give back x.",
        },
    }
)


class PatchExplorer(Explorer):
    """Explore ``patchify_fn(images, patch_size)`` on a photograph (96 px).

    Controls: ``patch_size`` (including sizes that do not divide 96), ``patch`` (index of
    the highlighted patch), ``image``. State: ``divides``, ``patches`` / ``ref_patches``
    ``(N, P*P*3)`` or None, ``grid``, ``match``, ``roundtrip_ok``, ``explanation``.
    """

    widget = "patches"
    exercise = "04_patchify"

    def explored(self) -> dict[str, Callable]:
        return {"patchify": self.fn, "unpatchify": self.unpatchify_fn}

    figsize = (11, 3.6)
    margins = {"left": 0.03, "right": 0.98, "top": 0.88, "bottom": 0.16, "wspace": 0.25}
    image_size = PATCH_IMAGE_SIZE

    def __init__(
        self,
        patchify_fn: Callable,
        unpatchify_fn: Callable | None = None,
        lang: str | None = None,
        image: str = "astronaut",
    ):
        from ..data import sample_image

        self.fn, self.unpatchify_fn = patchify_fn, unpatchify_fn
        self._sample_image = sample_image
        self._photos: dict[str, torch.Tensor] = {}
        super().__init__(lang, image=image)

    def _photo(self) -> torch.Tensor:
        name = self.controls["image"].value
        if name not in self._photos:
            self._photos[name] = self._sample_image(name, self.image_size)
        return self._photos[name]

    def compute(self) -> None:
        from ..models.patches import patchify as ref_patchify

        P = int(self.controls["patch_size"].value)
        S = self.image_size
        photo = self._photo()
        divides = S % P == 0
        g = S // P
        i = min(int(self.controls["patch"].value), g * g - 1)
        messages, patches, ref, match, roundtrip_ok, explanation = [], None, None, None, None, None
        if not divides:
            q, r = divmod(S, P)
            explanation = self.t("not_divisible", p=P, s=S, q=q, r=r, lo=q * P, hi=(q + 1) * P)
            messages.append(explanation)
        else:
            ref = _np(ref_patchify(photo.unsqueeze(0), P)[0])
            got, problem = self._call_user(self.fn, photo.unsqueeze(0), P)
            if problem is not None:
                messages.append(self._problem_message(problem, self.fn))
            else:
                patches = _np(got)[0] if _np(got).ndim == 3 else _np(got)
                diff = self._compare("patchify(x)", patches, ref)
                match = diff is None
                messages.append(diff or self.t("match"))
                if self.unpatchify_fn is not None:
                    back, uproblem = self._call_user(
                        self.unpatchify_fn, torch.from_numpy(ref).unsqueeze(0), P, S
                    )
                    if uproblem is not None:
                        messages.append(self._problem_message(uproblem, self.unpatchify_fn))
                    else:
                        roundtrip_ok = _np(back).shape == (1, 3, S, S) and np.allclose(
                            _np(back)[0], _np(photo)
                        )
                        messages.append(self.t("roundtrip_ok" if roundtrip_ok else "roundtrip_bad"))
        self.state = {
            "patch_size": P,
            "divides": divides,
            "grid": g,
            "patch": i,
            "photo": _np(photo),
            "patches": patches,
            "ref_patches": ref,
            "match": match,
            "roundtrip_ok": roundtrip_ok,
            "explanation": explanation,
            "messages": messages,
        }

    def page_data(self) -> tuple[dict, bool]:
        """The photographs as PNG (lossless: the page patchifies exactly ``round(255 x) / 255``)."""
        from .live import image_uri

        names = option_values(next(c for c in self.spec["controls"] if c["name"] == "image"))
        return {
            "size": self.image_size,
            "photos": {
                name: image_uri(_np(self._sample_image(name, self.image_size))) for name in names
            },
        }, False

    def draw(self, fig: Figure) -> None:
        s = self.state
        P, g, S = s["patch_size"], s["grid"], self.image_size
        img = np.transpose(s["photo"], (1, 2, 0))
        ax_img, ax_vec, ax_one = fig.subplots(1, 3, gridspec_kw={"width_ratios": [1, 1.4, 1.4]})
        ax_img.imshow(img)
        for k in range(1, g + 1):
            ax_img.axhline(k * P - 0.5, color="white", lw=0.6)
            ax_img.axvline(k * P - 0.5, color="white", lw=0.6)
        ax_img.set_axis_off()
        if not s["divides"]:
            r = S - g * P
            ax_img.add_patch(Rectangle((g * P - 0.5, -0.5), r, S, color="red", alpha=0.5))
            ax_img.add_patch(Rectangle((-0.5, g * P - 0.5), S, r, color="red", alpha=0.5))
            ax_img.set_title(f"{S} % {P} = {S % P}", fontsize=10)
            ax_vec.set_axis_off()
            ax_one.set_axis_off()
            return
        i = s["patch"]
        row, col = divmod(i, g)
        ax_img.add_patch(
            Rectangle((col * P - 0.5, row * P - 0.5), P, P, fill=False, ec="red", lw=2)
        )
        ax_img.set_title(self.t("grid_title", g=g, n=g * g, p=P), fontsize=10)
        vecs = (
            s["patches"]
            if s["match"] is not None and s["patches"].shape == s["ref_patches"].shape
            else s["ref_patches"]
        )
        ax_vec.imshow(vecs, aspect="auto", cmap="gray", vmin=0, vmax=1, interpolation="nearest")
        ax_vec.axhline(i, color="red", lw=1)
        ax_vec.set_title(self.t("vectors_title", shape=tuple(vecs.shape)), fontsize=10)
        ax_vec.set_xlabel("P·P·C")
        ax_vec.set_ylabel("N")
        colours = vecs[i].reshape(P * P, 3).clip(0, 1)  # (row, col, channel) -> one RGB per pixel
        ax_one.imshow(colours[None], aspect="auto", interpolation="nearest")
        ax_one.set_yticks([])
        ax_one.set_xlabel(self.t("pixel_index", n=P * P))
        ax_one.set_title(self.t("one_vector", i=i, k=vecs.shape[1]), fontsize=10)


def patch_explorer(
    patchify_fn: Callable,
    unpatchify_fn: Callable | None = None,
    lang: str | None = None,
    image: str = "astronaut",
) -> PatchExplorer:
    """Widget: the patch grid of ``patchify_fn`` on a photograph and the flattened vectors, for
    patch sizes that divide the image, and an explanation for those that do not."""
    return PatchExplorer(patchify_fn, unpatchify_fn, lang, image)


# ---------------------------------------------------------------------------
# 05: positional explorer
# ---------------------------------------------------------------------------

MESSAGES.update(
    {
        "model_dim": {"ja": "次元 d_model", "zh": "维度 d_model", "en": "d_model"},
        "dim_index": {"ja": "次元の番号", "zh": "维度序号", "en": "dimension index"},
        "position": {"ja": "位置", "zh": "位置", "en": "position"},
        "pe_title": {
            "ja": "位置エンコーディング（行 = 位置、列 = 次元）",
            "zh": "位置编码（行 = 位置，列 = 维度）",
            "en": "positional encoding (rows = positions, columns = dims)",
        },
        "column_title": {
            "ja": "次元 {c} の値（{kind}、波長 {wl:.3g}）",
            "zh": "维度 {c} 的值（{kind}，波长 {wl:.3g}）",
            "en": "dimension {c} ({kind}, wavelength {wl:.3g})",
        },
        "sim_title": {
            "ja": "位置 {p} と各位置の内積",
            "zh": "位置 {p} 与各位置的点积",
            "en": "dot product of position {p} with all",
        },
        "simmat_title": {
            "ja": "内積 PE·PE$^T$",
            "zh": "点积 PE·PE$^T$",
            "en": "dot products PE·PE$^T$",
        },
    }
)


class PositionalExplorer(Explorer):
    """Explore ``sincos_fn(num_positions, dim)``: heatmap, one dimension and dot-product similarity.

    Controls: ``dim`` (d_model), ``column`` (one dimension), ``position``.
    State: ``pe`` / ``ref_pe`` ``(num_positions, dim)``, ``similarity`` ``(num_positions, num_positions)``,
    ``match``.
    """

    figsize = (12, 3.4)
    margins = {"left": 0.05, "right": 0.98, "top": 0.88, "bottom": 0.15, "wspace": 0.3}
    num_positions = POSITIONS

    widget = "positional"
    exercise = "05_positional"

    def explored(self) -> dict[str, Callable]:
        return {"sincos_1d": self.fn}

    def __init__(self, sincos_fn: Callable, lang: str | None = None):
        self.fn = sincos_fn
        super().__init__(lang)

    def compute(self) -> None:
        from ..models.positional import sincos_1d as ref_fn

        n, d = self.num_positions, int(self.controls["dim"].value)
        col = min(int(self.controls["column"].value), d - 1)
        ref = _np(ref_fn(n, d))
        got, problem = self._call_user(self.fn, n, d)
        messages, pe, match = [], None, None
        if problem is not None:
            messages.append(self._problem_message(problem, self.fn))
        else:
            pe = _np(got)
            diff = self._compare("sincos_1d", pe, ref, atol=1e-4)
            match = diff is None
            messages.append(diff or self.t("match"))
        shown = pe if match is not None and pe.shape == ref.shape else ref
        sim = shown.astype(np.float64) @ shown.T.astype(
            np.float64
        )  # exact products: the page's numbers
        self.state = {
            "dim": d,
            "column": col,
            "position": int(self.controls["position"].value),
            "pe": pe,
            "ref_pe": ref,
            "similarity": sim,
            "match": match,
            "messages": messages,
        }

    def page_data(self) -> tuple[dict, bool]:
        """Nothing but the number of positions: the page computes the sinusoids itself."""
        return {"positions": self.num_positions}, False

    def draw(self, fig: Figure) -> None:
        s = self.state
        shown = (
            s["pe"]
            if s["match"] is not None and s["pe"].shape == s["ref_pe"].shape
            else s["ref_pe"]
        )
        d, col, p = s["dim"], s["column"], s["position"]
        ax_pe, ax_col, ax_sim, ax_row = fig.subplots(1, 4)
        ax_pe.imshow(shown, aspect="auto", cmap="RdBu", vmin=-1, vmax=1)
        ax_pe.axvline(col, color="black", lw=1)
        ax_pe.axhline(p, color="black", lw=1, ls=":")
        ax_pe.set_title(self.t("pe_title"), fontsize=9)
        ax_pe.set_xlabel(self.t("dim_index"))
        ax_pe.set_ylabel(self.t("position"))
        wavelength = 2 * math.pi * 10000 ** ((col - col % 2) / d)
        kind = "sin" if col % 2 == 0 else "cos"
        pos = np.arange(shown.shape[0])
        ax_col.plot(pos, s["ref_pe"][:, col], color="0.6", lw=3, label=self.t("reference"))
        if s["pe"] is not None and s["pe"].shape == s["ref_pe"].shape:
            ax_col.plot(pos, s["pe"][:, col], color="tab:blue", label=self.t("yours"))
        ax_col.set_ylim(-1.1, 1.1)
        ax_col.set_xlabel(self.t("position"))
        ax_col.set_title(self.t("column_title", c=col, kind=kind, wl=wavelength), fontsize=9)
        ax_col.legend(fontsize=7, loc="lower right")
        ax_sim.imshow(s["similarity"], cmap="viridis")
        ax_sim.set_title(self.t("simmat_title"), fontsize=9)
        ax_sim.set_xlabel(self.t("position"))
        ax_row.plot(pos, s["similarity"][p], color="tab:green")
        ax_row.axvline(p, color="black", lw=1, ls=":")
        ax_row.set_xlabel(self.t("position"))
        ax_row.set_title(self.t("sim_title", p=p), fontsize=9)


def positional_explorer(sincos_fn: Callable, lang: str | None = None) -> PositionalExplorer:
    """Widget: heatmap of ``sincos_fn(64, d_model)``, one chosen dimension against the
    position, and the dot-product similarity between positions."""
    return PositionalExplorer(sincos_fn, lang)


def reference_explorer(widget: str, lang: str | None = None) -> Explorer:
    """The explorer ``widget`` (a key of ``widget_specs.SPECS``) on the package's own functions."""
    from ..models.attention import merge_heads, scaled_dot_product_attention, split_heads
    from ..models.mae import random_masking, unshuffle
    from ..models.patches import patchify, unpatchify
    from ..models.positional import sincos_1d

    makers = {
        "attention": lambda: attention_explorer(scaled_dot_product_attention, lang=lang),
        "heads": lambda: head_splitter(split_heads, merge_heads, lang=lang),
        "masking": lambda: masking_explorer(random_masking, unshuffle, lang=lang),
        "patches": lambda: patch_explorer(patchify, unpatchify, lang=lang),
        "positional": lambda: positional_explorer(sincos_1d, lang=lang),
    }
    if widget not in makers:
        raise ValueError(f"unknown widget {widget!r}; expected one of {sorted(makers)}")
    return makers[widget]()
