"""Build the course website: one Sphinx build per edition, plus a root page offering them all.

    python tools/build_site.py            # every edition into _build/html/{ja,zh,en}
    python tools/build_site.py --lang en  # one edition (repeat --lang for several)
    python tools/build_site.py --fresh    # ignore Sphinx's saved environment (-E)
    python tools/build_site.py --no-pdf   # skip the PDF handouts (a quicker build while editing)

Every chapter and exercise page also becomes a PDF handout in its language, _pdf/<page>.pdf,
printed from the built page by headless Chromium (Debian's /usr/bin/chromium, through playwright)
with the site's print stylesheet; the page's download menu links it.

Notebooks are executed through myst-nb's cache (_build/.jupyter_cache/<lang>). Each page has its
own key (tools/cache_keys.py: the package modules and data files its code reaches, the installed
distributions, the build's settings); a page whose key changed is executed again, the others keep
their outputs, so fixing one module does not re-execute the whole book.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import time
from html import escape
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import cache_keys  # noqa: E402
import page_speed  # noqa: E402
import slim_static  # noqa: E402
from editions import HTML_LANG, LANG_NAMES, LANGS  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
BUILD = ROOT / "_build"
SPHINX_LANGUAGE = {
    "ja": "ja",
    "zh": "zh_CN",
    "en": "en",
}  # Sphinx's name of each edition's language
TITLES = {"ja": "ViT をノートから学ぶ", "zh": "从笔记学 ViT", "en": "ViT from the notes"}

CONF_OVERRIDES = """
# --- course overrides, appended by tools/build_site.py ---------------------------------
import os as _os, sys as _sys
_sys.path.insert(0, _os.path.join(_os.path.dirname(_os.path.abspath(__file__)), "tools"))
# sphinx-thebe and sphinx-comments put CDN URLs in every page; the site is offline.
extensions = [e for e in extensions if e not in ("sphinx_thebe", "sphinx_comments")]
extensions += ["sphinx_course", "katex_math"]
# Widgets: each explorer's output carries its live page version as text/html (course_pkg/live.py,
# added while COURSE_LIVE_WIDGETS=1); the page shows that instead of saved ipywidgets state, so no
# widget manager, require.js or widget state is loaded.
nb_ipywidgets_js = {}
extensions.append("sphinx_live_widgets")
nb_mime_priority_overrides = [("html", "application/vnd.jupyter.widget-view+json", None),
                              ("html", "application/vnd.jupyter.widget-state+json", None)]
