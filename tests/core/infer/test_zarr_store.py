"""Streaming into zarr: bounded, resumable, never losing finished chunks."""

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time

import numpy as np
import pytest
import torch
import zarr

from napari_colorgan.core.events import Finished, Progress
from napari_colorgan.core.infer import blocks as inference
from napari_colorgan.core.infer.config import ColorizeConfig
from napari_colorgan.core.infer.zarr_store import (
    ZarrTarget,
    colorize_to_zarr,
    colorize_to_zarr_iter,
    open_multiscale,
)
from napari_colorgan.core.model.colorizer import Colorizer


def read(path):
    """The whole array at ``path``, opened read-only (mode "a" would create it)."""
    return zarr.open_array(str(path), mode="r")[:]


def rgb(store):
    """A finished store's full-resolution colours, channel-last (z, y, x, 3)."""
    return np.asarray(open_multiscale(store)[0])


def iterate(data, store, model, *, if_exists="resume", stop=None, **settings):
    """``colorize_to_zarr_iter`` with a target and a config made from keywords."""
    target = ZarrTarget(store, if_exists)
    return colorize_to_zarr_iter(data, target, model, ColorizeConfig(**settings), stop)


KW = {"device": "cpu", "precision": "fp32", "tile": 128, "overlap": 64, "block_size": 64}


def progress(events):
    """The Progress events of a run, in order."""
    return [e for e in events if isinstance(e, Progress)]


def count_tasks(monkeypatch):
    calls = []
    original = inference.block_task

    def counting(*args, **kwargs):
        calls.append(1)
        return original(*args, **kwargs)

    monkeypatch.setattr(inference, "block_task", counting)
    import napari_colorgan.core.infer.graph as col

    monkeypatch.setattr(col, "block_task", counting)
    return calls


def test_store_matches_the_lazy_result_and_has_a_pyramid(m, stack, tmp_path):
    path = colorize_to_zarr(stack, tmp_path / "out.ome.zarr", m, **KW)
    levels = open_multiscale(path)
    assert levels[0].shape == (3, 150, 140, 3)
    from napari_colorgan.core.infer.graph import colorize

    np.testing.assert_array_equal(levels[0][:], colorize(stack, m, **KW).compute())
    attrs = dict(zarr.open_group(str(path)).attrs)
    assert attrs["ome"]["multiscales"][0]["axes"][0]["type"] == "channel"  # c, z, y, x


def test_stop_then_resume_equals_an_uninterrupted_run_and_computes_only_the_rest(
    m, stack, tmp_path, monkeypatch
):
    whole = colorize_to_zarr(stack, tmp_path / "whole.zarr", m, **KW)
    stop = threading.Event()
    events = []
    for event in iterate(stack, tmp_path / "part.zarr", m, stop=stop, parallel=1, **KW):
        events.append(event)
        if isinstance(event, Progress) and event.done == 5:
            stop.set()
    assert isinstance(events[-1], Finished) and events[-1].stopped
    total = progress(events)[0].total
    calls = count_tasks(monkeypatch)
    events = list(iterate(stack, tmp_path / "part.zarr", m, **KW))
    assert progress(events)[0].skipped == 5
    assert len(calls) == total - 5
    np.testing.assert_array_equal(rgb(tmp_path / "part.zarr"), rgb(whole))


def test_a_resume_keeps_the_stores_default_window_when_memory_differs(
    m, stack, tmp_path, monkeypatch
):
    from napari_colorgan.core.infer import window_size

    kw = {k: v for k, v in KW.items() if k not in ("tile", "overlap")}  # default windows
    monkeypatch.setattr(window_size, "device_memory", lambda device: 1 << 34)
    stop = threading.Event()
    out = tmp_path / "part.zarr"
    for event in iterate(stack, out, m, stop=stop, parallel=1, **kw):
        if isinstance(event, Progress) and event.done == 2:
            stop.set()
    tile = zarr.open_group(str(out), mode="r").attrs["napari_colorgan"]["tile"]
    # Less memory now: the default would be smaller windows, another store identity.
    monkeypatch.setattr(window_size, "device_memory", lambda device: 1 << 20)
    events = list(iterate(stack, out, m, **kw))
    assert progress(events)[0].skipped == 2 and isinstance(events[-1], Finished)
    assert zarr.open_group(str(out), mode="r").attrs["napari_colorgan"]["tile"] == tile
    whole = colorize_to_zarr(stack, tmp_path / "whole.zarr", m, tile=tile, **kw)
    np.testing.assert_array_equal(rgb(out), rgb(whole))


