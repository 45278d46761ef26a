"""Messages of the grader shared by all assignments (ja / zh / en).

Feedback names the property that failed and the input *shapes*; it never shows hidden
input values, reference values or the check's code.
"""
from __future__ import annotations

from ..i18n import tr

MESSAGES = {
    # per-call problems
    "missing_function": {"ja": "関数 `{fn}` が定義されていません。", "zh": "未定义函数 `{fn}`。",
                         "en": "function `{fn}` is not defined."},
    "raised": {"ja": "`{fn}` が {exc} を送出しました（入力の形状: {shapes}）: {msg}",
               "zh": "`{fn}` 抛出了 {exc}（输入形状: {shapes}）: {msg}",
               "en": "`{fn}` raised {exc} (input shapes: {shapes}): {msg}"},
    "not_implemented": {"ja": "`{fn}` はまだ実装されていません（NotImplementedError）。",
                        "zh": "`{fn}` 还没有实现（NotImplementedError）。",
                        "en": "`{fn}` is not implemented yet (NotImplementedError)."},
    "call_timeout": {"ja": "`{fn}` が制限時間内に終わりませんでした（入力の形状: {shapes}）。",
                     "zh": "`{fn}` 未在时限内结束（输入形状: {shapes}）。",
                     "en": "`{fn}` did not finish in time (input shapes: {shapes})."},
    "not_run": {"ja": "ノートブックのプロセスが途中で終了したため `{fn}` を採点できませんでした（{why}）。",
                "zh": "笔记本进程中途退出，无法评分 `{fn}`（{why}）。",
                "en": "the notebook's process ended before `{fn}` could be graded ({why})."},
    "why_exit": {"ja": "終了コード {code}", "zh": "退出码 {code}", "en": "exit code {code}"},
    "why_signal": {"ja": "シグナル {sig} で終了", "zh": "被信号 {sig} 终止", "en": "killed by signal {sig}"},
    "why_wall": {"ja": "制限時間 {s} 秒を超過", "zh": "超过时限 {s} 秒", "en": "ran past the {s} s limit"},
    "why_garbled": {"ja": "結果のデータが壊れていました", "zh": "结果数据已损坏",
                    "en": "the result data was garbled"},
    "why_overflow": {"ja": "結果のデータが大きすぎます", "zh": "结果数据过大",
                     "en": "the result data was too large"},
    # returned values
    "not_tuple": {"ja": "`{fn}` は {n} 個の値のタプルを返す必要があります（戻り値: {got}）。",
                  "zh": "`{fn}` 必须返回包含 {n} 个值的元组（实际返回: {got}）。",
                  "en": "`{fn}` must return a tuple of {n} values (got {got})."},
    "not_tensor": {"ja": "{what} は torch.Tensor である必要があります（戻り値: {got}）。",
                   "zh": "{what} 必须是 torch.Tensor（实际: {got}）。",
                   "en": "{what} must be a torch.Tensor (got {got})."},
    "wrong_shape": {"ja": "{what} の形状 {got} が違います（期待: {expected}、入力の形状: {shapes}）。",
                    "zh": "{what} 的形状 {got} 不对（应为 {expected}，输入形状: {shapes}）。",
                    "en": "{what} has shape {got}, expected {expected} (input shapes: {shapes})."},
    "wrong_dtype": {"ja": "{what} のデータ型 {got} が違います（期待: {expected}）。",
                    "zh": "{what} 的数据类型 {got} 不对（应为 {expected}）。",
                    "en": "{what} has dtype {got}, expected {expected}."},
    "not_finite": {"ja": "{what} に NaN または inf が含まれています（入力の形状: {shapes}）。",
                   "zh": "{what} 含有 NaN 或 inf（输入形状: {shapes}）。",
                   "en": "{what} contains NaN or inf (input shapes: {shapes})."},
    "wrong_values": {"ja": "{what} の値が正しくありません（入力の形状: {shapes}）。",
                     "zh": "{what} 的数值不正确（输入形状: {shapes}）。",
                     "en": "{what} has wrong values (input shapes: {shapes})."},
    "inputs_modified": {"ja": "`{fn}` が入力テンソルを書き換えています（入力の形状: {shapes}）。",
                        "zh": "`{fn}` 修改了输入张量（输入形状: {shapes}）。",
                        "en": "`{fn}` modifies its input tensors (input shapes: {shapes})."},
    # static check
    "forbidden": {"ja": "この課題では使えない `{name}` を使っています（セル {cell}、{line} 行目）。",
                  "zh": "使用了本作业禁止的 `{name}`（单元格 {cell}，第 {line} 行）。",
                  "en": "uses `{name}`, which this exercise asks you to implement yourself "
                        "(cell {cell}, line {line})."},
    "blocked": {"ja": "禁止された `{name}` を使っているため採点しません。",
                "zh": "由于使用了禁止的 `{name}`，不予评分。",
                "en": "not graded because the notebook uses the forbidden `{name}`."},
    "static_ok": {"ja": "禁止された関数は使われていません。", "zh": "未使用被禁止的函数。",
                  "en": "no forbidden function is used."},
    # notebook problems
    "nb_too_large": {"ja": "ノートブックが大きすぎます（{size} バイト、上限 {cap} バイト）。",
                     "zh": "笔记本过大（{size} 字节，上限 {cap} 字节）。",
                     "en": "the notebook is too large ({size} bytes, limit {cap})."},
    "nb_bad_json": {"ja": "ノートブックの JSON が読めません: {err}", "zh": "无法解析笔记本的 JSON: {err}",
                    "en": "the notebook is not valid JSON: {err}"},
    "nb_not_notebook": {"ja": "ノートブック形式ではありません: {err}", "zh": "不是笔记本格式: {err}",
                        "en": "not a Jupyter notebook: {err}"},
    "nb_bad_version": {"ja": "nbformat {got} には対応していません（nbformat 4 が必要です）。",
                       "zh": "不支持 nbformat {got}（需要 nbformat 4）。",
                       "en": "nbformat {got} is not supported (nbformat 4 is required)."},
    "nb_no_code": {"ja": "コードセルがありません。", "zh": "没有代码单元格。",
                   "en": "the notebook has no code cells."},
    "nb_unreadable": {"ja": "ファイルを読めません: {err}", "zh": "无法读取文件: {err}",
                      "en": "cannot read the file: {err}"},
    "nb_missing": {"ja": "提出されたノートブックがありません。", "zh": "没有提交笔记本。",
                   "en": "no notebook was submitted."},
    "invalid": {"ja": "ノートブックを採点できません: {why}", "zh": "无法评分该笔记本: {why}",
                "en": "the notebook cannot be graded: {why}"},
    "infra": {"ja": "採点システムの内部エラーです（教員に連絡してください）。",
              "zh": "评分系统内部错误（请联系教师）。",
              "en": "internal grader error (please tell the instructor)."},
    # feedback
    "fb_title": {"ja": "{assignment} の採点結果", "zh": "{assignment} 评分结果",
                 "en": "Grading of {assignment}"},
    "fb_total": {"ja": "合計: {points} / {max_points} 点", "zh": "总分: {points} / {max_points} 分",
                 "en": "Total: {points} / {max_points} points"},
    "fb_test": {"ja": "項目", "zh": "项目", "en": "test"},
    "fb_points": {"ja": "点数", "zh": "得分", "en": "points"},
    "fb_result": {"ja": "結果", "zh": "结果", "en": "result"},
    "fb_cells": {"ja": "実行時にエラーになったセル", "zh": "运行出错的单元格",
                 "en": "cells that raised an error"},
    "fb_cell_line": {"ja": "セル {cell}: {exc}: {msg}", "zh": "单元格 {cell}: {exc}: {msg}",
                     "en": "cell {cell}: {exc}: {msg}"},
    "fb_cell_timeout": {"ja": "セル {cell}: 制限時間を超過", "zh": "单元格 {cell}: 超时",
                        "en": "cell {cell}: ran past its time limit"},
    "fb_seed": {"ja": "採点の乱数シード: {seed}", "zh": "评分随机种子: {seed}",
                "en": "grading seed: {seed}"},
    "status_pass": {"ja": "合格", "zh": "通过", "en": "pass"},
    "status_partial": {"ja": "部分点", "zh": "部分得分", "en": "partial"},
    "status_fail": {"ja": "不合格", "zh": "未通过", "en": "fail"},
    "status_error": {"ja": "エラー", "zh": "错误", "en": "error"},
}


def msg(key: str, lang: str, **fmt) -> str:
    """A grader message in ``lang``."""
    return tr(MESSAGES, key, lang=lang, **fmt)
