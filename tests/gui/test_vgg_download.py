"""The Train widget's VGG19 download button in a real viewer, against a loopback server."""

import pytest
import torch

pytest.importorskip("qtpy")
pytestmark = pytest.mark.gui

from napari.utils.notifications import notification_manager  # noqa: E402

from napari_colorgan._widgets import TrainWidget  # noqa: E402
from napari_colorgan._widgets._vgg_download import CANCEL, VggDownload  # noqa: E402
from napari_colorgan.core.model import vgg_fetch  # noqa: E402
from napari_colorgan.core.model.vgg import VGG19Features, find_vgg19_weights  # noqa: E402
from napari_colorgan.core.model.vgg_install import sha256_of  # noqa: E402
from tests._loopback import serving  # noqa: E402

from .conftest import errors_since  # noqa: E402


@pytest.fixture(scope="module")
def payload(tmp_path_factory):
    path = tmp_path_factory.mktemp("serve") / "vgg19.pth"
    torch.save(VGG19Features().random_init(seed=5).state_dict(), path)
    return path.read_bytes(), sha256_of(path)


def test_the_button_downloads_cancels_resumes_and_installs(viewer, qtbot, payload, monkeypatch):
    monkeypatch.setattr(vgg_fetch, "VGG19_SHA256", payload[1])
    train = TrainWidget(viewer)
    viewer.window.add_dock_widget(train)
    assert train._vgg_download._status.value == "ImageNet VGG19: not installed"
    with serving(payload[0]) as server:
        button = VggDownload(url=server.url)
        viewer.window.add_dock_widget(button)
        monkeypatch.setattr(vgg_fetch, "BLOCK", 1 << 16)  # many blocks: room to cancel
        button.start()
        assert button._button.text == CANCEL
        button._button.changed.emit(True)  # the click on "Cancel download"
        qtbot.waitUntil(lambda: button.worker is None, timeout=30_000)
        assert button._status.value.startswith("stopped") and find_vgg19_weights() is None
        button._button.changed.emit(True)  # click again: continues
        qtbot.waitUntil(lambda: button.worker is None, timeout=60_000)
        assert button._status.value.startswith("installed") and find_vgg19_weights()
        assert server.ranges[0] is None and server.ranges[1].startswith("bytes=")


def test_a_failed_download_is_one_notification(viewer, qtbot, payload):
    start = len(notification_manager.records)
    with serving(payload[0]) as server:
        server.cut_after = 100_000
        button = VggDownload(url=server.url)
        viewer.window.add_dock_widget(button)
        button.start()
        qtbot.waitUntil(lambda: button.worker is None, timeout=30_000)
    assert button._status.value.startswith("failed")
    assert any("run the same command again" in e for e in errors_since(start))
