"""Self-checks for the exercises: immediate, specific feedback in the student's language.

Each ``check_<assignment>(...)`` runs the student's functions on small inputs,
tests one property at a time (shape, row sums, masked weights, kept count,
permutation, values against the package's reference, ...), prints one line per
property and returns a :class:`CheckResult`. The feedback names the property
and the input it failed on; it never shows solution code.

A function that still raises ``NotImplementedError`` (an untouched exercise)
is reported as "not implemented yet", without a traceback.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable

import torch

from .language import current_lang, normalize_lang, tr

ATOL = 1e-5

MESSAGES = {
    # --- framing ---------------------------------------------------------
    "header": {"ja": "セルフチェック: {name}", "zh": "自检：{name}", "en": "Self-check: {name}"},
    "all_passed": {
        "ja": "すべて合格です（{n} 項目）。",
        "zh": "全部通过（共 {n} 项）。",
        "en": "All {n} checks passed.",
    },
    "some_failed": {
        "ja": "{n} 項目が不合格です。上の ✗ の行を読んで直してみましょう。",
        "zh": "有 {n} 项未通过。请阅读上面标 ✗ 的行并修改。",
        "en": "{n} checks failed; read the lines marked ✗ above.",
    },
    "not_implemented": {
        "ja": "△ {fn} はまだ実装されていません（NotImplementedError）。\n"
              "    実装してからもう一度このセルを実行してください。",
        "zh": "△ {fn} 还没有实现（NotImplementedError）。\n    完成后请重新运行这个单元格。",
        "en": "△ {fn} is not implemented yet (NotImplementedError).\n    Run this cell again once it is.",
    },
    "error": {
        "ja": "{fn} が入力 {inp} でエラーになりました: {err}",
        "zh": "{fn} 在输入 {inp} 上出错：{err}",
        "en": "{fn} raised an error on input {inp}: {err}",
    },
    "not_tensor": {
        "ja": "{what} が torch.Tensor ではありません（{typ} が返されました）。入力: {inp}",
        "zh": "{what} 不是 torch.Tensor（返回的是 {typ}）。输入：{inp}",
        "en": "{what} is not a torch.Tensor (got {typ}). Input: {inp}",
    },
    "bad_shape": {
        "ja": "{what} の形が {got} です。期待される形は {want}。入力: {inp}",
        "zh": "{what} 的形状是 {got}，应为 {want}。输入：{inp}",
        "en": "{what} has shape {got}, expected {want}. Input: {inp}",
    },
    "values_differ": {
        "ja": "{what} の値が参照実装と一致しません（最大の差 {diff:.3g}、位置 {where}）。入力: {inp}",
        "zh": "{what} 的数值与参考实现不一致（最大差 {diff:.3g}，位置 {where}）。输入：{inp}",
        "en": "{what} differs from the reference (max difference {diff:.3g} at {where}). Input: {inp}",
    },
    "name.multi-head attention": {"ja": "マルチヘッドアテンション", "zh": "多头注意力", "en": "multi-head attention"},
    "name.MAE random masking": {"ja": "MAE のランダムマスキング", "zh": "MAE 随机掩码", "en": "MAE random masking"},
    # --- property names (printed before each line) ---------------------------
    "prop.returns_pair": {"ja": "戻り値 (output, weights)", "zh": "返回值 (output, weights)", "en": "returns (output, weights)"},
    "prop.shape": {"ja": "形", "zh": "形状", "en": "shape"},
    "prop.row_sums": {"ja": "各行の和 = 1", "zh": "每行之和 = 1", "en": "row sums = 1"},
    "prop.scaling": {"ja": "√d_k によるスケーリング", "zh": "√d_k 缩放", "en": "√d_k scaling"},
    "prop.weights": {"ja": "重みの値", "zh": "权重的数值", "en": "weight values"},
    "prop.output": {"ja": "出力 = 重み × V", "zh": "输出 = 权重 × V", "en": "output = weights × V"},
    "prop.mask": {"ja": "マスクされた重み = 0", "zh": "被掩码屏蔽的权重 = 0", "en": "masked weights = 0"},
    "prop.fully_masked": {"ja": "全てマスクされた行（NaN なし）", "zh": "整行被屏蔽（无 NaN）", "en": "fully masked row (no NaN)"},
    "prop.batch": {"ja": "任意のバッチ次元", "zh": "任意批次维度", "en": "any batch dimensions"},
    "prop.split_shape": {"ja": "split_heads の形", "zh": "split_heads 的形状", "en": "split_heads shape"},
    "prop.split_channels": {"ja": "ヘッドへのチャネルの割り当て", "zh": "通道分配给各头", "en": "channels per head"},
    "prop.merge_shape": {"ja": "merge_heads の形", "zh": "merge_heads 的形状", "en": "merge_heads shape"},
    "prop.merge_inverse": {"ja": "merge_heads は split_heads の逆", "zh": "merge_heads 是 split_heads 的逆", "en": "merge_heads inverts split_heads"},
    "prop.mha_shape": {"ja": "multi_head_attention の形", "zh": "multi_head_attention 的形状", "en": "multi_head_attention shape"},
    "prop.mha_values": {"ja": "multi_head_attention の値", "zh": "multi_head_attention 的数值", "en": "multi_head_attention values"},
    "prop.kept_count": {"ja": "残すパッチの数", "zh": "保留的 patch 数", "en": "number of kept patches"},
    "prop.permutation": {"ja": "ids_restore は並べ替え", "zh": "ids_restore 是一个排列", "en": "ids_restore is a permutation"},
    "prop.mask_values": {"ja": "mask（0 = 残す, 1 = 隠す）", "zh": "mask（0 = 保留，1 = 遮蔽）", "en": "mask (0 = keep, 1 = remove)"},
    "prop.kept_tokens": {"ja": "x_kept は元のトークン", "zh": "x_kept 是原来的 token", "en": "x_kept holds original tokens"},
    "prop.generator": {"ja": "generator による再現性", "zh": "generator 的可复现性", "en": "reproducible with a generator"},
    "prop.unshuffle": {"ja": "unshuffle で元の順序に戻る", "zh": "unshuffle 恢复原顺序", "en": "unshuffle restores the order"},
    "prop.patch_shape": {"ja": "patchify の形", "zh": "patchify 的形状", "en": "patchify shape"},
    "prop.patch_order": {"ja": "パッチ内の画素の順序", "zh": "patch 内像素的顺序", "en": "pixel order in a patch"},
    "prop.unpatch_inverse": {"ja": "unpatchify は patchify の逆", "zh": "unpatchify 是 patchify 的逆", "en": "unpatchify inverts patchify"},
    "prop.non_square": {"ja": "長方形の画像 (H ≠ W)", "zh": "长方形图像 (H ≠ W)", "en": "non-square image (H ≠ W)"},
    "prop.sin_cos": {"ja": "偶数番目 = sin、奇数番目 = cos", "zh": "偶数维 = sin，奇数维 = cos", "en": "even = sin, odd = cos"},
    "prop.frequencies": {"ja": "周波数 1/10000^(2i/d)", "zh": "频率 1/10000^(2i/d)", "en": "frequencies 1/10000^(2i/d)"},
    # --- specific diagnoses ---------------------------------------------------
    "not_pair": {
        "ja": "(output, weights) の 2 つを返してください（{typ} が返されました）。入力: {inp}",
        "zh": "请返回 (output, weights) 两个值（返回的是 {typ}）。输入：{inp}",
        "en": "return the pair (output, weights), got {typ}. Input: {inp}",
    },
    "columns_sum": {
        "ja": "各行（1 つのクエリ）の和が 1 になりません（例: {got:.3g}）。代わりに各列の和が 1 です: softmax をクエリの軸で取っていませんか？ キーの軸（最後の軸）で取ります。入力: {inp}",
        "zh": "每一行（一个查询）的和不是 1（例如 {got:.3g}），反而每一列的和是 1：softmax 是不是沿查询的轴做的？应该沿键的轴（最后一个轴）。输入：{inp}",
        "en": "rows (one query each) do not sum to 1 (e.g. {got:.3g}) but columns do: softmax over the query axis? It goes over the keys (last axis). Input: {inp}",
    },
    "rows_not_one": {
        "ja": "重みの各行の和が 1 になりません（例: {got:.3g}）。入力: {inp}",
        "zh": "权重每一行的和不是 1（例如 {got:.3g}）。输入：{inp}",
        "en": "weight rows do not sum to 1 (e.g. {got:.3g}). Input: {inp}",
    },
    "negative": {
        "ja": "負の重みがあります（最小値 {got:.3g}）。softmax の出力は 0 以上です。入力: {inp}",
        "zh": "存在负的权重（最小值 {got:.3g}）。softmax 的输出应 ≥ 0。输入：{inp}",
        "en": "some weights are negative (min {got:.3g}); softmax outputs are >= 0. Input: {inp}",
    },
    "wrong_scale": {
        "ja": "重みは softmax(QKᵀ · s) と一致しますが、s = {found} です。Vaswani et al. (2017) の式 (1) では s = 1/√d_k = {want:.4g}（d_k = {dk}）。入力: {inp}",
        "zh": "权重等于 softmax(QKᵀ · s)，但 s = {found}。Vaswani et al. (2017) 式 (1) 中 s = 1/√d_k = {want:.4g}（d_k = {dk}）。输入：{inp}",
        "en": "weights equal softmax(QKᵀ · s) with s = {found}; eq. (1) of Vaswani et al. (2017) uses s = 1/√d_k = {want:.4g} (d_k = {dk}). Input: {inp}",
    },
    "output_not_wv": {
        "ja": "出力が「自分の重み @ V」と一致しません（最大の差 {diff:.3g}）。入力: {inp}",
        "zh": "输出与“自己的权重 @ V”不一致（最大差 {diff:.3g}）。输入：{inp}",
        "en": "output is not your weights @ V (max difference {diff:.3g}). Input: {inp}",
    },
    "masked_nonzero": {
        "ja": "mask が False の位置の重みが 0 ではありません（最大 {got:.3g}）。マスクは softmax の前にスコアへ適用します。入力: {inp}",
        "zh": "mask 为 False 的位置上权重不为 0（最大 {got:.3g}）。掩码应在 softmax 之前作用在分数上。输入：{inp}",
        "en": "weights where mask is False are not 0 (max {got:.3g}); apply the mask to the scores before softmax. Input: {inp}",
    },
    "masked_rows": {
        "ja": "マスク後の各行の和が 1 になりません（例: {got:.3g}）。入力: {inp}",
        "zh": "加掩码后每一行的和不是 1（例如 {got:.3g}）。输入：{inp}",
        "en": "rows do not sum to 1 after masking (e.g. {got:.3g}). Input: {inp}",
    },
    "nan": {
        "ja": "全てのキーがマスクされた行で NaN が出ました。この講座ではその行の重みと出力を 0 と約束します。入力: {inp}",
        "zh": "所有键都被屏蔽的那一行出现了 NaN。本课程约定这一行的权重和输出为 0。输入：{inp}",
        "en": "a row whose keys are all masked gives NaN; the course defines its weights and output as 0. Input: {inp}",
    },
    "fully_masked_nonzero": {
        "ja": "全てのキーがマスクされた行の重みまたは出力が 0 ではありません（最大 {got:.3g}）。入力: {inp}",
        "zh": "所有键都被屏蔽的那一行，其权重或输出不为 0（最大 {got:.3g}）。输入：{inp}",
        "en": "a fully masked row has non-zero weights or output (max {got:.3g}). Input: {inp}",
    },
    "mixed_heads": {
        "ja": "形は正しいのですが、ヘッド間でチャネルが混ざっています: ヘッド {h} に本来ヘッド {other} のチャネルが入っています。(B, N, D) を (B, N, H, D/H) に分けてから、ヘッドの軸を前に移しましたか？ 入力: {inp}",
        "zh": "形状正确，但各头之间的通道混在了一起：头 {h} 收到了本属于头 {other} 的通道。是否先把 (B, N, D) 分成 (B, N, H, D/H)，再把头的轴移到前面？输入：{inp}",
        "en": "the shape is right but channels are mixed across heads: head {h} holds channels of head {other}. Did you split into (B, N, H, D/H) before moving the head axis forward? Input: {inp}",
    },
    "not_inverse": {
        "ja": "{what} で元のテンソルに戻りません（最大の差 {diff:.3g}）。入力: {inp}",
        "zh": "{what} 没有恢复原来的张量（最大差 {diff:.3g}）。输入：{inp}",
        "en": "{what} does not give back the original tensor (max difference {diff:.3g}). Input: {inp}",
    },
    "kept_count": {
        "ja": "残したパッチが {got} 個です。N = {n}、mask_ratio = {ratio} なら int(N · (1 − mask_ratio)) = {want} 個です（MAE の公式実装と同じ）。",
        "zh": "保留了 {got} 个 patch。N = {n}、mask_ratio = {ratio} 时应为 int(N · (1 − mask_ratio)) = {want} 个（与 MAE 官方实现一致）。",
        "en": "kept {got} patches; with N = {n} and mask_ratio = {ratio} it is int(N · (1 − mask_ratio)) = {want} (as in the official MAE code).",
    },
    "not_permutation": {
        "ja": "ids_restore の {row} 行目が 0..{last} の並べ替えになっていません（値 {got}）。入力: {inp}",
        "zh": "ids_restore 第 {row} 行不是 0..{last} 的一个排列（值为 {got}）。输入：{inp}",
        "en": "row {row} of ids_restore is not a permutation of 0..{last} (got {got}). Input: {inp}",
    },
    "mask_binary": {
        "ja": "mask の値は 0（残す）か 1（隠す）だけのはずですが、{got} が含まれています。入力: {inp}",
        "zh": "mask 只应包含 0（保留）和 1（遮蔽），但出现了 {got}。输入：{inp}",
        "en": "mask must contain only 0 (keep) and 1 (remove), found {got}. Input: {inp}",
    },
    "mask_count": {
        "ja": "mask の 1（隠す）の数が {got} 個です。{want} 個のはずです。入力: {inp}",
        "zh": "mask 中 1（遮蔽）的个数是 {got}，应为 {want}。输入：{inp}",
        "en": "mask has {got} ones (removed), expected {want}. Input: {inp}",
    },
    "mask_order": {
        "ja": "mask は元のパッチの順序で、ids_restore と整合している必要があります（元の順序に戻した [0]*残す数 + [1]*隠す数）。入力: {inp}",
        "zh": "mask 应按原始 patch 顺序排列，并与 ids_restore 一致（把 [0]*保留数 + [1]*遮蔽数 按 ids_restore 还原）。输入：{inp}",
        "en": "mask must be in the original patch order and agree with ids_restore. Input: {inp}",
    },
    "kept_not_original": {
        "ja": "x_kept のトークンが、mask = 0 の位置にある x のトークン（元の順序での残す位置）と一致しません。入力: {inp}",
        "zh": "x_kept 中的 token 与 x 在 mask = 0 位置上的 token 不一致。输入：{inp}",
        "en": "x_kept is not the tokens of x where mask = 0. Input: {inp}",
    },
    "not_reproducible": {
        "ja": "同じシードの generator を 2 回渡したのに結果が違います。乱数は generator から作ってください。入力: {inp}",
        "zh": "两次传入相同种子的 generator，结果却不同。随机数应由 generator 生成。输入：{inp}",
        "en": "two generators with the same seed give different results; draw the noise from the generator. Input: {inp}",
    },
    "not_random": {
        "ja": "異なるシードでも同じマスクになります。ランダムに選んでいますか？ 入力: {inp}",
        "zh": "不同的种子得到了相同的 mask。是否真的随机选择？输入：{inp}",
        "en": "different seeds give the same mask; is the choice random? Input: {inp}",
    },
    "unshuffle_wrong": {
        "ja": "unshuffle の結果が元の順序になりません（最大の差 {diff:.3g}）。ids_restore[b, i] は「元の位置 i のトークンが並べ替え後どこにあるか」です。入力: {inp}",
        "zh": "unshuffle 的结果没有恢复原顺序（最大差 {diff:.3g}）。ids_restore[b, i] 表示“原位置 i 的 token 在打乱后的位置”。输入：{inp}",
        "en": "unshuffle does not restore the original order (max difference {diff:.3g}); ids_restore[b, i] is where original token i sits after shuffling. Input: {inp}",
    },
    "channel_order": {
        "ja": "値の集合は正しいのですが、パッチ内の画素の順序が違います。この講座（と MAE）の順序は（行, 列, チャネル）です。入力: {inp}",
        "zh": "数值集合正确，但 patch 内像素的顺序不对。本课程（以及 MAE）的顺序是（行，列，通道）。输入：{inp}",
        "en": "the right values in the wrong order inside a patch; the course (and MAE) uses (row, col, channel). Input: {inp}",
    },
    "patch_raster": {
        "ja": "パッチの並び順が違います。パッチは行ごと（左上から右へ、次の行へ）に番号を付けます。入力: {inp}",
        "zh": "patch 的顺序不对。patch 应按行编号（从左上角向右，再到下一行）。输入：{inp}",
        "en": "patches are in the wrong order; number them row by row (raster order). Input: {inp}",
    },
    "sin_cos_swapped": {
        "ja": "sin と cos が入れ替わっています、または並びが違います: 位置 0 は [0, 1, 0, 1, ...]（sin 0 = 0, cos 0 = 1）になるはずです（得られた値 {got}）。Vaswani et al. (2017) §3.5: PE(pos, 2i) = sin, PE(pos, 2i+1) = cos。",
        "zh": "sin 和 cos 互换了，或排列方式不同：位置 0 应为 [0, 1, 0, 1, ...]（sin 0 = 0，cos 0 = 1），得到的是 {got}。Vaswani et al. (2017) §3.5：PE(pos, 2i) = sin，PE(pos, 2i+1) = cos。",
        "en": "sin and cos are swapped or laid out differently: position 0 must be [0, 1, 0, 1, ...], got {got}. Vaswani et al. (2017) §3.5: PE(pos, 2i) = sin, PE(pos, 2i+1) = cos.",
    },
    "frequency_wrong": {
        "ja": "次元 {col} の波の周波数が違います（位置 1 で {got:.4g}、期待値 {want:.4g}）。角度は pos / 10000^(2i/d_model) です。入力: {inp}",
        "zh": "维度 {col} 的频率不对（位置 1 处为 {got:.4g}，应为 {want:.4g}）。角度是 pos / 10000^(2i/d_model)。输入：{inp}",
        "en": "dimension {col} has the wrong frequency (at position 1: {got:.4g}, expected {want:.4g}); the angle is pos / 10000^(2i/d_model). Input: {inp}",
    },
}


# ---------------------------------------------------------------------------
# Result objects
# ---------------------------------------------------------------------------


@dataclass
class Failure:
    """One failed property: ``prop`` is a stable key (e.g. "row_sums"), ``message`` the feedback."""

    prop: str
    message: str


@dataclass
class CheckResult:
    """What a self-check found. ``passed``: property keys; ``failed``: :class:`Failure` list."""

    name: str
    lang: str
    passed: list[str] = field(default_factory=list)
    failed: list[Failure] = field(default_factory=list)
    not_implemented: list[str] = field(default_factory=list)
    order: list[str] = field(default_factory=list, repr=False)

    @property
    def ok(self) -> bool:
        """True when every property passed and nothing is left unimplemented."""
        return not self.failed and not self.not_implemented and bool(self.passed)

    @property
    def failed_props(self) -> list[str]:
        return [f.prop for f in self.failed]

    def report(self) -> str:
        """The feedback text (what :meth:`print` shows)."""
        key = f"name.{self.name}"
        title = tr(MESSAGES, key, self.lang) if key in MESSAGES else self.name
        lines = [tr(MESSAGES, "header", self.lang, name=title)]
        for fn in self.not_implemented:
            lines.append(tr(MESSAGES, "not_implemented", self.lang, fn=fn))
        failures = {f.prop: f for f in self.failed}
        for prop in self.order:
            if prop in failures:
                lines.append(f"  ✗ {_prop_label(prop, self.lang)}: {failures[prop].message}")
            elif prop in self.passed:
                lines.append(f"  ✓ {_prop_label(prop, self.lang)}")
        if self.failed:
            lines.append(tr(MESSAGES, "some_failed", self.lang, n=len(self.failed)))
        elif self.passed and not self.not_implemented:
            lines.append(tr(MESSAGES, "all_passed", self.lang, n=len(self.passed)))
        return "\n".join(lines)

    def __repr__(self) -> str:
        return (f"CheckResult({self.name!r}, passed={len(self.passed)}, failed={self.failed_props}, "
                f"not_implemented={self.not_implemented})")


def _prop_label(prop: str, lang: str) -> str:
    key = f"prop.{prop}"
    return tr(MESSAGES, key, lang) if key in MESSAGES else prop


class _Fail(Exception):
    """Raised inside a property check: ``prop`` failed with message ``key`` formatted by ``fmt``."""

    def __init__(self, prop: str, key: str, **fmt):
        super().__init__(prop)
        self.prop, self.key, self.fmt = prop, key, fmt


class _NotDone(Exception):
    def __init__(self, fn: str):
        super().__init__(fn)
        self.fn = fn


def _call(fn: Callable, name: str, inp: str, *args, **kwargs):
    """Call the student's ``fn``; NotImplementedError -> _NotDone, other errors -> _Fail('error')."""
    try:
        return fn(*args, **kwargs)
    except NotImplementedError:
        raise _NotDone(name) from None
    except Exception as err:  # noqa: BLE001 - any student error becomes feedback
        raise _Fail("error", "error", fn=name, inp=inp, err=f"{type(err).__name__}: {err}") from None


