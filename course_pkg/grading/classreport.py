"""The class report: ``OUT/summary.html`` and the terminal summary, in the instructor's
language (``--ui-lang ja|zh|en``).

Per assignment: the distribution of totals (histogram) and each test's pass rate (bars),
drawn with matplotlib as SVG and inlined (text kept as text, so CJK titles use the
browser's fonts; nothing is loaded from outside), the most common failure reasons
(grouped by test and reason code, with one example) and the students with errors.
"""

from __future__ import annotations

import html
import io
import warnings
from collections import Counter, defaultdict
from pathlib import Path

from ..teaching.language import tr
from .report import final_total

UI = {
    "title": {"ja": "クラスの採点結果", "zh": "全班评分结果", "en": "Class grading report"},
    "students": {"ja": "学生数", "zh": "学生人数", "en": "students"},
    "mean": {"ja": "平均", "zh": "平均", "en": "mean"},
    "errors": {
        "ja": "採点できなかったノートブック",
        "zh": "无法评分的笔记本",
        "en": "errors (unusable notebooks)",
    },
    "dist": {"ja": "合計点の分布", "zh": "总分分布", "en": "distribution of totals"},
    "rate": {"ja": "テストごとの合格率", "zh": "各测试的通过率", "en": "pass rate by test"},
    "notpassed": {
        "ja": "不合格の数（テスト別）",
        "zh": "未通过数（按测试）",
        "en": "not passed, by test",
    },
    "reasons": {
        "ja": "よくある失敗の理由",
        "zh": "常见的失败原因",
        "en": "most common failure reasons",
    },
    "with_errors": {"ja": "エラーのあった学生", "zh": "出错的学生", "en": "students with errors"},
    "none": {"ja": "なし", "zh": "无", "en": "none"},
    "nothing": {
        "ja": "採点済みの提出はありません",
        "zh": "没有已评分的提交",
        "en": "no submissions graded",
    },
    "warnings": {"ja": "警告", "zh": "警告", "en": "warnings"},
    "count": {"ja": "人数", "zh": "人数", "en": "students"},
    "score": {"ja": "合計点", "zh": "总分", "en": "total"},
    "example": {"ja": "例", "zh": "示例", "en": "e.g."},
    "test": {"ja": "テスト", "zh": "测试", "en": "test"},
    "code": {"ja": "理由コード", "zh": "原因代码", "en": "reason code"},
}
TOP_REASONS = 10
# Text stays text in the SVG (the reader's browser draws it); these only size the labels.
CJK_FONTS = ["Noto Sans CJK JP", "Noto Sans CJK SC", "Noto Serif CJK JP", "DejaVu Sans"]


def ui(key: str, lang: str) -> str:
    return tr(UI, key, lang=lang)


def stats(records: list[dict]) -> dict:
    """What the report shows, for the records of one assignment."""
    totals = [final_total(r)[0] for r in records]  # after late penalties and manual points
    mx = max((final_total(r)[1] for r in records), default=0.0) or 1.0
    tests, passed, titles = Counter(), Counter(), {}
    reasons: dict[tuple, list] = defaultdict(list)
    for r in records:
        for t in r["tests"]:
            if t["max_points"] == 0:
                continue
            tests[t["test"]] += 1
            titles.setdefault(t["test"], t.get("title") or t["test"])
            if t["status"] == "pass":
                passed[t["test"]] += 1
            else:
                reasons[(t["test"], t.get("code") or t["status"])].append(t.get("reason", ""))
    common = sorted(reasons.items(), key=lambda kv: (-len(kv[1]), kv[0]))[:TOP_REASONS]
    errors = sorted(
        r["student"]
        for r in records
        if r.get("error") or any(t["status"] in ("error", "infra") for t in r["tests"])
    )
    return {
        "n": len(records),
        "totals": totals,
        "max": mx,
        "mean": sum(totals) / len(totals) if totals else 0.0,
        "rates": {k: passed[k] / n for k, n in tests.items()},
        "titles": titles,
        "reasons": [(test, code, len(rs), rs[0]) for (test, code), rs in common],
        "errors": errors,
        "n_error": sum(1 for r in records if r.get("error")),
    }


def _bins(st: dict) -> list[int]:
    counts = Counter(min(int(10 * p / st["max"]), 9) for p in st["totals"])
    return [counts.get(b, 0) for b in range(10)]


