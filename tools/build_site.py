"""Build the course website: one Sphinx build per edition, plus a root page offering them all.

    python tools/build_site.py            # every edition into _build/html/{ja,zh,en}
    python tools/build_site.py --lang en  # one edition (repeat --lang for several)
    python tools/build_site.py --fresh    # ignore Sphinx's saved environment (-E)

Notebooks are executed through myst-nb's cache. The cache lives in a folder named after a hash
of course_pkg (sources and checkpoints), so a change to the package re-executes every chapter
instead of serving stale outputs.
"""
from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import subprocess
import sys
import time
from html import escape
from pathlib import Path

from editions import HTML_LANG, LANG_NAMES, LANGS

ROOT = Path(__file__).resolve().parents[1]
BUILD = ROOT / "_build"
SPHINX_LANGUAGE = {"ja": "ja", "zh": "zh_CN", "en": "en"}  # Sphinx's name of each edition's language
TITLES = {"ja": "ViT をノートから学ぶ", "zh": "从笔记学 ViT", "en": "ViT from the notes"}

CONF_OVERRIDES = '''
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
'''


def package_hash() -> str:
    """Hash of course_pkg's sources, shipped checkpoints and the live widgets' script (inlined
    into the outputs): the execution cache's key."""
    digest = hashlib.sha256()
    pkg = ROOT / "course_pkg"
    for path in sorted(pkg.rglob("*")):
        if path.is_file() and path.suffix in (".py", ".pt", ".json", ".js") and "__pycache__" not in path.parts:
            digest.update(str(path.relative_to(pkg)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def write_conf() -> None:
    subprocess.run([str(Path(sys.executable).with_name("jupyter-book")), "config", "sphinx", str(ROOT)],
                   check=True, capture_output=True, cwd=ROOT)
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


def build_language(lang: str, cache_dir: Path, fresh: bool, threads: int) -> subprocess.Popen:
    env = dict(os.environ, COURSE_LANG=lang, OMP_NUM_THREADS=str(threads), COURSE_LIVE_WIDGETS="1",
               MPLBACKEND="module://matplotlib_inline.backend_inline", PYTHONHASHSEED="0")
    # -a: write every page and copy the static files again, from an emptied _static, so that
    # a change to a stylesheet, a template or the vendored files reaches every page (Sphinx
    # skips both when no source changed) and nothing stale is published.
    shutil.rmtree(BUILD / lang / "html" / "_static", ignore_errors=True)
    cmd = [sys.executable, "-m", "sphinx", "-b", "html", "-a", "-c", str(ROOT), "-q",
           "-D", f"language={SPHINX_LANGUAGE[lang]}", "-D", f"html_title={TITLES[lang]}",
           "-D", f"nb_execution_cache_path={cache_dir / lang}",
           "-d", str(BUILD / lang / "doctrees"),
           str(ROOT / "book" / lang), str(BUILD / lang / "html")]
    if fresh:
        cmd.insert(3, "-E")
    log = open(BUILD / f"build-{lang}.log", "w", encoding="utf-8")
    return subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)


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
                    print(f"{lang}: {line[len(PROGRESS):]}", flush=True)
        if not running:
            return
        time.sleep(0.5)


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
        f'{escape(LANG_NAMES[lang])} — {escape(TITLES[lang])}</a>' for lang in langs)
    return ROOT_INDEX.format(links=links)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lang", choices=LANGS, action="append",
                        help="build only this edition (repeatable); default: every edition")
    parser.add_argument("--fresh", action="store_true", help="rebuild every page (sphinx -E)")
    parser.add_argument("--serial", action="store_true", help="build the editions one after another")
    args = parser.parse_args(argv)
    langs = args.lang or list(LANGS)
    absent = [lang for lang in langs if not (ROOT / "book" / lang / "_toc.yml").is_file()]
    if absent:
        parser.error(f"no edition to build for {', '.join(absent)}: book/<lang>/_toc.yml is missing "
                     f"({', '.join(str(ROOT / 'book' / lang) for lang in absent)}); every edition of "
                     f"{LANGS} needs its book folder, or pass --lang to build only some")

    start = time.perf_counter()
    subprocess.run([sys.executable, str(ROOT / "tools" / "vendor.py")], check=True)
    write_conf()
    (BUILD / "html").mkdir(parents=True, exist_ok=True)
    key = package_hash()
    cache_root = BUILD / ".jupyter_cache"
    cache_dir = cache_root / key
    if cache_root.exists():  # keep only the cache of the current package
        for old in cache_root.iterdir():
            if old.name != key:
                shutil.rmtree(old)
    for lang in langs:
        copy_exercises(lang)

    parallel = not args.serial and len(langs) > 1
    threads = 1 if parallel else max(1, os.cpu_count() or 1)
    failed = []
    if parallel:
        procs = {lang: build_language(lang, cache_dir, args.fresh, threads) for lang in langs}
        follow_progress(procs)
        failed = [lang for lang, p in procs.items() if p.wait() != 0]
    else:
        for lang in langs:
            procs = {lang: build_language(lang, cache_dir, args.fresh, threads)}
            follow_progress(procs)
            failed += [lang for lang, p in procs.items() if p.wait() != 0]
    for lang in langs:
        log = (BUILD / f"build-{lang}.log").read_text(encoding="utf-8")
        # ipykernel's notice that a local kernel talks over TCP without encryption, once per page;
        # the progress lines were shown while the build ran.
        log = "".join(line for line in log.splitlines(keepends=True)
                      if "running over TCP" not in line and not line.startswith(PROGRESS))
        if log.strip():
            print(f"--- sphinx output ({lang}) ---\n{log}")
    if failed:
        print(f"build failed for: {', '.join(failed)} (see _build/build-<lang>.log)", file=sys.stderr)
        return 1
    for lang in langs:  # each build has its own outdir (myst-nb writes next to it); publish a copy
        published = BUILD / "html" / lang
        if published.exists():
            shutil.rmtree(published)
        # Source maps (6.9 MB of the themes' *.map) help only their developers: not published.
        shutil.copytree(BUILD / lang / "html", published, ignore=shutil.ignore_patterns("*.map"))
    (BUILD / "html" / "index.html").write_text(root_index(), encoding="utf-8")
    print(f"site built in {time.perf_counter() - start:.1f} s: {BUILD / 'html' / 'index.html'} "
          f"(package hash {key})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