def test_a_stopped_overwrite_finishes_its_replacement_when_memory_differs(
    m, stack, tmp_path, monkeypatch
):
    from napari_colorgan.core.infer import window_size

    kw = {k: v for k, v in KW.items() if k not in ("tile", "overlap")}  # default windows
    out = tmp_path / "out.zarr"
    colorize_to_zarr(stack, out, m, **KW)  # the previous result, another tiling
    monkeypatch.setattr(window_size, "device_memory", lambda device: 1 << 34)
    stop = threading.Event()
    events = iterate(255 - stack, out, m, if_exists="overwrite", stop=stop, parallel=1, **kw)
    for event in events:
        if isinstance(event, Progress) and event.done == 2:
            stop.set()
    monkeypatch.setattr(window_size, "device_memory", lambda device: 1 << 20)
    events = list(iterate(255 - stack, out, m, if_exists="overwrite", **kw))
    assert progress(events)[0].skipped == 2  # the replacement beside was finished, not redone


def test_a_store_of_the_earlier_window_layout_is_refused_not_resumed(m, stack, tmp_path):
    out = tmp_path / "out.zarr"
    colorize_to_zarr(stack, out, m, stop=_set_event(), **KW)  # unfinished
    group = zarr.open_group(str(out), mode="r+")
    old = dict(group.attrs["napari_colorgan"])
    del old["windows"]  # as the version that spaced windows by a fixed stride wrote it
    group.attrs["napari_colorgan"] = old
    # Its planes would come from two layouts: refused, naming the tiling.
    with pytest.raises(ValueError, match="other tiling"):
        colorize_to_zarr(stack, out, m, **KW)


def _set_event():
    stop = threading.Event()
    stop.set()
    return stop


def test_rerunning_a_finished_job_does_nothing(m, stack, tmp_path, monkeypatch):
    colorize_to_zarr(stack, tmp_path / "out.zarr", m, **KW)
    calls = count_tasks(monkeypatch)
    from napari_colorgan.core.infer import zarr_store

    pyramids = []
    monkeypatch.setattr(zarr_store, "write_pyramid", lambda *a, **k: pyramids.append(a))
    colorize_to_zarr(stack, tmp_path / "out.zarr", m, **KW)
    assert calls == [] and pyramids == []  # nor are the pyramid's levels written again


def test_a_crash_mid_run_keeps_finished_chunks(m, stack, tmp_path, monkeypatch):
    written = []
    original = zarr.Array.__setitem__

    def crash_after_four(self, key, value):
        if self.ndim == 4:
            written.append(key)
            if len(written) == 5:
                raise OSError("disk unplugged")
        return original(self, key, value)

    monkeypatch.setattr(zarr.Array, "__setitem__", crash_after_four)
    with pytest.raises(OSError, match="unplugged"):
        colorize_to_zarr(stack, tmp_path / "out.zarr", m, parallel=1, **KW)
    monkeypatch.setattr(zarr.Array, "__setitem__", original)
    done = read(tmp_path / "out.zarr/napari_colorgan/done")
    assert done.sum() == 4  # the chunk whose write failed was never marked done
    events = list(iterate(stack, tmp_path / "out.zarr", m, **KW))
    assert progress(events)[0].skipped == 4 and events[-1].step == done.size


