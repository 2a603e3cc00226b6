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
