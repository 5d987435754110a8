"""Data: sources in order, the clear error, and batches equal to ToTensor()."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image
from torchvision import datasets
from torchvision.transforms import ToTensor

from tinyvgg import data


@pytest.fixture
def no_sources(monkeypatch, tmp_path):
    """No $TINYVGG_DATA, no Debian package, an empty cache and no network."""
    monkeypatch.delenv("TINYVGG_DATA", raising=False)
    monkeypatch.setattr(data, "DEBIAN_DIR", tmp_path / "no-debian")
    monkeypatch.setenv("TINYVGG_CACHE", str(tmp_path / "cache"))


def test_class_names_as_torchvision_spells_them():
    assert data.CLASS_NAMES == tuple(datasets.FashionMNIST.classes)
    assert data.CLASS_NAMES[0] == "T-shirt/top" and data.CLASS_NAMES[9] == "Ankle boot"


def test_tinyvgg_data_folder_gzipped_or_not(monkeypatch, tmp_path, tiny_idx):
    folder, written = tiny_idx
    monkeypatch.setenv("TINYVGG_DATA", str(folder))
    monkeypatch.setenv("TINYVGG_CACHE", str(tmp_path / "cache"))
    for split in ("train", "test"):
        got = data.load_split(split)
        images, labels = written[split]
        assert got.images.dtype == torch.uint8 and got.images.shape == images.shape
        assert torch.equal(got.images, images)
        assert torch.equal(got.labels, labels)


def test_tinyvgg_data_wins_over_debian(monkeypatch, tmp_path, tiny_idx):
    folder, written = tiny_idx
    monkeypatch.setenv("TINYVGG_DATA", str(folder))
    monkeypatch.setenv("TINYVGG_CACHE", str(tmp_path / "cache"))
    assert len(data.load_split("test")) == len(written["test"][1])  # 5, not Debian's 10_000


def test_tinyvgg_data_missing_files_is_named(monkeypatch, tmp_path, no_sources):
    monkeypatch.setenv("TINYVGG_DATA", str(tmp_path))
    with pytest.raises(data.DataError, match="TINYVGG_DATA"):
        data.load_split("test")


def test_debian_folder_is_second(monkeypatch, tmp_path, tiny_idx, no_sources):
    folder, written = tiny_idx
    monkeypatch.setattr(data, "DEBIAN_DIR", folder)
    assert torch.equal(data.load_split("train").images, written["train"][0])


def test_no_source_names_the_three_ways(monkeypatch, no_sources):
    def offline(self):
        raise OSError("network is unreachable")

    monkeypatch.setenv("TINYVGG_NO_DOWNLOAD", "0")
    monkeypatch.setattr(datasets.FashionMNIST, "download", offline)
    with pytest.raises(data.DataError) as err:
        data.load_split("train")
    message = str(err.value)
    assert "TINYVGG_DATA" in message
    assert "apt-get install dataset-fashion-mnist" in message
    assert "download" in message and "network is unreachable" in message


def test_no_source_without_download(no_sources):
    with pytest.raises(data.DataError, match="three ways"):
        data.load_split("test", download=False)


def test_corrupt_files_give_a_sentence(monkeypatch, tmp_path, tiny_idx):
    folder, _ = tiny_idx
    (folder / "t10k-images-idx3-ubyte").write_bytes(b"\x00\x00\x08\x03garbage")
    monkeypatch.setenv("TINYVGG_DATA", str(folder))
    monkeypatch.setenv("TINYVGG_CACHE", str(tmp_path / "cache"))
    with pytest.raises(data.DataError, match="could not be read"):
        data.load_split("test")


def test_device_batches_equal_totensor(tiny_idx, monkeypatch, tmp_path):
    folder, written = tiny_idx
    monkeypatch.setenv("TINYVGG_DATA", str(folder))
    monkeypatch.setenv("TINYVGG_CACHE", str(tmp_path / "cache"))
    split = data.load_split("train")
    dev = data.DeviceData.from_split(split, torch.device("cpu"), memory_format=torch.channels_last)
    to_tensor = ToTensor()
    expected = torch.stack([to_tensor(Image.fromarray(im.numpy())) for im in split.images])
    got = torch.cat([x for x, _ in dev.batches(5)])
    assert got.shape == (12, 1, 28, 28)
    assert torch.equal(got, expected)  # bit for bit, as ToTensor() scales
    g = torch.Generator().manual_seed(1)
    xs, ys = zip(*dev.batches(4, generator=g), strict=True)
    order = torch.randperm(12, generator=torch.Generator().manual_seed(1))
    assert torch.equal(torch.cat(xs), expected[order])
    assert torch.equal(torch.cat(ys), split.labels[order])


def test_real_data_shapes(real_data):
    train, test = real_data
    assert train.images.shape == (60_000, 28, 28) and test.images.shape == (10_000, 28, 28)
    assert train.images.dtype == torch.uint8
    assert torch.bincount(test.labels).tolist() == [1000] * 10
    first = ToTensor()(Image.fromarray(np.asarray(train.images[0])))
    assert torch.equal(data.to_float(train.images[:1])[0], first)


def test_subset_indices_are_seeded_and_sorted():
    a = data.subset_indices(100, 10, seed=1)
    assert torch.equal(a, data.subset_indices(100, 10, seed=1))
    assert len(a) == 10 and torch.all(a[1:] > a[:-1])
    assert torch.equal(data.subset_indices(5, None, seed=0), torch.arange(5))


def test_the_reader_gives_what_torchvision_reads(real_data):
    """read_idx against torchvision's own FashionMNIST reader, on the real files."""
    root = data.dataset_root(download=False)
    for split, got in zip(("train", "test"), real_data, strict=True):
        images, labels = got.images, got.labels
        ds = datasets.FashionMNIST(str(root), train=split == "train", download=False)
        assert torch.equal(images, ds.data) and torch.equal(labels, ds.targets)
        assert images.dtype == ds.data.dtype and labels.dtype == ds.targets.dtype