html_theme_options["article_header_end"] = ["lang-switch.html", "article-header-buttons.html"]
# Exercise pages are executed as they stand: the stubs raise NotImplementedError (their cells
# carry the "raises-exception" tag), the self-check says so in the reader's language, and every
# widget falls back to the reference, so its initial view is a meaningful static image here.
"""


# Settings of the kernels that shape the outputs: part of every page's key.
KERNEL_ENV = {
    "COURSE_LIVE_WIDGETS": "1",
    "MPLBACKEND": "module://matplotlib_inline.backend_inline",
    "PYTHONHASHSEED": "0",
}
# One jupyter-cache per language, _build/.jupyter_cache/pages/<lang> (tests/book/test_prose_numbers.py
# looks for the executed chapters in _build/.jupyter_cache/*/*).
CACHE = BUILD / ".jupyter_cache" / "pages"
KEYS_FILE = "course-page-keys.json"  # docname -> key of the outputs in that language's cache


def page_keys(src: Path) -> dict[str, str]:
    """Cache key of every notebook page under ``src`` (book/<lang>), by docname."""
    package = cache_keys.Package(ROOT / "course_pkg")
    env = cache_keys.environment()
    salt = json.dumps(KERNEL_ENV, sort_keys=True)
    return {
        nb.relative_to(src).with_suffix("").as_posix(): cache_keys.page_key(nb, package, salt, env)
        for nb in sorted(src.rglob("*.ipynb"))
        if ".ipynb_checkpoints" not in nb.parts
    }


def invalidate_changed_pages(lang: str, cache_dir: Path) -> list[str]:
    """Forget the cached outputs of the pages whose key changed since the last build; return
    their docnames (Sphinx reads them again, tools/sphinx_course.py)."""
    from jupyter_cache import get_cache

    src = ROOT / "book" / lang
    keys = page_keys(src)
    # The installed distributions, recorded apart so that the build can say why every page runs.
    keys["(installed distributions)"] = cache_keys.hashlib.sha256(
        cache_keys.environment().encode()
    ).hexdigest()[:16]
    keys_file = cache_dir / KEYS_FILE
    old = json.loads(keys_file.read_text(encoding="utf-8")) if keys_file.is_file() else {}
    changed = sorted(doc for doc, key in keys.items() if old.get(doc) != key)
    if "(installed distributions)" in changed and old:
        print(f"{lang}: the installed distributions changed since the last build", flush=True)
    changed = [doc for doc in changed if not doc.startswith("(")]
    if changed and cache_dir.exists():
        cache = get_cache(cache_dir)
        for doc in changed:
            try:  # the record of this code (jupyter-cache matches a notebook by its code cells)
                cache.remove_cache(cache.match_cache_notebook(_read_nb(src / f"{doc}.ipynb")).pk)
            except KeyError:  # never executed with this code
                pass
    cache_dir.mkdir(parents=True, exist_ok=True)
    keys_file.write_text(json.dumps(keys, indent=1, sort_keys=True), encoding="utf-8")
    return changed


def _read_nb(path: Path):
    import nbformat  # noqa: PLC0415 - only the build needs it

    return nbformat.read(str(path), as_version=4)


def write_conf() -> None:
    subprocess.run(
        [str(Path(sys.executable).with_name("jupyter-book")), "config", "sphinx", str(ROOT)],
        check=True,
        capture_output=True,
        cwd=ROOT,
    )
    conf = ROOT / "conf.py"
    conf.write_text(conf.read_text(encoding="utf-8") + CONF_OVERRIDES, encoding="utf-8")


def copy_exercises(lang: str) -> None:
    """Exercise notebooks become pages under book/<lang>/exercises (a build copy, ignored by git)."""
    src, dst = ROOT / "exercises" / lang, ROOT / "book" / lang / "exercises"
    if dst.exists():
        shutil.rmtree(dst)
    if src.exists():
        dst.mkdir(parents=True)
        for nb in sorted(src.glob("*.ipynb")):
            shutil.copy2(nb, dst / nb.name)


def build_language(lang: str, stale: list[str], fresh: bool, threads: int) -> subprocess.Popen:
    # COURSE_STALE_PAGES: pages whose cached outputs were dropped; Sphinx reads them again
    # although their source did not change (tools/sphinx_course.py).
    env = dict(
        os.environ,
        COURSE_LANG=lang,
        OMP_NUM_THREADS=str(threads),
        **KERNEL_ENV,
        COURSE_STALE_PAGES="\n".join(stale),
    )
    # -a: write every page and copy the static files again, from an emptied _static, so that
    # a change to a stylesheet, a template or the vendored files reaches every page (Sphinx
    # skips both when no source changed) and nothing stale is published.
    for generated in ("_static", "_images"):  # no file of an earlier build is published
        shutil.rmtree(BUILD / lang / "html" / generated, ignore_errors=True)
    cmd = [
        sys.executable,
        "-m",
        "sphinx",
        "-b",
        "html",
        "-a",
        "-c",
        str(ROOT),
        "-q",
        "-D",
        f"language={SPHINX_LANGUAGE[lang]}",
        "-D",
        f"html_title={TITLES[lang]}",
        "-D",
        f"nb_execution_cache_path={CACHE / lang}",
        "-d",
        str(BUILD / lang / "doctrees"),
        str(ROOT / "book" / lang),
        str(BUILD / lang / "html"),
    ]
    if fresh:
        cmd.insert(3, "-E")
    log = open(BUILD / f"build-{lang}.log", "w", encoding="utf-8")
    return subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)


# What a build log shows when a notebook's kernel could not start because another process took
# one of its ports between jupyter_client choosing it and the kernel binding it: the editions
# are built in parallel, each starting a kernel per page, so on a busy machine this can happen.
# It says nothing about the pages; the edition is built again, and its cache keeps what ran.
KERNEL_START_FAILURES = ("Kernel died before replying to kernel_info", "Address already in use")
KERNEL_START_RETRIES = 2


def kernel_start_failed(lang: str) -> bool:
    """Whether the build log of `lang` ends in a kernel that could not start (see above)."""
    log = (BUILD / f"build-{lang}.log").read_text(encoding="utf-8", errors="replace")
    return any(marker in log for marker in KERNEL_START_FAILURES)


def retry_kernel_start_failures(failed: list[str], stale: dict, fresh: bool) -> list[str]:
    """Build again, one at a time, each failed edition whose only fault was a kernel start.

    Returns the editions that still failed: those that failed for another reason, and those
    whose kernel did not start in `KERNEL_START_RETRIES` more tries.
    """
    still = []
    threads = max(1, os.cpu_count() or 1)
    for lang in failed:
        ok = False
        for attempt in range(1, KERNEL_START_RETRIES + 1):
            if not kernel_start_failed(lang):
                break  # failed for another reason: the log says which
            print(
                f"{lang}: a notebook kernel could not start (its port was taken); "
                f"building {lang} again ({attempt}/{KERNEL_START_RETRIES})",
                flush=True,
            )
            proc = build_language(lang, stale[lang], fresh, threads)
            follow_progress({lang: proc})
            if proc.wait() == 0:
                ok = True
                break
        if not ok:
            still.append(lang)
    return still


CHROMIUM = os.environ.get("COURSE_CHROMIUM", "/usr/bin/chromium")
PDF_DIR = "_pdf"  # tools/sphinx_course.py links <edition>/_pdf/<page>.pdf from the download menu


def pdf_pages(html_dir: Path) -> list[str]:
    """The pages that get a handout: those made from a notebook (chapters and exercises)."""
    sources = html_dir / "_sources"
    return sorted(
        p.relative_to(sources).as_posix()[: -len(".ipynb")] for p in sources.rglob("*.ipynb")
    )


_LOCAL_REF = re.compile(r'(?:src|href)="([^"#?:]+)[^"]*"')
# What a page loads to draw itself; its links to other pages, notebooks and its own PDF are not.
_RENDERED = {".css", ".js", ".png", ".jpg", ".jpeg", ".gif", ".svg", ".webp", ".woff", ".woff2"}
PDF_KEYS = "course-pdf-keys.json"  # in _build/<lang>: page -> key of the handout printed from it


def pdf_key(html_dir: Path, name: str) -> str:
    """A key of everything a handout is printed from: the page, the local files it loads (styles,
    scripts, images) and the fonts; equal keys print equal PDFs, so an unchanged page keeps its
    handout. ``(page, html_dir) -> sha256 hex``."""
    page = html_dir / f"{name}.html"
    digest = hashlib.sha256(page.read_bytes())
    refs = {page.parent / ref for ref in _LOCAL_REF.findall(page.read_text(encoding="utf-8"))}
    fonts = set((html_dir / "_static").rglob("*.woff*"))
    for path in sorted(refs | fonts):
        if path.suffix in _RENDERED and path.is_file():
            digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def print_pdfs(lang: str, html_dir: Path) -> int:
    """Print every chapter and exercise page of one edition to ``_pdf/<page>.pdf``, except those
    whose page and files are unchanged since their handout was printed (:func:`pdf_key`); one
    progress line per handout. Returns the number printed."""
    pages = pdf_pages(html_dir)
    out = html_dir / PDF_DIR
    keys_file = BUILD / lang / PDF_KEYS
    try:
        printed = json.loads(keys_file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        printed = {}
    keys = {name: pdf_key(html_dir, name) for name in pages}
    todo = [n for n in pages if printed.get(n) != keys[n] or not (out / f"{n}.pdf").is_file()]
    for old in out.rglob("*.pdf") if out.is_dir() else []:  # handouts of pages that are gone
        if old.relative_to(out).as_posix()[: -len(".pdf")] not in keys:
            old.unlink()
    if len(todo) < len(pages):
        print(f"{lang}: {len(pages) - len(todo)} handout(s) unchanged", flush=True)
    if not todo:
        return 0
    if not Path(CHROMIUM).exists():
        raise SystemExit(
            f"no Chromium at {CHROMIUM} for the PDF handouts: run tools/install.sh "
            "(or --no-pdf, or COURSE_CHROMIUM=/path/to/chromium)"
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        page = browser.new_page()
        for name in todo:
            start = time.perf_counter()
            target = out / f"{name}.pdf"
            target.parent.mkdir(parents=True, exist_ok=True)
            printed.pop(name, None)  # a handout half written is never taken for a current one
            keys_file.write_text(json.dumps(printed, indent=1), encoding="utf-8")
            page.goto((html_dir / f"{name}.html").as_uri(), wait_until="load")
            page.evaluate("document.fonts.ready")
            page.pdf(
                path=str(target),
                format="A4",
                print_background=True,
                outline=True,
                tagged=True,
                margin={"top": "15mm", "bottom": "15mm", "left": "14mm", "right": "14mm"},
            )
            printed[name] = keys[name]
            print(
                f"{lang}: printed {name}.pdf in {time.perf_counter() - start:.1f} s "
                f"({target.stat().st_size / 1024:.0f} KB)",
                flush=True,
            )
        browser.close()
    keys_file.write_text(json.dumps(printed, indent=1), encoding="utf-8")
    return len(todo)


PROGRESS = "course: "  # lines of tools/sphinx_course.py: one per executed notebook, with its time


def follow_progress(procs: dict[str, subprocess.Popen]) -> None:
    """Print each build's progress lines as they come, until every build has ended."""
    offsets = dict.fromkeys(procs, 0)
    while True:
        running = [p for p in procs.values() if p.poll() is None]
        for lang in procs:
            with open(BUILD / f"build-{lang}.log", "rb") as log:
                log.seek(offsets[lang])
                data = log.read()
            complete = data[: data.rfind(b"\n") + 1]
            offsets[lang] += len(complete)
            for line in complete.decode("utf-8", errors="replace").splitlines():
                if line.startswith(PROGRESS):
                    print(f"{lang}: {line[len(PROGRESS) :]}", flush=True)
        if not running:
            return
        time.sleep(0.5)


