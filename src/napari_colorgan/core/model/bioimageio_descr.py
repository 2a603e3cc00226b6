"""The bioimage.io model description (format 0.5) of an exported colorizer, and its validation."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

#: The ONNX opset written (the TorchScript exporter, which needs no onnxscript).
OPSET = 17
#: What the package asks users to cite: the generator's objective and the perceptual loss.
CITATIONS = (
    ("Isola et al. 2017, Image-to-Image Translation with Conditional Adversarial Networks "
     "(pix2pix)", "10.1109/CVPR.2017.632"),
    ("Johnson et al. 2016, Perceptual Losses for Real-Time Style Transfer and "
     "Super-Resolution", "10.1007/978-3-319-46475-6_43"),
)  # fmt: skip
#: Statuses of ``bioimageio.spec`` validation that mean a valid package (the spec alone can
#: reach "valid-format"; bioimageio.core's test run gives "passed").
VALID = ("valid-format", "passed")


def linear_scaling(norm: Any) -> tuple[float, float]:
    """Gain and offset of a linear normalisation ``(x - low) / (high - low)``."""
    gain = 1.0 / (norm.high - norm.low)
    return gain, -norm.low * gain


def _spec() -> Any:
    try:
        from bioimageio.spec.model import v0_5
    except ImportError:
        raise ImportError(
            "exporting to bioimage.io needs bioimageio.spec, onnx and onnxruntime: "
            "pip install 'napari-colorgan[bioimageio]'"
        ) from None
    return v0_5


def _input(v: Any, colorizer: Any, folder: Path) -> Any:
    config, norm = colorizer.config, colorizer.normalization
    grid = 2**config.num_downs
    c = config.context
    names = [f"z_minus_{c - i}" for i in range(c)] + ["z"] + [f"z_plus_{i + 1}" for i in range(c)]
    pre: list[Any] = []
    if norm.method in ("percentile", "minmax"):
        gain, offset = linear_scaling(norm)
        pre.append(v.ScaleLinearDescr(kwargs=v.ScaleLinearKwargs(gain=gain, offset=offset)))
    if norm.method != "asinh":  # asinh is stretched and clipped inside the graph
        pre.append(v.ClipDescr(kwargs=v.ClipKwargs(min=0.0, max=1.0)))
    yx = [v.AxisId("y"), v.AxisId("x")]
    return v.InputTensorDescr(
        id=v.TensorId("gray"),
        description=f"raw grayscale, normalised by the preprocessing ({norm.method})",
        axes=[v.BatchAxis(), v.ChannelAxis(channel_names=[v.Identifier(n) for n in names])]
        + [v.SpaceInputAxis(id=a, size=v.ParameterizedSize(min=grid, step=grid)) for a in yx],
        test_tensor=v.FileDescr(source=folder / "test_input.npy"),
        data=v.IntervalOrRatioDataDescr(type="float32"),
        preprocessing=pre,
    )


def _output(v: Any, folder: Path) -> Any:
    yx = [v.AxisId("y"), v.AxisId("x")]
    return v.OutputTensorDescr(
        id=v.TensorId("rgb"),
        description="colorized image, RGB in [0, 1]",
        axes=[v.BatchAxis(), v.ChannelAxis(channel_names=[v.Identifier(c) for c in "rgb"])]
        + [
            v.SpaceOutputAxis(id=a, size=v.SizeReference(tensor_id=v.TensorId("gray"), axis_id=a))
            for a in yx
        ],
        test_tensor=v.FileDescr(source=folder / "test_output.npy"),
        data=v.IntervalOrRatioDataDescr(type="float32", range=(0.0, 1.0)),
    )


def describe(
    colorizer: Any,
    folder: Path,
    name: str,
    authors: tuple[str, ...],
    license_id: str,
    description: str | None,
    citations: tuple[tuple[str, str], ...],
) -> Any:
    """The ``ModelDescr`` of the files written in ``folder`` (weights, tensors, cover, README)."""
    v = _spec()
    name = re.sub(r"[^A-Za-z0-9_+\- ()]", " ", name).strip()
    name = (name + " colorizer")[:128] if len(name) < 5 else name[:128]
    return v.ModelDescr(
        name=name,
        description=description or "Colorizes grayscale images (napari-colorgan, pix2pix U-Net).",
        authors=[v.Author(name=a) for a in authors],
        cite=[v.CiteEntry(text=text, doi=v.Doi(doi)) for text, doi in citations],
        license=v.LicenseId(license_id),
        covers=[v.FileDescr(source=folder / "cover.png")],
        documentation=v.FileDescr(source=folder / "README.md"),
        tags=["colorization", "image-to-image", "pix2pix", "unet", "2d", "onnx", "napari"],
        version="0.1.0",
        inputs=[_input(v, colorizer, folder)],
        outputs=[_output(v, folder)],
        weights=v.WeightsDescr(
            onnx=v.OnnxWeightsDescr(source=folder / "weights.onnx", opset_version=OPSET)
        ),
    )


def validate(package: Path) -> str:
    """Validate a package with its files (offline); its status, or ValueError with the summary."""
    from bioimageio.spec import load_description

    summary = load_description(package, perform_io_checks=True).validation_summary
    if summary.status not in VALID or summary.errors:
        details = "; ".join(f"{'.'.join(map(str, e.loc))}: {e.msg}" for e in summary.errors)
        raise ValueError(
            f"the bioimage.io package does not validate ({summary.status}): {details}"
        )
    return str(summary.status)
