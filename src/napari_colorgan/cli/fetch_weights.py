"""``napari-colorgan fetch-weights``: install pretrained weights the user downloaded.

Nothing is downloaded here (the project reaches no network at run time): the command says where
torchvision publishes the file, then checks and installs the copy the user brings.
"""

from __future__ import annotations

import argparse
from typing import Any

from napari_colorgan.cli._common import CLIError


def add_parser(sub: Any) -> None:
    """Register the ``fetch-weights`` subcommand."""
    p = sub.add_parser(
        "fetch-weights", help="install ImageNet VGG19 weights you downloaded (checked by hash)"
    )
    p.add_argument("name", choices=("vgg19",), help="which weights")
    p.add_argument("--from", dest="source", help="the downloaded file (vgg19-dcbb9e9d.pth)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Install ``args.source`` or say how to get it."""
    from napari_colorgan.core.model.vgg import installed_vgg19
    from napari_colorgan.core.model.vgg_install import VGG19_URL, install_vgg19

    if not args.source:
        how = (
            "napari-colorgan downloads nothing itself: download "
            f"{VGG19_URL} (with a browser or curl), then run "
            "`napari-colorgan fetch-weights vgg19 --from vgg19-dcbb9e9d.pth`"
        )
        have = installed_vgg19()
        if have is None:
            raise CLIError(f"VGG19 ImageNet weights are not installed. {how}")
        print(f"VGG19 ImageNet weights installed: {have}")
        return 0
    path = install_vgg19(args.source)
    print(f"installed {path}: training's perceptual_weights='auto' now uses it")
    return 0
