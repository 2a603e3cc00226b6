"""Progress bars end their line even when the work fails, so the error starts a line of its own."""

import pytest

from napari_colorgan.core.events import Progress, Started, StepDone
from napari_colorgan.core.progress import drive_chunks, drive_training


def failing_chunks():
    yield Progress(0, 4, 0, 0.0)
    yield Progress(1, 4, 0, 0.5)
    raise ValueError("disk full")


def failing_training():
    yield Started("cpu", 10, 0, 1, 1, "none")
    yield StepDone(1, 10, {"g_total": 1.0, "d_real": 0.5}, 1e-3, 0.1)
    raise ValueError("loss became NaN")


@pytest.mark.parametrize(
    ("drive", "events"), [(drive_chunks, failing_chunks), (drive_training, failing_training)]
)
def test_a_failure_closes_the_bar_with_a_newline(drive, events, capsys):
    pytest.importorskip("tqdm")
    try:
        for _event in drive(events()):
            pass
    except ValueError:
        # Read while the traceback still holds the generator: the CLI prints its error here.
        err = capsys.readouterr().err
    assert err and err.endswith("\n"), repr(err[-80:])