def _run(name: str, checks: list[tuple[str, Callable[[], None]]], lang: str | None,
         verbose: bool) -> CheckResult:
    lang = normalize_lang(lang) or current_lang()
    result = CheckResult(name=name, lang=lang)
    for prop, check in checks:
        try:
            check()
        except _NotDone as nd:
            if nd.fn not in result.not_implemented:
                result.not_implemented.append(nd.fn)
        except _Fail as f:
            fail_prop = prop if f.prop == "error" else f.prop
            if fail_prop in result.failed_props:  # e.g. "returns_pair", found by several checks
                continue
            result.failed.append(Failure(fail_prop, tr(MESSAGES, f.key, lang, **f.fmt)))
            result.order.append(fail_prop)
        else:
            result.passed.append(prop)
            result.order.append(prop)
    if verbose:
        print(result.report())
    return result


# ---------------------------------------------------------------------------
# Small helpers for the property checks
# ---------------------------------------------------------------------------


def _shape(t) -> tuple:
    return tuple(t.shape)


def _require_tensor(prop: str, what: str, t, inp: str) -> torch.Tensor:
    if not isinstance(t, torch.Tensor):
        raise _Fail(prop, "not_tensor", what=what, typ=type(t).__name__, inp=inp)
    return t


def _require_shape(prop: str, what: str, t, want: tuple, inp: str) -> torch.Tensor:
    _require_tensor(prop, what, t, inp)
    if _shape(t) != tuple(want):
        raise _Fail(prop, "bad_shape", what=what, got=_shape(t), want=tuple(want), inp=inp)
    return t


