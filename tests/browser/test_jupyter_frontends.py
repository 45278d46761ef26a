"""The exercises' widgets as a student uses them: in JupyterLab and in Notebook 7.

A Jupyter server (the one `jupyter lab` starts; Notebook 7 is a server extension of it) runs on
127.0.0.1 with a throwaway config. Each completed exercise (the solution notebook stands for a
student's finished work) is opened in a real front end in headless Chromium, run with
"Run All", and must show its widget with a figure. Then a slider is moved, and the figure must
be redrawn by the kernel: the widget is live, not a static image.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

from course_pkg.teaching.language import LANGS

from .conftest import ROOT

pytest.importorskip(
    "jupyterlab", reason="JupyterLab is installed by tools/install.sh (extra 'book')"
)
pytest.importorskip("notebook", reason="Notebook 7 is installed by tools/install.sh (extra 'book')")

EXERCISES = sorted(p.stem for p in (ROOT / "solutions" / "ja").glob("*.ipynb"))
# JupyterLab with the Japanese notebooks, Notebook 7 with the Chinese ones.
# "?reset": JupyterLab would otherwise restore the tabs of the previous test's workspace.
FRONTENDS = {"lab": "lab/tree/{}.ipynb?reset", "notebook7": "notebooks/{}.ipynb"}
CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff]")


def _lang(frontend: str, exercise: str) -> str:
    """The edition a frontend opens an exercise in: the editions take turns over the exercises,
    each frontend starting at another one, so that both frontends show every edition."""
    turn = EXERCISES.index(exercise) + sorted(FRONTENDS).index(frontend)
    return LANGS[turn % len(LANGS)]


# Errors Notebook 7's own front end raises with any notebook, an empty one too ("Run All" from
# the command registry; the notebook page has no file browser). They are not the widgets'.
FRONTEND_NOISE = ("Command 'filebrowser:open-path' not registered", "reading 'schema'")
IMAGES = "Array.from(document.querySelectorAll('.jp-OutputArea-output img'))"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def jupyter(tmp_path_factory):
    """A Jupyter server over a folder holding copies of the solution notebooks."""
    home = tmp_path_factory.mktemp("jupyter")
    work = home / "work"
    for lang in LANGS:
        (work / lang).mkdir(parents=True)
        for name in EXERCISES:
            shutil.copy(ROOT / "solutions" / lang / f"{name}.ipynb", work / lang / f"{name}.ipynb")
    env = dict(
        os.environ,
        JUPYTER_CONFIG_DIR=str(home / "config"),
        JUPYTER_DATA_DIR=str(home / "data"),
        JUPYTER_RUNTIME_DIR=str(home / "runtime"),
        OMP_NUM_THREADS="1",
    )
    port = _free_port()
    cmd = [
        sys.executable,
        "-m",
        "jupyterlab",
        "--no-browser",
        "--allow-root",
        f"--port={port}",
        "--ServerApp.ip=127.0.0.1",
        "--IdentityProvider.token=",
        "--ServerApp.password=",
        f"--ServerApp.root_dir={work}",
        "--ServerApp.disable_check_xsrf=True",
        "--LabApp.expose_app_in_browser=True",
        "--JupyterNotebookApp.expose_app_in_browser=True",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
    ]
    log = open(home / "server.log", "wb")
    proc = subprocess.Popen(cmd, cwd=work, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            urllib.request.urlopen(f"{url}/api/status", timeout=2)
            break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                pytest.fail(
                    "the Jupyter server did not start:\n" + (home / "server.log").read_text()
                )
            time.sleep(0.5)
    yield url
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()


def _image_sources(page) -> list[str]:
    return page.evaluate(
        f"() => {IMAGES}.filter(i => i.complete && i.naturalWidth > 0).map(i => i.src)"
    )


def _move_first_slider(page) -> None:
    """Drag the first slider of the widget a quarter of its track to the right (or left)."""
    track = page.locator(".jp-OutputArea-output .widget-slider .noUi-target").first
    handle = page.locator(".jp-OutputArea-output .widget-slider .noUi-handle").first
    handle.scroll_into_view_if_needed()
    t, h = track.bounding_box(), handle.bounding_box()
    x0, y = h["x"] + h["width"] / 2, h["y"] + h["height"] / 2
    step = t["width"] / 4 if x0 < t["x"] + t["width"] / 2 else -t["width"] / 4
    page.mouse.move(x0, y)
    page.mouse.down()
    page.mouse.move(x0 + step, y, steps=5)
    page.mouse.up()


@pytest.mark.parametrize(
    "exercise,frontend",
    [pytest.param(e, f, id=f"{e}-{f}-{_lang(f, e)}") for e in EXERCISES for f in sorted(FRONTENDS)],
)
def test_widget_is_live_in_the_frontend(browser, jupyter, shots, frontend, exercise):
    lang, path = _lang(frontend, exercise), FRONTENDS[frontend]
    context = browser.new_context(viewport={"width": 1280, "height": 1000})
    page = context.new_page()
    external, errors = [], []
    page.on(
        "request",
        lambda r: (
            r.url.startswith(("http", "ws"))
            and "://127.0.0.1" not in r.url
            and external.append(r.url)
        ),
    )
    page.on(
        "pageerror", lambda e: any(n in str(e) for n in FRONTEND_NOISE) or errors.append(str(e))
    )
    try:
        page.goto(f"{jupyter}/{path.format(f'{lang}/{exercise}')}")
        page.wait_for_function("() => window.jupyterapp !== undefined", timeout=60000)
        page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=60000)
        # "Run All" before the kernel is ready runs only the first cell: wait for an idle kernel.
        page.wait_for_function(
            "() => { const s = window.jupyterapp.shell.currentWidget?.sessionContext;"
            " return s && s.isReady && s.session?.kernel?.status === 'idle'; }",
            timeout=60000,
        )
        page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")
        # The widget renders, with its figure, and no cell ends in an error.
        # (JupyterLab 4 may skip rendering cells outside the viewport: wait for attachment.)
        page.wait_for_selector(
            ".jp-OutputArea-output .widget-slider", state="attached", timeout=120000
        )
        page.wait_for_function(
            f"() => {IMAGES}.some(i => i.complete && i.naturalWidth > 0)", timeout=60000
        )
        prompts = "Array.from(document.querySelectorAll('.jp-CodeCell .jp-InputArea-prompt'))"
        page.wait_for_function(
            f"() => {prompts}.every(p => !p.textContent.includes('*'))", timeout=120000
        )
        unrun = page.evaluate(
            f"() => {prompts}.map(p => p.textContent.trim()).filter(t => !/\\[\\d+\\]/.test(t))"
        )
        assert not unrun, f"Run All stopped early (a cell raised an error): prompts {unrun}"
        before = _image_sources(page)
        labels = page.eval_on_selector_all(
            ".jp-OutputArea-output .widget-label, .jp-OutputArea-output button",
            "els => els.map(e => e.textContent.trim()).filter(t => t)",
        )
        assert labels, "the widget shows no labels"
        if lang == "en":  # the notebook's metadata says English: so do the widget's labels
            assert not [t for t in labels if CJK.search(t)], labels
        widget = page.locator(".jp-OutputArea-output:has(.widget-slider)").first
        widget.scroll_into_view_if_needed()
        widget.screenshot(path=str(shots / f"{frontend}_{lang}_{exercise}.png"))
        # Moving a slider makes the kernel redraw the figure.
        _move_first_slider(page)
        page.wait_for_function(
            f"before => {IMAGES}.map(i => i.src).some(s => !before.includes(s))",
            arg=before,
            timeout=60000,
        )
        assert not external, f"requests leaving 127.0.0.1: {external}"
        assert not errors, f"page errors: {errors}"
    finally:
        context.close()
        _shut_down_kernels(jupyter)


def _shut_down_kernels(url: str) -> None:
    """Stop the kernels a test started, so that tests do not pile up running kernels."""
    with urllib.request.urlopen(f"{url}/api/sessions", timeout=10) as r:
        sessions = json.load(r)
    for session in sessions:
        req = urllib.request.Request(f"{url}/api/sessions/{session['id']}", method="DELETE")
        urllib.request.urlopen(req, timeout=30).close()
