"""``napari-colorgan info``: what a model file or a colorized store holds."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any


def add_parser(sub: Any) -> None:
    """Register the ``info`` subcommand."""
    p = sub.add_parser("info", help="print what a model file or a colorized store holds")
    p.add_argument("model", help="a model file (.safetensors) or a colorized store (.ome.zarr)")
    p.add_argument("--json", action="store_true", help="print the raw metadata as JSON")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Print the model's architecture and its stored settings (or what a store holds)."""
    from napari_colorgan.core.model.file import read_metadata

    if Path(args.model).is_dir():
        return _store(args)
    meta = read_metadata(args.model)
    if args.json:
        print(json.dumps(meta, indent=2, sort_keys=True))
        return 0
    from napari_colorgan.core.model.colorizer import Colorizer

    model = Colorizer.load(args.model)
    print(f"{args.model}: napari-colorgan model (format {meta['format_version']})")
    print(f"  architecture  {model.describe()}")
    for section in ("model", "normalization", "training", "provenance"):
        if meta[section]:
            print(f"  {section:<13} {json.dumps(meta[section], sort_keys=True)}")
    return 0


def _store(args: argparse.Namespace) -> int:
    """Layout, axes, levels and progress of a colorized store, and how to open it."""
    from napari_colorgan.core.infer.store_check import store_summary
    from napari_colorgan.core.io.images import damaged_zarr_json

    damaged = damaged_zarr_json(Path(args.model))
    if damaged is not None:
        raise ValueError(damaged)
    try:
        info = store_summary(args.model)
    except Exception as err:  # zarr raises many kinds for a folder that is no store
        raise ValueError(f"{args.model}: not a zarr store ({err})") from None
    if info["layout"] == "unknown" and not args.json:
        return _not_ours(args.model)
    if args.json:
        print(json.dumps(info, indent=2, sort_keys=True))
        return 0
    state = "finished" if info["finished"] else "unfinished: run the same colorize to finish it"
    print(f"{args.model}: colorized store, layout {info['layout']}, {state}")
    if info["chunks"] is not None:
        print(f"  chunks        {info['chunks_done']}/{info['chunks']} done")
    if info["tiling"]:
        tiling = info["tiling"]
        print(
            f"  tiling        windows up to {tiling['tile']} px, overlap >= {tiling['overlap']} px"
        )
    if info["axes"]:
        axes = [f"{a['name']} ({a['scale']:g} {a.get('unit') or 'px'})" for a in info["axes"]]
        print(f"  axes          {', '.join(axes)}")
        print(f"  levels        {' > '.join('x'.join(map(str, s)) for s in info['levels'])}")
    _leftovers(Path(args.model))
    if info["layout"] == "0.1":
        print(f"  convert it:   napari-colorgan convert {args.model} -o NEW.ome.zarr")
    elif info["finished"]:
        print(f"  open it in napari: napari {args.model}")
        print(f"  in Python: napari_colorgan.open_multiscale({str(args.model)!r})[0]")
    return 0


def _not_ours(path: str) -> int:
    """A zarr folder without napari-colorgan's record: say what it is, never "finished"."""
    import zarr

    from napari_colorgan.core.infer.store_check import foreign_ome_version

    version = foreign_ome_version(zarr.open_group(path, mode="r"))
    if version is None:
        raise ValueError(
            f"{path}: a zarr store, but neither a colorized store nor an OME-Zarr image"
        )
    print(
        f"{path}: an OME-Zarr image (NGFF {version}) not written by napari-colorgan; "
        f"colorize it with `napari-colorgan colorize {path} -o OUT.ome.zarr --model MODEL`"
    )
    return 0


def _leftovers(path: Path) -> None:
    """Name the hidden neighbours a killed run left beside the store (they can be large)."""
    from napari_colorgan.core.infer.store_check import stored_keys
    from napari_colorgan.core.io.atomic import sibling

    for tag, what in (("old", "the previous result"), ("new", "an unfinished replacement")):
        left = sibling(path, tag)
        if left.exists():
            size = sum(stored_keys(left).values()) if left.is_dir() else left.stat().st_size
            print(
                f"  left beside   {left.name} ({size / 1e6:.1f} MB, {what}): the next colorize "
                "into this store removes or finishes it; delete it to free the space now"
            )
