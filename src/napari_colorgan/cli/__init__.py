"""The ``napari-colorgan`` command line: a thin layer over the Python API.

One module per subcommand (``info``, ``train``, ``evaluate``, ``colorize``, ``convert``,
``export``, ``demo``), each with ``add_parser`` and ``run``. Every failure caused by the user's
input ends with one line on stderr, ``napari-colorgan CMD: error: ...``, and exit status 2,
never a traceback. An unexpected error (a bug) also ends with one line, naming the log file
that keeps its traceback, and exit status 1.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import tempfile
import time
import traceback
import warnings
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from napari_colorgan.cli import (
    colorize,
    convert,
    demo,
    evaluate,
    export,
    fetch_weights,
    info,
    train,
)
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
    for command in (info, train, evaluate, colorize, convert, export, fetch_weights, demo):
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
        with _warnings_as_notes(args.command):
            return func(args)
    except EXPECTED as err:
        print(f"napari-colorgan {args.command}: error: {_first_line(err)}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print(f"napari-colorgan {args.command}: interrupted", file=sys.stderr)
        return 130
    except Exception as err:  # a bug: one line for the user, the traceback kept for the report
        where = _keep_traceback(args.command)
        print(
            f"napari-colorgan {args.command}: unexpected error ({type(err).__name__}: "
            f"{_first_line(err)}); please report it with the traceback in {where}",
            file=sys.stderr,
        )
        return EXIT_UNEXPECTED


#: Failures with a message meant for the user (a NaN loss is a FloatingPointError).
EXPECTED = (ValueError, FileNotFoundError, ImportError, OSError, MemoryError, FloatingPointError)
#: Exit status of an unexpected error (a bug), told apart from bad input (2).
EXIT_UNEXPECTED = 1


def _first_line(err: BaseException) -> str:
    return str(err).splitlines()[0] if str(err).strip() else type(err).__name__


def _keep_traceback(command: str) -> str:
    """Write the current exception's traceback to a log file; return where (or why not)."""
    folder = Path(os.environ.get("NAPARI_COLORGAN_LOG_DIR") or tempfile.gettempdir())
    stamp = time.strftime("%Y%m%d-%H%M%S")
    path = folder / f"napari-colorgan-{command}-{stamp}-{os.getpid()}.log"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        path.write_text(traceback.format_exc())
    except OSError as err:
        return f"(nowhere: writing {path} failed: {err})"
    return str(path)


@contextlib.contextmanager
def _warnings_as_notes(command: str) -> Iterator[None]:
    """Our warnings (a pixel size replaced, a blended tiling) as one ``note:`` line each."""
    shown = warnings.showwarning

    def note(message: Any, category: Any, *_args: Any, **_kwargs: Any) -> None:
        if issubclass(category, UserWarning):
            print(f"napari-colorgan {command}: note: {_first_line(message)}", file=sys.stderr)
        else:
            shown(message, category, *_args, **_kwargs)

    warnings.showwarning = note
    try:
        yield
    finally:
        warnings.showwarning = shown
