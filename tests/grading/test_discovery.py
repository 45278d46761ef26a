"""Finding submissions: any bytes in a name, any file type, any depth; nothing is lost.

No sandbox here: these are the folder walk and the safe reads alone.
"""

from __future__ import annotations

import os
import re
import socket
import stat
import unicodedata

import pytest

from course_pkg.grading.notebook import NotebookError, peek_assignment, read_submission
from course_pkg.grading.submissions import (
    MAX_DEPTH,
    MAX_ENTRIES,
    display_name,
    find_submissions,
    safe_id,
)

from .nbfactory import CORRECT_01, write

SAFE = re.compile(r"^[\w.@+-]{1,64}$")
NFD_NAME = unicodedata.normalize("NFD", "がくせいポプラ")


def _by_name(subs):
    return {s.name: s for s in subs}


def _raw(root, name: bytes) -> bytes:
    return os.fsencode(root) + b"/" + name


@pytest.fixture
def odd_names(tmp_path):
    """Legal but odd names, as zips from Windows, macOS and phones contain them."""
    names = {
        "Taro Yamada": b"Taro Yamada.ipynb",
        "alice (1)": b"alice (1).ipynb",
        "がくせいポプラ": (NFD_NAME + ".ipynb").encode(),
        "山田太郎": "山田太郎".encode("cp932") + b".ipynb",
        "王小明": "王小明".encode("gbk") + b".ipynb",
        "-rf": b"-rf.ipynb",
        "new\nline": b"new\nline.ipynb",
        "=cmd|' /C calc'!A0": b"=cmd|' -C calc'!A0.ipynb",
        "long": ("長" * 80).encode() + b".ipynb",
        "bad utf8": b"bad\xff\xfeutf8.ipynb",
        "<b>tag</b>": b"&lt;b&gt;.ipynb",
    }
    for raw in names.values():
        with open(_raw(tmp_path, raw), "wb") as fh:
            fh.write(b"{}")
    return tmp_path, names


def test_every_odd_name_is_found_with_a_safe_unique_id(odd_names):
    root, names = odd_names
    subs, warnings = find_submissions(root)
    assert len(subs) == len(names)
    ids = [s.id for s in subs]
    assert len(set(ids)) == len(ids)
    assert all(SAFE.match(i) and not i.startswith(("-", ".", "=", "+", "@")) for i in ids), ids
    for s in subs:
        assert s.path is not None and s.problem is None
        assert os.path.basename(s.path) in names.values()


def test_original_names_are_kept_for_people(odd_names):
    root, _ = odd_names
    by_name = _by_name(find_submissions(root)[0])
    assert "Taro Yamada" in by_name and "alice (1)" in by_name
    assert "山田太郎" in by_name, "Shift-JIS decoded for display"
    assert "王小明" in by_name, "GBK decoded for display"
    assert "がくせいポプラ" in by_name, "NFD composed"
    assert by_name["がくせいポプラ"].id == "がくせいポプラ", "an NFC-equal name needs no hash"
    assert "new\nline" in by_name
    bad = [s for s in by_name.values() if s.name.startswith("bad")]
    assert bad and "\\xff" in bad[0].name and bad[0].to_json()["name_bytes"]


def test_renamed_ids_are_reported(odd_names):
    root, _ = odd_names
    subs, warnings = find_submissions(root)
    renamed = [s for s in subs if s.id != s.name]
    assert len(warnings) == len(renamed) >= 8
    assert any("Taro Yamada" in w for w in warnings)


def test_ids_are_stable_between_runs(odd_names):
    root, _ = odd_names
    assert [s.id for s in find_submissions(root)[0]] == [s.id for s in find_submissions(root)[0]]


def test_file_and_folder_of_one_name_both_get_records(tmp_path):
    write(tmp_path / "alice.ipynb", [CORRECT_01])
    write(tmp_path / "alice" / "hw.ipynb", [CORRECT_01])
    write(tmp_path / "Alice.ipynb", [CORRECT_01])
    subs, _ = find_submissions(tmp_path)
    assert len(subs) == 3 and len({s.id for s in subs}) == 3
    assert sorted(s.name for s in subs) == ["Alice", "alice", "alice"]


