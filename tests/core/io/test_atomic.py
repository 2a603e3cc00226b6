"""An atomic write either replaces the file whole or leaves the old one."""

import os
from pathlib import Path

import pytest

from napari_colorgan.core.io.atomic import write_atomic


def test_a_failed_write_leaves_the_previous_file_and_no_temporary(tmp_path):
    target = tmp_path / "sub" / "f.json"
    write_atomic(target, lambda tmp: open(tmp, "w").write("old"))

    def crash(tmp):
        open(tmp, "w").write("half")
        raise RuntimeError("power cut")

    with pytest.raises(RuntimeError):
        write_atomic(target, crash)
    assert target.read_text() == "old"
    assert [p.name for p in target.parent.iterdir()] == ["f.json"]


def test_check_writable_accepts_a_new_file_in_a_folder_to_be_made(tmp_path):
    from napari_colorgan.core.io.atomic import check_writable

    check_writable(tmp_path / "new" / "deeper" / "m.safetensors")


def test_check_writable_names_a_file_standing_where_a_folder_should_be(tmp_path):
    from napari_colorgan.core.io.atomic import check_writable

    (tmp_path / "notes.txt").write_text("x")
    with pytest.raises(ValueError, match="cannot write .*m.safetensors: .*notes.txt is a file"):
        check_writable(tmp_path / "notes.txt" / "m.safetensors")


def test_check_writable_names_a_folder_given_as_the_file(tmp_path):
    from napari_colorgan.core.io.atomic import check_writable

    with pytest.raises(ValueError, match="is a folder"):
        check_writable(tmp_path)


def test_a_killed_writers_temporary_is_removed_by_the_next_write(tmp_path):
    import os
    import subprocess
    import sys

    from napari_colorgan.core.io.atomic import write_atomic

    target = tmp_path / "out.tif"
    code = "import os; print(os.getpid())"
    gone = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    dead_pid = int(gone.stdout)
    leftover = tmp_path / f".out.tif.{dead_pid}.abcd1234.tmp"
    leftover.write_bytes(b"x" * 100)
    alive = tmp_path / f".out.tif.{os.getpid()}.efgh5678.tmp"  # a live writer's: kept
    alive.write_bytes(b"y")
    other = tmp_path / ".other.tif.1.zzzz.tmp"  # another file's: not ours to judge
    other.write_bytes(b"z")
    write_atomic(target, lambda tmp: open(tmp, "wb").write(b"done"))
    assert target.read_bytes() == b"done"
    assert not leftover.exists() and alive.exists() and other.exists()


# ---- replacing a folder: a complete result at every moment -------------------------------

KILL = """
import os, sys
from napari_colorgan.core.io import atomic
step = sys.argv[3]
def kill(name):
    if name == step:
        os._exit(9)  # as kill -9: no clean-up runs
atomic._after = kill
if sys.argv[4] == "renames":
    atomic._exchange = lambda a, b: False
atomic.replace_tree(sys.argv[1], sys.argv[2])
"""


def store(path, content):
    path.mkdir()
    (path / "part-a").write_text(content)
    (path / "part-b").write_text(content)
    return path


def content(path):
    parts = {(path / name).read_text() for name in ("part-a", "part-b")}
    assert len(parts) == 1, f"{path} mixes two results"
    return parts.pop()


@pytest.mark.parametrize("how", ["exchange", "renames"])
@pytest.mark.parametrize("step", ["exchanged", "set aside", "moved", "never"])
def test_a_replacement_killed_at_any_step_loses_neither_store(tmp_path, how, step):
    import subprocess
    import sys

    from napari_colorgan.core.io.atomic import finish_replacement

    path, new = store(tmp_path / "out.zarr", "old"), store(tmp_path / ".out.zarr.new", "new")
    args = [sys.executable, "-c", KILL, str(new), str(path), step, how]
    code = subprocess.run(args, check=False).returncode
    # Right after the kill: the place holds a complete result, or (two renames, killed between
    # them) both complete results wait beside it.
    if path.exists():
        assert content(path) in ("old", "new")
    else:
        assert (how, step, code) == ("renames", "set aside", 9)
        assert content(tmp_path / ".out.zarr.old") == "old" and content(new) == "new"
    finish_replacement(path, new)  # what the next writer of the place runs first
    assert content(path) == "new"  # the swap had begun: it is completed, never undone
    assert not (tmp_path / ".out.zarr.old").exists()


def test_replace_tree_moves_into_an_empty_place(tmp_path):
    from napari_colorgan.core.io.atomic import replace_tree

    new = store(tmp_path / "new", "new")
    replace_tree(new, tmp_path / "out.zarr")
    assert content(tmp_path / "out.zarr") == "new" and not new.exists()


def test_long_legal_names_get_short_temporaries(tmp_path):
    from napari_colorgan.core.io.atomic import replace_tree, sibling, write_atomic

    name = "m" * 240 + ".safetensors"  # 252 bytes: legal, but no room for a suffix
    assert write_atomic(tmp_path / name, lambda tmp: Path(tmp).write_text("x")).read_text() == "x"
    assert len(sibling(tmp_path / name, "lock").name) <= 255
    store = tmp_path / ("s" * 245 + ".zarr")
    store.mkdir()
    new = sibling(store, "new")
    new.mkdir()
    (new / "f").write_text("new")
    replace_tree(new, store)
    assert (store / "f").read_text() == "new" and sorted(os.listdir(tmp_path)) == [
        name,
        store.name,
    ]


def test_a_full_disk_says_so_and_keeps_the_previous_file(tmp_path):
    import errno

    path = tmp_path / "m.safetensors"
    path.write_text("previous")

    def full(tmp):
        raise OSError(errno.ENOSPC, "No space left on device")

    with pytest.raises(OSError, match=r"no space left on the disk .* \(the previous file is"):
        write_atomic(path, full)
    assert path.read_text() == "previous" and os.listdir(tmp_path) == ["m.safetensors"]
