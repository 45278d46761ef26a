"""Small language-dependent examples and figure labels for the chapters.

The code cells of a chapter are identical in the JA and ZH editions; what a
reader sees (the tokens of a toy sentence, the labels of a figure the chapter
draws itself) comes from here, in the language of :func:`course_pkg.i18n.current_lang`.
"""
from __future__ import annotations

from .i18n import normalize_lang, current_lang, tr

# A toy sentence of six tokens in each language, used in chapter 3 as the
# "sequence" whose attention weights are drawn. Same length in every language,
# so that every shape printed by the chapter is the same in both editions.
TOY_SENTENCES = {
    "ja": ["ふわふわ", "で", "青い", "生き物", "が", "歩く"],
    "zh": ["毛茸茸", "的", "蓝色", "生物", "在", "走"],
    "en": ["a", "fluffy", "blue", "creature", "is", "walking"],
}

MESSAGES = {
    "attention_weights": {"ja": "アテンションの重み", "zh": "注意力权重", "en": "attention weights"},
    "causal_weights": {
        "ja": "因果マスク付きの重み",
        "zh": "带因果掩码的权重",
        "en": "weights with a causal mask",
    },
    "d_k": {"ja": "キーの次元 $d_k$", "zh": "键的维度 $d_k$", "en": "key dimension $d_k$"},
    "variance": {"ja": "分散", "zh": "方差", "en": "variance"},
    "var_unscaled": {
        "ja": "$q\\cdot k$ の分散",
        "zh": "$q\\cdot k$ 的方差",
        "en": "variance of $q\\cdot k$",
    },
    "var_scaled": {
        "ja": "$q\\cdot k/\\sqrt{d_k}$ の分散",
        "zh": "$q\\cdot k/\\sqrt{d_k}$ 的方差",
        "en": "variance of $q\\cdot k/\\sqrt{d_k}$",
    },
    "variance_title": {
        "ja": "内積の分散は $d_k$ に比例して増える",
        "zh": "点积的方差随 $d_k$ 线性增长",
        "en": "the variance of a dot product grows with $d_k$",
    },
    "softmax_title": {
        "ja": "1 つのクエリの重み（$d_k={d_k}$）",
        "zh": "一个查询的权重（$d_k={d_k}$）",
        "en": "weights of one query ($d_k={d_k}$)",
    },
    "key_index": {"ja": "キーの番号 $j$", "zh": "键的序号 $j$", "en": "key index $j$"},
    "weight": {"ja": "重み", "zh": "权重", "en": "weight"},
    "unscaled": {"ja": "スケーリングなし", "zh": "不缩放", "en": "unscaled"},
    "scaled": {"ja": "$\\sqrt{d_k}$ で割る", "zh": "除以 $\\sqrt{d_k}$", "en": "divided by $\\sqrt{d_k}$"},
    "position": {"ja": "位置", "zh": "位置", "en": "position"},
    "dimension": {"ja": "次元", "zh": "维度", "en": "dimension"},
    "sincos_title": {
        "ja": "正弦波の位置エンコーディング",
        "zh": "正弦位置编码",
        "en": "sinusoidal positional encoding",
    },
    "head": {"ja": "ヘッド {h}", "zh": "头 {h}", "en": "head {h}"},
}


def toy_sentence(lang: str | None = None) -> list[str]:
    """Six tokens of a toy sentence in the reader's language (``lang`` defaults to the current one)."""
    lang = normalize_lang(lang) or current_lang()
    return list(TOY_SENTENCES[lang])


def text(key: str, lang: str | None = None, **fmt) -> str:
    """A figure label in the reader's language, e.g. ``text("weight")``."""
    return tr(MESSAGES, key, lang=lang, **fmt)
