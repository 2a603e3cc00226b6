import dask.array as da
import numpy as np
import pytest
import tifffile
import zarr

from napari_colorgan.core.model.config import InputNormalization
from napari_colorgan.core.train.data import AnnotatedStack
from napari_colorgan.core.train.sampler import PatchSampler, signal_anchors, split_regions

NORM = InputNormalization("minmax", 0, 255)


def stack_with_labels(z=4, h=64, w=64, annotated=(1,)):
    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, (z, h, w)).astype(np.uint8)
    labels = np.zeros((z, h, w), np.uint16)
    for i in annotated:
        labels[i, 10:14, 20:40] = 1  # a stroke
        labels[i, 40:42, 5:60] = 2
    return image, labels


def test_only_annotated_planes_are_used():
    image, labels = stack_with_labels(annotated=(1, 3))
    stack = AnnotatedStack(
        image, labels=labels, palette={1: (255, 0, 0), 2: (0, 255, 0)}, normalization=NORM
    )
    assert stack.annotated == [(1,), (3,)]


def test_no_annotation_is_a_clear_error():
    image, labels = stack_with_labels(annotated=())
    with pytest.raises(ValueError, match="no annotated pixel"):
        AnnotatedStack(image, labels=labels, palette={1: (1, 1, 1)}, normalization=NORM)


def test_sparse_strokes_are_found_by_the_sampler():
    image, labels = stack_with_labels(h=256, w=256)
    stack = AnnotatedStack(
        image, labels=labels, palette={1: (255, 0, 0), 2: (0, 255, 0)}, normalization=NORM
    )
    sampler = PatchSampler(stack, split_regions(stack, 32, 0.0)[0], 32)
    batch = sampler.sample(16, np.random.default_rng(0))
    assert batch.x.shape == (16, 1, 32, 32) and batch.target.shape == (16, 3, 32, 32)
    assert batch.mask.shape == (16, 1, 32, 32)
    # The stroke covers 0.3% of the plane, yet most patches contain some of it.
    assert (batch.mask.flatten(1).sum(1) > 0).float().mean() > 0.7


def test_strokes_painted_after_the_first_batch_are_sampled_too():
    image, labels = stack_with_labels(h=256, w=256)
    palette = {1: (255, 0, 0), 2: (0, 255, 0), 3: (0, 0, 255)}
    stack = AnnotatedStack(image, labels=labels, palette=palette, normalization=NORM)
    sampler = PatchSampler(stack, split_regions(stack, 32, 0.0)[0], 32)
    sampler.sample(8, np.random.default_rng(0))  # the anchors are grouped by class now
    labels[1, 200:204, 100:200] = 3  # a new class, far from the others, painted in place
    stack.rescan((1,), labels[1])  # as napari's Labels layer does during a live run
    batch = sampler.sample(64, np.random.default_rng(1))
    assert (batch.classes == 2).any()  # class index 2 is label 3


@pytest.mark.parametrize("kind", ["numpy", "dask", "zarr", "tiff", "npy"])
def test_rgb_target_from_any_array_kind(kind, tmp_path):
    rng = np.random.default_rng(1)
    gray = rng.integers(0, 256, (3, 48, 40)).astype(np.uint8)
    rgb = rng.integers(0, 256, (3, 48, 40, 3)).astype(np.uint8)
    if kind == "dask":
        gray, rgb = (
            da.from_array(gray, chunks=(1, 16, 16)),
            da.from_array(rgb, chunks=(1, 16, 16, 3)),
        )
    elif kind == "zarr":
        gz = zarr.create_array(
            tmp_path / "g.zarr", shape=gray.shape, chunks=(1, 16, 16), dtype="u1"
        )
        gz[:] = gray
        tz = zarr.create_array(
            tmp_path / "t.zarr", shape=rgb.shape, chunks=(1, 16, 16, 3), dtype="u1"
        )
        tz[:] = rgb
        gray, rgb = tmp_path / "g.zarr", tmp_path / "t.zarr"
    elif kind == "tiff":
        tifffile.imwrite(tmp_path / "g.tif", gray, photometric="minisblack")
        tifffile.imwrite(tmp_path / "t.tif", rgb, photometric="rgb")
        gray, rgb = tmp_path / "g.tif", tmp_path / "t.tif"
    elif kind == "npy":
        np.save(tmp_path / "g.npy", gray)
        np.save(tmp_path / "t.npy", rgb)
        gray, rgb = tmp_path / "g.npy", tmp_path / "t.npy"
    stack = AnnotatedStack(gray, target=rgb, normalization=NORM)
    x, target, mask, _ = stack.read_tile((2,), 8, 8, 16)
    assert mask is None and x.shape == (1, 16, 16) and target.shape == (3, 16, 16)
    assert 0 <= x.min() and x.max() <= 1 and 0 <= target.min() and target.max() <= 1