def _max_diff(a: torch.Tensor, b: torch.Tensor) -> tuple[float, tuple]:
    d = (a.detach().double() - b.detach().double()).abs()
    d = torch.nan_to_num(d, nan=float("inf"))
    flat = int(d.argmax())
    where = tuple(int(i) for i in torch.unravel_index(torch.tensor(flat), d.shape))
    return float(d.max()), where


def _close(a: torch.Tensor, b: torch.Tensor, atol: float = ATOL) -> bool:
    return _shape(a) == _shape(b) and torch.allclose(a.detach().double(), b.detach().double(), atol=atol)


def _require_close(prop: str, what: str, got: torch.Tensor, want: torch.Tensor, inp: str) -> None:
    if not _close(got, want):
        diff, where = _max_diff(got, want)
        raise _Fail(prop, "values_differ", what=what, diff=diff, where=where, inp=inp)


def _describe(**tensors) -> str:
    return ", ".join(f"{k} {tuple(v.shape)}" for k, v in tensors.items())


def _gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


# ---------------------------------------------------------------------------
# 01_attention
# ---------------------------------------------------------------------------


def check_attention(fn: Callable, lang: str | None = None, verbose: bool = True) -> CheckResult:
    """Check ``fn(q, k, v, mask=None) -> (output, weights)`` against eq. (1) of Vaswani et al."""
    from ..models.attention import causal_mask, scaled_dot_product_attention as ref

    name = "scaled_dot_product_attention"
    g = _gen(0)
    q, k, v = (torch.randn(2, 4, 8, generator=g), torch.randn(2, 5, 8, generator=g),
               torch.randn(2, 5, 6, generator=g))
    inp = _describe(q=q, k=k, v=v)
    ref_out, ref_w = ref(q, k, v)

    def run(*args, where=inp, **kwargs):
        res = _call(fn, name, where, *args, **kwargs)
        if not isinstance(res, tuple) or len(res) != 2:
            raise _Fail("returns_pair", "not_pair", typ=type(res).__name__, inp=where)
        return res

    def shape():
        out, w = run(q, k, v)
        _require_shape("shape", "output", out, ref_out.shape, inp)
        _require_shape("shape", "weights", w, ref_w.shape, inp)

    def row_sums():
        _, w = run(q, k, v)
        _require_shape("row_sums", "weights", w, ref_w.shape, inp)
        sums = w.sum(-1)
        if not torch.allclose(sums, torch.ones_like(sums), atol=1e-4):
            bad = float(sums.flatten()[(sums - 1).abs().flatten().argmax()])
            cols = w.sum(-2)
            key = "columns_sum" if torch.allclose(cols, torch.ones_like(cols), atol=1e-4) else "rows_not_one"
            raise _Fail("row_sums", key, got=bad, inp=inp)
        if float(w.min()) < -1e-6:
            raise _Fail("row_sums", "negative", got=float(w.min()), inp=inp)

    def weights():
        _, w = run(q, k, v)
        _require_shape("weights", "weights", w, ref_w.shape, inp)
        if _close(w, ref_w):
            return
        scores = q @ k.transpose(-2, -1)
        dk = q.shape[-1]
        for label, s in (("1", 1.0), ("1/d_k", 1 / dk), ("√d_k", math.sqrt(dk)), ("d_k", float(dk)),
                         ("1/2", 0.5)):
            if _close(w, torch.softmax(scores * s, dim=-1), atol=1e-4):
                raise _Fail("scaling", "wrong_scale", found=label, want=1 / math.sqrt(dk), dk=dk, inp=inp)
        _require_close("weights", "weights", w, ref_w, inp)

    def output():
        out, w = run(q, k, v)
        _require_shape("output", "output", out, ref_out.shape, inp)
        _require_shape("output", "weights", w, ref_w.shape, inp)
        if not _close(out, w @ v, atol=1e-4):
            raise _Fail("output", "output_not_wv", diff=_max_diff(out, w @ v)[0], inp=inp)

    def weights_match_reference() -> bool:
        """Values are compared in the mask checks only when the unmasked weights are right."""
        try:
            return _close(fn(q, k, v)[1], ref_w)
        except Exception:  # noqa: BLE001 - reported by the other checks
            return False

    # Padding mask (B, 1, Nk): the last two keys of batch 1 are padding; plus a causal mask.
    pad = torch.ones(2, 1, 5, dtype=torch.bool)
    pad[1, :, 3:] = False
    square = (torch.randn(1, 5, 8, generator=g), torch.randn(1, 5, 8, generator=g),
              torch.randn(1, 5, 6, generator=g))
    inp_mask = f"{inp}, mask {tuple(pad.shape)} (padding) / causal mask (5, 5)"

    def mask():
        for args, m in (((q, k, v), pad), (square, causal_mask(5))):
            _, w_ref = ref(*args, mask=m)
            _, w = run(*args, where=inp_mask, mask=m)
            _require_shape("mask", "weights", w, w_ref.shape, inp_mask)
            leaked = (w.detach() * (~m)).abs().max()
            if float(leaked) > 1e-6 or torch.isnan(w).any():
                raise _Fail("mask", "masked_nonzero", got=float(torch.nan_to_num(leaked, nan=float("nan"))),
                            inp=inp_mask)
            sums = w.sum(-1)
            if not torch.allclose(sums, torch.ones_like(sums), atol=1e-4):
                raise _Fail("mask", "masked_rows", got=float(sums.flatten()[0]), inp=inp_mask)
            if weights_match_reference():
                _require_close("mask", "weights", w, w_ref, inp_mask)

    full = torch.ones(4, 5, dtype=torch.bool)
    full[2] = False  # query 2 may attend to nothing
    inp_full = f"{inp}, mask (4, 5) with row 2 all False"

    def fully_masked():
        out_ref, w_ref = ref(q, k, v, mask=full)
        out, w = run(q, k, v, where=inp_full, mask=full)
        _require_shape("fully_masked", "weights", w, w_ref.shape, inp_full)
        _require_shape("fully_masked", "output", out, out_ref.shape, inp_full)
        if torch.isnan(w).any() or torch.isnan(out).any():
            raise _Fail("fully_masked", "nan", inp=inp_full)
        got = max(float(w[:, 2].abs().max()), float(out[:, 2].abs().max()))
        if got > 1e-6:
            raise _Fail("fully_masked", "fully_masked_nonzero", got=got, inp=inp_full)

    def batch():
        """Leading dimensions are batch dimensions: no batch, and (B, H, N, d) per slice."""
        qq, kk = torch.randn(2, 3, 4, 4, generator=g), torch.randn(2, 3, 6, 4, generator=g)
        vv = torch.randn(2, 3, 6, 5, generator=g)
        inp_b = _describe(q=qq, k=kk, v=vv)
        out, w = run(qq, kk, vv, where=inp_b)
        _require_shape("batch", "output", out, (2, 3, 4, 5), inp_b)
        _require_shape("batch", "weights", w, (2, 3, 4, 6), inp_b)
        inp_1 = _describe(q=qq[1, 2], k=kk[1, 2], v=vv[1, 2])
        out1, w1 = run(qq[1, 2], kk[1, 2], vv[1, 2], where=inp_1)
        _require_shape("batch", "output", out1, (4, 5), inp_1)
        _require_close("batch", "output[1, 2]", out[1, 2], out1, inp_b)

    checks = [("shape", shape), ("row_sums", row_sums), ("weights", weights), ("output", output),
              ("mask", mask), ("fully_masked", fully_masked), ("batch", batch)]
    return _run(name, checks, lang, verbose)


