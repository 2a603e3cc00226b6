"""The package and its core must import without napari, Qt or magicgui (scripts, dask workers)."""

import subprocess
import sys
from pathlib import Path

import pytest

GUI_MODULES = ("napari", "qtpy", "PyQt5", "PyQt6", "PySide2", "PySide6", "magicgui", "superqt")


@pytest.mark.parametrize(
    "statement",
    [
        "import napari_colorgan",
        "import napari_colorgan.core",
        "import napari_colorgan.core.model.colorizer, napari_colorgan.core.train.losses, "
        "napari_colorgan.core.metrics, napari_colorgan.core.train.step, napari_colorgan.cli",
        "import napari_colorgan; napari_colorgan.Colorizer; napari_colorgan.metrics.evaluate",
    ],
)
def test_no_gui_module_is_imported(statement):
    code = (
        f"{statement}\nimport sys\nprint(','.join(m for m in {GUI_MODULES!r} if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_package_import_does_not_load_torch():
    # napari imports the package to read the manifest: that must stay cheap.
    code = "import napari_colorgan, sys; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_configs_and_the_view_bookkeeping_do_not_load_torch():
    # napari's thread reads these when a colour layer is added; torch loads in the worker.
    code = (
        "import sys, napari_colorgan._widgets, napari_colorgan.core.infer.config, "
        "napari_colorgan.core.train.config, napari_colorgan.core.infer.tile_cache, "
        "napari_colorgan.core.infer.tile_levels, napari_colorgan.core.model.config; "
        "print('torch' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_core_sources_never_import_gui_packages():
    core = Path(__file__).parents[1] / "src" / "napari_colorgan" / "core"
    for path in core.rglob("*.py"):
        for line in path.read_text().splitlines():
            words = line.strip().split()
            if len(words) >= 2 and words[0] in ("import", "from"):
                assert words[1].split(".")[0] not in GUI_MODULES, f"{path}: {line}"
