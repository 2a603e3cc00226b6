"""Workers running torch leave a CPU core to napari's thread, however many run at once."""

import numpy as np
import torch

from napari_colorgan._widgets import _cores
from napari_colorgan._widgets._tiled import TiledColour
from napari_colorgan.core.infer.tiles import TileSource


def test_the_last_worker_out_restores_torchs_own_count(monkeypatch):
    monkeypatch.setattr(_cores, "usable_cores", lambda: 4)
    monkeypatch.setattr(torch, "get_num_threads", lambda: 64)
    calls = []
    monkeypatch.setattr(torch, "set_num_threads", calls.append)
    with _cores.leaving_a_core_to_napari() as training:
        with _cores.leaving_a_core_to_napari() as colour:  # a colour layer meanwhile
            assert training == colour == 3
        assert calls == [3]  # still capped: training runs on
    assert calls == [3, 64]


def test_the_colour_layers_tiles_are_computed_with_a_core_left(monkeypatch, rng):
    # On 2 cores torch's two threads kept napari's refreshes waiting (big_view_napari.py).
    from tests.gui.test_tiled import CPU, pyramid, start, tiny

    monkeypatch.setattr(_cores, "usable_cores", lambda: 2)
    seen = []
    compute = TileSource.compute

    def watched(self, *args, **kwargs):
        seen.append(torch.get_num_threads())
        return compute(self, *args, **kwargs)

    monkeypatch.setattr(TileSource, "compute", watched)
    before = torch.get_num_threads()
    tiled = TiledColour(pyramid(rng, planes=1, side=256), tiny, CPU)
    _, worker = start(tiled)
    try:
        while tiled.source is None:  # the model loads in the worker first
            worker.join(0.05)
        np.asarray(tiled.levels[0][0, :64, :64])
        while not seen:
            worker.join(0.05)
    finally:
        tiled.close()
        worker.join(10)
    assert seen[0] == 1 and not worker.is_alive()
    assert torch.get_num_threads() == before


def test_a_colour_worker_left_at_a_yield_holds_no_cap(rng):
    # A layer's worker generator dropped between tiles (never run to its end) kept torch capped
    # for the rest of the process, and later workers found the cap already taken.
    from tests.gui.test_tiled import CPU, pyramid, tiny

    tiled = TiledColour(pyramid(rng, planes=1, side=256), tiny, CPU)
    work = tiled.work()
    assert next(work) == []  # the model is ready: the worker waits at its first yield
    assert _cores._HELD["workers"] == 0
    tiled.close()
