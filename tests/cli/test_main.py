import json
import subprocess
import sys

from napari_colorgan import __version__
from napari_colorgan.cli import main


def test_version(capsys):
    try:
        main(["--version"])
    except SystemExit as stop:
        assert stop.code == 0
    assert capsys.readouterr().out.strip() == f"napari-colorgan {__version__}"


def test_info_prints_the_metadata(tiny_colorizer, tmp_path, capsys):
    path = tiny_colorizer.save(tmp_path / "m.safetensors")
    assert main(["info", str(path)]) == 0
    out = capsys.readouterr().out
    assert "U-Net 4 levels, ngf 8" in out
    assert "receptive field 62 px" in out
    assert '"method": "minmax"' in out


def test_info_json(tiny_colorizer, tmp_path, capsys):
    path = tiny_colorizer.save(tmp_path / "m.safetensors")
    assert main(["info", "--json", str(path)]) == 0
    meta = json.loads(capsys.readouterr().out)
    assert meta["model"]["ngf"] == 8 and meta["format_version"] == 1


def test_bad_model_file_is_one_line_and_exit_2(tmp_path, capsys):
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(b"garbage")
    assert main(["info", str(bad)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "napari-colorgan info: error:" in err
    assert main(["info", str(tmp_path / "missing.safetensors")]) == 2
    assert "model file not found" in capsys.readouterr().err


def test_console_script_is_installed():
    out = subprocess.run(
        [sys.executable, "-m", "napari_colorgan.cli", "--version"], capture_output=True, text=True
    )
    assert out.returncode == 0 and __version__ in out.stdout


def test_no_command_prints_help(capsys):
    assert main([]) == 2
    assert "info" in capsys.readouterr().out


def test_an_unexpected_error_is_one_line_naming_the_kept_traceback(
    tiny_colorizer, tmp_path, capsys, monkeypatch
):
    from napari_colorgan.cli import info

    def bug(_args):
        raise RuntimeError("an internal mistake\nwith a second line")

    monkeypatch.setattr(info, "run", bug)
    monkeypatch.setenv("NAPARI_COLORGAN_LOG_DIR", str(tmp_path / "logs"))
    assert main(["info", str(tmp_path / "m.safetensors")]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert "napari-colorgan info: unexpected error (RuntimeError: an internal mistake)" in err
    (log,) = (tmp_path / "logs").iterdir()
    assert str(log) in err and "Traceback" in log.read_text() and "in bug" in log.read_text()


def test_a_nan_loss_is_a_user_facing_error(tmp_path, capsys, monkeypatch):
    from napari_colorgan.cli import info
    from napari_colorgan.core.train.loop import NonFiniteLossError

    def diverged(_args):
        raise NonFiniteLossError("loss ['g_total'] became NaN/Inf at step 3: lower lr")

    monkeypatch.setattr(info, "run", diverged)
    assert main(["info", "x"]) == 2
    assert "napari-colorgan info: error: loss ['g_total'] became NaN" in capsys.readouterr().err
