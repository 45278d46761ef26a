"""Messages of the grader shared by all assignments (ja / zh / en).

Feedback names the property that failed and the input *shapes*; it never shows hidden
input values, reference values or the check's code. The messages of the properties (calls
that raise, wrong shapes, diagnoses) are the exercises' own: ``course_pkg.exercises.messages``.
"""

from __future__ import annotations

from ..teaching.language import tr

MESSAGES = {
    # why a notebook's process ended early
    "why_exit": {"ja": "終了コード {code}", "zh": "退出码 {code}", "en": "exit code {code}"},
    "why_signal": {
        "ja": "シグナル {sig} で終了",
        "zh": "被信号 {sig} 终止",
        "en": "killed by signal {sig}",
    },
    "why_wall": {
        "ja": "制限時間 {s} 秒を超過",
        "zh": "超过时限 {s} 秒",
        "en": "ran past the {s} s limit",
    },
    "why_garbled": {
        "ja": "結果のデータが壊れていました",
        "zh": "结果数据已损坏",
        "en": "the result data was garbled",
    },
    "why_overflow": {
        "ja": "結果のデータが大きすぎます",
        "zh": "结果数据过大",
        "en": "the result data was too large",
    },
    # static check
    "forbidden": {
        "ja": "この課題では使えない `{name}` を使っています（セル {cell}、{line} 行目）。",
        "zh": "使用了本作业禁止的 `{name}`（单元格 {cell}，第 {line} 行）。",
        "en": "uses `{name}`, which this exercise asks you to implement yourself "
        "(cell {cell}, line {line}).",
    },
    "blocked": {
        "ja": "禁止された `{name}` を使っているため採点しません。",
        "zh": "由于使用了禁止的 `{name}`，不予评分。",
        "en": "not graded because the notebook uses the forbidden `{name}`.",
    },
    "static_ok": {
        "ja": "禁止された関数は使われていません。",
        "zh": "未使用被禁止的函数。",
        "en": "no forbidden function is used.",
    },
    # notebook problems
    "nb_too_large": {
        "ja": "ノートブックが大きすぎます（{size} バイト、上限 {cap} バイト）。",
        "zh": "笔记本过大（{size} 字节，上限 {cap} 字节）。",
        "en": "the notebook is too large ({size} bytes, limit {cap}).",
    },
    "nb_bad_json": {
        "ja": "ノートブックの JSON が読めません: {err}",
        "zh": "无法解析笔记本的 JSON: {err}",
        "en": "the notebook is not valid JSON: {err}",
    },
    "nb_not_notebook": {
        "ja": "ノートブック形式ではありません: {err}",
        "zh": "不是笔记本格式: {err}",
        "en": "not a Jupyter notebook: {err}",
    },
    "nb_bad_version": {
        "ja": "nbformat {got} には対応していません（nbformat 4 が必要です）。",
        "zh": "不支持 nbformat {got}（需要 nbformat 4）。",
        "en": "nbformat {got} is not supported (nbformat 4 is required).",
    },
    "nb_no_code": {
        "ja": "コードセルがありません。",
        "zh": "没有代码单元格。",
        "en": "the notebook has no code cells.",
    },
    "nb_unreadable": {
        "ja": "ファイルを読めません: {err}",
        "zh": "无法读取文件: {err}",
        "en": "cannot read the file: {err}",
    },
    "nb_symlink": {
        "ja": "`{file}` はシンボリックリンクです。ノートブックのファイルそのものを提出してください。",
        "zh": "`{file}` 是符号链接。请提交笔记本文件本身。",
        "en": "`{file}` is a symbolic link; hand in the notebook file itself.",
    },
    "nb_not_regular": {
        "ja": "`{file}` は通常のファイルではありません（{kind}）。",
        "zh": "`{file}` 不是普通文件（{kind}）。",
        "en": "`{file}` is not a regular file ({kind}).",
    },
    "nb_ambiguous": {
        "ja": "提出フォルダにノートブックが複数あり、どれを採点するか決められません: {files}"
        "（採点するものだけを残してください）。",
        "zh": "提交的文件夹中有多个笔记本，无法确定评分哪一个: {files}（请只保留要评分的那个）。",
        "en": "the folder holds several notebooks and their metadata does not single "
        "out one for this assignment: {files} (keep only the one to grade).",
    },
    "nb_wrong_assignment": {
        "ja": "このノートブックは課題 {got} のものです（採点中の課題: {expected}）。",
        "zh": "该笔记本属于作业 {got}（正在评分的作业: {expected}）。",
        "en": "this notebook is for assignment {got}, not {expected}.",
    },
    "nb_not_searched": {
        "ja": "フォルダの上から {depth} 階層・{entries} 項目以内にノートブックがありません（それより深い所は"
        "探していません）。ノートブックをフォルダの上の方に置いて提出してください。",
        "zh": "文件夹最上面 {depth} 层、{entries} 项以内没有笔记本（更深处不再查找）。请把笔记本放在文件夹上层后提交。",
        "en": "no notebook within the folder's top {depth} levels and first {entries} entries "
        "(deeper parts are not searched); hand in the notebook nearer the top of the folder.",
    },
    "nb_missing": {
        "ja": "提出されたノートブックがありません。",
        "zh": "没有提交笔记本。",
        "en": "no notebook was submitted.",
    },
    "invalid": {
        "ja": "ノートブックを採点できません: {why}",
        "zh": "无法评分该笔记本: {why}",
        "en": "the notebook cannot be graded: {why}",
    },
    "infra_check": {
        "ja": "この項目の採点中に採点システムの内部エラーが起きました（この項目のみ 0 点、教員に連絡してください）。",
        "zh": "评分此项目时评分系统发生内部错误（仅此项目 0 分，请联系教师）。",
        "en": "internal grader error while grading this item (only this item "
        "scores 0; please tell the instructor).",
    },
    "why_memory": {
        "ja": "メモリ上限 {mb} MB を超過",
        "zh": "超过内存上限 {mb} MB",
        "en": "ran past the {mb} MB memory limit",
    },
    "infra": {
        "ja": "採点システムの内部エラーです（教員に連絡してください）。",
        "zh": "评分系统内部错误（请联系教师）。",
        "en": "internal grader error (please tell the instructor).",
    },
    # feedback
    "fb_title": {
        "ja": "{assignment} の採点結果",
        "zh": "{assignment} 评分结果",
        "en": "Grading of {assignment}",
    },
    "fb_total": {
        "ja": "合計: {points} / {max_points} 点",
        "zh": "总分: {points} / {max_points} 分",
        "en": "Total: {points} / {max_points} points",
    },
    "fb_test": {"ja": "項目", "zh": "项目", "en": "test"},
    "fb_points": {"ja": "点数", "zh": "得分", "en": "points"},
    "fb_result": {"ja": "結果", "zh": "结果", "en": "result"},
    "fb_cells": {
        "ja": "実行時にエラーになったセル",
        "zh": "运行出错的单元格",
        "en": "cells that raised an error",
    },
    "fb_cell_line": {
        "ja": "セル {cell}: {exc}: {msg}",
        "zh": "单元格 {cell}: {exc}: {msg}",
        "en": "cell {cell}: {exc}: {msg}",
    },
    "fb_cell_timeout": {
        "ja": "セル {cell}: 制限時間を超過",
        "zh": "单元格 {cell}: 超时",
        "en": "cell {cell}: ran past its time limit",
    },
    "fb_seed": {
        "ja": "採点の乱数シード: {seed}",
        "zh": "评分随机种子: {seed}",
        "en": "grading seed: {seed}",
    },
    "fb_comments": {"ja": "教員からのコメント", "zh": "教师评语", "en": "instructor's comments"},
    "fb_late": {
        "ja": "提出遅れ {days} 日: 自動採点 {points} 点から {percent}% を減点",
        "zh": "迟交 {days} 天: 自动评分 {points} 分扣除 {percent}%",
        "en": "{days} day(s) late: {percent}% off the automatic {points} points",
    },
    "fb_manual": {
        "ja": "教員による加減点: {points} 点",
        "zh": "教师加减分: {points} 分",
        "en": "instructor's points: {points}",
    },
    "status_pass": {"ja": "合格", "zh": "通过", "en": "pass"},
    "status_partial": {"ja": "部分点", "zh": "部分得分", "en": "partial"},
    "status_fail": {"ja": "不合格", "zh": "未通过", "en": "fail"},
    "status_error": {"ja": "エラー", "zh": "错误", "en": "error"},
    "status_infra": {"ja": "採点システムのエラー", "zh": "评分系统错误", "en": "grader error"},
}


def msg(key: str, lang: str, **fmt) -> str:
    """A grader message in ``lang``."""
    return tr(MESSAGES, key, lang=lang, **fmt)
