"""An atomic write either replaces the file whole or leaves the old one."""

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