# ---------------------------------------------------------------------------
# 02_multihead
# ---------------------------------------------------------------------------


def _mixed_channel(split: torch.Tensor, D: int) -> tuple[int, int] | None:
    """Split of the labelled ``x[0, n, d] = n*D + d``: ``(h, other)`` if head h holds a channel of
    head ``other`` (or of another token), else None."""
    H, N, Dh = split.shape[1], split.shape[2], split.shape[3]
    for h in range(H):
        for n in range(N):
            for c in range(Dh):
                src_n, src_d = divmod(int(round(float(split[0, h, n, c]))), D)
                if (src_n, src_d) != (n, h * Dh + c):
                    return h, src_d // Dh
    return None


def check_multihead(split_heads: Callable, merge_heads: Callable, multi_head_attention: Callable,
                    lang: str | None = None, verbose: bool = True) -> CheckResult:
    """Check ``split_heads``, ``merge_heads`` and ``multi_head_attention`` (Vaswani et al. §3.2.2)."""
    from ..models.attention import MultiHeadAttention, merge_heads as ref_merge, split_heads as ref_split

    g = _gen(1)
    B, N, D, H = 2, 5, 12, 3
    x = torch.randn(B, N, D, generator=g)
    inp = f"x {tuple(x.shape)}, num_heads={H}"
    want = ref_split(x, H)

    def split_shape():
        got = _call(split_heads, "split_heads", inp, x, H)
        _require_shape("split_shape", "split_heads(x)", got, want.shape, inp)

    def split_channels():
        got = _call(split_heads, "split_heads", inp, x, H)
        _require_shape("split_channels", "split_heads(x)", got, want.shape, inp)
        if not _close(got, want):
            labelled = torch.arange(B * N * D, dtype=torch.float32).reshape(B, N, D) % (N * D)
            lab = _call(split_heads, "split_heads", inp, labelled, H)
            mixed = _mixed_channel(lab.detach(), D) if _shape(lab) == _shape(want) else None
            if mixed is not None:
                raise _Fail("split_channels", "mixed_heads", h=mixed[0], other=mixed[1], inp=inp)
            _require_close("split_channels", "split_heads(x)", got, want, inp)

    inp_m = f"x {tuple(want.shape)}"

    def merge_shape():
        got = _call(merge_heads, "merge_heads", inp_m, want)
        _require_shape("merge_shape", "merge_heads(x)", got, x.shape, inp_m)

    def merge_inverse():
        got = _call(merge_heads, "merge_heads", inp_m, want)
        _require_shape("merge_inverse", "merge_heads(x)", got, x.shape, inp_m)
        if not _close(got, x):
            raise _Fail("merge_inverse", "not_inverse", what="merge_heads(split_heads(x))",
                        diff=_max_diff(got, x)[0], inp=inp_m)

    torch.manual_seed(0)
    module = MultiHeadAttention(D, H)
    params = [module.qkv.weight.detach(), module.qkv.bias.detach(), module.proj.weight.detach(),
              module.proj.bias.detach()]
    with torch.no_grad():
        mha_want = module(x)
    inp_a = f"x {tuple(x.shape)}, qkv_weight {tuple(params[0].shape)}, num_heads={H}"

    def mha_shape():
        got = _call(multi_head_attention, "multi_head_attention", inp_a, x, *params, H)
        _require_shape("mha_shape", "multi_head_attention(...)", got, mha_want.shape, inp_a)

    def mha_values():
        got = _call(multi_head_attention, "multi_head_attention", inp_a, x, *params, H)
        _require_shape("mha_values", "multi_head_attention(...)", got, mha_want.shape, inp_a)
        _require_close("mha_values", "multi_head_attention(...)", got, mha_want, inp_a)

    checks = [("split_shape", split_shape), ("split_channels", split_channels),
              ("merge_shape", merge_shape), ("merge_inverse", merge_inverse),
              ("mha_shape", mha_shape), ("mha_values", mha_values)]
    return _run("multi-head attention", checks, lang, verbose)


