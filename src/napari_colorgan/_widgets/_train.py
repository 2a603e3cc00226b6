"""Train widget: paint labels (or bring colour), train in a worker, watch losses and a preview."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from magicgui.widgets import (
    CheckBox,
    ComboBox,
    Container,
    FileEdit,
    FloatSpinBox,
    Label,
    LineEdit,
    PushButton,
    SpinBox,
)

from napari_colorgan._widgets._activity_bar import ActivityBar
from napari_colorgan._widgets._colour_layer import layer_pixel_size
from napari_colorgan._widgets._common import (
    SESSION,
    end_with_widget,
    fold_advanced,
    guarded,
    keep_choices_fresh,
    layer_choices,
    level0,
    show_rgb_over,
    stream_in_worker,
    unless_gone,
)
from napari_colorgan._widgets._live_labels import LiveLabels
from napari_colorgan._widgets._loss_plot import LossPlot
from napari_colorgan._widgets._paint_next import PaintNext
from napari_colorgan._widgets._recent import remember
from napari_colorgan._widgets._session_checkpoint import (
    closing,
    new_session_checkpoint,
    prune,
)
from napari_colorgan._widgets._train_worker import (
    training_events,
)
from napari_colorgan._widgets._vgg_download import VggDownload
from napari_colorgan._widgets._view_region import ViewRegion
from napari_colorgan._widgets._warm import warm_up
from napari_colorgan.core.io.selection import parse_slices
from napari_colorgan.core.train.config import STROKES_BALANCE, TrainConfig

if TYPE_CHECKING:
    import napari

_DEFAULT = TrainConfig.default
#: Class weights ∝ pixel share^-B of labels (``TrainConfig.class_balance``), as the menu says it.
BALANCE_CHOICES = [
    (f"auto (dense labels 0, strokes {STROKES_BALANCE:g})", "auto"),
    ("0: plain cross entropy", 0.0),
    (f"{STROKES_BALANCE:g}", STROKES_BALANCE),
    ("1: every class equal", 1.0),
]
#: Seconds between training previews (the widget's default cadence).
PREVIEW_SECONDS = 5.0


class TrainWidget(Container):
    """Train a colorizer on the current layers; Start / Stop / Resume / Save."""

    def __init__(self, viewer: napari.viewer.Viewer) -> None:
        super().__init__()
        # Torch loads while the user picks layers, not after the first click (_warm.py);
        # torch's optimisers import torch._dynamo when training makes them.
        warm_up("torch", "torch._dynamo")
        self._viewer = viewer
        self._image = ComboBox(
            label="grayscale", choices=layer_choices(viewer, ("image",), rgb=False)
        )
        self._target = ComboBox(label="target (labels or RGB)", choices=self._target_choices)
        self._slices = LineEdit(label="slices (e.g. 0:10)", value="")
        # Defaults and choices come from TrainConfig, the one place they are kept.
        self._preset = ComboBox(
            label="preset", choices=TrainConfig.choices("preset"), value=_DEFAULT("preset")
        )
        self._steps = SpinBox(label="steps", min=1, max=1_000_000, value=_DEFAULT("steps"))
        self._minutes = FloatSpinBox(
            label="or minutes (0 = steps)", min=0.0, max=10_000.0, step=0.5, value=0.0
        )
        self._device = ComboBox(
            label="device", choices=["auto", "cpu", "cuda:0", "mps"], value="auto"
        )
        self._start = PushButton(text="Start")
        self._stop = PushButton(text="Stop", enabled=False)
        self._resume = PushButton(text="Resume", enabled=False)
        self._save_path = FileEdit(label="save as", mode="w", filter="*.safetensors")
        self._replace = CheckBox(text="replace an existing file", value=False)
        self._save = PushButton(text="Save model", enabled=False)
        self._losses = Label(value="")
        self._strokes = Label(value="")
        self.paint_next = PaintNext(viewer)
        advanced = self._advanced_settings()
        self.extend(
            [
                self._image,
                self._target,
                self._slices,
                self._preset,
                self._steps,
                self._minutes,
                self._device,
                *advanced,
                self._start,
                self._stop,
                self._resume,
                self._save_path,
                self._replace,
                self._save,
                self.paint_next.toggle,
                self._losses,
                self._strokes,
            ]
        )
        fold_advanced(self, advanced)
        self.plot = LossPlot()
        viewer.events.theme.connect(lambda _event: self._follow_theme())
        self._follow_theme()
        self.native.layout().addWidget(self.plot)  # a plain Qt widget below the controls
        self._start.changed.connect(guarded(self.start))
        self._resume.changed.connect(guarded(lambda: self.start(resume=True)))
        self._stop.changed.connect(self.stop)
        self._save.changed.connect(guarded(self.save))
        self._stop_event = threading.Event()
        # The viewer closing ends a running training as Stop does: the checkpoint is written.
        self._checkpoint = new_session_checkpoint()
        self._running: dict[str, Any] = {"worker": None}
        end_with_widget(self, closing(self._stop_event, self._running, self._checkpoint))
        self.history: list[dict[str, float]] = []
        self.model: Any = None
        self.worker: Any = None
        self._view: ViewRegion | None = None
        self._live: LiveLabels | None = None  # follows the Labels target while training
        self._warned_labels: set[int] = set()
        self._activity = ActivityBar()  # napari's activity dock, while training
        keep_choices_fresh(viewer, self)

    def _advanced_settings(self) -> list[Any]:
        """The settings folded under "advanced settings", with TrainConfig's defaults."""
        self._tile = SpinBox(label="tile (0 = preset's)", min=0, max=1024, step=32, value=0)
        self._batch = SpinBox(label="batch size", min=1, max=256, value=_DEFAULT("batch_size"))
        self._gamma = FloatSpinBox(label="γ", min=0.0, max=1.0, step=0.05, value=_DEFAULT("gamma"))
        self._lambda = FloatSpinBox(
            label="λ (fit)", min=0.0, max=1000.0, value=_DEFAULT("lambda_l1")
        )
        self._fit = ComboBox(
            label="fit loss",
            choices=list(TrainConfig.choices("fit_loss")),
            value=_DEFAULT("fit_loss"),
        )
        self._critic = CheckBox(
            text="PatchGAN critic (full pix2pix objective)", value=_DEFAULT("adversarial")
        )
        self._balance = ComboBox(
            label="class balance (labels)",
            choices=BALANCE_CHOICES,
            value=_DEFAULT("class_balance"),
        )
        self._vgg = ComboBox(
            label="perceptual weights",
            choices=["auto", "imagenet", "random", "none"],
            value=_DEFAULT("perceptual_weights"),
        )
        self._vgg_download = VggDownload()
        self._preview_every = FloatSpinBox(
            label="preview every (s)", min=0.5, max=3600.0, step=0.5, value=PREVIEW_SECONDS
        )
        return [
            self._tile,
            self._batch,
            self._gamma,
            self._lambda,
            self._fit,
            self._critic,
            self._balance,
            self._vgg,
            self._vgg_download,
            self._preview_every,
        ]

    def _target_choices(self, _widget: Any = None) -> list[tuple[str, Any]]:
        return (
            layer_choices(self._viewer, ("labels",))()
            + layer_choices(self._viewer, ("image",), rgb=True)()
        )

    def _config(self) -> TrainConfig:
        return TrainConfig(
            preset=self._preset.value,
            steps=self._steps.value,
            minutes=self._minutes.value or None,
            tile=self._tile.value or None,
            batch_size=self._batch.value,
            gamma=self._gamma.value,
            lambda_l1=self._lambda.value,
            fit_loss=self._fit.value,
            adversarial=self._critic.value,
            class_balance=self._balance.value,
            perceptual_weights=self._vgg.value,
            # Previews on a clock, not every N steps: the first comes seconds after Start
            # whether a step takes 10 ms or 1 s.
            val_every=0,
            val_seconds=self._preview_every.value,
        )

    def _inputs(self) -> dict[str, Any]:
        """Layer data, read here on the main thread; the worker never touches layers."""
        image, target = self._image.value, self._target.value
        if image is None or target is None:
            raise ValueError("choose a grayscale layer and a target (Labels or RGB layer)")
        data = level0(image)
        out: dict[str, Any] = {
            "image": data,
            "slices": parse_slices(self._slices.value),
            "pixel_size": layer_pixel_size(image),
        }
        if type(target).__name__ == "Labels":
            # The palette needs the labels present (a pass over them): the worker finds them.
            # The layer's own array: tiles see strokes painted while training runs.
            out.update(labels=level0(target), colormap=(target.colormap, target.name))
        else:
            out["target"] = target.data
        return out

    def start(self, resume: bool = False) -> None:
        """Train in a worker thread (Resume continues from this session's last checkpoint).

        The click only reads the widgets and the layers' data references: importing the
        training code, finding the palette, building the model and sampling run in the worker.
        """
        inputs, config = self._inputs(), self._config()
        prune(keeping=self._checkpoint)
        if not resume:
            self.history.clear()
            self.plot.clear()
        self._stop_event.clear()
        self._warned_labels.clear()
        self._view = ViewRegion(self._viewer, self._image.value)
        painted = self._follow_painting()
        events = training_events(
            **inputs,
            config=config,
            device=self._device.value,
            checkpoint=self._checkpoint,
            stop=self._stop_event,
            resume=self._checkpoint if resume else None,
            preview_region=self._view,
            painted=painted,
        )
        self.worker = stream_in_worker(events, self._on_event)
        self.worker.finished.connect(unless_gone(self._on_finished))
        # napari quits its workers when its window closes, leaving the run suspended between
        # two events: closing it then lets it write its checkpoint.
        self.worker.aborted.connect(events.close)
        self._set_running(True)
        self._running["worker"] = self.worker
        self.worker.start()

    def _follow_painting(self) -> Any:
        """Hand strokes painted in a Labels target to the run while it trains (or None)."""
        from napari_colorgan.core.train.live import PaintedPlanes

        target = self._target.value
        if type(target).__name__ != "Labels":
            return None
        painted = PaintedPlanes()
        self._live = LiveLabels(target, painted)
        return painted

    def stop(self) -> None:
        """Ask training to end after the current step (a checkpoint is written)."""
        self._stop_event.set()

    def save(self) -> Path:
        """Write the trained model file."""
        if self.model is None:
            raise ValueError("train (or stop a training) first, then save")
        path = Path(str(self._save_path.value))
        if path.suffix != ".safetensors":
            raise ValueError("choose a file name ending in .safetensors")
        if path.exists() and not self._replace.value:
            raise ValueError(
                f'{path} exists: tick "replace an existing file" to replace it, or choose '
                "another name"
            )
        saved = self.model.save(path)
        remember(saved)  # offered by the Colorize widget's recent models
        return saved

    def _set_running(self, running: bool) -> None:
        self._start.enabled = self._resume.enabled = not running
        self._stop.enabled = running
        if running:
            self._resume.enabled = False

    def _on_event(self, event: Any) -> None:
        from napari_colorgan.core.events import (
            AnnotationsChanged,
            Finished,
            Preview,
            RegionPreview,
            StepDone,
        )

        if self._running.get("closed"):
            return  # the viewer closed: nothing left to show the event in
        if isinstance(event, StepDone):
            self.history.append({"step": event.step, **event.losses})
            self.plot.add(event.step, event.losses)
            loss = event.losses
            self._losses.value = (
                f"step {event.step}: G {loss['g_total']:.3f} (GAN {loss['g_gan']:.3f}, "
                f"L1 {loss['g_l1']:.4f}, VGG {loss['g_vgg']:.4f}, CE {loss.get('g_ce', 0):.3f}), "
                f"D {loss['d_real']:.3f}"
            )
            # Last: napari's progress bar runs the event loop, which hands over the next
            # steps inside this call; before, they reached the plot ahead of this one, which
            # took them for a rewind and dropped points.
            self._activity.advance(event, self._minutes.value)
        elif isinstance(event, Preview):
            self._show_preview(event.prediction)
        elif isinstance(event, RegionPreview):
            self._show_view_preview(event.prediction, event.where[1])
            self.paint_next.show(event.confidence, self._preview_image(), event.where[1])
        elif isinstance(event, AnnotationsChanged):
            self._took_strokes(event)
        elif isinstance(event, Finished):
            self.model = event.result
            # A new session model: drop the frozen copy of the last one (it may sit on the GPU).
            SESSION.update(model=event.result, snapshot=None)

    def _took_strokes(self, event: Any) -> None:
        """Say that new strokes are being learnt, and which labels cannot be until a restart."""
        pixels = sum(event.class_pixels)
        self._strokes.value = (
            f"strokes taken in at step {event.step}: {pixels:,} labelled pixels, "
            f"training on {event.train_planes} plane(s)"
        )
        new = [i for i in event.unknown_labels if i not in self._warned_labels]
        if new:
            from napari.utils.notifications import show_warning

            self._warned_labels.update(new)
            show_warning(
                f"label {', '.join(map(str, new))} was painted after Start: the model has no "
                "class for it and ignores it; Stop and Start again to learn it"
            )

    def _show_view_preview(self, rgb: np.ndarray, offset: tuple[int, int]) -> None:
        """The current model on the region in view, laid exactly over the image it came from."""
        show_rgb_over(self._viewer, "training preview (view)", self._preview_image(), rgb, offset)

    def _preview_image(self) -> Any:
        """The image layer the view previews are cut from."""
        return self._view.layer if self._view is not None else self._image.value

    def _show_preview(self, rgb: np.ndarray) -> None:
        if "training preview" in self._viewer.layers:
            self._viewer.layers["training preview"].data = rgb
        else:
            self._viewer.add_image(rgb, rgb=True, name="training preview")

    def _follow_theme(self) -> None:
        """Draw the loss plot in the viewer's theme (dark, light or a custom one)."""
        from napari.utils.theme import get_theme

        theme = get_theme(self._viewer.theme)
        self.plot.set_theme(theme.background.as_hex(), theme.text.as_hex())

    def _on_finished(self) -> None:
        self._running["worker"] = None
        if self._live is not None:
            self._live.close()
            self._live = None
        self._activity.close()
        if self._view is not None:
            self._view.close()
            self._view = None
        self._set_running(False)
        self._resume.enabled = self._checkpoint.exists()
        self._save.enabled = self.model is not None
        import torch

        if torch.cuda.is_available():
            torch.cuda.empty_cache()  # give the GPU memory back to the user