def terminal_summary(records: list[dict], warnings: list[str] = (), lang: str = "en") -> str:
    """Mean, a text histogram of totals, pass-rate bars, reasons, errors and warnings."""
    tail = (
        [f"{ui('warnings', lang)} ({len(warnings)}):"] + [f"  {w}" for w in warnings]
        if warnings
        else []
    )
    if not records:
        return "\n".join([ui("nothing", lang)] + tail)
    st = stats(records)
    lines = [
        f"{ui('students', lang)}: {st['n']}   {ui('mean', lang)}: {st['mean']:.2f} / "
        f"{st['max']:g}   {ui('errors', lang)}: {st['n_error']}",
        f"{ui('dist', lang)}:",
    ]
    for b, n in enumerate(_bins(st)):
        lo, hi = b * st["max"] / 10, (b + 1) * st["max"] / 10
        lines.append(f"  {lo:5.1f}-{hi:5.1f} | {'#' * n} {n}")
    lines.append(f"{ui('rate', lang)}:")
    for test, rate in st["rates"].items():
        lines.append(f"  {test:32s} {'█' * round(20 * rate):20s} {100 * rate:5.1f}%")
    fails = Counter(t["test"] for r in records for t in r["tests"] if t["status"] != "pass")
    lines.append(f"{ui('notpassed', lang)}:")
    lines += [f"  {test}: {n}" for test, n in fails.most_common()]
    lines.append(f"{ui('reasons', lang)}:")
    lines += [f"  {n} x {test} [{code}]" for test, code, n, _ in st["reasons"]]
    lines.append(f"{ui('with_errors', lang)}: {', '.join(st['errors'][:50]) or ui('none', lang)}")
    return "\n".join(lines + tail)


# --------------------------------------------------------------------------- figures
def _svg(fig) -> str:
    buf = io.StringIO()
    with warnings.catch_warnings():  # a glyph the fallback font lacks: the browser draws it
        warnings.simplefilter("ignore", UserWarning)
        fig.savefig(
            buf,
            format="svg",
            bbox_inches="tight",
            metadata={"Date": None, "Creator": None, "Format": None, "Type": None},
        )
    text = buf.getvalue()
    return text[text.index("<svg") :]  # drop the XML prolog and DOCTYPE: inline SVG


def _figures(st: dict, lang: str) -> tuple[str, str]:
    """``(histogram SVG, pass-rate SVG)``."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib.figure import Figure

    with matplotlib.rc_context(
        {
            "svg.fonttype": "none",
            "svg.hashsalt": "course-grade",
            "font.size": 9,
            "font.family": "sans-serif",
            "font.sans-serif": CJK_FONTS,
        }
    ):
        hist = Figure(figsize=(5, 2.4))
        ax = hist.subplots()
        ax.hist(st["totals"], bins=10, range=(0, st["max"]), color="#3b6ea8", edgecolor="white")
        ax.set_xlabel(ui("score", lang))
        ax.set_ylabel(ui("count", lang))
        ax.yaxis.get_major_locator().set_params(integer=True)
        ax.set_title(ui("dist", lang))
        names = list(st["rates"])
        bars = Figure(figsize=(5, 0.35 * len(names) + 0.9))
        bx = bars.subplots()
        bx.barh(range(len(names)), [100 * st["rates"][k] for k in names], color="#4c9a5b")
        bx.set_yticks(range(len(names)), names)
        bx.invert_yaxis()
        bx.set_xlim(0, 100)
        bx.set_xlabel("%")
        bx.set_title(ui("rate", lang))
        return _svg(hist), _svg(bars)


def _section(assignment: str, records: list[dict], lang: str) -> str:
    esc = html.escape
    st = stats(records)
    hist, bars = _figures(st, lang)
    reasons = "".join(
        f"<tr><td>{n}</td><td>{esc(st['titles'].get(test, test))}</td><td>{esc(code)}</td>"
        f"<td>{esc(example)}</td></tr>"
        for test, code, n, example in st["reasons"]
    )
    errors = ", ".join(esc(s) for s in st["errors"]) or esc(ui("none", lang))
    return (
        f"<section><h2>{esc(assignment)}</h2>"
        f"<p>{esc(ui('students', lang))}: {st['n']} · {esc(ui('mean', lang))}: "
        f"{st['mean']:.2f} / {st['max']:g} · {esc(ui('errors', lang))}: {st['n_error']}</p>"
        f"<figure>{hist}</figure><figure>{bars}</figure>"
        f"<h3>{esc(ui('reasons', lang))}</h3><table><tr><th>#</th>"
        f"<th>{esc(ui('test', lang))}</th><th>{esc(ui('code', lang))}</th>"
        f"<th>{esc(ui('example', lang))}</th></tr>{reasons}</table>"
        f"<h3>{esc(ui('with_errors', lang))}</h3><p>{errors}</p></section>"
    )


def summary_html(records: list[dict], lang: str = "en") -> str:
    """The whole page: one section per assignment; self-contained (inline SVG and CSS)."""
    by_assignment = defaultdict(list)
    for r in records:
        by_assignment[r["assignment"]].append(r)
    body = "".join(_section(a, rs, lang) for a, rs in sorted(by_assignment.items())) or (
        f"<p>{html.escape(ui('nothing', lang))}</p>"
    )
    title = html.escape(ui("title", lang))
    return (
        f"<!doctype html><html lang='{lang}'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>{title}</title><style>body{{font-family:sans-serif;max-width:60rem;"
        "margin:auto;padding:1rem}svg{max-width:100%;height:auto}table{border-collapse:"
        "collapse}td,th{border:1px solid #ccc;padding:.2rem .4rem;text-align:left;"
        f"vertical-align:top}}</style></head><body><h1>{title}</h1>{body}</body></html>\n"
    )


def write_summary_html(records: list[dict], path: Path, lang: str = "en") -> None:
    from .report import atomic_write

    atomic_write(Path(path), summary_html(records, lang))