# ---------------------------------------------------------------------------
# 03_mae_masking
# ---------------------------------------------------------------------------


def _as_removed(mask: torch.Tensor) -> torch.Tensor:
    """Boolean "removed" view of a MAE mask (float 0/1 or bool, 1/True = removed)."""
    return mask.bool() if mask.dtype == torch.bool else mask > 0.5


def check_mae_masking(random_masking: Callable, unshuffle: Callable, lang: str | None = None,
                      verbose: bool = True) -> CheckResult:
    """Check MAE's per-sample random masking (He et al. 2022, §3) and ``unshuffle``."""
    g = _gen(2)
    B, N, D = 2, 16, 3
    x = torch.randn(B, N, D, generator=g)
    ratios = (0.75, 0.5, 0.3)

    def mask_with(ratio, seed=0):
        inp = f"x {tuple(x.shape)}, mask_ratio={ratio}"
        res = _call(random_masking, "random_masking", inp, x, ratio, generator=_gen(seed))
        if not isinstance(res, tuple) or len(res) != 3:
            raise _Fail("kept_count", "not_tensor", what="(x_kept, mask, ids_restore)",
                        typ=type(res).__name__, inp=inp)
        return res, inp

    def kept_count():
        for ratio in ratios:
            (x_kept, _, _), inp = mask_with(ratio)
            keep = int(N * (1 - ratio))
            _require_tensor("kept_count", "x_kept", x_kept, inp)
            if x_kept.dim() == 3 and x_kept.shape[0] == B and x_kept.shape[2] == D and x_kept.shape[1] != keep:
                raise _Fail("kept_count", "kept_count", got=x_kept.shape[1], n=N, ratio=ratio, want=keep)
            _require_shape("kept_count", "x_kept", x_kept, (B, keep, D), inp)

    def permutation():
        for ratio in ratios:
            (_, _, ids), inp = mask_with(ratio)
            _require_shape("permutation", "ids_restore", ids, (B, N), inp)
            for b in range(B):
                if sorted(int(i) for i in ids[b]) != list(range(N)):
                    raise _Fail("permutation", "not_permutation", row=b, last=N - 1,
                                got=[int(i) for i in ids[b]], inp=inp)

    def mask_values():
        for ratio in ratios:
            (_, mask, ids), inp = mask_with(ratio)
            keep = int(N * (1 - ratio))
            _require_shape("mask_values", "mask", mask, (B, N), inp)
            if mask.dtype != torch.bool:
                bad = mask[(mask != 0) & (mask != 1)]
                if bad.numel():
                    raise _Fail("mask_values", "mask_binary", got=float(bad[0]), inp=inp)
            removed = _as_removed(mask)
            count = int(removed[0].sum())
            if (removed.sum(1) != N - keep).any():
                raise _Fail("mask_values", "mask_count", got=count, want=N - keep, inp=inp)
            if _shape(ids) == (B, N):
                shuffled = torch.cat([torch.zeros(B, keep, dtype=torch.bool),
                                      torch.ones(B, N - keep, dtype=torch.bool)], dim=1)
                if not torch.equal(torch.gather(shuffled, 1, ids.long()), removed):
                    raise _Fail("mask_values", "mask_order", inp=inp)

    def kept_tokens():
        for ratio in ratios:
            (x_kept, mask, _), inp = mask_with(ratio)
            keep = int(N * (1 - ratio))
            _require_shape("kept_tokens", "x_kept", x_kept, (B, keep, D), inp)
            _require_shape("kept_tokens", "mask", mask, (B, N), inp)
            removed = _as_removed(mask)
            for b in range(B):
                want = x[b][~removed[b]]
                got = x_kept[b]
                # kept tokens in any order, but they must be exactly x's tokens at mask == 0
                if want.shape != got.shape or not _close(
                        torch.sort(want, dim=0).values, torch.sort(got, dim=0).values):
                    raise _Fail("kept_tokens", "kept_not_original", inp=inp)

    def generator():
        (a, ma, ia), inp = mask_with(0.75, seed=3)
        (b, mb, ib), _ = mask_with(0.75, seed=3)
        if not (torch.equal(ia, ib) and torch.equal(ma, mb) and torch.equal(a, b)):
            raise _Fail("generator", "not_reproducible", inp=inp)
        (_, mc, _), _ = mask_with(0.75, seed=4)
        (_, md, _), _ = mask_with(0.75, seed=5)
        if torch.equal(ma, mc) and torch.equal(ma, md):
            raise _Fail("generator", "not_random", inp=inp)

    # unshuffle is checked on its own, with a reference shuffle.
    noise = torch.rand(B, N, generator=_gen(6))
    ids_shuffle = torch.argsort(noise, dim=1)
    ids_restore = torch.argsort(ids_shuffle, dim=1)
    shuffled = torch.gather(x, 1, ids_shuffle.unsqueeze(-1).expand(-1, -1, D))
    inp_u = f"x {tuple(shuffled.shape)}, ids_restore {tuple(ids_restore.shape)}"

    def unshuffle_check():
        got = _call(unshuffle, "unshuffle", inp_u, shuffled, ids_restore)
        _require_shape("unshuffle", "unshuffle(x, ids_restore)", got, x.shape, inp_u)
        if not _close(got, x):
            raise _Fail("unshuffle", "unshuffle_wrong", diff=_max_diff(got, x)[0], inp=inp_u)

    checks = [("kept_count", kept_count), ("permutation", permutation), ("mask_values", mask_values),
              ("kept_tokens", kept_tokens), ("generator", generator), ("unshuffle", unshuffle_check)]
    return _run("MAE random masking", checks, lang, verbose)


