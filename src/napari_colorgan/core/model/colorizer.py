"""``Colorizer``: a generator with everything needed to apply it exactly as it was trained."""

from __future__ import annotations

import dataclasses
import datetime
import os
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..annotations import palette_lut
from ..color import lab_to_rgb, lab_to_rgb8, tensor_to_uint8, to_uint8
from ..version import package_version
from .config import InputNormalization, ModelConfig, Provenance
from .file import read_metadata, read_tensors, save_model_file
from .networks import UNetGenerator, count_parameters
from .normalize import apply_normalization

#: Lab chroma scale of pix2pix's colorization mode: the network's (-1, 1) output times 110.
AB_SCALE = 110.0


def network_input(x: torch.Tensor) -> torch.Tensor:
    """What the generator sees for normalised input ``x`` in [0, 1]: ``2·x − 1`` in [-1, 1].

    pix2pix's scaling (``L/50 − 1`` for ``L = 100·x``); training and inference both use this.
    """
    return 2 * x - 1


class Colorizer:
    """A trained (or imported) colorization generator and the settings it must be used with.

    Parameters
    ----------
    generator
        The U-Net; its architecture must be the one ``config`` describes.
    config
        The architecture and colour space.
    normalization
        How raw input values become the network's [0, 1] input.
    training
        The training settings, stored for provenance (free-form JSON).
    provenance
        Where the model came from.

    Notes
    -----
    The network sees ``2·x − 1`` for a normalised input ``x`` in [0, 1] (= ``L/50 − 1`` with
    ``L = 100·x``, pix2pix's scaling). Lab models predict ``ab/110``; the output keeps the
    input's own lightness. RGB models predict ``2·rgb − 1``.
    """

    def __init__(
        self,
        generator: UNetGenerator,
        config: ModelConfig,
        normalization: InputNormalization | None = None,
        training: dict[str, Any] | None = None,
        provenance: Provenance | None = None,
    ) -> None:
        self.generator = generator
        self.config = config
        self.normalization = normalization or InputNormalization()
        self.training = dict(training or {})
        self.provenance = provenance or Provenance()
        self._chroma: dict[tuple[Any, str], torch.Tensor] = {}  # class_chroma by device

    @classmethod
    def from_config(cls, config: ModelConfig, seed: int | None = 0, **kwargs: Any) -> Colorizer:
        """A new colorizer with a freshly initialised generator (N(0, 0.02) weights)."""
        from .networks import init_weights

        generator = build_generator(config)
        init_weights(generator, seed=seed)
        return cls(generator, config, **kwargs)

    @property
    def device(self) -> torch.device:
        """Where the generator's weights live."""
        return next(self.generator.parameters()).device

    def to(self, device: str | torch.device) -> Colorizer:
        """Move the generator to ``device``; returns ``self``."""
        self.generator.to(device)
        return self

    # ---- applying the network -------------------------------------------------------------

    def forward_rgb(self, x: torch.Tensor) -> torch.Tensor:
        """Colorize normalised input ``x`` (b, in_channels, h, w) in [0, 1] to RGB (b, 3, h, w).

        Gradients flow through (the trainer uses this for the perceptual loss). ``h`` and ``w``
        must be multiples of ``2**num_downs``.
        """
        return self.raw_to_rgb(self.generator(network_input(x)), x)

    def raw_to_rgb(self, raw: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """Raw generator output (b, out_channels, h, w) for input ``x`` to RGB in [0, 1]."""
        return self.output_to_rgb(self.color_output(raw), x)

    def color_output(self, raw: torch.Tensor) -> torch.Tensor:
        """Raw generator output in the colour space: (b, 2|3, h, w) in about (-1, 1).

        A colour model outputs colour already. A class model outputs logits (b, K, h, w); its
        colour is the class chroma: the probability-weighted mean while training (so colour
        losses have gradients), the most likely class's in eval mode (crisp class colours).
        """
        if not self.config.classes:
            return raw
        table = self.class_chroma(raw.device)  # (K, 2), ab / 110
        if self.generator.training:
            return torch.einsum("bkhw,kc->bchw", raw.float().softmax(1), table)
        return table[self.class_logits(raw).argmax(1)].permute(0, 3, 1, 2)  # (b, 2, h, w)

    def class_logits(self, raw: torch.Tensor) -> torch.Tensor:
        """A class model's raw output (b, K, h, w) as the logits its decisions are made on.

        ``config.class_bias`` added (the prior correction of class-balanced training).
        """
        bias = self.config.class_bias
        if not bias:
            return raw
        return raw + torch.tensor(bias, dtype=raw.dtype, device=raw.device)[None, :, None, None]

    def set_class_bias(self, class_weights: torch.Tensor | np.ndarray) -> None:
        """Set ``config.class_bias`` to ``−log w`` of the class weights training uses.

        A class without pixels (weight 0) gets no bias: nothing was learned about it.
        """
        w = np.asarray(class_weights, np.float64)
        bias = np.where(w > 0, -np.log(np.maximum(w, 1e-12)), 0.0)
        self.config = dataclasses.replace(self.config, class_bias=tuple(bias.tolist()))

    def class_probabilities(self, raw: torch.Tensor) -> torch.Tensor:
        """A class model's raw output (b, K, h, w) as class probabilities (b, K, h, w), fp32.

        Their argmax is the class :meth:`color_output` paints in eval mode.
        """
        return self.class_logits(raw.float()).softmax(1)

    def class_chroma(self, device: torch.device | str = "cpu") -> torch.Tensor:
        """The classes' Lab chroma ``ab / 110``, shape (K, 2), in class order.

        The same table ``tint`` paints labels with; made once per device (it is read on every
        training step and every inference batch).
        """
        key = (self.config.classes, str(device))
        if key not in self._chroma:
            palette = {c[0]: c[1:] for c in self.config.classes}
            ab, _known = palette_lut(palette, max(palette))  # (max_label + 1, 2)
            table = torch.from_numpy(ab[list(palette)] / AB_SCALE)
            self._chroma[key] = table.float().to(device)
        return self._chroma[key]

    def output_to_rgb(self, out: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """Colour-space output (b, 2|3, h, w) to RGB in [0, 1]; Lab keeps the input's lightness.

        ``config.chroma_gain`` scales the Lab chroma, or stretches RGB away from each pixel's
        grey (its channel mean), which scales the colourfulness metric by the same factor.
        """
        gain = self.config.chroma_gain
        if self.config.color_space == "rgb":
            rgb = (out + 1) / 2
            if gain == 1:
                return rgb
            grey = rgb.mean(1, keepdim=True)  # (b, 1, h, w)
            return (grey + gain * (rgb - grey)).clamp(0, 1)
        c = self.config.context  # the centre channel is the plane itself
        lightness = 100 * x[:, c : c + 1]  # (b, 1, h, w)
        ab = AB_SCALE * gain * out.to(lightness.dtype)  # (b, 2, h, w)
        return lab_to_rgb(torch.cat([lightness, ab], dim=1))

    def raw_to_rgb8(self, raw: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """Raw generator output (b, out_channels, h, w) to uint8 RGB (b, h, w, 3), for inference.

        Equals ``to_uint8(raw_to_rgb(raw, x))`` to within one level, at about a fifth of the
        time on a CPU (see :func:`~napari_colorgan.core.color.lab_to_rgb8`).
        """
        with torch.no_grad():
            out = self.color_output(raw)
            if self.config.color_space == "rgb":
                rgb = self.output_to_rgb(out.float(), x.float())  # (b, 3, h, w)
                return tensor_to_uint8(rgb).permute(0, 2, 3, 1)
            scale = AB_SCALE * self.config.chroma_gain
            c = self.config.context  # the centre channel is the plane itself
            lightness = 100 * x[:, c].float()  # (b, h, w)
            return lab_to_rgb8(lightness, out[:, 0], out[:, 1], scale)

    def set_chroma_gain(self, gain: float) -> None:
        """Set ``config.chroma_gain`` (the config is frozen: it is replaced)."""
        self.config = dataclasses.replace(self.config, chroma_gain=float(gain))

    @torch.no_grad()
    def colorize_plane(
        self, plane: np.ndarray, device: str | torch.device | None = None
    ) -> np.ndarray:
        """Colorize one raw grayscale plane (y, x) in a single pass; returns uint8 (y, x, 3).

        For whole stacks, large planes and tiling use :func:`napari_colorgan.colorize`.
        """
        raw, x = self._plane_forward(plane, device)
        h, w = np.shape(plane)
        rgb = self.raw_to_rgb(raw, x)[0, :, :h, :w]  # (3, h, w)
        return to_uint8(rgb.permute(1, 2, 0).cpu().numpy())

    @torch.no_grad()
    def classify_plane(
        self, plane: np.ndarray, device: str | torch.device | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """A class model on one raw plane (y, x) in a single pass: its colour and confidence.

        Returns uint8 RGB (y, x, 3) and the top class probability (y, x), float32 in [0, 1],
        both from one forward pass. For stacks and large planes use
        :func:`napari_colorgan.classify`.
        """
        if not self.config.classes:
            raise ValueError("this model was trained on colour targets: it has no classes")
        raw, x = self._plane_forward(plane, device)
        h, w = np.shape(plane)
        rgb = self.raw_to_rgb(raw, x)[0, :, :h, :w]  # (3, h, w)
        confidence = self.class_probabilities(raw)[0, :, :h, :w].amax(0)  # (h, w)
        return to_uint8(rgb.permute(1, 2, 0).cpu().numpy()), confidence.cpu().numpy()

    def _plane_forward(
        self, plane: np.ndarray, device: str | torch.device | None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Raw output (1, C, h', w') and input (1, 1, h', w') of one plane, padded to the grid."""
        plane = np.asarray(plane)
        if plane.ndim != 2:
            raise ValueError(f"expected one grayscale plane (y, x), got shape {plane.shape}")
        if self.config.context:
            raise ValueError("this model needs neighbouring slices: use napari_colorgan.colorize")
        from ..infer.tiling import pad_to_multiple

        x = pad_to_multiple(
            apply_normalization(plane, self.normalization), 2**self.config.num_downs
        )
        self.generator.eval()
        device = torch.device(device) if device is not None else self.device
        self.generator.to(device)
        t = torch.from_numpy(x)[None, None].to(device)  # (1, 1, h', w')
        return self.generator(network_input(t)), t

    # ---- files ------------------------------------------------------------------------------

    def metadata(self) -> dict[str, Any]:
        """The JSON documents stored beside the weights."""
        prov = self.provenance
        if not prov.package_version:
            prov = Provenance(
                package_version=package_version(),
                created=datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
                source=prov.source,
                perceptual_weights=prov.perceptual_weights,
                extra=prov.extra,
            )
        return {
            "model": self.config.to_dict(),
            "normalization": self.normalization.to_dict(),
            "training": self.training,
            "provenance": prov.to_dict(),
        }

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the model file atomically (a crash never leaves a half-written file).

        Parameters
        ----------
        path
            Destination, conventionally ending in ``.safetensors``.

        Returns
        -------
        Path
        """
        return save_model_file(path, self.generator.state_dict(), self.metadata())

    @classmethod
    def load(cls, path: str | os.PathLike[str], device: str | torch.device = "cpu") -> Colorizer:
        """Read and validate a model file; the generator comes back in eval mode.

        Raises
        ------
        FileNotFoundError
            No such file.
        ValueError
            Truncated, corrupt, foreign or incompatible file, with the reason.
        """
        meta = read_metadata(path)
        try:
            config = ModelConfig.from_dict(meta["model"])
            normalization = InputNormalization.from_dict(meta["normalization"] or {})
            provenance = Provenance.from_dict(meta["provenance"] or {})
        except (TypeError, ValueError) as err:
            raise ValueError(f"{path}: incompatible model settings: {err}") from None
        generator = build_generator(config)
        load_generator_state(generator, read_tensors(path), str(path))
        generator.to(device).eval()
        return cls(generator, config, normalization, meta["training"], provenance)

    def describe(self) -> str:
        """A few human-readable lines about this model."""
        c = self.config
        return (
            f"U-Net {c.num_downs} levels, ngf {c.ngf}, {c.norm} norm, "
            f"{count_parameters(self.generator):,} parameters, receptive field "
            f"{c.receptive_field} px; colour space {c.color_space}, context {c.context}; "
            f"input normalisation {self.normalization.method}"
        )


def build_generator(config: ModelConfig) -> UNetGenerator:
    """The generator architecture ``config`` describes."""
    return UNetGenerator(
        in_channels=config.in_channels,
        out_channels=config.out_channels,
        num_downs=config.num_downs,
        ngf=config.ngf,
        norm=config.norm,
        dropout=config.dropout,
    )


def load_generator_state(
    generator: torch.nn.Module, state: dict[str, torch.Tensor], where: str
) -> None:
    """Load ``state`` into ``generator``, explaining any mismatch as a ``ValueError``.

    Raises
    ------
    ValueError
        Names missing, unexpected or mis-shaped weights, or weights that are NaN/Inf.
    """
    own = generator.state_dict()
    missing = sorted(set(own) - set(state))
    unexpected = sorted(set(state) - set(own))
    wrong = [k for k in own if k in state and state[k].shape != own[k].shape]
    if missing or unexpected or wrong:
        raise ValueError(
            f"{where}: the weights do not match the architecture recorded in the file "
            f"(missing {missing[:3]}, unexpected {unexpected[:3]}, wrong shape {wrong[:3]})"
        )
    # NaN weights load fine and colour everything black: refuse them here, once.
    nonfinite = [
        k for k, v in state.items() if v.is_floating_point() and not bool(torch.isfinite(v).all())
    ]
    if nonfinite:
        raise ValueError(
            f"{where}: the weights hold NaN/Inf values ({', '.join(nonfinite[:3])}): the file is "
            "damaged or comes from a diverged training run; retrain or use another model file"
        )
    generator.load_state_dict(state)
