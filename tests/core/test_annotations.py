import json

import numpy as np
import pytest
from skimage import color

from napari_colorgan.core.annotations import (
    check_palette,
    labels_palette_from_colormap,
    read_palette,
    tint,
)


def test_tint_keeps_lightness_and_takes_the_label_chroma():
    gray = np.full((4, 4), 0.5, np.float32)
    labels = np.zeros((4, 4), np.int32)
    labels[:2] = 1
    rgb, mask = tint(gray, labels, {1: (200, 100, 100)})  # a colour in gamut at L = 50
    lab = color.rgb2lab(rgb)
    np.testing.assert_allclose(lab[..., 0], 50, atol=0.5)  # lightness of the grayscale
    red_hue = color.rgb2lab(np.array([[[200, 100, 100]]]) / 255)[0, 0, 1:]
    hue = lab[0, 0, 1:]
    assert np.dot(hue, red_hue) / np.linalg.norm(hue) / np.linalg.norm(red_hue) > 0.99
    assert mask[:2].all() and not mask[2:].any()
    np.testing.assert_allclose(lab[2:, :, 1:], 0, atol=0.5)  # unannotated stays gray


def test_label_without_colour_is_named():
    with pytest.raises(ValueError, match="labels \\[2\\] have no colour"):
        tint(np.zeros((2, 2)), np.array([[1, 2], [0, 0]]), {1: (1, 2, 3)})


def test_palette_file_round_trip_and_errors(tmp_path):
    path = tmp_path / "palette.json"
    path.write_text(json.dumps({"1": [255, 0, 0], "7": [0, 128, 255]}))
    assert read_palette(path) == {1: (255, 0, 0), 7: (0, 128, 255)}
    path.write_text("{oops")
    with pytest.raises(ValueError, match="not valid JSON"):
        read_palette(path)
    path.write_text(json.dumps({"mito": [1, 2, 3]}))
    with pytest.raises(ValueError, match="'mito' is not an integer"):
        read_palette(path)
    with pytest.raises(ValueError, match="not \\[r, g, b\\]"):
        check_palette({1: [300, 0, 0]})


def test_napari_colormap_floats_become_0_255():
    assert labels_palette_from_colormap({0: [0, 0, 0, 0], 1: [1.0, 0.5, 0.0, 1.0]}) == {
        1: (255, 128, 0)
    }


def test_palette_tables_are_made_once_and_cannot_be_changed_by_a_caller():
    from napari_colorgan.core.annotations import palette_lut

    ab, known = palette_lut({1: (255, 0, 0), 2: (0, 255, 0)}, 3)
    assert palette_lut({2: (0, 255, 0), 1: (255, 0, 0)}, 3)[0] is ab  # order does not matter
    assert known.tolist() == [False, True, True, False]
    with pytest.raises(ValueError, match="read-only"):
        ab[1] = 0