# Static files that differ between editions (Sphinx's language settings, translations and word
# stemmer); every other file of _static is the same in each edition and published once, in
# _build/html/_static, which the pages of every edition use.
PER_EDITION_STATIC = {"documentation_options.js", "translations.js", "language_data.js"}
_STATIC_REF = re.compile(r'((?:src|href)=")((?:\.\./)*)_static/([^"?#]+)')


def publish(lang: str) -> None:
    """Copy one edition into _build/html/<lang>, its shared static files into _build/html/_static
    and its pages' links to them one folder up. Source maps (6.9 MB of the themes' *.map) help
    only their developers: not published."""
    built, published, shared = (
        BUILD / lang / "html",
        BUILD / "html" / lang,
        BUILD / "html" / "_static",
    )
    if published.exists():
        shutil.rmtree(published)
    shutil.copytree(built, published, ignore=shutil.ignore_patterns("*.map"))
    for path in sorted((published / "_static").rglob("*"), reverse=True):  # files before folders
        rel = path.relative_to(published / "_static").as_posix()
        if path.is_file() and rel not in PER_EDITION_STATIC:
            (shared / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.move(path, shared / rel)
        elif path.is_dir() and not any(path.iterdir()):
            path.rmdir()
    for page in published.rglob("*.html"):
        depth = len(page.relative_to(published).parts) - 1
        html = page.read_text(encoding="utf-8")

        def one_up(m, depth=depth):
            if m[3] in PER_EDITION_STATIC or len(m[2]) != 3 * depth:
                return m[0]
            return f"{m[1]}{m[2]}../_static/{m[3]}"

        page.write_text(_STATIC_REF.sub(one_up, html), encoding="utf-8")


ROOT_INDEX = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>ViT from the notes</title>
<link rel="icon" href="data:,">
<style>
body {{ font-family: "Noto Sans CJK JP", "Noto Sans CJK SC", sans-serif; max-width: 40rem;
       margin: 4rem auto; padding: 0 1rem; line-height: 1.6; }}
a.lang {{ display: block; font-size: 1.4rem; margin: 1rem 0; padding: 1rem; border: 1px solid #ccc;
         border-radius: .5rem; text-decoration: none; }}
a.lang[lang="zh-CN"] {{ font-family: "Noto Sans CJK SC", sans-serif; }}
</style></head>
<body>
<main>
<h1>ViT from the notes</h1>
{links}
</main>
</body></html>
"""


def root_index(langs=LANGS) -> str:
    """The root page: one link per edition to its first page, each in its own language."""
    links = "\n".join(
        f'<a class="lang" lang="{HTML_LANG[lang]}" hreflang="{HTML_LANG[lang]}" href="{lang}/00_start.html">'
        f"{escape(LANG_NAMES[lang])} — {escape(TITLES[lang])}</a>"
        for lang in langs
    )
    return ROOT_INDEX.format(links=links)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--lang",
        choices=LANGS,
        action="append",
        help="build only this edition (repeatable); default: every edition",
    )
    parser.add_argument("--fresh", action="store_true", help="rebuild every page (sphinx -E)")
    parser.add_argument(
        "--serial", action="store_true", help="build the editions one after another"
    )
    parser.add_argument("--no-pdf", action="store_true", help="no PDF handouts")
    args = parser.parse_args(argv)
    langs = args.lang or list(LANGS)
    absent = [lang for lang in langs if not (ROOT / "book" / lang / "_toc.yml").is_file()]
    if absent:
        parser.error(
            f"no edition to build for {', '.join(absent)}: book/<lang>/_toc.yml is missing "
            f"({', '.join(str(ROOT / 'book' / lang) for lang in absent)}); every edition of "
            f"{LANGS} needs its book folder, or pass --lang to build only some"
        )

    start = time.perf_counter()
    subprocess.run([sys.executable, str(ROOT / "tools" / "vendor.py")], check=True)
    write_conf()
    (BUILD / "html").mkdir(parents=True, exist_ok=True)
    for lang in langs:
        copy_exercises(lang)
    for old in CACHE.parent.glob("*"):  # caches of the earlier layout, one per package hash
        if old != CACHE:
            shutil.rmtree(old)
    stale = {}
    for lang in langs:
        stale[lang] = invalidate_changed_pages(lang, CACHE / lang)
        print(
            f"{lang}: {len(stale[lang])} page(s) to execute again (cache key changed)"
            + (f": {', '.join(stale[lang])}" if stale[lang] else ""),
            flush=True,
        )

    parallel = not args.serial and len(langs) > 1
    threads = 1 if parallel else max(1, os.cpu_count() or 1)
    failed = []
    if parallel:
        procs = {lang: build_language(lang, stale[lang], args.fresh, threads) for lang in langs}
        follow_progress(procs)
        failed = [lang for lang, p in procs.items() if p.wait() != 0]
    else:
        for lang in langs:
            procs = {lang: build_language(lang, stale[lang], args.fresh, threads)}
            follow_progress(procs)
            failed += [lang for lang, p in procs.items() if p.wait() != 0]
    failed = retry_kernel_start_failures(failed, stale, args.fresh)
    for lang in langs:
        log = (BUILD / f"build-{lang}.log").read_text(encoding="utf-8")
        # ipykernel's notice that a local kernel talks over TCP without encryption, once per page;
        # the progress lines were shown while the build ran.
        log = "".join(
            line
            for line in log.splitlines(keepends=True)
            if "running over TCP" not in line and not line.startswith(PROGRESS)
        )
        if log.strip():
            print(f"--- sphinx output ({lang}) ---\n{log}")
    if failed:
        print(
            f"build failed for: {', '.join(failed)} (see _build/build-<lang>.log)", file=sys.stderr
        )
        return 1
    for lang in langs:
        slimmed = slim_static.slim(BUILD / lang / "html")
        print(
            f"{lang}: icon fonts and stylesheets {slimmed['before'] / 1024:.0f} KB -> "
            f"{slimmed['after'] / 1024:.0f} KB ({slimmed['icons']} icons kept)",
            flush=True,
        )
        lighter = page_speed.apply(BUILD / lang / "html")
        print(
            f"{lang}: {lighter['spans']} code-token spans written as text on {lighter['pages']} "
            f"page(s); {lighter['fonts']} page(s) ask for their math fonts first; the theme's "
            "tab stops wait for the sections to be drawn",
            flush=True,
        )
    if not args.no_pdf:
        for lang in langs:
            print_pdfs(lang, BUILD / lang / "html")
    for lang in langs:  # each build has its own outdir (myst-nb writes next to it); publish a copy
        publish(lang)
    # The shared stylesheets keep the rules that a page of any published edition can use.
    pruned = slim_static.prune(BUILD / "html")
    print(
        f"stylesheets pruned to the rules the pages can use: {pruned['before'] / 1024:.0f} KB -> "
        f"{pruned['after'] / 1024:.0f} KB",
        flush=True,
    )
    (BUILD / "html" / "index.html").write_text(root_index(), encoding="utf-8")
    print(f"site built in {time.perf_counter() - start:.1f} s: {BUILD / 'html' / 'index.html'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
