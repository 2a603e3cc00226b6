"""``napari-colorgan colorize``: colorize a file into zarr/OME-Zarr (resumable) or TIFF."""

from __future__ import annotations

import argparse
import contextlib
import math
from pathlib import Path
from typing import Any

from napari_colorgan.cli._common import CLIError, require

ZARR_SUFFIXES = (".zarr",)
TIFF_SUFFIXES = (".tif", ".tiff")


def add_parser(sub: Any) -> None:
    """Register the ``colorize`` subcommand; defaults and choices come from ``ColorizeConfig``."""
    from napari_colorgan.core.infer.config import FLIPS
    from napari_colorgan.core.infer.config import ColorizeConfig as C

    p = sub.add_parser("colorize", help="colorize a grayscale image or stack")
    p.add_argument("input", help="grayscale image or stack (TIFF, zarr/OME-Zarr, NPY, PNG, FITS)")
    p.add_argument("-o", "--output", required=True, help="OUTPUT.zarr, OUTPUT.ome.zarr or .tif")
    p.add_argument("--model", required=True, help="model file (.safetensors)")
    p.add_argument("--slices", help="planes of the first axis, e.g. 0:20")
    p.add_argument(
        "--tile", type=int, help="largest window side in px (default: least work that fits memory)"
    )
    p.add_argument("--overlap", type=int, help="least overlap in px (default: from the model)")
    p.add_argument(
        "--batch-size", default=C.default("batch_size"), help="windows per forward pass"
    )
    p.add_argument("--device", default=C.default("device"), help=", ".join(C.choices("device")))
    p.add_argument("--precision", default=C.default("precision"), choices=C.choices("precision"))
    p.add_argument(
        "--block-size", type=int, default=C.default("block_size"), help="output chunk side in px"
    )
    p.add_argument(
        "--flips",
        type=int,
        default=C.default("flips"),
        choices=FLIPS,
        help="test-time flips: views of each window averaged (that many times the compute)",
    )
    p.add_argument(
        "--classes",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="also write the class map of a model trained on labels (default: when it has "
        "classes): labels/classes of the OME-Zarr store, or OUTPUT.classes.tif",
    )
    p.add_argument(
        "--confidence",
        action="store_true",
        help="also write the model's confidence in each pixel's class (0-1): the store's "
        "confidence image, or OUTPUT.confidence.tif",
    )
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
    from napari_colorgan.core.infer.config import ColorizeConfig

    require(input=args.input, model_file=args.model)
    out = Path(args.output)
    suffix = out.suffix.lower()
    if suffix not in ZARR_SUFFIXES + TIFF_SUFFIXES:
        raise CLIError(f"output {out.name}: use a .zarr, .ome.zarr or .tif path")
    # A number goes through as one; anything else goes to core, whose message names it.
    text = args.batch_size
    config = ColorizeConfig(
        tile=args.tile,
        overlap=args.overlap,
        batch_size=int(text) if text.lstrip("-").isdigit() else text,
        device=args.device,
        precision=args.precision,
        block_size=args.block_size,
        slices=args.slices,
        flips=args.flips,
    )
    if args.confidence and args.classes is False:
        raise CLIError("--confidence is the class map's: leave out --no-classes")
    with _client(args.scheduler):
        if suffix in ZARR_SUFFIXES:
            _to_zarr(out, args, config)
            print(f"wrote {out}: OME-Zarr 0.5, colours as channel axis c")
            print(f"  open it in napari: napari {out}")
            print(f"  in Python: napari_colorgan.open_multiscale({str(out)!r})[0]")
        else:
            for path, what in _to_tiff(out, args, config):
                print(f"wrote {path}: {what}, one page per plane")
    return 0


