"""A store's fate is decided once: new, resume, replace, or finish a replacement."""

import numpy as np
import pytest

from napari_colorgan.core.events import Finished
from napari_colorgan.core.infer import zarr_store
from napari_colorgan.core.infer.config import ColorizeConfig
from napari_colorgan.core.infer.store_fate import Fate, decide, replacement
from napari_colorgan.core.infer.zarr_store import ZarrTarget, colorize_to_zarr_iter

WANTED = {"model": "abc", "layout": "ome-zarr-0.5"}
CONFIG = ColorizeConfig(device="cpu", precision="fp32", tile=128, block_size=64)


def test_nothing_there_is_new(tmp_path):
    assert decide(tmp_path / "out.zarr", WANTED, "resume", None, None) is Fate.NEW
    assert decide(tmp_path / "out.zarr", WANTED, "overwrite", None, WANTED) is Fate.NEW


def test_this_very_result_is_resumed(tmp_path):
    (tmp_path / "out.zarr").mkdir()
    assert decide(tmp_path / "out.zarr", WANTED, "resume", WANTED, None) is Fate.RESUME


def test_overwrite_replaces_beside(tmp_path):
    (tmp_path / "out.zarr").mkdir()
    fate = decide(tmp_path / "out.zarr", WANTED, "overwrite", {"other": 1}, None)
    assert fate is Fate.REPLACE and fate.beside and fate.creates


def test_an_unfinished_replacement_of_this_result_is_finished(tmp_path):
    (tmp_path / "out.zarr").mkdir()
    fate = decide(tmp_path / "out.zarr", WANTED, "overwrite", {"other": 1}, WANTED)
    assert fate is Fate.FINISH_REPLACEMENT and fate.beside and not fate.creates


@pytest.mark.parametrize(
    ("if_exists", "found", "message"),
    [
        ("resume", {"model": "xyz", "layout": "ome-zarr-0.5"}, "another result \\(other model"),
        ("resume", None, "not a napari-colorgan store"),
        ("fail", WANTED, "exists: pass if_exists='resume'"),
        ("resume", {"model": "abc"}, "napari-colorgan 0.1"),
        ("sometimes", WANTED, "if_exists must be one of"),
    ],
)
def test_refusals_name_the_problem(tmp_path, if_exists, found, message):
    (tmp_path / "out.zarr").mkdir()
    with pytest.raises(ValueError, match=message):
        decide(tmp_path / "out.zarr", WANTED, if_exists, found, None)


def test_a_run_decides_once_and_writes_where_its_fate_says(tmp_path, tiny_colorizer, monkeypatch):
    seen = []
    original = zarr_store.decide

    def spy(*args):
        seen.append(original(*args))
        return seen[-1]

    monkeypatch.setattr(zarr_store, "decide", spy)
    gray = np.random.default_rng(0).integers(0, 256, (2, 96, 96)).astype(np.uint8)
    out = tmp_path / "out.zarr"

    def run(data, if_exists="resume", stop=None):
        target = ZarrTarget(out, if_exists)
        events = colorize_to_zarr_iter(data, target, tiny_colorizer, CONFIG, stop)
        return [e for e in events if isinstance(e, Finished)][-1]

    run(gray)
    run(gray)
    stop = type("Stop", (), {"is_set": lambda self: True})()
    assert run(255 - gray, "overwrite", stop).stopped  # stopped before a chunk: left beside
    assert replacement(out).is_dir()
    run(255 - gray, "overwrite")
    assert seen == [Fate.NEW, Fate.RESUME, Fate.REPLACE, Fate.FINISH_REPLACEMENT]
    assert not replacement(out).exists()


def test_an_output_that_is_holds_or_lies_inside_the_input_is_refused(tmp_path):
    import pytest
    import zarr

    from napari_colorgan.core.infer.store_fate import check_not_input

    group = zarr.open_group(str(tmp_path / "in.ome.zarr"), mode="w")
    array = group.create_array("0", shape=(4, 4), dtype="u1")
    for data in (tmp_path / "in.ome.zarr", array):  # a path, or the opened array
        with pytest.raises(ValueError, match="holds the input|is the input"):
            check_not_input(data, tmp_path / "in.ome.zarr")
    with pytest.raises(ValueError, match="lies inside the input"):
        check_not_input(array, tmp_path / "in.ome.zarr" / "0" / "x.zarr")
    check_not_input(array, tmp_path / "out.ome.zarr")  # elsewhere: fine
    check_not_input(list(range(3)), tmp_path / "in.ome.zarr")  # in memory: nothing to destroy
