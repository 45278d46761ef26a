"""Figure labels that the chapters set themselves, in every language.

The chapters' code cells are identical in the JA and ZH editions, so a label a chapter draws
cannot be written in the cell: it is looked up here with :func:`course_pkg.i18n.tr`, in the
reader's language (:func:`course_pkg.i18n.current_lang`).

    FIG_TEXT = chapter_text("05_vit")
    ax.set_title(tr(FIG_TEXT, "rollout"))
"""
from __future__ import annotations

CHAPTER_TEXT: dict[str, dict[str, dict[str, str]]] = {
    "05_vit": {
        "last": {"ja": "最終層 CLS 行", "zh": "最后一层 CLS 行", "en": "last layer, CLS row"},
        "rollout": {"ja": "ロールアウト", "zh": "注意力展开", "en": "rollout"},
        "input": {"ja": "入力 (正解 {y}, 予測 {p})", "zh": "输入（标签 {y}，预测 {p}）",
                  "en": "input (label {y}, pred {p})"},
    },
    "07_mae": {
        "photo": {"ja": "元の写真", "zh": "原始照片", "en": "photo"},
        "seen": {"ja": "エンコーダに見える {k} / {n} パッチ", "zh": "编码器可见 {k} / {n} 个 patch",
                 "en": "encoder sees {k} / {n} patches"},
    },
    "08_vit_vs_cnn": {
        "vit": {"ja": "ViT（小データ）の層どうし", "zh": "ViT（少量数据）各层之间",
                "en": "ViT (small data), layer vs layer"},
        "cnn": {"ja": "CNN（小データ）の層どうし", "zh": "CNN（少量数据）各层之间",
                "en": "CNN (small data), layer vs layer"},
        "layer": {"ja": "層", "zh": "层", "en": "layer"},
    },
}


def chapter_text(chapter: str) -> dict[str, dict[str, str]]:
    """The label table of ``chapter`` (a slug such as '05_vit'), for :func:`course_pkg.i18n.tr`."""
    try:
        return CHAPTER_TEXT[chapter]
    except KeyError:
        raise ValueError(f"no figure labels for chapter {chapter!r}; known: {sorted(CHAPTER_TEXT)}") from None
