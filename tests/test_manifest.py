import subprocess
import sys

from npe2 import PluginManifest


def test_manifest_is_valid_and_registered():
    manifest = PluginManifest.from_distribution("napari-colorgan")
    assert manifest.name == "napari-colorgan"


def test_manifest_loads_without_importing_torch():
    code = (
        "from npe2 import PluginManifest; import sys; "
        "PluginManifest.from_distribution('napari-colorgan'); print('torch' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_the_reader_claims_only_model_files_and_needs_no_torch(tmp_path):
    import json
    import struct

    def safetensors_header(path, metadata):
        header = json.dumps({"__metadata__": metadata}).encode()
        path.write_bytes(struct.pack("<Q", len(header)) + header)
        return path

    ours = safetensors_header(tmp_path / "m.safetensors", {"format": "napari-colorgan-model"})
    theirs = safetensors_header(tmp_path / "o.safetensors", {"format": "pt"})
    junk = tmp_path / "j.safetensors"
    junk.write_bytes(b"\xff" * 12)
    code = (
        "import sys; from napari_colorgan._reader import get_reader; "
        f"print([get_reader(p) is not None for p in {[str(ours), str(theirs), str(junk)]!r}], "
        "'torch' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[True, False, False] False"


def test_the_widgets_are_in_the_layers_menu():
    manifest = PluginManifest.from_distribution("napari-colorgan")
    menus = {
        menu: [item.command for item in items]
        for menu, items in manifest.contributions.menus.items()
    }
    assert menus == {
        "napari/layers/visualize": ["napari-colorgan.colorize"],
        "napari/layers/classify": ["napari-colorgan.train"],
        "napari/layers/measure": ["napari-colorgan.evaluate"],
    }
