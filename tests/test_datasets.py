"""MNIST and KMNIST found like Fashion-MNIST (from IDX files the tests write), and the names
`datasets.load` takes."""

from __future__ import annotations

import pytest
import torch
from torchvision import datasets as tv_datasets

from tinyvgg import data, datasets
from tinyvgg.datasets import DatasetError

from .conftest import write_idx

IDX = [("mnist", "TINYVGG_MNIST", "MNIST"), ("kmnist", "TINYVGG_KMNIST", "KMNIST")]


def write_four(folder, gz: str, n_classes: int = 10, seed: int = 0) -> dict:
    """The four IDX files in `folder` (gzipped when gz is ".gz") and the arrays written."""
    g = torch.Generator().manual_seed(seed)
    written = {}
    for split, n in (("train", 9), ("test", 4)):
        images = torch.randint(0, 256, (n, 28, 28), generator=g, dtype=torch.uint8)
        labels = torch.randint(0, n_classes, (n,), generator=g, dtype=torch.uint8)
        img_name, lbl_name = data.FILES[split]
        write_idx(folder / (img_name + gz), images)
        write_idx(folder / (lbl_name + gz), labels)
        written[split] = (images, labels.long())
    return written


@pytest.fixture
def nowhere(monkeypatch, tmp_path):
    """No dataset variables, an empty cache, no network."""
    for _, env, _ in IDX:
        monkeypatch.delenv(env, raising=False)
    monkeypatch.setenv("TINYVGG_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("TINYVGG_NO_DOWNLOAD", "1")


def test_class_names_as_torchvision_spells_them():
    assert data.MNIST_CLASSES == tuple(tv_datasets.MNIST.classes)
    assert data.KMNIST_CLASSES == tuple(tv_datasets.KMNIST.classes)
    assert data.idx_source("mnist").folder == tv_datasets.MNIST.__name__
    assert data.idx_source("KMNIST").folder == tv_datasets.KMNIST.__name__


@pytest.mark.parametrize("gz", [".gz", ""])
@pytest.mark.parametrize(("source", "env", "name"), IDX)
def test_found_through_its_variable_gzipped_or_not(monkeypatch, tmp_path, nowhere, source, env,
                                                   name, gz):  # fmt: skip
    folder = tmp_path / "files"
    folder.mkdir()
    written = write_four(folder, gz)
    monkeypatch.setenv(env, str(folder))
    got = datasets.load(source)
    assert got.name == name and got.channels == 1
    assert got.classes == {"MNIST": data.MNIST_CLASSES, "KMNIST": data.KMNIST_CLASSES}[name]
    assert got.train_images.shape == (9, 1, 28, 28) and got.test_images.dtype == torch.uint8
    assert torch.equal(got.train_images[:, 0], written["train"][0])
    assert torch.equal(got.test_labels, written["test"][1])
    assert datasets.load(name).name == name  # the dataset's own name loads it too


def test_each_dataset_has_its_own_variable(monkeypatch, tmp_path, nowhere):
    folder = tmp_path / "files"
    folder.mkdir()
    write_four(folder, "")
    monkeypatch.setenv("TINYVGG_MNIST", str(folder))
    assert len(data.load_split("test", dataset="mnist")) == 4
    with pytest.raises(data.DataError, match="KMNIST was not found"):
        data.load_split("test", dataset="kmnist")


@pytest.mark.parametrize(("source", "env", "name"), IDX)
def test_missing_says_how_to_get_it(nowhere, source, env, name):
    with pytest.raises(data.DataError) as err:
        datasets.load(source)
    message = str(err.value)
    assert message.startswith(f"{name} was not found. Get it one of two ways: set {env} to")
    assert "download it" in message and "apt-get" not in message
    assert message.count(".") >= 1 and "\n" not in message


def test_a_variable_without_the_files_is_named(monkeypatch, tmp_path, nowhere):
    monkeypatch.setenv("TINYVGG_KMNIST", str(tmp_path))
    with pytest.raises(data.DataError, match="TINYVGG_KMNIST=.* does not hold the four KMNIST"):
        datasets.load("kmnist")


def test_the_download_goes_through_torchvisions_own_class(monkeypatch, nowhere):
    def offline(self):
        raise OSError("network is unreachable")

    monkeypatch.setenv("TINYVGG_NO_DOWNLOAD", "0")
    monkeypatch.setattr(tv_datasets.KMNIST, "download", offline)
    with pytest.raises(data.DataError, match="KMNIST was not found.*network is unreachable"):
        data.load_split("train", dataset="kmnist")


def test_labels_beyond_the_classes_are_refused(monkeypatch, tmp_path, nowhere):
    folder = tmp_path / "files"
    folder.mkdir()
    write_four(folder, "", n_classes=12, seed=3)
    monkeypatch.setenv("TINYVGG_MNIST", str(folder))
    with pytest.raises(data.DataError, match="MNIST .* labels .* out of range"):
        datasets.load("mnist")


def test_names_and_paths(tmp_path, monkeypatch):
    for name in ("fashion-mnist", "Fashion-MNIST", "fashion", "MNIST", "kmnist", "shapes"):
        assert datasets.is_builtin(name), name
        datasets.check_source(name)
    assert data.idx_source("./mnist") is None and not datasets.is_builtin("mnist/")
    monkeypatch.chdir(tmp_path)
    for bad in ("", "  ", "leaves", "no/such/folder.zip"):
        with pytest.raises(DatasetError) as err:
            datasets.check_source(bad)
        assert str(err.value).endswith(".") and "\n" not in str(err.value)
    (tmp_path / "leaves").mkdir()
    datasets.check_source("leaves")  # there: whether it reads is load()'s to say


def test_splits_make_a_builtin_dataset(tiny_idx, monkeypatch, tmp_path):
    folder, written = tiny_idx
    monkeypatch.setenv("TINYVGG_DATA", str(folder))
    monkeypatch.setenv("TINYVGG_CACHE", str(tmp_path / "cache"))
    got = datasets.from_splits("fashion-mnist", data.load_split("train"), data.load_split("test"))
    assert got.name == datasets.FASHION and got.classes == data.CLASS_NAMES
    assert torch.equal(got.train_images[:, 0], written["train"][0])
    with pytest.raises(DatasetError, match="fashion-mnist, mnist or kmnist only"):
        datasets.from_splits("shapes", data.load_split("train"), data.load_split("test"))
