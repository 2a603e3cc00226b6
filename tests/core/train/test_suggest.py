"""Where to paint next: the least confident cells of a view, spread out."""

import numpy as np
import pytest

from napari_colorgan.core.train.suggest import cell_confidence, least_confident


def test_the_least_confident_cell_of_each_block_comes_least_sure_first():
    conf = np.ones((256, 320), np.float32)
    conf[64:128, 128:192] = 0.2  # the least sure cell: row 1, column 2
    conf[64:128, 192:256] = 0.3  # its neighbour, in the same block: passed over
    conf[192:256, 0:64] = 0.5
    found = least_confident(conf, count=3)
    assert [(s.y, s.x) for s in found[:2]] == [(96, 160), (224, 32)]
    assert found[0].confidence == pytest.approx(0.2) and found[1].confidence == pytest.approx(0.5)
    assert len(found) == 3 and found[2].confidence == pytest.approx(1.0)


def test_painted_cells_are_not_suggested_and_small_maps_are_one_cell():
    conf = np.full((128, 128), 0.9, np.float32)
    conf[:64, :64] = 0.1
    painted = np.zeros(conf.shape, np.uint8)
    painted[10, 10] = 3
    assert (least_confident(conf, 1)[0].y, least_confident(conf, 1)[0].x) == (32, 32)
    first = least_confident(conf, 1, skip=painted)[0]  # that cell is painted already
    assert (first.y, first.x) != (32, 32) and first.confidence == pytest.approx(0.9)
    assert cell_confidence(np.full((20, 30), 0.5)).shape == (1, 1)
    assert least_confident(np.full((20, 30), 0.5), 4)[0].y == 10


def test_suggestions_spread_over_the_view_rather_than_cluster():
    conf = np.full((512, 512), 0.9, np.float32)
    conf[:128, :128] = 0.1  # four unsure cells in one corner
    conf[384:448, 384:448] = 0.6  # a milder doubt far away
    found = least_confident(conf, count=4)
    assert len(found) == 4 and found[0].confidence == pytest.approx(0.1)
    assert sum(s.confidence < 0.2 for s in found) == 1  # one square in the corner, not four
    assert any(s.confidence == pytest.approx(0.6) for s in found)