def test_read_idx_refuses_what_is_not_idx(tmp_path):
    bad = {
        "text": b"these are notes",
        "short": b"\x00\x00\x08",
        "floats": b"\x00\x00\x0d\x01\x00\x00\x00\x01abcd",
        "truncated": b"\x00\x00\x08\x02\x00\x00\x00\x02\x00\x00\x00\x02abc",
    }
    for name, blob in bad.items():
        (tmp_path / name).write_bytes(blob)
        with pytest.raises(ValueError, match=name):
            data.read_idx(tmp_path / name)
    (tmp_path / "ok").write_bytes(b"\x00\x00\x08\x02\x00\x00\x00\x02\x00\x00\x00\x02abcd")
    assert data.read_idx(tmp_path / "ok").tolist() == [[97, 98], [99, 100]]


def test_images_with_channels_batch_as_they_are():
    """(N, C, 28, 28) images (a folder's RGB ones) keep their channels; (N, 28, 28) gain one."""
    g = torch.Generator().manual_seed(0)
    rgb = torch.randint(0, 256, (6, 3, 28, 28), generator=g, dtype=torch.uint8)
    assert torch.equal(data.to_float(rgb), rgb.float() / 255)
    assert data.to_float(rgb[:, 0]).shape == (6, 1, 28, 28)
    assert data.with_channels(rgb[:, 0]).data_ptr() == rgb[:, 0].data_ptr()  # a view
    split = data.Split(rgb, torch.arange(6) % 2)
    dev = data.DeviceData.from_split(split, torch.device("cpu"), torch.tensor([1, 4]),
                                     torch.channels_last)  # fmt: skip
    assert dev.x.shape == (2, 3, 28, 28) and torch.equal(dev.x, rgb[[1, 4]].float() / 255)
    assert dev.x.is_contiguous(memory_format=torch.channels_last)
    x, y = next(dev.batches(2))
    assert x.shape == (2, 3, 28, 28) and y.tolist() == [1, 0]
