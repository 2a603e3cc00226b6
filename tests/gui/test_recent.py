"""Recent model files are remembered across sessions, most recent first."""

from napari_colorgan._widgets import _recent
from napari_colorgan._widgets._recent import KEEP, config_dir, recent_models, remember


def model_files(tmp_path, n):
    paths = [tmp_path / f"m{i}.safetensors" for i in range(n)]
    for p in paths:
        p.write_bytes(b"x")
    return paths


def test_most_recent_first_without_duplicates(tmp_path):
    a, b = model_files(tmp_path, 2)
    remember(a)
    remember(b)
    remember(a)
    assert recent_models() == [a.resolve(), b.resolve()]


def test_deleted_files_are_dropped_and_the_list_is_bounded(tmp_path):
    paths = model_files(tmp_path, KEEP + 3)
    for p in paths:
        remember(p)
    assert len(recent_models()) == KEEP
    paths[-1].unlink()
    assert paths[-1].resolve() not in recent_models()


def test_an_unreadable_list_starts_afresh(tmp_path):
    (config_dir() / "recent_models.json").write_text("{not json")
    assert recent_models() == []
    (a,) = model_files(tmp_path, 1)
    remember(a)
    assert recent_models() == [a.resolve()]


def test_a_read_only_config_folder_does_not_fail(tmp_path, monkeypatch):
    blocked = tmp_path / "file"
    blocked.write_text("")  # a file where the folder should be
    monkeypatch.setenv(_recent.ENV, str(blocked / "sub"))
    (a,) = model_files(tmp_path, 1)
    remember(a)  # nothing raised
    assert recent_models() == []
