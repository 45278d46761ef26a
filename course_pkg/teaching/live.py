"""The page version of an explorer: live in the browser, with no kernel.

Python cannot run in a reader's browser offline, so the website gets, for each explorer, its
description (``course_pkg.teaching.widget_specs``: controls, labels, panels, alt text) with the texts in
the page's language, and the inputs it needs (``Explorer.page_data``) as JSON, next to a
dependency-free script (``assets/live-widgets.js``) that recomputes the course's reference
implementation and redraws an SVG figure whenever a control moves. What the browser cannot
compute (the tiny MAE's reconstructions, a drawn random mask) is precomputed here for every
setting the controls offer.

The page version is added to an explorer's display output (``text/html``) only while the
website is built (``COURSE_LIVE_WIDGETS=1``, set by ``tools/build_site.py``): in JupyterLab and
Notebook 7 the ipywidgets view is shown and runs the student's function, as before.
"""

from __future__ import annotations

import base64
import html
import io
import json
import os
import zlib
from pathlib import Path

import numpy as np

from .language import HTML_LANG, tr

ENV = "COURSE_LIVE_WIDGETS"
SCRIPT = Path(__file__).with_name("assets") / "live-widgets.js"
MESSAGES = {
    "live_note": {
        "ja": "このページの図はブラウザの中で講座の参照実装を計算しています。あなた自身の関数で試すには、",
        "zh": "本页的图在浏览器中运行课程的参考实现。要用你自己的函数试试，请",
        "en": "This figure runs the course's reference implementation in your browser. To run your own function, ",
    },
    "live_note_recorded": {
        "ja": "この図は、このセルの関数がページ作成時にすべての設定で返した結果を表示しています。自分で動かすには、",
        "zh": "这个图显示的是本单元格的函数在生成网页时对每个设置返回的结果。要自己运行，请",
        "en": "This figure shows what this cell's function returned for every setting when the page was built. "
        "To run it yourself, ",
    },
    "live_download": {
        "ja": "ノートブックをダウンロード",
        "zh": "下载笔记本",
        "en": "download the notebook",
    },
    "live_figure": {"ja": "図", "zh": "图", "en": "figure"},
}
_emitted_script = False  # one copy of the script per kernel, i.e. per page


def exporting() -> bool:
    """True while the website is built: explorers then add their page version to their output."""
    return os.environ.get(ENV) == "1"


def f32(a) -> list:
    """Nested lists of the shortest decimal that reads back as the same float32 (JSON-ready)."""
    a = np.asarray(a, dtype=np.float32)
    if a.ndim == 0:
        return float(np.format_float_positional(a, unique=True, trim="-"))
    return [f32(x) for x in a]


def packed(a: np.ndarray, drop_bits: int = 3) -> str:
    """``a`` as float32 bytes, deflated (zlib) and base64: the script reads it with
    ``DecompressionStream("deflate")`` into a ``Float32Array``.

    The lowest ``drop_bits`` of each mantissa are rounded away first (deflate then packs the
    bytes tighter): a relative change below ``2 ** (drop_bits - 24)``, 4.8e-7 for 3 bits.
    """
    bits = np.ascontiguousarray(np.asarray(a, dtype="<f4")).view("<u4")
    half = np.uint32(1 << (drop_bits - 1)) if drop_bits else np.uint32(0)
    bits = (bits + half) & np.uint32(~((1 << drop_bits) - 1) & 0xFFFFFFFF)
    raw = bits.astype("<u4").tobytes()
    return base64.b64encode(zlib.compress(raw, 9)).decode("ascii")


def image_uri(chw: np.ndarray, fmt: str = "png", quality: int = 85) -> str:
    """A ``(C, H, W)`` float image in [0, 1] as a data URI (8 bits a channel).

    PNG is lossless, so the script reads exactly ``round(255 x) / 255`` back from it; JPEG is
    for photos the page only shows.
    """
    from PIL import Image

    a = np.asarray(chw, dtype=np.float64)
    pixels = np.round(np.clip(a, 0, 1) * 255).astype(np.uint8)
    pixels = pixels[0] if pixels.shape[0] == 1 else np.transpose(pixels, (1, 2, 0))
    buf = io.BytesIO()
    if fmt == "png":
        Image.fromarray(pixels).save(buf, format="PNG", optimize=True)
    else:
        Image.fromarray(pixels).save(buf, format="JPEG", quality=quality)
    return f"data:image/{fmt};base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def quantized(chw) -> np.ndarray:
    """What the page reads back from :func:`image_uri` (PNG): ``round(255 x) / 255``."""
    return np.round(np.clip(np.asarray(chw, dtype=np.float64), 0, 1) * 255) / 255


def resolved_controls(explorer) -> list[dict]:
    """The description's controls with their labels (and option labels) in the explorer's language."""
    out = []
    for c in explorer.spec["controls"]:
        c = dict(c, label=explorer.t(c["label"]))
        if "options" in c:
            c["options"] = [
                [explorer.t(o[0]), o[1]] if isinstance(o, list) else [str(o), o]
                for o in c["options"]
            ]
        if "depends" in c and "options" in c["depends"]:
            c["depends"] = dict(
                c["depends"],
                options={k: [[str(o), o] for o in v] for k, v in c["depends"]["options"].items()},
            )
        out.append(c)
    return out


def bundle(explorer) -> dict:
    """Everything the page version of ``explorer`` needs, as JSON-ready data."""
    from .widgets import MESSAGES as WIDGET_MESSAGES

    lang = explorer.lang
    texts = {key: tr(WIDGET_MESSAGES, key, lang) for key in WIDGET_MESSAGES}
    texts.update({key: tr(MESSAGES, key, lang) for key in MESSAGES})
    data, recorded = explorer.page_data()
    return {
        "widget": explorer.widget,
        "lang": lang,
        "controls": resolved_controls(explorer),
        "rows": explorer.spec["rows"],
        "panels": explorer.spec["panels"],
        "alt": explorer.spec["alt"],
        "note": "live_note_recorded" if recorded else "live_note",
        "text": texts,
        "data": data,
    }


def page_html(explorer, with_script: bool | None = None) -> str:
    """The page version: a container with the bundle as JSON and (once per page) the script."""
    global _emitted_script
    payload = json.dumps(bundle(explorer), ensure_ascii=False, separators=(",", ":"))
    payload = payload.replace("</", "<\\/")  # never close the <script> element early
    lang = HTML_LANG[explorer.lang]
    parts = [
        f'<div class="course-live tex2jax_ignore mathjax_ignore" lang="{lang}" '
        f'data-widget="{html.escape(explorer.widget)}">',
        f'<script type="application/json" class="course-live-data">{payload}</script></div>',
    ]
    if with_script is None:
        with_script = not _emitted_script
    if with_script:
        parts.append(f"<script>{SCRIPT.read_text(encoding='utf-8')}</script>")
        _emitted_script = True
    return "".join(parts)
