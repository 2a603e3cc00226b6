import numpy as np
import pytest

from napari_colorgan.core.io.selection import parse_slices, select_planes


@pytest.mark.parametrize(
    ("text", "planes"),
    [("1:3", [1, 2]), ("2", [2]), (":2", [0, 1]), ("3:", [3, 4]), ("-1", [4]), ("-2", [3])],
)
def test_selections_as_people_type_them(text, planes):
    stack = np.arange(5)[:, None, None] * np.ones((5, 2, 2))
    chosen = select_planes(stack, parse_slices(text))
    assert chosen[:, 0, 0].tolist() == planes


@pytest.mark.parametrize(("text", "message"), [("5:x", "expected a:b"), ("3:1", "empty range")])
def test_bad_selections_are_named(text, message):
    with pytest.raises(ValueError, match=message):
        parse_slices(text)


def test_nothing_typed_selects_everything():
    assert parse_slices("") is None and parse_slices(None) is None
