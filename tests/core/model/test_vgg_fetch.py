"""Downloading VGG19 on request, against a loopback HTTP server: hash, resume, refusals."""

import threading

import pytest
import torch

from napari_colorgan.cli import main
from napari_colorgan.core.events import Finished
from napari_colorgan.core.model import vgg_fetch
from napari_colorgan.core.model.vgg import VGG19Features, find_vgg19_weights, read_vgg19_state
from napari_colorgan.core.model.vgg_fetch import (
    DownloadError,
    Downloading,
    downloads_dir,
    fetch_vgg19,
    fetch_vgg19_iter,
)
from napari_colorgan.core.model.vgg_install import sha256_of
from tests._loopback import serving


@pytest.fixture(scope="module")
def payload(tmp_path_factory):
    """A torchvision-layout VGG19 file's bytes (random weights) and its SHA-256."""
    path = tmp_path_factory.mktemp("serve") / "vgg19.pth"
    torch.save(VGG19Features().random_init(seed=3).state_dict(), path)
    return path.read_bytes(), sha256_of(path)


@pytest.fixture
def server(payload):
    with serving(payload[0]) as httpd:
        yield httpd


def _left_in_downloads():
    return sorted(p.name for p in downloads_dir().iterdir()) if downloads_dir().exists() else []


def test_a_download_is_checked_installed_and_cleaned_up(server, payload):
    installed = fetch_vgg19(server.url, sha256=payload[1])
    assert installed == find_vgg19_weights()
    want = VGG19Features().random_init(seed=3).state_dict()
    got = read_vgg19_state(installed)
    assert all(torch.equal(got[k], want[k]) for k in got)
    assert _left_in_downloads() == []  # neither the .part nor the 575 MB .pth stays


def test_a_cut_download_resumes_where_it_stopped(server, payload):
    server.cut_after = 3_000_000
    with pytest.raises(DownloadError, match="cut at 3,000,000 of .* run the same command again"):
        fetch_vgg19(server.url, sha256=payload[1])
    assert find_vgg19_weights() is None
    assert _left_in_downloads() == ["vgg19-dcbb9e9d.pth.part"]
    assert fetch_vgg19(server.url, sha256=payload[1]) == find_vgg19_weights()
    assert server.ranges == [None, "bytes=3000000-"]  # the rest only, not the whole file again


def test_a_stop_keeps_the_bytes_and_the_next_call_continues(server, payload):
    stop = threading.Event()
    events = []
    for event in fetch_vgg19_iter(server.url, sha256=payload[1], stop=stop):
        events.append(event)
        stop.set()  # after the first block
    assert isinstance(events[0], Downloading) and events[0].total == len(payload[0])
    assert events[-1] == Finished(step=0, result=None, stopped=True)
    assert fetch_vgg19(server.url, sha256=payload[1]).is_file()
    assert server.ranges[1] == f"bytes={vgg_fetch.BLOCK}-"


def test_a_corrupt_download_is_refused_and_deleted(server, payload):
    body = bytearray(payload[0])
    body[len(body) // 2] ^= 0xFF
    server.body = bytes(body)
    with pytest.raises(ValueError, match="SHA-256 differs from the published one.*deleted"):
        fetch_vgg19(server.url, sha256=payload[1])
    assert find_vgg19_weights() is None and _left_in_downloads() == []


def test_a_server_ignoring_ranges_starts_again_from_zero(server, payload):
    server.cut_after = 1_000_000
    with pytest.raises(DownloadError):
        fetch_vgg19(server.url, sha256=payload[1])
    server.honour_range = False
    assert fetch_vgg19(server.url, sha256=payload[1]).is_file()


def test_an_unreachable_address_says_so(server):
    url = server.url
    server.shutdown()
    server.server_close()
    with pytest.raises(DownloadError, match="cannot reach http://127.0.0.1"):
        fetch_vgg19(url)


def test_the_command_downloads_on_request(server, payload, monkeypatch, capsys):
    monkeypatch.setattr(vgg_fetch, "VGG19_SHA256", payload[1])
    server.cut_after = 2_000_000
    assert main(["fetch-weights", "vgg19", "--url", server.url]) == 2
    assert "run the same command again to continue" in capsys.readouterr().err
    assert main(["fetch-weights", "vgg19", "--url", server.url]) == 0
    assert "installed" in capsys.readouterr().out and find_vgg19_weights() is not None
    assert main(["fetch-weights", "vgg19", "--url", server.url]) == 0
    assert "--again downloads them anew" in capsys.readouterr().out
    assert len(server.ranges) == 2  # installed weights are not downloaded again


def test_published_weights_are_refused_when_the_hash_is_not_theirs(server):
    with pytest.raises(ValueError, match="SHA-256 differs"):
        fetch_vgg19(server.url)  # torchvision's published hash, random weights served


def test_the_network_guard_of_the_tests_holds():
    with pytest.raises(DownloadError, match="tests reach no network"):
        fetch_vgg19("http://192.0.2.1/vgg19-dcbb9e9d.pth")  # TEST-NET-1: never routed
