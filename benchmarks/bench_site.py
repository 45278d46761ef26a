"""Page weights and Lighthouse mobile scores of the built site (figures, not assertions).

    python benchmarks/bench_site.py                 # weights of every page, both editions
    python benchmarks/bench_site.py --lighthouse    # also Lighthouse on three pages per edition
    python benchmarks/bench_site.py --lighthouse --gzip  # ... served compressed, as web hosts do

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

ROOT = Path(__file__).resolve().parents[1]
SITE = ROOT / "_build" / "html"
CHROMIUM = os.environ.get("COURSE_CHROMIUM", "/usr/bin/chromium")
LIGHTHOUSE = ROOT / ".bench" / "node_modules" / ".bin" / "lighthouse"
LIGHTHOUSE_PAGES = ["00_start.html", "05_vit.html", "exercises/01_attention.html"]


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


COMPRESSIBLE = (".html", ".css", ".js", ".svg", ".json", ".txt")


class _Gzip(_Quiet):
    """Text files gzipped when the browser accepts it (GitHub Pages, Netlify and nginx's gzip do
    the same); python -m http.server sends everything as it is on disk."""

    def send_head(self):
        path = Path(self.translate_path(self.path))
        if path.is_dir():
            path = path / "index.html"
        if (
            "gzip" not in self.headers.get("Accept-Encoding", "")
            or path.suffix not in COMPRESSIBLE
            or not path.is_file()
        ):
            return super().send_head()
        import io

        body = gzip.compress(path.read_bytes(), 6)
        self.send_response(200)
        self.send_header("Content-Type", self.guess_type(str(path)))
        self.send_header("Content-Encoding", "gzip")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        return io.BytesIO(body)


def serve(compress: bool = False) -> tuple[http.server.ThreadingHTTPServer, str]:
    handler = _Gzip if compress else _Quiet
    httpd = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(handler, directory=str(SITE))
    )
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return httpd, f"http://127.0.0.1:{httpd.server_address[1]}"


def editions() -> list[str]:
    """The built editions: folders of the site with pages (ja, zh, en, ...)."""
    return sorted(d.name for d in SITE.iterdir() if d.is_dir() and (d / "00_start.html").exists())


def pages(lang: str) -> list[str]:
    root = SITE / lang
    return [
        p.relative_to(root).as_posix()
        for p in sorted(root.rglob("*.html"))
        if not p.relative_to(root).as_posix().startswith(("_static", "_sources"))
        and p.stem not in ("genindex", "search", "index")
    ]


def weigh(browser, url: str) -> dict:
    """Requests, raw bytes, gzipped bytes, biggest blocking script and the bytes of the
    render-blocking stylesheets of one first visit."""
    context = browser.new_context(viewport={"width": 390, "height": 800})
    page = context.new_page()
    bodies = []
    page.on("response", lambda r: bodies.append((r.url, r.request.resource_type, r)))
    page.goto(url, wait_until="load")
    page.wait_for_load_state("networkidle")
    raw = zipped = 0
    blocking = page.evaluate("""() => Array.from(document.querySelectorAll('head script[src]'))
        .filter(s => !s.defer && !s.async && s.type !== 'module').map(s => s.src)""")
    # Stylesheets of the served HTML that hold up the first paint (not print, not preload).
    sheets = page.evaluate("""() => Array.from(document.querySelectorAll('link[rel=stylesheet]'))
        .filter(l => !l.media || l.media === 'all' || l.media === 'screen').map(l => l.href)""")
    sheets = {s.split("?")[0] for s in sheets}
    biggest_blocking = (0, "")
    css = 0
    for url_, _, response in bodies:
        try:
            body = response.body()
        except Exception:
            continue
        raw += len(body)
        zipped += len(gzip.compress(body, 6))
        if url_.split("?")[0] in [b.split("?")[0] for b in blocking]:
            biggest_blocking = max(
                biggest_blocking, (len(body), url_.rsplit("/", 1)[-1].split("?")[0])
            )
        if url_.split("?")[0] in sheets:
            css += len(body)
    context.close()
    return {
        "requests": len(bodies),
        "raw": raw,
        "gzip": zipped,
        "blocking": biggest_blocking,
        "css": css,
    }


def lighthouse(url: str, save: Path | None = None) -> dict:
    env = dict(os.environ, CHROME_PATH=CHROMIUM)
    out = subprocess.run(
        [
            str(LIGHTHOUSE),
            url,
            "--quiet",
            "--output=json",
            "--only-categories=performance,accessibility,best-practices",
            "--chrome-flags=--headless --no-sandbox --disable-gpu",
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    if out.returncode != 0:
        return {"error": out.stderr.strip().splitlines()[-1:] or ["failed"]}
    report = json.loads(out.stdout)
    if save is not None:
        save.parent.mkdir(parents=True, exist_ok=True)
        save.write_text(out.stdout, encoding="utf-8")
    scores = {
        k: round(100 * v["score"]) if v["score"] is not None else None
        for k, v in report["categories"].items()
    }
    audits = report["audits"]
    # What costs the score: the paint times, and the audits that failed.
    for key, name in (
        ("first-contentful-paint", "FCP"),
        ("largest-contentful-paint", "LCP"),
        ("total-blocking-time", "TBT"),
    ):
        scores[name] = audits[key]["displayValue"]
    # Render-blocking files as Lighthouse lists them: name and transferred KB.
    scores["blocking"] = [
        f"{item['url'].rsplit('/', 1)[-1].split('?')[0]} {item.get('totalBytes', 0) / 1024:.0f} KB"
        for item in audits.get("render-blocking-resources", {}).get("details", {}).get("items", [])
    ]
    scores["failed"] = sorted(
        k
        for k, a in audits.items()
        if a.get("score") is not None
        and a["score"] < 0.9
        and a.get("scoreDisplayMode") in ("binary", "numeric", "metricSavings")
    )
    return scores


def print_weights(base: str) -> None:
    from playwright.sync_api import sync_playwright

    print(
        f"{'page':34s} {'req':>4s} {'raw KB':>8s} {'gzip KB':>8s} {'CSS KB':>7s}"
        "  biggest blocking script (CSS: render-blocking stylesheets)"
    )
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--headless", "--no-sandbox"])
        for lang in editions():
            for name in pages(lang):
                w = weigh(browser, f"{base}/{lang}/{name}")
                size, script = w["blocking"]
                blocking = f"{script} {size / 1024:.0f} KB" if script else "-"
                print(
                    f"{lang + '/' + name:34s} {w['requests']:4d} {w['raw'] / 1024:8.0f} "
                    f"{w['gzip'] / 1024:8.0f} {w['css'] / 1024:7.0f}  {blocking}"
                )
        browser.close()


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--lighthouse", action="store_true")
    parser.add_argument(
        "--gzip", action="store_true", help="Lighthouse against a server that gzips text files"
    )
    parser.add_argument("--site", type=Path, default=SITE, help=f"the built site (default {SITE})")
    parser.add_argument("--no-weights", action="store_true", help="Lighthouse only")
    parser.add_argument(
        "--save", type=Path, help="write each Lighthouse report (JSON) under this folder"
    )
    args = parser.parse_args()
    globals()["SITE"] = args.site.resolve()
    if not (SITE / "index.html").exists():
        raise SystemExit(f"no built site at {SITE}: run tools/build_site.py first")
    httpd, base = serve()
    if not args.no_weights:
        print_weights(base)
    maps = sum(f.stat().st_size for f in SITE.rglob("*.map"))

    def size(folder: Path) -> int:
        return sum(f.stat().st_size for f in folder.rglob("*") if f.is_file())

    print(
        f"source maps shipped: {maps / 1024:.0f} KB; shared _static: {size(SITE / '_static') / 2**20:.1f} MB; "
        "_static of each edition: "
        + ", ".join(f"{lang} {size(SITE / lang / '_static') / 1024:.0f} KB" for lang in editions())
    )
    if args.lighthouse:
        if not LIGHTHOUSE.exists():
            raise SystemExit(f"{LIGHTHOUSE} missing: (cd .bench && npm i -E lighthouse@12.2.3)")
        if args.gzip:
            httpd.shutdown()
            httpd, base = serve(compress=True)
        print(
            "Lighthouse (mobile, simulated slow 4G): performance / accessibility / best practices"
            + (
                ", text gzipped by the server"
                if args.gzip
                else ", served as python -m http.server does"
            )
        )
        for lang in editions():
            for name in LIGHTHOUSE_PAGES:
                save = args.save / lang / (name.replace("/", "_") + ".json") if args.save else None
                scores = lighthouse(f"{base}/{lang}/{name}", save)
                print(f"  {lang}/{name:30s} {scores}")
    httpd.shutdown()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
