"""Weight and redraw time of each explorer's page version (course_pkg.teaching.live) in headless Chromium.

For each explorer and language: the bytes of script + data the page loads for it (budget 150 KB),
and the time one redraw takes (compute + SVG) when each control is moved over its whole range,
as median and maximum over all moves (budget 100 ms), with their ratios to the budgets. (The numbers themselves are compared
with course_pkg's in tests/browser/test_live_widgets.py.)

    python benchmarks/bench_live_widgets.py [--lang ja] [--chromium /usr/bin/chromium]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
from pathlib import Path

from course_pkg.teaching import live, widget_specs
from course_pkg.teaching import widgets as W
from course_pkg.teaching.language import LANGS

BUDGET_BYTES, BUDGET_MS = 150_000, 100.0
EXPLORERS = {
    name: (lambda lang, name=name: W.reference_explorer(name, lang)) for name in widget_specs.SPECS
}
SWEEP = """() => {
    const live = document.querySelector('.course-live').courseLive, times = [];
    for (const c of live.bundle.controls) {
        const input = live.controls[c.name].node.querySelector('input[type=range], select');
        const count = c.kind === 'toggle' ? c.options.length : c.kind === 'check' ? 2 : +input.max + 1;
        for (let k = 0; k < count; k++) {
            if (c.kind === 'toggle') live.set(c.name, c.options[k][1]);
            else if (c.kind === 'check') live.set(c.name, k === 0 ? !c.value : c.value);
            else if (c.kind === 'choice') live.set(c.name, c.options[k][1]);
            else live.set(c.name, live.controls[c.name].valueAt(k));
            times.push(live.lastMs);
        }
    }
    return times;
}"""


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--lang", action="append", choices=LANGS)
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    script = len(live.SCRIPT.read_bytes())
    print(f"script: {script} bytes (shared by the widgets of one page)")
    print(
        f"{'widget':<11} {'lang':<4} {'data B':>8} {'total B':>8} {'/150KB':>7} {'median ms':>10} "
        f"{'max ms':>7} {'/100ms':>7} {'moves':>6}"
    )
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=args.chromium, args=["--headless", "--no-sandbox"]
        )
        for lang in args.lang or LANGS:
            for name, make in EXPLORERS.items():
                w = make(lang)
                body = live.page_html(w, with_script=True)
                path = Path(tmp) / f"{name}_{lang}.html"
                path.write_text(
                    f'<!DOCTYPE html><html lang="{lang}"><head><meta charset="utf-8"><title>b</title>'
                    f"</head><body>{body}</body></html>",
                    encoding="utf-8",
                )
                total = len(body.encode())
                page = browser.new_page(viewport={"width": 1280, "height": 900})
                page.goto(path.as_uri())
                page.wait_for_function("() => document.querySelector('.course-live').dataset.ready")
                times = page.evaluate(SWEEP)
                page.close()
                print(
                    f"{name:<11} {lang:<4} {total - script:>8} {total:>8} {total / BUDGET_BYTES:>7.2f} "
                    f"{statistics.median(times):>10.1f} {max(times):>7.1f} {max(times) / BUDGET_MS:>7.2f} "
                    f"{len(times):>6}"
                )
        browser.close()


if __name__ == "__main__":
    main()
