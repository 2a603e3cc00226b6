"""``napari-colorgan colorize``: colorize a file into zarr/OME-Zarr (resumable) or TIFF."""

from __future__ import annotations

import argparse
import contextlib
import sys
from pathlib import Path
from typing import Any

ZARR_SUFFIXES = (".zarr",)
TIFF_SUFFIXES = (".tif", ".tiff")


def add_parser(sub: Any, slices_help: str) -> None:
    """Register the ``colorize`` subcommand."""
    p = sub.add_parser("colorize", help="colorize a grayscale image or stack")
    p.add_argument("input", help="grayscale image or stack (TIFF, zarr/OME-Zarr, NPY, PNG, FITS)")
    p.add_argument("-o", "--output", required=True, help="OUTPUT.zarr, OUTPUT.ome.zarr or .tif")
    p.add_argument("--model", required=True, help="model file (.safetensors)")
    p.add_argument("--slices", help=slices_help)
    p.add_argument("--tile", type=int, help="window side in pixels (default: from the model)")
    p.add_argument("--overlap", type=int, help="overlap in pixels (default: from the model)")
    p.add_argument("--batch-size", default="auto", help="tiles per forward pass")
    p.add_argument("--device", default="auto", help="auto, cpu, cuda:0, mps")
    p.add_argument("--precision", default="auto", choices=("auto", "fp32", "bf16", "fp16"))
    p.add_argument("--no-resume", action="store_true", help="refuse to continue a partial store")
    p.add_argument("--overwrite", action="store_true", help="replace an existing output")
    p.add_argument("--scheduler", help="dask.distributed scheduler address, e.g. tcp://host:8786")
    p.set_defaults(func=run)


def _client(address: str | None) -> contextlib.AbstractContextManager[Any]:
    if address is None:
        return contextlib.nullcontext()
    try:
        from distributed import Client
    except ImportError:
        raise ImportError("--scheduler needs dask.distributed: pip install distributed") from None
    return Client(address)


def run(args: argparse.Namespace) -> int:
    """Colorize ``args.input`` into ``args.output``."""
    from napari_colorgan.cli import CLIError, parse_slices
    from napari_colorgan.core.infer.graph import as_colorizer
    from napari_colorgan.core.io.images import open_image

    for path, what in ((args.input, "input"), (args.model, "model file")):
        if not Path(path).exists():
            raise CLIError(f"{what} not found: {path}")
    out = Path(args.output)
    suffix = out.suffix.lower()
    if suffix not in ZARR_SUFFIXES + TIFF_SUFFIXES:
        raise CLIError(f"output {out.name}: use a .zarr, .ome.zarr or .tif path")
    data = open_image(args.input)
    sel = parse_slices(args.slices)
    if sel is not None:
        if data.ndim < 3:
            raise CLIError("--slices needs a stack; the input is a single plane")
        data = data[sel]
        if data.shape[0] == 0:
            raise CLIError(f"--slices {args.slices} selects no plane of {data.shape}")
    model = as_colorizer(args.model)
    batch = args.batch_size if args.batch_size == "auto" else int(args.batch_size)
    kwargs = {
        "tile": args.tile,
        "overlap": args.overlap,
        "batch_size": batch,
        "device": args.device,
        "precision": args.precision,
    }
    with _client(args.scheduler):
        if suffix in ZARR_SUFFIXES:
            _to_zarr(data, out, model, args, kwargs)
        else:
            _to_tiff(data, out, model, args, kwargs)
    print(f"wrote {out}")
    return 0


def _to_zarr(data: Any, out: Path, model: Any, args: argparse.Namespace, kwargs: dict) -> None:
    from napari_colorgan.core.events import Progress
    from napari_colorgan.core.infer.zarr_store import colorize_to_zarr_iter

    events = colorize_to_zarr_iter(
        data, out, model, resume=not args.no_resume, overwrite=args.overwrite, **kwargs
    )
    try:
        from tqdm.auto import tqdm
    except ImportError:  # progress is optional
        tqdm = None
    bar = None
    megapixels = _megapixels(data)
    for event in events:
        if not isinstance(event, Progress) or tqdm is None:
            continue
        if bar is None:
            bar = tqdm(total=event.total, initial=event.done, unit="chunk", file=sys.stderr)
        bar.update(event.done - bar.n)
        if event.elapsed > 0:
            rate = (event.done - event.skipped) / event.total * megapixels / event.elapsed
            bar.set_postfix_str(f"{rate:.2f} MP/s")
    if bar is not None:
        bar.close()


def _megapixels(data: Any) -> float:
    size = 1
    for n in data.shape:
        size *= int(n)
    return size / 1e6


def _to_tiff(data: Any, out: Path, model: Any, args: argparse.Namespace, kwargs: dict) -> None:
    """Write plane by plane (bounded memory) into a temporary file, then rename it into place."""
    import numpy as np
    import tifffile

    from napari_colorgan.core.infer.graph import colorize
    from napari_colorgan.core.io.atomic import write_atomic

    if out.exists() and not args.overwrite:
        from napari_colorgan.cli import CLIError

        raise CLIError(f"{out} exists: pass --overwrite to replace it (TIFF output cannot resume)")
    lazy = colorize(data, model, **kwargs)
    planes = lazy.reshape((-1, *lazy.shape[-3:]))

    def write(tmp: str) -> None:
        with tifffile.TiffWriter(tmp, bigtiff=True) as tif:
            for i in range(planes.shape[0]):
                tif.write(np.asarray(planes[i]), photometric="rgb", contiguous=True)

    write_atomic(out, write)