def test_nfc_and_nfd_of_one_name_are_two_students(tmp_path):
    for form in ("NFC", "NFD"):
        write(tmp_path / (unicodedata.normalize(form, "ガイド") + ".ipynb"), [CORRECT_01])
    subs, _ = find_submissions(tmp_path)
    assert len(subs) == 2 and len({s.id for s in subs}) == 2


@pytest.fixture
def odd_files(tmp_path):
    """Every kind of directory entry, named like a notebook."""
    sol = tmp_path / "solution.ipynb"
    write(sol, [CORRECT_01])
    os.mkfifo(tmp_path / "fifo.ipynb")
    os.symlink("/dev/zero", tmp_path / "zero.ipynb")
    os.symlink(sol, tmp_path / "borrowed.ipynb")
    os.symlink(tmp_path / "nowhere", tmp_path / "dangling.ipynb")
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(tmp_path / "sock.ipynb"))
    os.mknod(tmp_path / "dev.ipynb", 0o600 | stat.S_IFCHR, os.makedev(1, 3))
    (tmp_path / "dir.ipynb").mkdir()
    (tmp_path / "empty.ipynb").write_bytes(b"")
    with open(tmp_path / "sparse.ipynb", "wb") as fh:
        fh.truncate(8 * 2**30)
    (tmp_path / "linked_folder").symlink_to(tmp_path / "dir.ipynb")
    yield tmp_path
    sock.close()


EXPECTED_PROBLEMS = {
    "fifo": ("nb_not_regular", "FIFO"),
    "zero": ("nb_symlink", None),
    "borrowed": ("nb_symlink", None),
    "dangling": ("nb_symlink", None),
    "sock": ("nb_not_regular", "socket"),
    "dev": ("nb_not_regular", "character device"),
    "dir": ("nb_not_regular", "folder"),
    "linked_folder": ("nb_symlink", None),
}


def test_non_regular_entries_are_refused_by_name(odd_files):
    by_name = _by_name(find_submissions(odd_files)[0])
    for name, (key, kind) in EXPECTED_PROBLEMS.items():
        assert by_name[name].problem == key, name
        assert by_name[name].path is None
        if kind:
            assert by_name[name].fmt["kind"] == kind
    assert by_name["solution"].problem is None
    assert by_name["empty"].path and by_name["sparse"].path  # regular: the reader refuses


@pytest.mark.parametrize(
    "name, key",
    [
        ("fifo", "nb_not_regular"),
        ("zero", "nb_symlink"),
        ("borrowed", "nb_symlink"),
        ("sock", "nb_not_regular"),
        ("dev", "nb_not_regular"),
        ("dir", "nb_not_regular"),
        ("sparse", "nb_too_large"),
        ("empty", "nb_bad_json"),
    ],
)
def test_reader_refuses_without_reading(odd_files, name, key):
    from course_pkg.grading.notebook import parse_notebook

    with pytest.raises(NotebookError) as err:
        parse_notebook(read_submission(odd_files / f"{name}.ipynb"))
    assert err.value.key == key


def test_sparse_file_is_refused_before_a_byte_is_read(odd_files, monkeypatch):
    opened = []
    real_open = os.open
    monkeypatch.setattr(os, "open", lambda *a, **k: opened.append(a[0]) or real_open(*a, **k))
    with pytest.raises(NotebookError):
        read_submission(odd_files / "sparse.ipynb")
    assert not opened


DEPTH = 3000  # far past Python's recursion limit and PATH_MAX


@pytest.fixture
def deep_tree(tmp_path):
    fds = [os.open(tmp_path, os.O_RDONLY)]
    for _ in range(DEPTH):
        os.mkdir(b"d", dir_fd=fds[-1])
        fds.append(os.open(b"d", os.O_RDONLY, dir_fd=fds[-1]))
    yield tmp_path / "d"
    for parent in reversed(fds[:-1]):  # bottom-up: shutil.rmtree would recurse 3000 deep
        os.rmdir(b"d", dir_fd=parent)
    for fd in fds:
        os.close(fd)


def test_deep_tree_does_not_recurse(deep_tree, tmp_path):
    write(tmp_path / "shallow" / "a" / "b" / "hw.ipynb", [CORRECT_01])
    subs, _ = find_submissions(tmp_path)
    by_name = _by_name(subs)
    assert by_name["d"].problem == "nb_not_searched"  # not "nothing handed in"
    assert by_name["d"].fmt == {"depth": MAX_DEPTH, "entries": MAX_ENTRIES}
    assert any(f"deeper than {MAX_DEPTH}" in o for o in by_name["d"].others)
    assert by_name["shallow"].path.endswith(b"hw.ipynb")


