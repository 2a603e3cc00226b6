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