def _to_zarr(out: Path, args: argparse.Namespace, config: Any) -> None:
    from napari_colorgan.core.infer.store_fate import check_not_input
    from napari_colorgan.core.infer.zarr_store import ZarrTarget, colorize_to_zarr_iter
    from napari_colorgan.core.io.images import open_image
    from napari_colorgan.core.progress import drive_chunks

    check_not_input(args.input, out)  # said before "exists": that it is the input matters
    if args.no_resume and out.exists() and not args.overwrite:
        # Said here, in the command line's words; core's message speaks of if_exists.
        raise CLIError(
            f"{out} exists and --no-resume was given: leave out --no-resume to finish it, or "
            "pass --overwrite to replace it"
        )
    if_exists = "overwrite" if args.overwrite else "fail" if args.no_resume else "resume"
    # The path, not the opened array: the store carries the file's axes, units and scale.
    target = ZarrTarget(out, if_exists, classes=args.classes, confidence=args.confidence)
    events = colorize_to_zarr_iter(args.input, target, args.model, config)
    shape = list(open_image(args.input).shape)
    if config.selection is not None:
        shape[0] = len(range(shape[0])[config.selection])
    for _event in drive_chunks(events, megapixels=math.prod(shape) / 1e6):
        pass


def _to_tiff(out: Path, args: argparse.Namespace, config: Any) -> list[tuple[Path, str]]:
    """Write plane by plane (bounded memory) into temporary files, then rename them into place.

    A class model's class map and confidence go beside: ``OUT.classes.tif`` (label ids) and
    ``OUT.confidence.tif`` (float32, 0-1), from the same computed blocks. Returns what was
    written.
    """
    import dataclasses

    from napari_colorgan.core.infer.class_maps import decode_confidence
    from napari_colorgan.core.infer.graph import build_graph
    from napari_colorgan.core.infer.job import as_colorizer, prepare
    from napari_colorgan.core.infer.store_fate import check_not_input
    from napari_colorgan.core.io.fingerprint import input_fingerprint
    from napari_colorgan.core.model.config import label_ids
    from napari_colorgan.core.progress import print_planned

    check_not_input(args.input, out)  # replacing it would destroy the input
    model = as_colorizer(args.model)
    classes = bool(model.config.classes) if args.classes is None else args.classes
    classes = classes or args.confidence
    outputs = [(out, "RGB TIFF")]
    if classes:
        outputs.append((_beside(out, "classes"), "class map TIFF (label ids)"))
    if args.confidence:
        outputs.append((_beside(out, "confidence"), "confidence TIFF (float32, 0-1)"))
    for path, _what in outputs:
        if path.exists() and not args.overwrite:
            raise CLIError(
                f"{path} exists: pass --overwrite to replace it (TIFF output cannot resume)"
            )
    job = prepare(args.input, model, dataclasses.replace(config, classes=classes))
    input_fingerprint(job.source)  # refuses an all-NaN input, as the zarr output does
    print_planned(job.planned())  # once the input is known good: an error stays one line
    lazy = build_graph(job)
    planes = lazy.reshape((-1, *lazy.shape[-3:]))
    lut = label_ids(model.config) if classes else None
    parts = [
        lambda block: block[..., :3],
        lambda block: lut[block[..., 3]],
        lambda block: decode_confidence(block[..., 4]),
    ][: len(outputs)]
    _write_tiffs([p for p, _ in outputs], planes, parts)
    return outputs


def _beside(out: Path, what: str) -> Path:
    """``cells.tif`` -> ``cells.classes.tif``."""
    return out.with_name(f"{out.stem}.{what}{out.suffix}")


def _write_tiffs(paths: list[Path], planes: Any, parts: list[Any]) -> None:
    """Each plane computed once, a part of it into each TIFF; all renamed into place at the end."""
    import numpy as np
    import tifffile

    from napari_colorgan.core.io.atomic import write_atomic

    def write(k: int, tmps: list[str]) -> None:
        if k < len(paths):  # nest the atomic writes: every file is renamed only once all are
            write_atomic(paths[k], lambda tmp: write(k + 1, [*tmps, tmp]))
            return
        with contextlib.ExitStack() as stack:
            tifs = [stack.enter_context(tifffile.TiffWriter(t, bigtiff=True)) for t in tmps]
            for i in range(planes.shape[0]):
                block = np.asarray(planes[i])
                for tif, part in zip(tifs, parts, strict=True):
                    data = part(block)
                    rgb = "rgb" if data.ndim == 3 else "minisblack"
                    tif.write(data, photometric=rgb, contiguous=True)

    write(0, [])
