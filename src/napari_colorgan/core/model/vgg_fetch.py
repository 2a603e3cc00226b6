"""Download torchvision's VGG19 ImageNet weights when the user asks: resumable, hash checked.

Called only from ``napari-colorgan fetch-weights vgg19`` and the Train widget's download button,
never by training or tests on their own. The bytes go to a ``.part`` file in the user cache,
continued with an HTTP ``Range`` request after a cut or a stop; the finished file is handed to
pooch, which checks it against the published SHA-256 and moves it into place (or deletes it when
it does not match, so nothing corrupt stays); it is then converted and installed as
``fetch-weights --from`` does, and the 550 MB download removed.
"""

from __future__ import annotations

import http.client
import os
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from ..events import Event, Finished, StopSignal
from .vgg import VGG19_FILENAME, weights_dir
from .vgg_install import VGG19_URL, install_vgg19

#: SHA-256 of torchvision's ``vgg19-dcbb9e9d.pth`` (its file name carries the first 8 digits).
VGG19_SHA256 = "dcbb9e9dad569fff7a846263a77324fc34978fea2bfb039c012d710e1776ae44"
#: Its size in bytes, shown before the download starts.
VGG19_BYTES = 574_673_361
#: Bytes read between progress events and stop checks.
BLOCK = 1 << 20


class DownloadError(ConnectionError):
    """The download could not finish; what was received is kept for the next try."""


@dataclass(frozen=True)
class Downloading(Event):
    """Bytes received so far (``total`` None when the server does not say)."""

    done: int
    total: int | None
    elapsed: float


def downloads_dir() -> Path:
    """Where downloads wait (``.part``) and are checked, inside the user cache."""
    return weights_dir() / "downloads"


def fetch_vgg19_iter(
    url: str = VGG19_URL,
    sha256: str | None = None,
    stop: StopSignal | None = None,
    timeout: float = 30.0,
) -> Iterator[Event]:
    """Download, check and install the VGG19 weights; :class:`Downloading` events, then the path.

    Parameters
    ----------
    url
        Where to download from (torchvision's address, or a mirror).
    sha256
        The file's SHA-256 (default: torchvision's published :data:`VGG19_SHA256`).
    stop
        Set it to stop after the current block; the bytes so far are kept and the next call
        continues from them.
    timeout
        Seconds without an answer from the server before giving up (resumable).

    Yields
    ------
    Downloading, then Finished
        ``Finished.result`` is the installed safetensors path, or None when stopped.

    Raises
    ------
    DownloadError
        The server is unreachable or the connection was cut (run again to resume).
    ValueError
        The finished download does not match ``sha256`` (it is deleted).
    """
    sha256 = sha256 or VGG19_SHA256
    folder = downloads_dir()
    folder.mkdir(parents=True, exist_ok=True)
    part = folder / (VGG19_FILENAME + ".part")
    complete = yield from _download_iter(url, part, stop, timeout)
    if not complete:
        yield Finished(step=0, result=None, stopped=True)
        return
    checked = _check_with_pooch(url, part, sha256, folder)
    installed = install_vgg19(checked, prefix=sha256[:8])
    checked.unlink()  # the installed copy holds what training needs
    yield Finished(step=0, result=installed)


def fetch_vgg19(url: str = VGG19_URL, sha256: str | None = None) -> Path:
    """:func:`fetch_vgg19_iter` run to the end: the installed weights' path."""
    result = None
    for event in fetch_vgg19_iter(url, sha256):
        if isinstance(event, Finished):
            result = event.result
    assert result is not None
    return result


def _download_iter(
    url: str, part: Path, stop: StopSignal | None, timeout: float
) -> Iterator[Downloading]:
    """Append the rest of ``url`` to ``part``; returns whether it is complete."""
    have = part.stat().st_size if part.exists() else 0
    request = urllib.request.Request(url, headers={"Range": f"bytes={have}-"} if have else {})
    start = time.monotonic()
    try:
        response = urllib.request.urlopen(request, timeout=timeout)
    except urllib.error.HTTPError as err:
        if err.code == 416 and have:  # nothing left to send: the part is whole
            return True
        raise DownloadError(f"{url} answered HTTP {err.code} ({err.reason})") from err
    except (urllib.error.URLError, OSError) as err:
        raise DownloadError(f"cannot reach {url}: {_reason(err)}; check the address") from err
    with response:
        if have and response.status != 206:
            have = 0  # the server ignored the range: start again from byte 0
        length = response.headers.get("Content-Length")
        total = have + int(length) if length is not None else None
        done = have
        with open(part, "ab" if have else "wb") as fh:
            while True:
                try:
                    block = response.read(BLOCK)
                except (http.client.HTTPException, OSError) as err:
                    raise _cut(url, done, total) from err
                if not block:
                    break
                fh.write(block)
                done += len(block)
                yield Downloading(done, total, time.monotonic() - start)
                if stop is not None and stop.is_set():
                    return False
    if total is not None and done < total:
        raise _cut(url, done, total)
    return True


def _cut(url: str, done: int, total: int | None) -> DownloadError:
    of = f" of {total:,}" if total else ""
    return DownloadError(
        f"the download from {url} was cut at {done:,}{of} bytes; run the same command again "
        "to continue from there"
    )


def _reason(err: BaseException) -> str:
    return str(getattr(err, "reason", None) or err)


def _check_with_pooch(url: str, part: Path, sha256: str, folder: Path) -> Path:
    """Hand the finished ``part`` to pooch: hash checked, moved into place or deleted."""
    import pooch

    def hand_over(_url: str, output: str, _pooch: object) -> None:
        os.replace(part, output)  # pooch's temporary name, hashed before it is kept

    target = folder / VGG19_FILENAME
    target.unlink(missing_ok=True)  # a stale copy would be taken without our download
    try:
        path = pooch.retrieve(
            url,
            known_hash=f"sha256:{sha256}",
            fname=target.name,
            path=folder,
            downloader=hand_over,
        )
    except ValueError as err:
        raise ValueError(
            f"the file downloaded from {url} is not torchvision's {VGG19_FILENAME}: its "
            "SHA-256 differs from the published one (a corrupted transfer, or another file at "
            "that address); it was deleted, run again to download it anew"
        ) from err
    return Path(path)
