"""bioimage.io export: a package that validates, whose ONNX graph reproduces the model."""

import zipfile

import numpy as np
import pytest
import torch

from napari_colorgan.core.model.colorizer import Colorizer
from napari_colorgan.core.model.config import InputNormalization, ModelConfig

pytest.importorskip("bioimageio.spec")
pytest.importorskip("onnxruntime")

from napari_colorgan.core.model.bioimageio import export_bioimageio, preprocess


def model(**config) -> Colorizer:
    cfg = ModelConfig(**{"num_downs": 4, "ngf": 8, "tile": 64, "dropout": False, **config})
    norm = InputNormalization("percentile", 10.0, 230.0)
    return Colorizer.from_config(cfg, seed=3, normalization=norm)


def run_onnx(package, raw):
    """The package's preprocessing (as declared) and ONNX weights on raw input."""
    import onnxruntime

    with zipfile.ZipFile(package) as z:
        session = onnxruntime.InferenceSession(z.read("weights.onnx"))
    return session.run(None, {"input": raw})[0]


@pytest.mark.parametrize(
    "config",
    [
        {},  # Lab colour model, percentile normalisation
        {"color_space": "rgb", "chroma_gain": 1.3},
        {"classes": ((1, 230, 60, 50), (2, 40, 90, 255)), "context": 1},
    ],
    ids=["lab", "rgb-gain", "classes-context"],
)
def test_the_package_validates_and_reproduces_the_model(tmp_path, config):
    m = model(**config)
    out = export_bioimageio(m, tmp_path / "m.zip", name="test model", authors=("A. Person",))
    from bioimageio.spec import load_description

    descr = load_description(out, perform_io_checks=True)
    assert descr.validation_summary.status in ("valid-format", "passed")
    names = set(zipfile.ZipFile(out).namelist())
    assert {"rdf.yaml", "weights.onnx", "test_input.npy", "test_output.npy", "cover.png"} <= names
    # On new raw data, declared preprocessing + ONNX = the model's own colorize_plane.
    raw = np.random.default_rng(0).uniform(0, 255, (1, 2 * m.config.context + 1, 64, 96))
    raw = raw.astype(np.float32)
    rgb = run_onnx(out, preprocess(raw, m.normalization))
    if not m.config.context:
        ours = m.colorize_plane(raw[0, 0]).astype(np.float32) / 255
        assert np.abs(np.moveaxis(rgb[0], 0, -1) - ours).max() <= 1 / 255 + 1e-4


def test_asinh_normalisation_is_inside_the_graph(tmp_path):
    norm = InputNormalization("asinh", 5.0, 4.0, 2.0)
    m = Colorizer.from_config(
        ModelConfig(num_downs=4, ngf=8, tile=64, dropout=False), seed=1, normalization=norm
    )
    out = export_bioimageio(m, tmp_path / "astro.zip", name="astro model")
    raw = np.random.default_rng(1).gamma(2.0, 20.0, (1, 1, 64, 64)).astype(np.float32)
    rgb = run_onnx(out, preprocess(raw, norm))  # asinh declares no preprocessing
    ours = m.colorize_plane(raw[0, 0]).astype(np.float32) / 255
    assert np.abs(np.moveaxis(rgb[0], 0, -1) - ours).max() <= 1 / 255 + 1e-4


def test_a_graph_that_differs_is_not_written(tmp_path, monkeypatch):
    from napari_colorgan.core.model import bioimageio

    m = model()
    original = bioimageio.ExportedColorizer.forward
    monkeypatch.setattr(bioimageio, "TOLERANCE", -1.0)  # nothing matches: refuse
    with pytest.raises(RuntimeError, match="differs from the model"):
        export_bioimageio(m, tmp_path / "bad.zip")
    assert not (tmp_path / "bad.zip").exists()
    assert bioimageio.ExportedColorizer.forward is original


def test_nan_input_pixels_colour_as_zero_like_the_model(tmp_path):
    m = model()
    out = export_bioimageio(m, tmp_path / "m.zip", name="test model")
    raw = np.random.default_rng(2).uniform(0, 255, (1, 1, 64, 64)).astype(np.float32)
    raw[0, 0, 10:20, 10:20] = np.nan
    rgb = run_onnx(out, preprocess(raw, m.normalization))
    assert np.isfinite(rgb).all()
    ours = m.colorize_plane(raw[0, 0]).astype(np.float32) / 255
    assert np.abs(np.moveaxis(rgb[0], 0, -1) - ours).max() <= 1 / 255 + 1e-4


def test_a_sample_too_small_is_refused(tmp_path):
    with pytest.raises(ValueError, match="at least 128 x 128"):
        export_bioimageio(model(), tmp_path / "m.zip", sample=np.zeros((50, 50)))


def test_bioimageio_core_runs_the_package(tmp_path):
    core = pytest.importorskip("bioimageio.core")
    out = export_bioimageio(model(), tmp_path / "m.zip", name="core test model")
    assert core.test_model(out).status == "passed"


def test_torch_weights_stay_untouched_by_export(tmp_path):
    m = model()
    before = {k: v.clone() for k, v in m.generator.state_dict().items()}
    export_bioimageio(m, tmp_path / "m.zip", name="test model")
    after = m.generator.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)
