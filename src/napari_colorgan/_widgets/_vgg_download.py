"""The Train widget's "Download ImageNet VGG19" button: the download runs only on this click.

It drives :func:`~napari_colorgan.core.model.vgg_fetch.fetch_vgg19_iter` in a worker, with a
progress bar; a second click (then "Cancel download") or closing the viewer stops it after the
current block, keeping what arrived for the next click.
"""

from __future__ import annotations

import threading
from typing import Any

from magicgui.widgets import Container, Label, PushButton

from napari_colorgan._widgets._common import end_with_widget, stream_in_worker, unless_gone

DOWNLOAD = "Download ImageNet VGG19 (575 MB)"
CANCEL = "Cancel download"


class VggDownload(Container):
    """A button and a line of status for the perceptual loss's ImageNet weights."""

    def __init__(self, url: str | None = None) -> None:
        self._button = PushButton(text=DOWNLOAD)
        self._status = Label(value="")
        super().__init__(widgets=[self._button, self._status], labels=False)
        self._url = url  # a mirror (tests: a loopback server); None = torchvision's address
        self._stop = threading.Event()
        self._bar: Any = None
        self.worker: Any = None
        self._button.changed.connect(self._clicked)
        end_with_widget(self, self._stop.set)
        self._show_installed()

    def _show_installed(self) -> None:
        from napari_colorgan.core.model.vgg import installed_vgg19

        have = installed_vgg19()
        self._status.value = f"ImageNet VGG19: {'installed' if have else 'not installed'}"
        self._button.text = "Download ImageNet VGG19 again" if have else DOWNLOAD

    def _clicked(self, *_args: Any) -> None:
        if self.worker is not None:
            self._stop.set()
            self._status.value = "stopping after this block…"
            return
        self.start()

    def start(self) -> Any:
        """Start the download in a worker; the worker."""
        from napari.utils import progress

        from napari_colorgan.core.model.vgg_fetch import fetch_vgg19_iter
        from napari_colorgan.core.model.vgg_install import VGG19_URL

        self._stop.clear()
        # Made here, before any event: creating it runs the event loop, which would hand the
        # next events over inside the handler of this one.
        self._bar = progress(total=0, desc="downloading VGG19 (MB)")
        events = fetch_vgg19_iter(self._url or VGG19_URL, stop=self._stop)
        self.worker = stream_in_worker(events, self._on_event)
        self.worker.finished.connect(unless_gone(self._on_finished))
        self._button.text = CANCEL
        self._status.value = "connecting…"
        self.worker.start()
        return self.worker

    def _on_event(self, event: Any) -> None:
        from napari_colorgan.core.events import Finished
        from napari_colorgan.core.model.vgg_fetch import Downloading

        if isinstance(event, Downloading):
            self._advance(event)
        elif isinstance(event, Finished):
            self._status.value = (
                "stopped: click again to continue the download"
                if event.stopped
                else "installed: training's perceptual weights 'auto' now use it"
            )

    def _advance(self, event: Any) -> None:
        mb, total = event.done // 1_000_000, (event.total or 0) // 1_000_000
        of = f" of {total}" if total else ""
        self._status.value = f"downloading: {mb}{of} MB"
        if self._bar is not None and mb != self._bar.n:
            if total and self._bar.total != total:
                self._bar.total = total
            self._bar.update(mb - self._bar.n)

    def _on_finished(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None
        self.worker = None
        said = self._status.value
        self._show_installed()
        if said.startswith(("stopped", "installed")):
            self._status.value = said  # the outcome stays readable
        elif said.startswith(("downloading", "connecting", "stopping")):
            self._status.value = "failed: see the notification (click again to continue)"