def test_kill_9_mid_run_then_resume(m, stack, tmp_path):
    model_path = m.save(tmp_path / "m.safetensors")
    np.save(tmp_path / "stack.npy", np.repeat(stack, 4, axis=0))
    store = tmp_path / "out.zarr"
    script = textwrap.dedent(f"""
        import numpy as np
        from napari_colorgan.core.infer.zarr_store import colorize_to_zarr
        data = np.load({str(tmp_path / "stack.npy")!r})
        colorize_to_zarr(data, {str(store)!r}, {str(model_path)!r}, parallel=1, **{KW!r})
    """)
    proc = subprocess.Popen([sys.executable, "-c", script])
    deadline = time.time() + 120
    while time.time() < deadline:
        try:
            if read(store / "napari_colorgan/done").sum() >= 3:
                break
        except Exception:
            pass
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    partial = int(read(store / "napari_colorgan/done").sum())
    assert 3 <= partial < read(store / "napari_colorgan/done").size
    colorize_to_zarr(np.load(tmp_path / "stack.npy"), store, model_path, **KW)
    reference = colorize_to_zarr(
        np.load(tmp_path / "stack.npy"), tmp_path / "ref.zarr", model_path, **KW
    )
    np.testing.assert_array_equal(rgb(store), rgb(reference))


def test_existing_store_of_another_job_is_refused_unless_overwrite(m, stack, tmp_path):
    colorize_to_zarr(stack, tmp_path / "out.zarr", m, **KW)
    with pytest.raises(ValueError, match="holds another result"):
        colorize_to_zarr(stack[:2], tmp_path / "out.zarr", m, **KW)
    other = Colorizer.from_config(m.config, seed=99, normalization=m.normalization)
    with pytest.raises(ValueError, match="overwrite"):
        colorize_to_zarr(stack, tmp_path / "out.zarr", other, **KW)
    colorize_to_zarr(stack[:2], tmp_path / "out.zarr", m, if_exists="overwrite", **KW)
    assert rgb(tmp_path / "out.zarr").shape[0] == 2


def test_local_cluster_gives_the_same_result(m, stack, tmp_path):
    distributed = pytest.importorskip("distributed")
    from napari_colorgan.core.infer.graph import colorize

    local = colorize(stack, m, **KW).compute()
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    ) as cluster:
        with distributed.Client(cluster):
            remote = colorize(stack, m, **KW).compute()
            path = colorize_to_zarr(stack, tmp_path / "c.zarr", m, **KW)
    np.testing.assert_array_equal(local, remote)
    np.testing.assert_array_equal(rgb(path), local)


def test_another_input_of_the_same_shape_is_refused_not_resumed(m, stack, tmp_path):
    colorize_to_zarr(stack, tmp_path / "out.zarr", m, **KW)
    with pytest.raises(ValueError, match="other input content.*overwrite"):
        colorize_to_zarr(255 - stack, tmp_path / "out.zarr", m, **KW)
    colorize_to_zarr(255 - stack, tmp_path / "out.zarr", m, if_exists="overwrite", **KW)
    from napari_colorgan.core.infer.graph import colorize

    np.testing.assert_array_equal(
        rgb(tmp_path / "out.zarr"), colorize(255 - stack, m, **KW).compute()
    )


def test_the_slice_selection_is_part_of_the_store_identity(m, stack, tmp_path):
    colorize_to_zarr(stack, tmp_path / "out.zarr", m, slices=slice(0, 2), **KW)
    assert rgb(tmp_path / "out.zarr").shape[0] == 2
    with pytest.raises(ValueError, match="other input content, --slices selection"):
        colorize_to_zarr(stack, tmp_path / "out.zarr", m, slices=slice(1, 3), **KW)
    colorize_to_zarr(stack, tmp_path / "out.zarr", m, slices=slice(0, 2), **KW)  # resumes


def test_an_all_nan_input_is_refused_before_a_store_is_made(m, tmp_path):
    with pytest.raises(ValueError, match="no finite value"):
        colorize_to_zarr(np.full((2, 64, 64), np.nan), tmp_path / "out.zarr", m, **KW)
    assert not (tmp_path / "out.zarr").exists()


