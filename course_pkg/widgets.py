"""Interactive explorers for the exercises and chapters (plain ipywidgets 8 + matplotlib).

Each explorer takes the function to explore as an argument, so an exercise
passes the student's function and a chapter passes the package's reference.
Every explorer:

* exposes its controls as ``w.controls[name]`` and the latest computed data as
  ``w.state`` (numpy arrays), so tests and readers can drive it in code;
* draws one matplotlib figure into an ``ipywidgets.Image`` (PNG), already at
  construction time, so the first view is meaningful as a static image;
* speaks the reader's language (``course_pkg.i18n``);
* treats ``NotImplementedError`` from the explored function as "not
  implemented yet" and shows the reference instead.

Display an explorer by making it the last expression of a cell.
"""
from __future__ import annotations

import base64
import html
import io
import math
from typing import Callable

import ipywidgets as widgets
import numpy as np
import torch
from matplotlib import rc_context
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from .i18n import current_lang, normalize_lang, tr

DPI = 72
FONTS = {
    "ja": ["Noto Sans CJK JP", "IPAexGothic", "IPAGothic", "Hiragino Sans", "Yu Gothic", "DejaVu Sans"],
    "zh": ["Noto Sans CJK SC", "WenQuanYi Zen Hei", "PingFang SC", "Microsoft YaHei", "DejaVu Sans"],
    "en": ["DejaVu Sans"],
}

MESSAGES = {
    # shared
    "not_implemented": {
        "ja": "⏳ まだ実装されていません（NotImplementedError）。今は参照実装の結果を表示しています。",
        "zh": "⏳ 还没有实现（NotImplementedError）。现在显示的是参考实现的结果。",
        "en": "⏳ Not implemented yet (NotImplementedError); showing the reference instead.",
    },
    "error": {
        "ja": "✗ あなたの関数がエラーになりました: {err}",
        "zh": "✗ 你的函数出错了：{err}",
        "en": "✗ your function raised an error: {err}",
    },
    "match": {"ja": "✓ 参照実装と一致しています。", "zh": "✓ 与参考实现一致。", "en": "✓ matches the reference."},
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
    "weights_title": {"ja": "重み（行 = クエリ、列 = キー）", "zh": "权重（行 = 查询，列 = 键）",
                      "en": "weights (rows = queries, columns = keys)"},
    "row_title": {"ja": "クエリ「{tok}」の重み", "zh": "查询“{tok}”的权重", "en": "weights of query '{tok}'"},
    "output_title": {"ja": "クエリ「{tok}」の出力", "zh": "查询“{tok}”的输出", "en": "output of query '{tok}'"},
    "channel": {"ja": "チャネル", "zh": "通道", "en": "channel"},
    "patch": {"ja": "パッチ {i}", "zh": "patch {i}", "en": "patch {i}"},
    "row_sums": {"ja": "各行の和（あなたの実装）: {sums}", "zh": "每行之和（你的实现）：{sums}",
                 "en": "row sums (yours): {sums}"},
    "scores_note": {
        "ja": "スコア = QKᵀ × {factor:.3g}（√d_k で割る: {scaled}、T = {t:.2g}、d_k = {dk}）。"
              "あなたの関数には q × c を渡して、スケーリングと温度を再現しています。",
        "zh": "分数 = QKᵀ × {factor:.3g}（除以 √d_k：{scaled}，T = {t:.2g}，d_k = {dk}）。"
              "传给你的函数的是 q × c，以此实现缩放开关和温度。",
        "en": "scores = QKᵀ × {factor:.3g} (divide by √d_k: {scaled}, T = {t:.2g}, d_k = {dk}); "
              "your function receives q × c to emulate scaling and temperature.",
    },
    "yes": {"ja": "オン", "zh": "开", "en": "on"},
    "no": {"ja": "オフ", "zh": "关", "en": "off"},
    "padding_token": {"ja": "[PAD]", "zh": "[PAD]", "en": "[PAD]"},
}

# A toy sentence per language with the role of each token, from which the
# explorer builds queries and keys: a noun looks for its adjectives, adjectives
# and the verb look for the noun, particles look at content words (the
# "fluffy blue creature" example of 3Blue1Brown's attention video).
SENTENCES = {
    "ja": [("ふわふわ", "adj"), ("で", "part"), ("青い", "adj"), ("生き物", "noun"), ("が", "part"),
           ("歩く", "verb")],
    "zh": [("毛茸茸", "adj"), ("的", "part"), ("蓝色", "adj"), ("生物", "noun"), ("在", "part"),
           ("走", "verb")],
    "en": [("a", "part"), ("fluffy", "adj"), ("blue", "adj"), ("creature", "noun"), ("is", "part"),
           ("walking", "verb")],
}
ROLES = ("adj", "noun", "verb", "part")
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


