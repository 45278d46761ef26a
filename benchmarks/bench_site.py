"""Page weights and Lighthouse mobile scores of the built site (figures, not assertions).

    python benchmarks/bench_site.py                 # weights of every page, both editions
    python benchmarks/bench_site.py --lighthouse    # also Lighthouse on three pages per edition

Weights: a first visit in headless Chromium (no cache) against ``python -m http.server``-style
serving of _build/html, counting the bytes of every response (raw, and gzipped as a server that
compresses would send them). Lighthouse 12.2.3 comes from the npm registry into .bench/
(``npm i -E lighthouse@12.2.3``), with Debian's Chromium. Issue 11's targets: a chapter at most
1.5 MB raw / 600 KB gzipped, a widget page at most 2 MB, performance >= 90, accessibility 100,
best practices 100.
"""
from __future__ import annotations

import argparse
import functools
import gzip
import http.server
import json
import os
import subprocess
import threading
from pathlib import Path

from course_pkg.teaching.language import LANGS

ROOT = Path(__file__).resolve().parents[1]
SITE = ROOT / "_build" / "html"
CHROMIUM = os.environ.get("COURSE_CHROMIUM", "/usr/bin/chromium")
LIGHTHOUSE = ROOT / ".bench" / "node_modules" / ".bin" / "lighthouse"
LIGHTHOUSE_PAGES = ["00_start.html", "05_vit.html", "exercises/01_attention.html"]


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def serve() -> tuple[http.server.ThreadingHTTPServer, str]:
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(SITE)))
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return httpd, f"http://127.0.0.1:{httpd.server_address[1]}"


def pages(lang: str) -> list[str]:
    root = SITE / lang
    return [p.relative_to(root).as_posix() for p in sorted(root.rglob("*.html"))
            if not p.relative_to(root).as_posix().startswith(("_static", "_sources"))
            and p.stem not in ("genindex", "search", "index")]


def weigh(browser, url: str) -> dict:
    """Requests, raw bytes, gzipped bytes, biggest blocking script of one first visit."""
    context = browser.new_context(viewport={"width": 390, "height": 800})
    page = context.new_page()
    bodies = []
    page.on("response", lambda r: bodies.append((r.url, r.request.resource_type, r)))
    page.goto(url, wait_until="load")
    page.wait_for_load_state("networkidle")
    raw = zipped = 0
    blocking = page.evaluate("""() => Array.from(document.querySelectorAll('head script[src]'))
        .filter(s => !s.defer && !s.async && s.type !== 'module').map(s => s.src)""")
    biggest_blocking = (0, "")
    for url_, _, response in bodies:
        try:
            body = response.body()
        except Exception:
            continue
        raw += len(body)
        zipped += len(gzip.compress(body, 6))
        if url_.split("?")[0] in [b.split("?")[0] for b in blocking]:
            biggest_blocking = max(biggest_blocking, (len(body), url_.rsplit("/", 1)[-1].split("?")[0]))
    context.close()
    return {"requests": len(bodies), "raw": raw, "gzip": zipped, "blocking": biggest_blocking}


def lighthouse(url: str) -> dict:
    env = dict(os.environ, CHROME_PATH=CHROMIUM)
    out = subprocess.run([str(LIGHTHOUSE), url, "--quiet", "--output=json", "--only-categories="
                          "performance,accessibility,best-practices",
                          "--chrome-flags=--headless --no-sandbox --disable-gpu"],
                         capture_output=True, text=True, env=env, timeout=300)
    if out.returncode != 0:
        return {"error": out.stderr.strip().splitlines()[-1:] or ["failed"]}
    cats = json.loads(out.stdout)["categories"]
    return {k: round(100 * v["score"]) if v["score"] is not None else None for k, v in cats.items()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lighthouse", action="store_true")
    args = parser.parse_args()
    if not (SITE / "index.html").exists():
        raise SystemExit(f"no built site at {SITE}: run tools/build_site.py first")
    from playwright.sync_api import sync_playwright

    httpd, base = serve()
    print(f"{'page':34s} {'req':>4s} {'raw KB':>8s} {'gzip KB':>8s}  biggest blocking script")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--headless", "--no-sandbox"])
        for lang in LANGS:
            for name in pages(lang):
                w = weigh(browser, f"{base}/{lang}/{name}")
                size, script = w["blocking"]
                print(f"{lang + '/' + name:34s} {w['requests']:4d} {w['raw'] / 1024:8.0f} {w['gzip'] / 1024:8.0f}"
                      f"  {script} {size / 1024:.0f} KB" if script else
                      f"{lang + '/' + name:34s} {w['requests']:4d} {w['raw'] / 1024:8.0f} {w['gzip'] / 1024:8.0f}  -")
        browser.close()
    maps = sum(f.stat().st_size for f in SITE.rglob("*.map"))
    static = {lang: sum(f.stat().st_size for f in (SITE / lang / "_static").rglob("*") if f.is_file())
              for lang in LANGS}
    print(f"source maps shipped: {maps / 1024:.0f} KB; _static per edition: "
          + ", ".join(f"{k} {v / 2**20:.1f} MB" for k, v in static.items()))
    if args.lighthouse:
        if not LIGHTHOUSE.exists():
            raise SystemExit(f"{LIGHTHOUSE} missing: (cd .bench && npm i -E lighthouse@12.2.3)")
        print("Lighthouse (mobile, simulated slow 4G): performance / accessibility / best practices")
        for lang in LANGS:
            for name in LIGHTHOUSE_PAGES:
                scores = lighthouse(f"{base}/{lang}/{name}")
                print(f"  {lang}/{name:30s} {scores}")
    httpd.shutdown()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
