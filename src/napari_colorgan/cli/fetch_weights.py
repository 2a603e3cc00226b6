"""``napari-colorgan fetch-weights``: download, or install, the ImageNet VGG19 weights.

``fetch-weights vgg19`` downloads torchvision's file on this request only (575 MB, resumable:
run it again after a cut or Ctrl-C), checks it against the published SHA-256 and installs it
where ``perceptual_weights="auto"`` looks. ``--from FILE`` installs a copy downloaded by other
means, checked the same way.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any


def add_parser(sub: Any) -> None:
    """Register the ``fetch-weights`` subcommand."""
    p = sub.add_parser(
        "fetch-weights",
        help="download (or install) ImageNet VGG19 weights, checked by hash",
    )
    p.add_argument("name", choices=("vgg19",), help="which weights")
    p.add_argument("--from", dest="source", help="install this downloaded file instead")
    p.add_argument("--url", help="download from this mirror instead of torchvision's address")
    p.add_argument("--again", action="store_true", help="download even if weights are installed")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Install ``args.source``, or download the weights unless they are installed."""
    from napari_colorgan.core.model.vgg import installed_vgg19
    from napari_colorgan.core.model.vgg_install import install_vgg19

    if args.source:
        path = install_vgg19(args.source)
    else:
        have = installed_vgg19()
        if have is not None and not args.again:
            print(f"VGG19 ImageNet weights installed: {have} (--again downloads them anew)")
            return 0
        path = _download(args.url)
    print(f"installed {path}: training's perceptual_weights='auto' now uses it")
    return 0


def _download(url: str | None) -> Any:
    """Download with a progress bar on stderr; Ctrl-C keeps what arrived for the next run."""
    from tqdm import tqdm

    from napari_colorgan.core.events import Finished
    from napari_colorgan.core.model.vgg_fetch import (
        VGG19_BYTES,
        Downloading,
        downloads_dir,
        fetch_vgg19_iter,
    )
    from napari_colorgan.core.model.vgg_install import VGG19_URL

    url = url or VGG19_URL
    print(
        f"downloading {url} ({VGG19_BYTES / 1e6:.0f} MB) into {downloads_dir()}", file=sys.stderr
    )
    bar = tqdm(unit="B", unit_scale=True, file=sys.stderr, disable=None)
    result = None
    try:
        for event in fetch_vgg19_iter(url):
            if isinstance(event, Downloading):
                bar.total = event.total
                bar.update(event.done - bar.n)
            elif isinstance(event, Finished):
                result = event.result
    except KeyboardInterrupt:
        bar.close()
        print("stopped: run the same command again to continue the download", file=sys.stderr)
        raise
    bar.close()
    return result