def _np(t) -> np.ndarray:
    return t.detach().cpu().numpy() if isinstance(t, torch.Tensor) else np.asarray(t)


class Explorer:
    """Common parts: controls, state, a figure shown as PNG, a status line.

    Subclasses build ``self.controls`` and implement :meth:`compute` (fill
    ``self.state``) and :meth:`draw` (draw ``self.state`` on a figure).
    """

    figsize = (10, 4)
    margins = {"left": 0.07, "right": 0.98, "top": 0.9, "bottom": 0.2, "wspace": 0.35}

    def __init__(self, lang: str | None = None):
        self.lang = _lang(lang)
        self.controls: dict[str, widgets.Widget] = {}
        self.state: dict = {}
        self.figure: Figure | None = None
        self.image = widgets.Image(format="png", layout=widgets.Layout(max_width="100%"))
        self.status = widgets.HTML()
        self.notes = widgets.HTML()

    def t(self, key: str, **fmt) -> str:
        return tr(MESSAGES, key, self.lang, **fmt)

    def _finish(self, rows: list[widgets.Widget]) -> None:
        """Lay out the controls, wire them, compute and render once."""
        for control in self.controls.values():
            control.observe(self._on_change, names="value")
        self.box = widgets.VBox(rows + [self.status, self.image, self.notes])
        self.update()

    def _on_change(self, _change=None) -> None:
        self.update()

    def set(self, **values) -> "Explorer":
        """Set several controls at once (recomputes once per control)."""
        for name, value in values.items():
            self.controls[name].value = value
        return self

    def update(self) -> None:
        """Recompute the state and redraw the figure from the current control values."""
        self.compute()
        with rc_context({"font.family": "sans-serif", "font.sans-serif": FONTS[self.lang],
                         "axes.unicode_minus": False}):
            fig = Figure(figsize=self.figsize)
            fig.subplots_adjust(**self.margins)
            self.draw(fig)
            self.image.value = _png(fig)
        self.figure = fig
        self.status.value = "<br>".join(self.state.get("messages", []))

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

    def _problem_message(self, problem: str) -> str:
        if problem == "todo":
            return self.t("not_implemented")
        return self.t("error", err=html.escape(problem))

    def _compare(self, what: str, got: np.ndarray, want: np.ndarray, atol: float = 1e-5) -> str | None:
        """A message if ``got`` differs from ``want`` (shape or values), else None."""
        if got.shape != want.shape:
            return self.t("shape_differs", what=what, got=tuple(got.shape), want=tuple(want.shape))
        if not np.allclose(got, want, atol=atol, equal_nan=False):
            diff, where = _max_diff(got, want)
            return self.t("values_differ", what=what, diff=diff, where=where)
        return None

    # display -------------------------------------------------------------
    def _repr_mimebundle_(self, **kwargs):
        bundle = self.box._repr_mimebundle_(**kwargs) or {}
        if self.image.value:
            bundle["image/png"] = base64.b64encode(self.image.value).decode("ascii")
        return bundle

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {({k: c.value for k, c in self.controls.items()})}>"


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
        from .data import sample_image

        img = sample_image(name, size)
    except Exception:  # noqa: BLE001 - fall back to a synthetic image if data is unavailable
        yy, xx = torch.meshgrid(torch.linspace(0, 1, size), torch.linspace(0, 1, size), indexing="ij")
        img = torch.stack([xx, yy, (xx - 0.5) ** 2 + (yy - 0.5) ** 2])
    pooled = torch.nn.functional.avg_pool2d(img.unsqueeze(0), patch // 4)  # (1, 3, 16, 16)
    g = size // patch
    feats = pooled.reshape(3, g, 4, g, 4).permute(1, 3, 2, 4, 0).reshape(g * g, 48)
    feats = feats - feats.mean(0)
    feats = feats / feats.norm(dim=1, keepdim=True).clamp_min(1e-6) * math.sqrt(48)
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

    def __init__(self, fn: Callable, reference: Callable | None = None, lang: str | None = None):
        super().__init__(lang)
        from .attention import scaled_dot_product_attention

        self.fn = fn
        self.reference = reference or scaled_dot_product_attention
        self._sentence = _sentence_qkv(self.lang)
        self._image = None  # built lazily: loading a photograph takes a moment
        n = len(self._sentence[0])
        c = self.controls
        c["source"] = widgets.ToggleButtons(
            options=[(self.t("sentence"), "sentence"), (self.t("image"), "image")],
            value="sentence", description=self.t("source"))
        c["query"] = widgets.IntSlider(value=3, min=0, max=n - 1, description=self.t("query"),
                                       continuous_update=False)
        c["scale"] = widgets.Checkbox(value=True, description=self.t("scale"))
        c["temperature"] = widgets.FloatLogSlider(value=1.0, base=10, min=-1, max=1, step=0.05,
                                                  description=self.t("temperature"),
                                                  continuous_update=False)
        c["mask"] = widgets.ToggleButtons(
            options=[(self.t("mask_none"), "none"), (self.t("mask_causal"), "causal"),
                     (self.t("mask_padding"), "padding")],
            value="none", description=self.t("mask"))
        c["source"].observe(self._on_source, names="value")
        self._finish([c["source"], widgets.HBox([c["query"], c["temperature"], c["scale"]]), c["mask"]])

    def _on_source(self, change) -> None:
        n = len(self._tokens())
        self.controls["query"].max = n - 1
        self.controls["query"].value = min(self.controls["query"].value, n - 1)

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
        ref_out, ref_w = self.reference(q * c, k, v, mask=mask)
        result, problem = self._call_user(self.fn, q * c, k, v, mask=mask)
        messages = [self.t("scores_note", factor=factor, scaled=self.t("yes" if scaled else "no"),
                           t=temp, dk=dk)]
        out = w = None
        match = None
        if problem is None:
            if not isinstance(result, tuple) or len(result) != 2:
                problem = f"expected (output, weights), got {type(result).__name__}"
            else:
                out, w = (_np(r) for r in result)
        if problem is not None:
            messages.insert(0, self._problem_message(problem))
        else:
            diffs = [m for m in (self._compare("weights", w, _np(ref_w)),
                                 self._compare("output", out, _np(ref_out))) if m]
            match = not diffs
            messages[:0] = diffs or [self.t("match")]
            if w.ndim == 2 and w.shape[0] == len(tokens):
                sums = ", ".join(f"{s:.2f}" for s in w.sum(-1))
                messages.append(self.t("row_sums", sums=sums))
        self.state = {
            "tokens": tokens, "q": _np(q), "k": _np(k), "v": _np(v),
            "mask": None if mask is None else _np(mask), "factor": factor,
            "weights": w, "output": out, "ref_weights": _np(ref_w), "ref_output": _np(ref_out),
            "row_sums": None if w is None else w.sum(-1), "match": match,
            "query": int(self.controls["query"].value), "messages": messages,
        }

    def draw(self, fig: Figure) -> None:
        s = self.state
        tokens, i = s["tokens"], s["query"]
        shown = s["weights"] if s["match"] is not None and s["weights"].shape == s["ref_weights"].shape \
            else s["ref_weights"]
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
            ax_row.imshow(shown[i].reshape(g, g), cmap="magma", alpha=0.55, vmin=0, vmax=max(shown[i].max(), 1e-6),
                          extent=(0, img.shape[1], img.shape[0], 0))
            r, col = divmod(i, g)
            p = img.shape[0] / g
            ax_row.add_patch(Rectangle((col * p, r * p), p, p, fill=False, ec="cyan", lw=2))
            ax_row.set_axis_off()
        else:
            x = np.arange(n)
            ax_row.bar(x - 0.2, s["ref_weights"][i], width=0.4, label=self.t("reference"), color="0.6")
            if s["weights"] is not None and s["weights"].shape == s["ref_weights"].shape:
                ax_row.bar(x + 0.2, s["weights"][i], width=0.4, label=self.t("yours"), color="tab:blue")
            ax_row.set_xticks(x, tokens, rotation=60, fontsize=8)
            ax_row.set_ylim(0, 1)
            ax_row.legend(fontsize=8)
        ax_row.set_title(self.t("row_title", tok=tok), fontsize=10)

        ref_o = s["ref_output"][i]
        x = np.arange(ref_o.shape[-1])
        ax_out.bar(x - 0.2, ref_o, width=0.4, color="0.6", label=self.t("reference"))
        if s["output"] is not None and s["output"].shape == s["ref_output"].shape:
            ax_out.bar(x + 0.2, s["output"][i], width=0.4, color="tab:orange", label=self.t("yours"))
        ax_out.set_xlabel(self.t("channel"))
        ax_out.set_title(self.t("output_title", tok=tok), fontsize=10)
        ax_out.legend(fontsize=8)


def attention_explorer(fn: Callable, reference: Callable | None = None,
                       lang: str | None = None) -> AttentionExplorer:
    """Widget that runs ``fn(q, k, v, mask=None) -> (output, weights)`` on a sentence or on
    image patches, with √d_k scaling on/off, a temperature and a causal/padding mask, and
    compares it with ``reference`` (default :func:`course_pkg.attention.scaled_dot_product_attention`).
    """
    return AttentionExplorer(fn, reference, lang)