def test_rgb_alone_trains_on_its_lightness():
    rgb = np.zeros((32, 32, 3), np.uint8)
    rgb[..., 0] = 255
    stack = AnnotatedStack(rgb, normalization=InputNormalization())
    x, target, *_ = stack.read_tile((), 0, 0, 32)
    assert x[0, 0, 0] == pytest.approx(0.532, abs=0.01)  # L of pure red is 53.2
    assert target[0].min() == 1.0


def test_context_stacks_neighbouring_planes_and_repeats_edges():
    image = np.arange(4)[:, None, None] * np.ones((4, 16, 16)) * 50
    target = np.zeros((4, 16, 16, 3), np.float32)
    stack = AnnotatedStack(image, target=target, normalization=NORM, context=1)
    x, *_ = stack.read_tile((0,), 0, 0, 16)
    np.testing.assert_allclose(x[:, 0, 0] * 255, [0, 0, 50])


def test_tile_larger_than_the_plane_is_padded():
    stack = AnnotatedStack(np.ones((10, 12)), target=np.zeros((10, 12, 3)), normalization=NORM)
    x, target, *_ = stack.read_tile((), 0, 0, 32)
    assert x.shape == (1, 32, 32) and target.shape == (3, 32, 32)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"target": np.zeros((2, 30, 32, 3))}, "target shape \\(2, 30, 32\\) does not match"),
        ({"labels": np.zeros((2, 32, 32), np.uint8)}, "need a palette"),
        ({"labels": np.zeros((2, 32, 32)), "palette": {1: (1, 2, 3)}}, "labels must be integers"),
        ({"target": np.zeros((2, 32, 32, 3)), "slices": slice(5, 9)}, "empty or outside"),
        ({"target": np.zeros((2, 32, 32, 3)), "labels": np.zeros((2, 32, 32), int)}, "not both"),
        ({"target": np.zeros((2, 32, 32))}, "must be RGB"),
        ({"target": np.full((2, 32, 32, 3), 255.0)}, "float RGB .* must lie in 0–1: divide"),
        ({"target": np.full((2, 32, 32, 3), np.nan)}, "target holds NaN/Inf"),
        ({"target": np.zeros((2, 32, 32, 3), complex)}, "dtype complex128"),
    ],
)
def test_bad_inputs_are_named(kwargs, message):
    with pytest.raises(ValueError, match=message):
        AnnotatedStack(np.zeros((2, 32, 32)), normalization=NORM, **kwargs)


def test_rgb_given_as_input_with_a_target_is_named():
    with pytest.raises(ValueError, match="must be grayscale"):
        AnnotatedStack(np.zeros((32, 32, 3)), target=np.zeros((32, 32, 3)), normalization=NORM)


def test_grayscale_alone_is_named():
    with pytest.raises(ValueError, match="is grayscale: give a colour target"):
        AnnotatedStack(np.zeros((2, 32, 32)), normalization=NORM)


def test_validation_holds_out_planes_or_the_right_part_of_one_plane():
    image, labels = stack_with_labels(z=6, annotated=(0, 1, 2, 3, 4, 5))
    stack = AnnotatedStack(
        image, labels=labels, palette={1: (9, 9, 9), 2: (1, 1, 1)}, normalization=NORM
    )
    train, val = split_regions(stack, 32, 0.2)
    assert {r.plane for r in train}.isdisjoint({r.plane for r in val}) and len(val) == 1
    single = AnnotatedStack(np.zeros((64, 200)), target=np.zeros((64, 200, 3)), normalization=NORM)
    train, val = split_regions(single, 32, 0.2)
    assert train[0].x1 == val[0].x0 == 160


