"""The ``napari-colorgan`` command line: a thin layer over the Python API.

One module per subcommand (``info``, ``train``, ``evaluate``, ``colorize``, ``demo``), each with
``add_parser`` and ``run``. Every failure caused by the user's input ends with one line on
stderr naming the problem and a non-zero exit status, never a traceback.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

from napari_colorgan.cli import colorize, demo, evaluate, info, train
from napari_colorgan.cli._common import EXIT_USAGE, CLIError
from napari_colorgan.core.version import package_version

__all__ = ["CLIError", "build_parser", "main"]


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with all subcommands."""
    parser = argparse.ArgumentParser(
        prog="napari-colorgan",
        description="Colorize grayscale microscopy and astronomy images with conditional GANs.",
    )
    version = f"napari-colorgan {package_version()}"
    parser.add_argument("--version", action="version", version=version)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for command in (info, train, evaluate, colorize, demo):
        command.add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line with ``argv`` (default: ``sys.argv[1:]``); return the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    func: Callable[[argparse.Namespace], int] | None = getattr(args, "func", None)
    if func is None:
        parser.print_help()
        return EXIT_USAGE
    try:
        return func(args)
    except (ValueError, FileNotFoundError, ImportError, OSError, MemoryError) as err:
        message = str(err).splitlines()[0] if str(err) else type(err).__name__
        print(f"napari-colorgan {args.command}: error: {message}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print(f"napari-colorgan {args.command}: interrupted", file=sys.stderr)
        return 130