def test_two_notebooks_resolved_by_metadata(tmp_path):
    write(tmp_path / "s1" / "Untitled.ipynb", ["x = 1"], assignment=None)
    write(tmp_path / "s1" / "submission.ipynb", [CORRECT_01])
    write(tmp_path / "s2" / "a.ipynb", [CORRECT_01])
    write(tmp_path / "s2" / "b.ipynb", [CORRECT_01])
    write(tmp_path / "s3" / "mine.ipynb", [CORRECT_01], assignment="02_multihead")
    write(tmp_path / "s3" / "hw1.ipynb", [CORRECT_01])
    by_name = _by_name(find_submissions(tmp_path, "01_attention", peek_assignment)[0])
    assert by_name["s1"].path.endswith(b"submission.ipynb")
    assert by_name["s1"].others == ["Untitled.ipynb"]
    assert by_name["s2"].problem == "nb_ambiguous"
    assert "a.ipynb" in by_name["s2"].fmt["files"] and "b.ipynb" in by_name["s2"].fmt["files"]
    assert by_name["s3"].path.endswith(b"hw1.ipynb")


def test_folder_without_metadata_choice_is_ambiguous(tmp_path):
    write(tmp_path / "s" / "Untitled.ipynb", ["x = 1"], assignment=None)
    write(tmp_path / "s" / "copy.ipynb", ["x = 1"], assignment=None)
    sub = find_submissions(tmp_path, "01_attention", peek_assignment)[0][0]
    assert sub.problem == "nb_ambiguous" and sub.path is None


def test_other_files_in_a_folder_are_named(tmp_path):
    write(tmp_path / "s" / "hw.ipynb", [CORRECT_01])
    (tmp_path / "s" / "notes.txt").write_text("x")
    os.symlink("/dev/zero", tmp_path / "s" / "evil.ipynb")
    os.mkfifo(tmp_path / "s" / "pipe.ipynb")
    subs, warnings = find_submissions(tmp_path, "01_attention", peek_assignment)
    assert subs[0].path.endswith(b"hw.ipynb")
    assert set(subs[0].others) == {"evil.ipynb", "pipe.ipynb", "notes.txt"}
    assert any("evil.ipynb" in w and "pipe.ipynb" in w for w in warnings)


def test_symlink_only_folder_is_refused(tmp_path):
    (tmp_path / "s").mkdir()
    os.symlink("/dev/zero", tmp_path / "s" / "hw.ipynb")
    sub = find_submissions(tmp_path)[0][0]
    assert sub.problem == "nb_symlink" and sub.path is None


def test_hidden_and_checkpoint_files_are_not_students(tmp_path):
    write(tmp_path / "s" / "hw.ipynb", [CORRECT_01])
    write(tmp_path / "s" / ".ipynb_checkpoints" / "hw-checkpoint.ipynb", [CORRECT_01])
    write(tmp_path / "__MACOSX" / "._hw.ipynb", [CORRECT_01])
    (tmp_path / ".DS_Store").write_bytes(b"\0")
    subs, _ = find_submissions(tmp_path)
    assert [s.name for s in subs] == ["s"] and subs[0].others == []


@pytest.mark.parametrize(
    "name",
    [
        "a b",
        "a/b",
        "..",
        ".",
        "-",
        "=1+1",
        "@x",
        "\u202eevil",
        "x" * 300,
        "",
        "con",
        "a\tb",
        "\x00",
    ],
)
def test_safe_id_of_any_name(name):
    sid = safe_id(name, name.encode("utf-8", "surrogatepass"))
    assert SAFE.match(sid) and not sid.startswith(("-", ".", "=", "+", "@")), sid
    assert "/" not in sid and sid not in (".", "..")


def test_display_name_of_any_bytes():
    for raw in (
        bytes(range(256)),
        b"\x81",
        b"\xe3\x81",
        "日本".encode("cp932"),
        "中文".encode("gbk"),
        "日本".encode(),
    ):
        text, _ = display_name(raw)
        text.encode("utf-8")  # always printable and storable