# ---------------------------------------------------------------------------
# 04_patchify
# ---------------------------------------------------------------------------


def check_patchify(patchify: Callable, unpatchify: Callable, lang: str | None = None,
                   verbose: bool = True) -> CheckResult:
    """Check ``patchify`` / ``unpatchify`` (ViT eq. 1; pixel order of MAE's code)."""
    from ..models.patches import patchify as ref_patchify

    g = _gen(3)
    P = 4
    images = torch.randn(2, 3, 8, 12, generator=g)
    inp = f"images {tuple(images.shape)}, patch_size={P}"
    want = ref_patchify(images, P)

    def patch_shape():
        got = _call(patchify, "patchify", inp, images, P)
        _require_shape("patch_shape", "patchify(images)", got, want.shape, inp)

    def patch_order():
        got = _call(patchify, "patchify", inp, images, P)
        _require_shape("patch_order", "patchify(images)", got, want.shape, inp)
        if _close(got, want):
            return
        if _close(torch.sort(got, dim=-1).values, torch.sort(want, dim=-1).values):
            raise _Fail("patch_order", "channel_order", inp=inp)
        if _close(torch.sort(got, dim=1).values, torch.sort(want, dim=1).values):
            raise _Fail("patch_order", "patch_raster", inp=inp)
        _require_close("patch_order", "patchify(images)", got, want, inp)

    square = torch.randn(1, 1, 8, 8, generator=g)
    inp_u = f"patches {tuple(want.shape)}, patch_size={P}, image_size=(8, 12)"

    def unpatch_inverse():
        got = _call(unpatchify, "unpatchify", inp_u, want, P, (8, 12))
        _require_shape("unpatch_inverse", "unpatchify(patches)", got, images.shape, inp_u)
        if not _close(got, images):
            raise _Fail("unpatch_inverse", "not_inverse", what="unpatchify(patchify(images))",
                        diff=_max_diff(got, images)[0], inp=inp_u)
        inp_s = f"patches {tuple(ref_patchify(square, 2).shape)}, patch_size=2, image_size=8"
        got = _call(unpatchify, "unpatchify", inp_s, ref_patchify(square, 2), 2, 8)
        _require_shape("unpatch_inverse", "unpatchify(patches)", got, square.shape, inp_s)
        _require_close("unpatch_inverse", "unpatchify(patches)", got, square, inp_s)

    tall = torch.randn(1, 2, 12, 4, generator=g)
    inp_t = f"images {tuple(tall.shape)}, patch_size=2"

    def non_square():
        got = _call(patchify, "patchify", inp_t, tall, 2)
        want_t = ref_patchify(tall, 2)
        _require_shape("non_square", "patchify(images)", got, want_t.shape, inp_t)
        _require_close("non_square", "patchify(images)", got, want_t, inp_t)

    checks = [("patch_shape", patch_shape), ("patch_order", patch_order),
              ("unpatch_inverse", unpatch_inverse), ("non_square", non_square)]
    return _run("patchify / unpatchify", checks, lang, verbose)


