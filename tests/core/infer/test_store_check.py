"""A finished store checked from its chunks and metadata, not trusted from its flags."""

import json
import shutil

import numpy as np
import pytest
import zarr

from napari_colorgan.cli import main
from napari_colorgan.core.infer.store_check import missing_chunks, store_summary
from napari_colorgan.core.infer.zarr_store import colorize_to_zarr, open_multiscale
from tests.core.infer.test_zarr_store import KW, count_tasks


def test_a_deleted_chunk_is_computed_again_not_left_black(m, stack, tmp_path, monkeypatch):
    path = colorize_to_zarr(stack, tmp_path / "out.ome.zarr", m, **KW)
    want = np.asarray(open_multiscale(path)[0])
    chunk = sorted((path / "0" / "c").rglob("*"))[-1]
    chunk.unlink()
    assert not store_summary(path)["finished"]  # info no longer says finished
    calls = count_tasks(monkeypatch)
    with pytest.warns(UserWarning, match="1 chunk\\(s\\) marked done are missing"):
        colorize_to_zarr(stack, path, m, **KW)
    assert 0 < len(calls)
    np.testing.assert_array_equal(np.asarray(open_multiscale(path)[0]), want)
    assert store_summary(path)["finished"]


def test_black_chunks_are_stored_so_a_missing_one_means_lost(m, tmp_path):
    black = np.zeros((1, 150, 140), np.uint8)
    path = colorize_to_zarr(black, tmp_path / "black.ome.zarr", m, **KW)
    group = zarr.open_group(str(path), mode="r")
    flags = np.asarray(group["napari_colorgan/done"][...]).astype(bool)
    assert flags.all() and missing_chunks(path, group["0"], flags, 1) == []


def test_emptied_multiscales_are_written_again(m, stack, tmp_path):
    path = colorize_to_zarr(stack, tmp_path / "out.ome.zarr", m, **KW)
    meta = json.loads((path / "zarr.json").read_text())
    meta["attributes"]["ome"]["multiscales"] = [{}]
    (path / "zarr.json").write_text(json.dumps(meta))
    assert not store_summary(path)["finished"]
    colorize_to_zarr(stack, path, m, **KW)
    assert store_summary(path)["finished"] and len(open_multiscale(path)) >= 1


def test_a_corrupt_zarr_json_is_named(m, stack, tmp_path, capsys):
    path = colorize_to_zarr(stack, tmp_path / "out.ome.zarr", m, **KW)
    (path / "zarr.json").write_text('{"zarr_format": 3, ')
    with pytest.raises(ValueError, match="out.ome.zarr/zarr.json is damaged: not valid JSON"):
        colorize_to_zarr(stack, path, m, **KW)
    assert main(["info", str(path)]) == 2
    assert "zarr.json is damaged" in capsys.readouterr().err


def test_info_does_not_call_someone_elses_image_a_finished_colour_store(tmp_path, capsys):
    group = zarr.open_group(str(tmp_path / "grey.ome.zarr"), mode="w", zarr_format=2)
    group.create_array("0", data=np.zeros((2, 16, 16), np.uint8))
    axes = [{"name": n, "type": "space"} for n in "zyx"]
    scale = [{"type": "scale", "scale": [1, 1, 1]}]
    datasets = [{"path": "0", "coordinateTransformations": scale}]
    group.attrs["multiscales"] = [{"version": "0.4", "axes": axes, "datasets": datasets}]
    assert main(["info", str(tmp_path / "grey.ome.zarr")]) == 0
    out = capsys.readouterr().out
    assert "an OME-Zarr image (NGFF 0.4) not written by napari-colorgan" in out
    assert "finished" not in out and "colorized store" not in out
    shutil.rmtree(tmp_path / "grey.ome.zarr")


def test_a_deleted_record_of_finished_chunks_recomputes_everything(m, stack, tmp_path):
    path = colorize_to_zarr(stack, tmp_path / "out.ome.zarr", m, **KW)
    want = np.asarray(open_multiscale(path)[0])
    shutil.rmtree(path / "napari_colorgan")
    with pytest.warns(UserWarning, match="record of finished chunks .* is missing"):
        colorize_to_zarr(stack, path, m, **KW)
    np.testing.assert_array_equal(np.asarray(open_multiscale(path)[0]), want)


def test_a_deleted_full_resolution_level_is_named(m, stack, tmp_path):
    path = colorize_to_zarr(stack, tmp_path / "out.ome.zarr", m, **KW)
    shutil.rmtree(path / "0")
    with pytest.raises(ValueError, match="its full-resolution level 0 is missing"):
        colorize_to_zarr(stack, path, m, **KW)


def test_an_input_naming_a_dataset_it_lacks_is_refused_by_name(tmp_path):
    from napari_colorgan.core.io.images import open_image

    group = zarr.open_group(str(tmp_path / "in.ome.zarr"), mode="w")
    group.create_array("0", data=np.zeros((16, 16), np.uint8))
    axes = [{"name": n, "type": "space"} for n in "yx"]
    scale = [{"type": "scale", "scale": [1, 1]}]
    group.attrs["ome"] = {"version": "0.5", "multiscales": [
        {"axes": axes, "datasets": [{"path": "s0", "coordinateTransformations": scale}]}
    ]}  # fmt: skip
    with pytest.raises(ValueError, match="names the dataset 's0', which the store does not hold"):
        open_image(tmp_path / "in.ome.zarr")


def test_info_names_what_a_killed_replacement_left_beside(m, stack, tmp_path, capsys):
    path = colorize_to_zarr(stack, tmp_path / "out.ome.zarr", m, **KW)
    shutil.copytree(path, tmp_path / ".out.ome.zarr.old")
    assert main(["info", str(path)]) == 0
    assert "left beside   .out.ome.zarr.old (" in capsys.readouterr().out
    colorize_to_zarr(stack, path, m, **KW)  # the next run into it tidies up
    assert not (tmp_path / ".out.ome.zarr.old").exists()
