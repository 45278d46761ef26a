"""tools/install.sh on a machine that has only Debian and Python (issue 15), without installing
anything: the script runs against stand-ins for apt-get, dpkg and Python on a PATH that holds no
node or npm, and the pins in constraints.txt are checked against Debian 12's Python."""

from __future__ import annotations

import importlib.metadata as md
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DEBIAN_12_PYTHON = "3.11.2"  # python3 in Debian bookworm


def _fake_machine(tmp_path: Path, *, have_venv_module: bool) -> tuple[Path, dict]:
    """A copy of tools/install.sh in an empty project, a PATH with the basic tools only, an
    apt-get that records its arguments and refuses to install (so the script stops there)."""
    project = tmp_path / "project"
    (project / "tools").mkdir(parents=True)
    shutil.copy(ROOT / "tools" / "install.sh", project / "tools" / "install.sh")
    for name in ("pyproject.toml", "constraints.txt"):
        shutil.copy(ROOT / name, project / name)
    bin_ = tmp_path / "bin"
    bin_.mkdir()
    for tool in ("bash", "dirname", "id", "cat", "cut", "sha256sum", "grep", "env", "sh"):
        real = shutil.which(tool)
        assert real, tool
        (bin_ / tool).symlink_to(real)
    log = tmp_path / "apt.log"
    (bin_ / "apt-get").write_text(f'#!/bin/sh\necho "$@" >> {log}\n[ "$1" = update ]\n')
    (bin_ / "dpkg").write_text("#!/bin/sh\nexit 1\n")  # nothing is installed
    (bin_ / "sudo").write_text('#!/bin/sh\nexec "$@"\n')
    ensurepip = "" if have_venv_module else 'case "$*" in *ensurepip*) exit 1;; esac\n'
    (bin_ / "python3").write_text(f'#!/bin/sh\n{ensurepip}exec {sys.executable} "$@"\n')
    for f in bin_.iterdir():
        if not f.is_symlink():
            f.chmod(0o755)
    env = {"PATH": str(bin_), "HOME": str(tmp_path), "LANG": "C.UTF-8"}
    return project, env | {"APT_LOG": str(log)}


@pytest.mark.parametrize("have_venv_module", [True, False])
def test_missing_node_npm_and_debian_packages_are_installed(tmp_path, have_venv_module):
    project, env = _fake_machine(tmp_path, have_venv_module=have_venv_module)
    run = subprocess.run(
        ["bash", str(project / "tools" / "install.sh"), "book"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode != 0  # the stand-in apt-get refused to install
    calls = Path(env["APT_LOG"]).read_text().splitlines()
    assert calls[0].split()[0] == "update", calls
    installed = calls[1].split()
    assert installed[0] == "install" and "--no-install-recommends" in installed
    wanted = {"fonts-noto-cjk", "chromium", "poppler-utils", "nodejs", "npm"}
    assert wanted <= set(installed), installed
    assert ("python3-venv" in installed) is (not have_venv_module), installed
    assert "apt-get install" in run.stdout and "nodejs npm" in run.stdout  # it says what it does


def test_present_node_and_npm_are_left_alone(tmp_path):
    project, env = _fake_machine(tmp_path, have_venv_module=True)
    bin_ = Path(env["PATH"])
    for tool in ("node", "npm"):  # e.g. NodeSource's nodejs, which has npm
        (bin_ / tool).write_text("#!/bin/sh\n")
        (bin_ / tool).chmod(0o755)
    subprocess.run(
        ["bash", str(project / "tools" / "install.sh"), "test"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    installed = Path(env["APT_LOG"]).read_text().splitlines()[1].split()
    assert "nodejs" not in installed and "npm" not in installed
    assert {"chromium", "poppler-utils", "libatomic1"} <= set(installed)


def test_the_book_mode_installs_what_prints_the_handouts(tmp_path):
    """The site build prints the PDF handouts through playwright, whose driver needs
    libatomic1: the book mode (the README's first command) installs it, not only the tests."""
    project, env = _fake_machine(tmp_path, have_venv_module=True)
    subprocess.run(
        ["bash", str(project / "tools" / "install.sh"), "book"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    installed = Path(env["APT_LOG"]).read_text().splitlines()[1].split()
    assert {"chromium", "poppler-utils", "libatomic1"} <= set(installed)


@pytest.mark.parametrize("mode", ["tests", "Book", "book test", "--help"])
def test_a_bad_mode_is_named(tmp_path, mode):
    args = ["bash", str(ROOT / "tools" / "install.sh"), mode]
    run = subprocess.run(args, capture_output=True, text=True, timeout=30)
    assert run.returncode == 2
    assert repr(mode)[1:-1] in run.stderr and "'book' or 'test'" in run.stderr


def test_an_old_python_is_refused(tmp_path):
    project, env = _fake_machine(tmp_path, have_venv_module=True)
    (Path(env["PATH"]) / "python3").write_text("#!/bin/sh\nexit 1\n")  # fails the >= 3.11 check
    run = subprocess.run(
        ["bash", str(project / "tools" / "install.sh"), "book"],
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert run.returncode == 2 and "Python 3.11" in run.stderr
    assert not Path(env["APT_LOG"]).exists()  # nothing was installed


def _pins() -> dict[str, str]:
    pins = {}
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        m = re.match(r"^([A-Za-z0-9_.-]+)==([^\s;#]+)", line)
        if m:
            pins[m.group(1).lower().replace("_", "-")] = m.group(2)
    return pins


def test_every_installed_pin_supports_debian_12_python():
    """soupsieve 4.x needs Python >= 3.11.5: pinned, it made pip fail on Debian 12's 3.11.2."""
    from packaging.specifiers import SpecifierSet

    pins, checked, bad = _pins(), 0, []
    for dist in md.distributions():
        name = dist.metadata["Name"].lower().replace("_", "-")
        if name not in pins:
            continue
        checked += 1
        requires = dist.metadata.get("Requires-Python")
        if requires and not SpecifierSet(requires).contains(DEBIAN_12_PYTHON):
            bad.append(f"{name}=={dist.version} requires Python {requires}")
    assert checked > 50, "the environment holds few of the pinned packages"
    assert not bad, f"pins Debian 12's Python {DEBIAN_12_PYTHON} cannot install: {bad}"
