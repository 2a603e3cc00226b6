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
