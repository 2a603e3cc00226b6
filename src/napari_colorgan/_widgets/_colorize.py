"""Colorize widget: preview the current plane, add a view-driven colour layer, export to zarr."""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from magicgui.widgets import (
    CheckBox,
    ComboBox,
    Container,
    FileEdit,
    Label,
    PushButton,
    SpinBox,
)

from napari_colorgan._widgets._common import (
    SESSION,
    call_in_worker,
    current_plane_index,
    end_with_widget,
    fold_advanced,
    guarded,
    keep_choices_fresh,
    layer_choices,
    level0,
    model_from,
    show_rgb_over,
    stream_in_worker,
    unless_gone,
    visible_region,
)
from napari_colorgan._widgets._export_region import region_choices
from napari_colorgan._widgets._recent import recent_models, remember
from napari_colorgan._widgets._tiled import CACHE_BYTES
from napari_colorgan._widgets._warm import warm_up

if TYPE_CHECKING:
    import napari

    from napari_colorgan.core.infer.config import ColorizeConfig
    from napari_colorgan.core.infer.tiling import TilePlan
    from napari_colorgan.core.model.colorizer import Colorizer


class ColorizeWidget(Container):
    """Pick a grayscale layer and a model; preview, colorize lazily, or export to zarr."""

    def __init__(self, viewer: napari.viewer.Viewer) -> None:
        from napari_colorgan.core.infer.config import FLIPS
        from napari_colorgan.core.infer.config import ColorizeConfig as C

        super().__init__()
        # Torch loads while the user picks layers, not after the first click (_warm.py).
        warm_up("torch")
        self._viewer = viewer
        self._image = ComboBox(label="image", choices=layer_choices(viewer, ("image",), rgb=False))
        self._recent = ComboBox(label="recent models", choices=self._recent_choices)
        self._model_file = FileEdit(label="model", mode="r", filter="*.safetensors")
        self._use_session = CheckBox(
            label="use model trained in this session", value=SESSION["model"] is not None
        )
        self._device = ComboBox(
            label="device", choices=C.choices("device"), value=C.default("device")
        )
        self._precision = ComboBox(
            label="precision", choices=C.choices("precision"), value=C.default("precision")
        )
        self._tile = SpinBox(label="tile (0 = fit memory)", min=0, max=8192, step=32, value=0)
        self._overlap = SpinBox(label="overlap (0 = default)", min=0, max=4096, step=16, value=0)
        self._flips = ComboBox(
            label="test-time flips (x compute)", choices=FLIPS, value=C.default("flips")
        )
        self._cache = SpinBox(
            label="colour cache (MB)", min=16, max=1 << 20, step=64, value=CACHE_BYTES >> 20
        )
        self._spill = FileEdit(label="spill tiles to (folder, optional)", mode="d")
        self._preview = PushButton(text="Preview current plane")
        self._colorize = PushButton(text="Add colour layer")
        self._classes = CheckBox(text="with its class map (models trained on labels)", value=False)
        self._confidence = CheckBox(text="with its confidence", value=False)
        self._export_path = FileEdit(label="export to", mode="w", filter="*.zarr")
        self._region = ComboBox(label="export what", choices=region_choices(viewer))
        self._replace = CheckBox(text="replace an existing export", value=False)
        self._export = PushButton(text="Export to zarr")
        self._cancel = PushButton(text="Cancel export", enabled=False)
        self._status = Label(value="")
        self.extend(
            [
                self._image,
                self._recent,
                self._model_file,
                self._use_session,
                self._device,
                self._precision,
                self._tile,
                self._overlap,
                self._flips,
                self._cache,
                self._spill,
                self._preview,
                self._colorize,
                self._classes,
                self._confidence,
                self._export_path,
                self._region,
                self._replace,
                self._export,
                self._cancel,
                self._status,
            ]
        )
        fold_advanced(
            self,
            [self._precision, self._tile, self._overlap, self._flips, self._cache, self._spill],
        )
        self._preview.changed.connect(guarded(self.preview))
        self._colorize.changed.connect(guarded(self.colorize))
        self._export.changed.connect(guarded(self.export))
        self._cancel.changed.connect(self.cancel)
        self._recent.changed.connect(self._pick_recent)
        self._worker: Any = None
        self._stop_export = threading.Event()
        keep_choices_fresh(viewer, self)

    # ---- values -> settings --------------------------------------------------------------

    def _recent_choices(self, _widget: Any = None) -> list[tuple[str, Any]]:
        return [("choose...", None)] + [(p.name, p) for p in recent_models()]

    def _pick_recent(self, path: Path | None) -> None:
        if path is not None:
            self._model_file.value = path
            self._use_session.value = False

    def use_model_file(self, path: Path) -> None:
        """Choose the model file ``path`` (e.g. dropped on the viewer) and remember it."""
        remember(path)
        self._recent.reset_choices()
        self._model_file.value = path
        self._use_session.value = False
        self._status.value = f"model: {path.name}"

    def _layer(self) -> Any:
        """The chosen layer, its shape and dtype checked now (cheap): errors come at the click."""
        from napari_colorgan.core.infer.input_check import check_input

        layer = self._image.value
        if layer is None:
            raise ValueError("choose a grayscale image layer first")
        if getattr(layer, "rgb", False):
            raise ValueError(f"layer {layer.name!r} is RGB: colorize takes a grayscale layer")
        check_input(level0(layer))
        return layer

    def _model_loader(self) -> Callable[[], Colorizer]:
        """What loads the chosen model, to call in a worker.

        Reading, copying and hashing a model take seconds, so the click only reads widgets.
        """
        path, use_session = self._model_file.value, self._use_session.value
        if not use_session and (not path or str(path) in (".", "")):
            raise ValueError("choose a model file (.safetensors) first")
        return lambda: model_from(path, use_session)

    def _config(self) -> ColorizeConfig:
        """The settings the widgets show, as a :class:`ColorizeConfig`."""
        from napari_colorgan.core.infer.config import ColorizeConfig

        return ColorizeConfig(
            tile=self._tile.value or None,
            overlap=self._overlap.value or None,
            device=self._device.value,
            precision=self._precision.value,
            flips=self._flips.value,
        )

    # ---- actions -------------------------------------------------------------------------

    def preview(self) -> None:
        """Colorize what is shown now (the plane, or its visible part when zoomed in).

        The model loads in a worker; the pixels are then read here, on napari's thread, and a
        second worker colorizes them.
        """
        layer, load, config = self._layer(), self._model_loader(), self._config()
        self._status.value = "previewing..."
        call_in_worker(load, lambda model: self._preview_with(layer, model, config))

    def _preview_with(self, layer: Any, model: Any, config: ColorizeConfig) -> None:
        from napari_colorgan.core.infer.graph import colorize
        from napari_colorgan.core.infer.planner import plan

        data = level0(layer)
        tiling = plan(model.config, data.shape, config).tiling
        region = visible_region(layer, data.shape[-2:])
        ys, xs, keep = crop_with_margin(region, data.shape[-2:], tiling)
        plane = np.asarray(data[(*current_plane_index(self._viewer, data.ndim), ys, xs)])
        offset = (ys.start + keep[0].start, xs.start + keep[1].start)
        call_in_worker(
            lambda: colorize(plane, model, config)[keep].compute(),
            lambda rgb: self._show_preview(layer, rgb, offset),
        )

    def _show_preview(self, layer: Any, rgb: np.ndarray, offset: tuple[int, int]) -> None:
        show_rgb_over(self._viewer, f"{layer.name} preview", layer, rgb, offset)
        self._status.value = f"preview ready ({rgb.shape[1]}×{rgb.shape[0]} px)"

    def colorize(self) -> Any:
        """Add a colour layer computed where you look, at the level shown.

        Returns at once: the model loads in a worker, which then computes the tiles each view
        asks for, the newest view first; a tile not computed yet shows a coarser colour or its
        grey. Zoomed out, the colour is a preview made at the level shown.
        """
        from napari_colorgan._widgets._colour_layer import add_colour_layer

        layer, load, config = self._layer(), self._model_loader(), self._config()
        spill = self._spill.value if str(self._spill.value) not in ("", ".") else None
        classes, confidence = self._classes.value, self._confidence.value
        if classes or confidence:
            self._check_classes()  # now, from the file's header: the model loads in a worker
        added = add_colour_layer(
            self._viewer, layer, load, config, cache_mb=self._cache.value, spill_to=spill,
            classes=classes, confidence=confidence,
        )  # fmt: skip
        self._status.value = "colour fills in where you look, at the level shown"
        return added

    def _check_classes(self) -> None:
        """Refuse class layers for a colour model before anything is added."""
        from napari_colorgan._widgets._colour_layer import class_info

        session = SESSION["model"]
        class_info(session if self._use_session.value and session else self._model_file.value)

    def export(self) -> None:
        """Write the colour of everything, the view or a rectangle into OME-Zarr, in a worker.

        With progress and Cancel; resumable. The tiles are the colour layer's (its own when the
        input has one, so the export holds the pixels it shows). With "with its class map"
        ticked, the store holds the class map too (``labels/classes``).
        """
        from napari.utils import progress

        from napari_colorgan._ome_io import layer_axes
        from napari_colorgan._widgets._colour_layer import pixel_of
        from napari_colorgan._widgets._export_region import (
            colour_tiles_of,
            export_events,
            region_of,
        )
        from napari_colorgan.core.events import Finished, Planned, Progress
        from napari_colorgan.core.infer.zarr_store import ZarrTarget

        layer, load, config = self._layer(), self._model_loader(), self._config()
        if self._classes.value:  # the class map goes into the store too, as OME-Zarr labels
            self._check_classes()
            config = dataclasses.replace(config, classes=True)
        path = Path(str(self._export_path.value))
        if not str(self._export_path.value) or path.suffix != ".zarr":
            raise ValueError("choose an export path ending in .zarr (e.g. result.ome.zarr)")
        region = region_of(self._region.value, layer)
        levels = list(layer.data) if layer.multiscale else [layer.data]
        # The layer's pixel size, units and axis names go into the store's metadata.
        state = {"scale": layer.scale, "units": layer.units, "axis_labels": layer.axis_labels}
        fate = "overwrite" if self._replace.value else "resume"
        target = ZarrTarget(path, fate, axes=tuple(layer_axes(state, levels[0].ndim)))
        tiles = colour_tiles_of(self._viewer, layer)
        stop = self._stop_export = threading.Event()
        pixel = pixel_of(layer)
        events = export_events(levels, target, region, load, config, tiles, stop, pixel)
        bar = progress(total=0, desc="colorizing")

        def on_event(event: Any) -> None:
            if isinstance(event, Planned):  # the tiling, and why in the tooltip
                self._status.value = event.tiling.split(";")[0]
                self._status.tooltip = "\n".join(filter(None, [event.why, event.notice]))
            if isinstance(event, Progress):
                bar.total = event.total
                bar.n = event.done
                bar.refresh()
                self._status.value = f"{event.done}/{event.total} tiles"
            elif isinstance(event, Finished) and event.stopped:
                self._status.value = "cancelled: export again to resume"
            elif isinstance(event, Finished):
                self._open_result(path, layer)

        def done() -> None:
            bar.close()
            self._export.enabled, self._cancel.enabled = True, False

        worker = stream_in_worker(events, on_event)
        worker.finished.connect(unless_gone(done))
        end_with_widget(self, stop.set)  # the viewer closing stops it after its tile
        # A worker napari quits is left between two events: closing the events then ends the
        # export's ``with`` blocks, so its store's lock is given back.
        worker.aborted.connect(events.close)
        self._worker = worker
        self._export.enabled, self._cancel.enabled = False, True
        worker.start()

    def cancel(self) -> None:
        """Stop the export after the tile in flight; exporting again resumes it."""
        if self._worker is not None:
            self._stop_export.set()  # the export ends after its tile, cleanly: resumable
            self._status.value = "cancelled: export again to resume"

    def _open_result(self, path: Path, layer: Any) -> None:
        from napari_colorgan._widgets._export_region import placed

        # Laid over the source layer (where a region was cut from); units and axis labels
        # come from the store.
        self._viewer.add_image(**placed(path, layer))
        # Where it went and how to open it again (napari's File > Open, or a script).
        self._status.value = f"exported {path} (OME-Zarr): open it again with File ▸ Open"


def crop_with_margin(
    region: tuple[slice, slice] | None, shape: tuple[int, ...], tiling: TilePlan
) -> tuple[slice, slice, tuple[slice, slice]]:
    """Rows and columns to read for a preview of ``region`` of a plane of ``shape``.

    A margin of context on each side (half a tile, at least the tiling's halo) lets the border
    windows see what they see in the whole plane, and the read starts on the network's grid
    (a multiple of ``2**num_downs``), so in exact mode the preview equals the colour layer there.
    The third value cuts the region itself back out of the read crop.
    """
    if region is None:
        region = slice(0, shape[-2]), slice(0, shape[-1])
    margin = max(tiling.tile // 2, tiling.overlap)
    read = []
    for r, n in zip(region, shape[-2:], strict=True):
        start = max(r.start - margin, 0) // tiling.grid * tiling.grid
        read.append(slice(start, min(r.stop + margin, n)))
    keep = tuple(
        slice(r.start - g.start, r.stop - g.start) for r, g in zip(region, read, strict=True)
    )
    return read[0], read[1], keep  # type: ignore[return-value]