def test_sampling_a_huge_zarr_reads_only_windows(tmp_path):
    import tracemalloc

    # 8.6 GB nominal: reading it whole would exhaust the memory this test allows.
    shape = (32, 16384, 16384)
    img = zarr.create_array(
        tmp_path / "img.zarr", shape=shape, chunks=(1, 256, 256), dtype="u1", fill_value=7
    )
    lab = zarr.create_array(
        tmp_path / "lab.zarr",
        shape=shape,
        chunks=(1, 4096, 4096),
        dtype="u1",
        fill_value=0,
    )
    lab[3, 100:110, 100:200] = 1
    tracemalloc.start()
    stack = AnnotatedStack(
        img, labels=lab, palette={1: (255, 0, 0)}, slices=slice(2, 5), normalization=NORM
    )
    sampler = PatchSampler(stack, split_regions(stack, 64, 0.0)[0], 64)
    batch = sampler.sample(8, np.random.default_rng(0))
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert batch.x.shape == (8, 1, 64, 64)
    assert peak < 2.5e9  # a few label planes at a time, never the 8.6 GB stack


def test_no_validation_share_trains_on_every_annotated_plane():
    # Regression: val_fraction=0 with several annotated planes trained on the first one only.
    image, labels = stack_with_labels(z=6, annotated=(0, 2, 4))
    stack = AnnotatedStack(
        image, labels=labels, palette={1: (9, 9, 9), 2: (1, 1, 1)}, normalization=NORM
    )
    train, val = split_regions(stack, 32, 0.0)
    assert {r.plane for r in train} == {(0,), (2,), (4,)} and train == val


def test_a_float_target_on_the_0_255_scale_is_refused_naming_the_file(tmp_path):
    np.save(tmp_path / "rgb.npy", np.full((2, 32, 32, 3), 200.0, np.float32))
    with pytest.raises(ValueError, match="target .*rgb.npy is float RGB with values from 200 to"):
        AnnotatedStack(np.zeros((2, 32, 32)), target=tmp_path / "rgb.npy", normalization=NORM)
    with pytest.raises(ValueError, match="the RGB image .*rgb.npy is float RGB"):
        AnnotatedStack(tmp_path / "rgb.npy", normalization=NORM)


def test_a_patch_off_the_0_1_scale_is_refused_even_where_the_sample_missed_it():
    target = np.zeros((1, 256, 256, 3), np.float32)
    target[0, 1::2, 1::2] = 255.0  # between the sampled rows and columns
    stack = AnnotatedStack(np.zeros((1, 256, 256)), target=target, normalization=NORM)
    with pytest.raises(ValueError, match="patch of the colour target is float RGB"):
        stack.read_tile((0,), 0, 0, 64)


def test_every_outer_index_of_a_4d_stack_is_a_plane():
    # Regression: the inner product was an iterator, used up by the first outer index, so
    # strokes at t > 0 of a (t, z, y, x) stack were never found.
    labels = np.zeros((2, 3, 32, 32), np.uint8)
    labels[1, 2, 4:8, 4:8] = 1
    stack = AnnotatedStack(
        np.zeros(labels.shape, np.uint8),
        labels=labels,
        palette={1: (200, 30, 30)},
        normalization=InputNormalization("minmax", 0.0, 255.0),
    )
    assert len(stack.planes) == 6 and stack.annotated == [(1, 2)]


def test_signal_sampling_centres_patches_on_rare_colourful_sources():
    # A grey field with one small coloured star: uniform patches rarely meet it.
    rng = np.random.default_rng(4)
    gray = rng.integers(0, 40, (256, 256)).astype(np.uint8)
    rgb = np.repeat(gray[..., None], 3, -1)
    rgb[100:104, 180:184] = (250, 120, 20)
    stack = AnnotatedStack(gray, target=rgb, normalization=NORM)
    regions = split_regions(stack, 32, 0.0)[0]
    anchors = signal_anchors(stack, regions[0])
    assert len(anchors) and set(map(tuple, anchors.tolist())) <= {
        (y, x) for y in range(100, 104) for x in range(180, 184)
    }

    def share_with_star(sampling):
        batch = PatchSampler(stack, regions, 32, sampling).sample(64, np.random.default_rng(0))
        orange = (batch.target[:, 0] - batch.target[:, 2]) > 0.5  # (b, t, t)
        return orange.flatten(1).any(1).float().mean().item()

    assert share_with_star("signal") > 0.35 > 0.1 > share_with_star("uniform")