@pytest.mark.parametrize("windows", ["blended", "one a plane"])
def test_nan_colours_are_never_flagged_done(m, stack, tmp_path, windows):
    # One window a plane takes the uint8 path, which never holds float colours to check.
    kw = KW if windows == "blended" else {**KW, "tile": 256, "overlap": None}
    with torch.no_grad():
        next(m.generator.parameters()).fill_(float("nan"))
    with pytest.raises(ValueError, match="NaN/Inf colours"):
        colorize_to_zarr(stack, tmp_path / "out.zarr", m, parallel=1, **kw)
    assert read(tmp_path / "out.zarr/napari_colorgan/done").sum() == 0


def crash_after(count, monkeypatch):
    """Make the ``count``-th write of an output chunk fail, as a full disk would."""
    written = []
    original = zarr.Array.__setitem__

    def crashing(self, key, value):
        if self.ndim == 4:
            written.append(key)
            if len(written) == count:
                raise OSError("disk unplugged")
        return original(self, key, value)

    monkeypatch.setattr(zarr.Array, "__setitem__", crashing)
    return original


def test_a_failed_overwrite_leaves_the_previous_store_intact(m, stack, tmp_path, monkeypatch):
    out = tmp_path / "out.zarr"
    colorize_to_zarr(stack, out, m, **KW)
    before = rgb(out)
    original = crash_after(3, monkeypatch)
    with pytest.raises(OSError, match="unplugged"):
        colorize_to_zarr(255 - stack, out, m, if_exists="overwrite", parallel=1, **KW)
    np.testing.assert_array_equal(rgb(out), before)
    assert read(out / "napari_colorgan/done").all()
    monkeypatch.setattr(zarr.Array, "__setitem__", original)
    # The rerun finishes the replacement written beside, then swaps it in.
    events = list(iterate(255 - stack, out, m, if_exists="overwrite", **KW))
    assert progress(events)[0].skipped == 2
    from napari_colorgan.core.infer.graph import colorize

    np.testing.assert_array_equal(rgb(out), colorize(255 - stack, m, **KW).compute())
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.zarr"]
    assert len(open_multiscale(out)) >= 1


def test_a_stopped_overwrite_leaves_the_previous_store_intact(m, stack, tmp_path):
    out = tmp_path / "out.zarr"
    colorize_to_zarr(stack, out, m, **KW)
    before = rgb(out)
    stop = threading.Event()
    stop.set()
    events = list(iterate(255 - stack, out, m, if_exists="overwrite", stop=stop, **KW))
    assert events[-1].stopped
    np.testing.assert_array_equal(rgb(out), before)


def test_a_regular_file_as_output_is_refused_unless_overwritten(m, stack, tmp_path):
    out = tmp_path / "out.zarr"
    out.write_text("notes")
    with pytest.raises(ValueError, match="is a file, not a zarr store.*overwrite"):
        colorize_to_zarr(stack, out, m, **KW)
    assert out.read_text() == "notes"
    colorize_to_zarr(stack, out, m, if_exists="overwrite", **KW)
    assert rgb(out).shape == (3, 150, 140, 3)


def test_a_swap_cut_between_its_renames_is_finished_by_the_next_run(m, stack, tmp_path):
    import os

    out = tmp_path / "out.zarr"
    colorize_to_zarr(255 - stack, out, m, **KW)  # stands in for the finished replacement
    new_result = rgb(out)
    os.replace(out, tmp_path / ".out.zarr.new")
    colorize_to_zarr(stack, tmp_path / "previous.zarr", m, **KW)
    os.replace(tmp_path / "previous.zarr", tmp_path / ".out.zarr.old")
    # The state a crash between the two renames leaves: no out.zarr, .old and .new beside.
    events = list(iterate(255 - stack, out, m, **KW))
    assert (
        progress(events)[0].skipped == events[-1].step
    )  # nothing recomputed: the swap was finished
    np.testing.assert_array_equal(rgb(out), new_result)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.zarr"]
