"""Export a colorizer as a bioimage.io model package (format 0.5) with ONNX weights.

The package runs in any bioimage.io consumer (ilastik, deepImageJ, bioimageio.core) without this
package: the ONNX graph holds the U-Net and the colour rendering (Lab → RGB with the input's
lightness, the chroma gain, class palettes), and linear input normalisations are declared as
``scale_linear`` + ``clip`` preprocessing. An ``asinh`` stretch has no bioimage.io operation, so
it goes into the graph too. ONNX needs no pickle to load, and the exported graph is checked
against the model's own forward pass before anything is written.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..io.atomic import sibling
from .bioimageio_descr import CITATIONS, OPSET, linear_scaling
from .bioimageio_files import cover_png, readme_text, sample_input
from .colorizer import Colorizer
from .config import InputNormalization

#: Largest |ONNX − torch| accepted on the test input (RGB in [0, 1]).
TOLERANCE = 1e-4


class ExportedColorizer(torch.nn.Module):
    """The graph written to ONNX: input (b, c, y, x) → RGB (b, 3, y, x) in [0, 1].

    The input is normalised to [0, 1] already, except for ``asinh`` normalisation, whose
    stretch is applied here on raw values.
    """

    def __init__(self, colorizer: Colorizer) -> None:
        super().__init__()
        self.colorizer = colorizer
        self.generator = colorizer.generator  # registered: its weights become the graph's
        self.norm = colorizer.normalization

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """RGB (b, 3, y, x) in [0, 1] of input ``x`` (b, c, y, x)."""
        x = torch.nan_to_num(x, nan=0.0)  # as apply_normalization: NaN pixels become 0
        if self.norm.method == "asinh":
            u = (x - self.norm.low) / self.norm.softening
            # asinh written out: ONNX opset 17 export has no aten::asinh. Odd, so computed on |u|
            # (no cancellation for large negative u).
            stretched = torch.sign(u) * torch.log(u.abs() + torch.sqrt(u * u + 1))
            x = (stretched / self.norm.high).clamp(0, 1)
        return self.colorizer.forward_rgb(x)


def preprocess(raw: np.ndarray, norm: InputNormalization) -> np.ndarray:
    """What the package's declared preprocessing does to raw input (float32)."""
    x = raw.astype(np.float32)
    if norm.method in ("percentile", "minmax"):
        gain, offset = linear_scaling(norm)
        x = np.clip(x * np.float32(gain) + np.float32(offset), 0, 1)
    elif norm.method == "none":
        x = np.clip(x, 0, 1)
    return x


def export_onnx(colorizer: Colorizer, path: Path, example: np.ndarray) -> np.ndarray:
    """Write the ONNX graph and check it against torch on ``example``; the expected output.

    ``example`` is the preprocessed test input (1, c, y, x). Raises if onnxruntime's output
    differs from torch's by more than :data:`TOLERANCE`.
    """
    import onnxruntime

    module = ExportedColorizer(colorizer).eval()
    colorizer.generator.eval()
    x = torch.from_numpy(example)
    with torch.no_grad():
        expected = module(x).numpy()
    dynamic = {0: "batch", 2: "y", 3: "x"}
    torch.onnx.export(
        module, (x,), str(path), dynamo=False, opset_version=OPSET,
        input_names=["input"], output_names=["output"],
        dynamic_axes={"input": dynamic, "output": dynamic},
    )  # fmt: skip
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    got = session.run(None, {"input": example})[0]
    gap = float(np.abs(got - expected).max())
    if not gap <= TOLERANCE:
        raise RuntimeError(
            f"the ONNX graph differs from the model by {gap:.2e} (> {TOLERANCE}): not exported"
        )
    return expected


def export_bioimageio(
    model: Colorizer | str | os.PathLike[str],
    output: str | os.PathLike[str],
    *,
    name: str | None = None,
    authors: tuple[str, ...] = (),
    license_id: str = "CC-BY-4.0",
    sample: np.ndarray | None = None,
    description: str | None = None,
) -> Path:
    """Write a bioimage.io model package (a ``.zip``) and validate it.

    Parameters
    ----------
    model
        A colorizer or a model file.
    output
        The package to write (``NAME.zip``), atomically.
    name
        The model's name (letters, digits, spaces, ``_+-()``); default: the model file's.
    authors
        Author names.
    license_id
        An SPDX licence id for the weights.
    sample
        A raw grayscale plane (y, x) to take the test input from (its centre); default: a
        smooth pattern spanning the normalisation's range.
    description
        One line saying what the model colorizes.

    Returns
    -------
    Path
        The package.

    Raises
    ------
    ImportError
        ``bioimageio.spec``, ``onnx`` or ``onnxruntime`` is missing.
    ValueError
        The package does not validate (the message holds the validation summary).
    """
    from .bioimageio_descr import describe, validate

    colorizer = model if isinstance(model, Colorizer) else Colorizer.load(model)
    name = name or (Path(model).stem if not isinstance(model, Colorizer) else "colorizer")
    out = Path(output)
    with tempfile.TemporaryDirectory(prefix="colorgan-bioimageio-") as tmp:
        folder = Path(tmp)
        raw = sample_input(colorizer, sample)  # (1, c, y, x) float32 raw values
        example = preprocess(raw, colorizer.normalization)
        expected = export_onnx(colorizer, folder / "weights.onnx", example)
        np.save(folder / "test_input.npy", raw)
        np.save(folder / "test_output.npy", expected)
        cover_png(folder / "cover.png", example[0, colorizer.config.context], expected[0])
        (folder / "README.md").write_text(readme_text(colorizer, name, description))
        descr = describe(colorizer, folder, name, authors, license_id, description, CITATIONS)
        work = sibling(out, "writing")
        try:
            _save(descr, work)
            validate(work)
            os.replace(work, out)
        finally:
            work.unlink(missing_ok=True)  # left only by a failed save or validation
    return out


def _save(descr: Any, path: Path) -> None:
    from bioimageio.spec import save_bioimageio_package

    save_bioimageio_package(descr, output_path=path)
