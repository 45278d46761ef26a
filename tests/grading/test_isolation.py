"""Isolation between students and from the host, and the run-time guard of the reference.

Jobs run through the session's sandbox (two fork servers, like a class run); the two
jobs of a pair run at the same time, each on its own server.
"""

from __future__ import annotations

import os
import threading

import pytest

from course_pkg.grading.grade import grade_notebook

from .nbfactory import CORRECT_01, write

MARK = "course-grade-test-f00d"


def _grade(sandbox, path, assignment="01_attention", **kw):
    return grade_notebook(path, sandbox, assignment, seed=3, **kw)


def _together(sandbox, paths) -> list[dict]:
    """Grade the notebooks at the same time (one thread per notebook)."""
    out = [None] * len(paths)

    def one(i):
        out[i] = _grade(sandbox, paths[i])

    threads = [threading.Thread(target=one, args=(i,)) for i in range(len(paths))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return out


def _total(rec):
    return sum(t["points"] for t in rec["tests"])


def _cell_errors(rec):
    return [c["error"]["message"] for c in rec["cells"] if c["status"] == "error"]


def _strong(sandbox):
    if sandbox.mode != "strong":
        pytest.skip("needs the strong sandbox (root and namespaces)")


def _cgroups(sandbox):
    _strong(sandbox)
    if not sandbox.cgroups:
        pytest.skip("no usable cgroup on this host")


SHM_WRITER = """
import ctypes, time
libc = ctypes.CDLL(None, use_errno=True)
for key in (0x5eed, 0x5eee):
    assert libc.shmget(key, 4096, 0o1666) >= 0
assert libc.semget(0x5eed, 1, 0o1666) >= 0
assert libc.msgget(0x5eed, 0o1666) >= 0
time.sleep(2.5)
"""
SHM_READER = """
import ctypes, time
time.sleep(1.0)
libc = ctypes.CDLL(None, use_errno=True)
seen = [libc.shmget(0x5eed, 0, 0), libc.semget(0x5eed, 0, 0), libc.msgget(0x5eed, 0)]
raise RuntimeError('SEEN' if max(seen) >= 0 else 'ALONE')
"""


def test_sysv_ipc_is_private_to_a_job_and_gone_after_it(sandbox, tmp_path):
    _strong(sandbox)
    writer = write(tmp_path / "w.ipynb", [SHM_WRITER, CORRECT_01])
    reader = write(tmp_path / "r.ipynb", [SHM_READER, CORRECT_01])
    w, r = _together(sandbox, [writer, reader])
    assert not _cell_errors(w), w["cells"]
    assert _cell_errors(r) == ["ALONE"]
    for table in ("shm", "sem", "msg"):
        with open(f"/proc/sysvipc/{table}") as fh:
            keys = [line.split()[0] for line in fh.readlines()[1:]]
        assert str(0x5EED) not in keys and str(0x5EEE) not in keys


KEYRING = f"""
import ctypes
libc = ctypes.CDLL(None, use_errno=True)
KEY_SPEC_USER_KEYRING = -4
got = libc.syscall(248, b"user", b"{MARK}", b"secret", 6, KEY_SPEC_USER_KEYRING)  # add_key
err = ctypes.get_errno()
raise RuntimeError(f"add_key={{got}} errno={{err}}")
"""


def test_kernel_keyring_is_closed(sandbox, tmp_path):
    _strong(sandbox)
    rec = _grade(sandbox, write(tmp_path / "k.ipynb", [KEYRING, CORRECT_01]))
    assert _cell_errors(rec) == ["add_key=-1 errno=1"]  # EPERM
    with open("/proc/keys") as fh:
        assert MARK not in fh.read()


DAEMON = """
import os, time
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        os.execvp("sleep", ["sleep", "4321.5"])
    os._exit(0)
time.sleep(0.3)
"""


def _host_cmdlines():
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as fh:
                found.append(fh.read())
        except OSError:
            pass
    return found


def test_no_process_outlives_its_job(sandbox, tmp_path):
    _strong(sandbox)
    rec = _grade(sandbox, write(tmp_path / "d.ipynb", [DAEMON, CORRECT_01]))
    assert _total(rec) == 10
    assert not [c for c in _host_cmdlines() if b"4321.5" in c]


PROC_VIEW = """
import os
pids = sorted(int(p) for p in os.listdir('/proc') if p.isdigit())
cmdlines = [open(f'/proc/{p}/cmdline', 'rb').read() for p in pids]
raise RuntimeError(f"{len(pids)} {max(pids)} {any(b'pytest' in c for c in cmdlines)}")
"""


def test_job_sees_no_host_process(sandbox, tmp_path):
    _strong(sandbox)
    rec = _grade(sandbox, write(tmp_path / "p.ipynb", [PROC_VIEW, CORRECT_01]))
    count, highest, pytest_seen = _cell_errors(rec)[0].split()
    assert int(count) <= 3 and int(highest) <= 3 and pytest_seen == "False"


def test_environment_is_clean(sandbox, tmp_path, monkeypatch):
    _strong(sandbox)
    rec = _grade(
        sandbox,
        write(
            tmp_path / "e.ipynb",
            ["import os\nraise RuntimeError(' '.join(sorted(os.environ)))\n", CORRECT_01],
        ),
    )
    assert _cell_errors(rec) == ["HOME LANG MKL_NUM_THREADS MPLBACKEND OMP_NUM_THREADS PATH"]


FORKED_HOG = """
import os, time
kids = []
for _ in range(5):
    pid = os.fork()
    if pid == 0:
        try:
            block = bytearray(700 * 2**20)
            for i in range(0, len(block), 4096):
                block[i] = 1
            time.sleep(2)
        finally:
            os._exit(0)
    kids.append(pid)
for pid in kids:
    os.waitpid(pid, 0)
"""


def test_memory_limit_holds_for_a_job_and_its_children(sandbox, tmp_path):
    _cgroups(sandbox)
    rec = _grade(sandbox, write(tmp_path / "m.ipynb", [FORKED_HOG, CORRECT_01]))
    report = rec["run"]["report"]
    limit_mb = sandbox.limits.mem_mb + sandbox.limits.tmp_mb + 1024  # + the server's baseline
    assert report["peak_mb"] <= limit_mb, (report, rec["cells"])
    assert report["peak_mb"] < 5 * 700, "five children of 700 MB cannot all be held"


FORK_BOMB = (
    "import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass\n"
)


def test_fork_bomb_is_contained_by_the_job_limit(sandbox, tmp_path):
    _strong(sandbox)
    bomb = write(tmp_path / "bomb.ipynb", [CORRECT_01, FORK_BOMB])
    honest = write(tmp_path / "honest.ipynb", [CORRECT_01])
    b, h = _together(sandbox, [bomb, honest])
    assert _total(h) == 10
    assert b["run"]["report"].get("leftover_processes", 0) == 0


HONEST_SLOW = """
import time
def burn(seconds):
    end = time.process_time() + seconds
    while time.process_time() < end:
        pass
burn(1.0)
""" + CORRECT_01.replace("    scores =", "    burn(0.05)\n    scores =", 1)
CPU_HOG = """
import os, signal
for _ in range(6):
    if os.fork() == 0:
        signal.signal(signal.SIGALRM, signal.SIG_IGN)
        while True:
            pass
while True:
    pass
"""


def test_classmates_cpu_hog_does_not_cost_an_honest_student_points(sandbox, tmp_path):
    _strong(sandbox)
    honest = write(tmp_path / "honest.ipynb", [HONEST_SLOW])
    hog = write(tmp_path / "hog.ipynb", [CPU_HOG, CORRECT_01])
    h, g = _together(sandbox, [honest, hog])
    assert _total(h) == 10, (h["cells"], [t["reason"] for t in h["tests"]])
    assert h["cells"] == [], h["cells"]
    hog = g["run"]["report"]
    assert [c["status"] for c in g["cells"]] == ["timeout"] or hog["timed_out"], hog


BORROWERS = {
    "computed_import": "import importlib\nREF = importlib.import_module('course_pkg.' + "
    "'atten' + 'tion')\nREF = getattr(REF, 'scaled_dot_' + 'product_attention')\n",
    "dunder_import": "REF = getattr(__import__('course_pkg.' + 'attention', fromlist=['x']), "
    "'scaled_dot_product' + '_attention')\n",
    "via_vit": "import importlib\nREF = importlib.import_module('course_pkg.v' + 'it')"
    "\nREF = getattr(REF, 'scaled_dot_' + 'product_attention')\n",
    "modules_walk": "import sys, course_pkg\nREF = [getattr(m, n) for k, m in list(sys.modules"
    ".items()) if k.startswith('course_pkg') for n in dir(m) if n.endswith("
    "'product_attention')][0]\n",
    "source_exec": "import course_pkg, os\nns = {}\nsrc = open(os.path.join(os.path.dirname("
    "course_pkg.__file__), 'atten' + 'tion.py')).read()\nexec(src, ns)\n"
    "REF = ns['scaled_dot_product' + '_attention']\n",
    "bytecode": "import course_pkg, glob, os, importlib.machinery as m\nd = os.path.dirname("
    "course_pkg.__file__)\np = (glob.glob(d + '/__pycache__/atten' + 'tion.*.pyc')"
    " or [d + '/nope.pyc'])[0]\nREF = m.SourcelessFileLoader('x', p).load_module()"
    "\nREF = getattr(REF, 'scaled_dot_' + 'product_attention')\n",
    "torch_walk": "import torch.nn.functional as F\nREF = getattr(F, 'scaled_dot_product' + "
    "'_attention')\n",
}
DELEGATE = "def scaled_dot_product_attention(q, k, v, mask=None):\n    return REF(q, k, v, mask)\n"


@pytest.mark.parametrize("how", sorted(BORROWERS))
def test_reference_cannot_be_borrowed_at_run_time(sandbox, tmp_path, how):
    _strong(sandbox)
    rec = _grade(sandbox, write(tmp_path / f"{how}.ipynb", [BORROWERS[how], DELEGATE]))
    assert rec["forbidden"] == [], "the static scan must not be what stops these"
    assert _total(rec) <= 2.0, (how, [t["reason"] for t in rec["tests"]])


def test_hidden_third_party_package_is_empty(sandbox, tmp_path):
    _strong(sandbox)
    cell = (
        "import importlib\nm = importlib.import_module('ti' + 'mm')\n"
        "raise RuntimeError(str(sorted(n for n in dir(m) if not n.startswith('_'))))\n"
    )
    rec = _grade(
        sandbox,
        write(tmp_path / "t.ipynb", [cell], assignment="02_multihead"),
        assignment="02_multihead",
    )
    errors = _cell_errors(rec)
    assert errors == ["[]"] or "ImportError" in str(rec["cells"]), rec["cells"]


def test_public_package_modules_stay_usable(sandbox, tmp_path):
    _strong(sandbox)
    cell = "from course_pkg import get_device\nimport course_pkg.models.patches\nget_device()\n"
    rec = _grade(sandbox, write(tmp_path / "ok.ipynb", [cell, CORRECT_01]))
    assert _total(rec) == 10 and rec["cells"] == []