# ---------------------------------------------------------------------------
# 05_positional
# ---------------------------------------------------------------------------


def _reference_sincos(num_positions: int, dim: int) -> torch.Tensor:
    from ..models.positional import sincos_1d

    return sincos_1d(num_positions, dim)


def check_positional(sincos_1d: Callable, lang: str | None = None, verbose: bool = True) -> CheckResult:
    """Check ``sincos_1d(num_positions, dim)`` against Vaswani et al. (2017) §3.5."""
    n, d = 10, 16
    inp = f"num_positions={n}, dim={d}"
    want = _reference_sincos(n, d)

    def shape():
        got = _call(sincos_1d, "sincos_1d", inp, n, d)
        _require_shape("shape", "sincos_1d(...)", got, (n, d), inp)

    def sin_cos():
        got = _call(sincos_1d, "sincos_1d", inp, n, d)
        _require_shape("sin_cos", "sincos_1d(...)", got, (n, d), inp)
        first = want[0]
        if not _close(got[0], first):
            shown = [round(float(t), 2) for t in got[0][:6]]
            raise _Fail("sin_cos", "sin_cos_swapped", got=shown)

    def frequencies():
        got = _call(sincos_1d, "sincos_1d", inp, n, d)
        _require_shape("frequencies", "sincos_1d(...)", got, (n, d), inp)
        if not _close(got, want):
            diff = (got.detach().double() - want.double()).abs().amax(0)
            col = int(diff.argmax())
            raise _Fail("frequencies", "frequency_wrong", col=col, got=float(got[1, col]),
                        want=float(want[1, col]), inp=inp)
        for n2, d2 in ((7, 6), (50, 64)):
            inp2 = f"num_positions={n2}, dim={d2}"
            got2 = _call(sincos_1d, "sincos_1d", inp2, n2, d2)
            want2 = _reference_sincos(n2, d2)
            _require_shape("frequencies", "sincos_1d(...)", got2, (n2, d2), inp2)
            _require_close("frequencies", "sincos_1d(...)", got2, want2, inp2)

    checks = [("shape", shape), ("sin_cos", sin_cos), ("frequencies", frequencies)]
    return _run("sincos_1d", checks, lang, verbose)
