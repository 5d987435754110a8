"""Bring your own dataset: folders and zips written here, every bad input one sentence."""

from __future__ import annotations

import io
import struct
import zipfile

import numpy as np
import pytest
import torch
from PIL import Image, ImageDraw

from tinyvgg import folders
from tinyvgg.datasets import Dataset, DatasetError
from tinyvgg.folders import read_folder, read_zip, to_input
from tinyvgg.shapes import shapes, shapes_zip


def picture(i: int, mode: str = "L", size: tuple[int, int] = (24, 20)) -> Image.Image:
    """A dark square on white, placed by i, converted to `mode`."""
    im = Image.new("L", size, 255)
    x = 2 + i % 6
    ImageDraw.Draw(im).rectangle([x, 4, x + 9, 13], fill=0)
    return im.convert(mode)


def encode(im: Image.Image, fmt: str = "PNG", **kw) -> bytes:
    buf = io.BytesIO()
    im.save(buf, fmt, **kw)
    return buf.getvalue()


PNG = encode(picture(0))


def make_zip(files: dict[str, bytes], **kw) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", **kw) as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    return buf.getvalue()


def dataset(classes=("cats", "dogs"), n: int = 6, prefix: str = "") -> dict[str, bytes]:
    """An ImageFolder layout of n PNGs per class, under `prefix`."""
    return {f"{prefix}{c}/{i}.png": encode(picture(i)) for c in classes for i in range(n)}


def patched(data: bytes, offset: int, value: bytes) -> bytes:
    """The zip with `value` written at `offset` into its first central directory entry."""
    raw = bytearray(data)
    at = raw.index(b"PK\x01\x02") + offset
    raw[at : at + len(value)] = value
    return bytes(raw)


def one_sentence(e: pytest.ExceptionInfo, *words: str) -> str:
    msg = str(e.value)
    assert msg[0].isupper() and msg.endswith(".") and "\n" not in msg, msg
    assert msg.count(". ") == 0 and len(msg) < 220, msg
    for w in words:
        assert w.lower() in msg.lower(), (w, msg)
    return msg


def mixed() -> dict[str, bytes]:
    """Six images a class, one of each awkward kind."""
    rgba = Image.new("RGBA", (30, 30), (0, 0, 0, 0))
    ImageDraw.Draw(rgba).ellipse([5, 5, 25, 25], fill=(255, 255, 255, 255))
    gif = picture(3).convert("P")
    kinds = {
        "l.png": encode(picture(0)),
        "rgb.jpg": encode(picture(1, "RGB", (40, 30)), "JPEG"),
        "deep.png": encode(Image.fromarray(np.asarray(picture(2)).astype(np.uint16) * 257)),
        "cmyk.jpg": encode(picture(4, "CMYK"), "JPEG"),
        "pal.gif": encode(gif, "GIF", transparency=int(np.asarray(gif)[0, 0])),
        "rgba.png": encode(rgba),
    }
    return {f"{c}/{k}": v for c in ("a", "b") for k, v in kinds.items()}


# ------------------------------------------------------------------------------ to_input


def test_letterbox_keeps_background_and_aspect():
    im = Image.new("L", (56, 28), 255)
    ImageDraw.Draw(im).rectangle([18, 4, 37, 23], fill=0)  # a 20x20 square, centred
    x = to_input(im)
    assert x.shape == (1, 28, 28) and x.dtype == torch.uint8
    assert (x[0, :7] == 255).all() and (x[0, 21:] == 255).all()  # padded with the border's white
    dark = (x[0] < 128).nonzero()
    h, w = (dark.max(0).values - dark.min(0).values + 1).tolist()
    assert h == w == 10 and x[0, 14, 14] < 30  # still square, halved, centred


def test_tall_image_pads_sideways_with_border_colour():
    im = Image.new("L", (10, 40), 90)
    x = to_input(im)
    assert (x[0, :, :10] == 90).all() and (x[0, :, -10:] == 90).all()


def test_modes():
    deep = Image.fromarray(np.full((8, 8), 128 * 257, np.uint16))
    assert deep.mode.startswith("I") and (to_input(deep) == 128).all()  # scaled, not clipped
    assert (to_input(Image.new("1", (5, 5), 1)) == 255).all()
    assert (to_input(Image.new("F", (5, 5), 0.5)) == 128).all()
    cmyk = to_input(Image.new("CMYK", (6, 6), (0, 0, 0, 0)))
    assert (cmyk == 255).all()  # no ink: white
    clear = Image.new("RGBA", (9, 9), (0, 0, 0, 0))
    clear.putpixel((4, 4), (255, 255, 255, 255))  # white ink on a transparent border
    assert to_input(clear)[0, 0, 0] == 0 and to_input(clear).max() > 200


def test_rgb_channels():
    x = to_input(Image.new("RGB", (20, 10), (200, 10, 30)), channels=3)
    assert x.shape == (3, 28, 28) and x[:, 14, 14].tolist() == [200, 10, 30]
    assert x[:, 0, 0].tolist() == [200, 10, 30]  # the padding takes the border's colour
    with pytest.raises(ValueError):
        to_input(Image.new("L", (5, 5)), channels=2)


# ------------------------------------------------------------------------------ layouts


def test_folder(tmp_path):
    for name, data in {
        **dataset(("zebra", "ant")),
        ".DS_Store": b"x",
        "ant/Thumbs.db": b"x",
    }.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(data)
    d = read_folder(tmp_path)
    assert isinstance(d, Dataset) and d.classes == ("ant", "zebra")  # sorted, as ImageFolder
    assert d.train_images.shape == (10, 1, 28, 28) and d.train_images.dtype == torch.uint8
    assert d.train_labels.dtype == torch.int64 and d.counts("test") == [1, 1]
    assert d.skipped == 0 and d.channels == 1 and d.name == tmp_path.name
    assert "zebra: 5 train, 1 test" in d.summary() and "2 classes" in repr(d)
    assert d.split == "a seeded 80%/20% split of each class"


def test_zip_wrapped_with_train_and_test():
    files = {**dataset(n=7, prefix="pets/train/"), **dataset(n=5, prefix="pets/test/")}
    files["__MACOSX/pets/train/cats/._0.png"] = b"junk"
    d = read_zip(make_zip(files))
    assert d.name == "pets" and d.classes == ("cats", "dogs")
    assert d.counts("train") == [7, 7] and d.counts("test") == [5, 5] and d.skipped == 0
    assert d.split == "its train/ and test/ folders"


def test_zip_from_path_unwrapped(tmp_path):
    (tmp_path / "toys.zip").write_bytes(make_zip(dataset(n=10)))
    d = read_zip(tmp_path / "toys.zip")
    assert d.name == "toys" and d.counts("train") == [8, 8] and d.counts("test") == [2, 2]


def test_mixed_formats_all_read():
    d = read_zip(make_zip(mixed()))
    assert d.skipped == 0 and len(d.train_labels) + len(d.test_labels) == 12
    d3 = read_zip(make_zip(mixed()), channels=3)
    assert d3.channels == 3 and d3.train_images.shape[1:] == (3, 28, 28)


@pytest.mark.parametrize("name", [k for k in mixed() if k.startswith("a/")])
def test_each_awkward_kind_decodes(name):
    x = folders._decode(mixed()[name], channels=1)
    paper = 0 if name.endswith("rgba.png") else 255  # white ink on clear goes on black
    assert x.shape == (1, 28, 28) and abs(int(x[0, 0, 0]) - paper) < 8 and x.max() - x.min() > 200
    if name.endswith("deep.png"):
        assert torch.equal(x, to_input(picture(2)))  # 16-bit reads as its 8-bit twin


def test_non_images_and_damaged_members_are_skipped():
    files = dataset(n=6)
    files.update({"cats/notes.txt": b"hello", "dogs/broken.png": PNG[:40], "readme.md": b"#"})
    # cats/0.png's central directory entry understates its size: read up to it, it fails its CRC.
    d = read_zip(patched(make_zip(files), 24, struct.pack("<I", 10)))
    assert d.skipped == 4 and d.counts("train") + d.counts("test") == [4, 5, 1, 1]


def test_split_is_stratified_and_seeded():
    data = make_zip(dataset(("a", "b", "c"), n=20))
    one, again, other = read_zip(data, seed=0), read_zip(data, seed=0), read_zip(data, seed=1)
    assert one.counts("test") == [4, 4, 4] and one.counts("train") == [16, 16, 16]
    assert torch.equal(one.test_images, again.test_images)
    assert not torch.equal(one.test_images, other.test_images)


# ------------------------------------------------------------------------------ bad inputs


def symlinked() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        info = zipfile.ZipInfo("cats/link.png")
        info.external_attr = 0o120777 << 16
        zf.writestr(info, "/etc/passwd")
        for name, data in dataset().items():
            zf.writestr(name, data)
    return buf.getvalue()


@pytest.mark.parametrize(
    "data, words",
    [
        (b"", "not a .zip"),
        (b"hello, a text file", "not a .zip"),
        (b"PK\x03\x04 not really", "not a .zip"),
        (PNG, "not a .zip"),
        (make_zip({"../evil.png": PNG, **dataset()}), "unsafe path"),
        (make_zip({"cats/../../evil.png": PNG, **dataset()}), "unsafe path"),
        (make_zip({"/etc/evil.png": PNG, **dataset()}), "unsafe path"),
        (make_zip({"C:\\evil.png": PNG, **dataset()}), "unsafe path"),
        (make_zip({"\\\\server\\evil.png": PNG, **dataset()}), "unsafe path"),
        (make_zip({"..\\evil.png": PNG, **dataset()}), "unsafe path"),
        (symlinked(), "symbolic link"),
        (patched(make_zip(dataset()), 8, b"\x01"), "password"),
        (patched(make_zip(dataset()), 10, b"\x09"), "compression"),  # Deflate64
        (make_zip({"cats/inner.zip": make_zip(dataset()), **dataset()}), "unpack"),
        (make_zip({"zeros.png": bytes(2**21), **dataset()}, compression=8), "bomb"),
        (make_zip({"a.png": PNG, "b.png": PNG}), "no class folders"),
        (make_zip({"a/notes.txt": b"x", "b/notes.txt": b"x"}), "no class folders"),
        (make_zip({f"{c}/{i}.png": b"not a png" for c in "ab" for i in range(5)}), "none of"),
        (make_zip({**dataset(n=5), "dogs/4.png": b"bad"}), "'dogs' has only 4"),
        (make_zip(dataset(n=5) | dataset(("owls",), n=4)), "'owls' has only 4"),
        (make_zip(dataset(("cats",), n=30)), "one class"),
        (make_zip(dataset([f"c{i:03d}" for i in range(101)], n=5)), "101 class folders"),
        (make_zip({**dataset(prefix="train/"), **dataset(("cats",), prefix="test/")}), "'dogs'"),
        (
            make_zip(
                {
                    **dataset(prefix="train/"),
                    **dataset(prefix="test/", n=1),
                    "test/dogs/0.png": b"bad",
                }
            ),
            "dogs",
        ),
    ],  # fmt: skip
)
def test_bad_zip_is_one_sentence(data, words):
    with pytest.raises(DatasetError) as e:
        read_zip(data)
    one_sentence(e, words)


def test_limits_from_the_directory(monkeypatch):
    data = make_zip(dataset(n=6))
    monkeypatch.setattr(folders, "MAX_FILES", 10)
    with pytest.raises(DatasetError) as e:
        read_zip(data)
    one_sentence(e, "limit of 10")
    monkeypatch.setattr(folders, "MAX_FILES", 10_000)
    monkeypatch.setattr(folders, "MAX_UNCOMPRESSED", 1000)
    with pytest.raises(DatasetError) as e:
        read_zip(data)
    one_sentence(e, "decompression bomb")


def test_missing_paths(tmp_path):
    for read in (read_folder, read_zip):
        with pytest.raises(DatasetError) as e:
            read(tmp_path / "nowhere.zip")
        one_sentence(e, "no")


# ------------------------------------------------------------------------------ shapes


def test_shapes_demo():
    d = shapes(per_class=40, seed=3)
    assert d.classes == ("circle", "square", "star", "triangle") and d.channels == 1
    assert d.train_images.shape == (128, 1, 28, 28) and d.train_images.dtype == torch.uint8
    assert d.counts("test") == [8, 8, 8, 8]
    same, other = shapes(per_class=40, seed=3), shapes(per_class=40, seed=4)
    assert torch.equal(d.train_images, same.train_images)
    assert not torch.equal(d.train_images, other.train_images)
    x = torch.cat([d.train_images, d.test_images]).float()
    y = torch.cat([d.train_labels, d.test_labels])
    means = torch.stack([x[y == c].mean(0).flatten() for c in range(4)])  # (4, 784)
    assert torch.cdist(means, means)[~torch.eye(4, dtype=torch.bool)].min() > 50


def test_shapes_zip_reads_back_as_shapes():
    d, z = shapes(per_class=20, seed=5), read_zip(shapes_zip(per_class=20, seed=5), seed=5)
    assert z.name == "shapes" and z.classes == d.classes and z.skipped == 0
    assert torch.equal(z.train_images, d.train_images) and torch.equal(z.test_labels, d.test_labels)


def test_too_many_pixels_is_skipped(monkeypatch):
    files = dataset(n=6) | {"cats/big.png": encode(picture(0, size=(40, 40)))}
    monkeypatch.setattr(folders, "MAX_PIXELS", 40 * 40 - 1)
    assert read_zip(make_zip(files)).skipped == 1


# ------------------------------------------------------------------------------ costs


def test_the_pixels_decoded_in_all_are_bounded(monkeypatch):
    """Blank 4096² PNGs are 16 KB each (bytes in a zip under every other limit) but 16 MP each to
    decode: the budget, read from each header before decoding, refuses them in one sentence."""
    monkeypatch.setattr(folders, "MAX_TOTAL_PIXELS", 5000)
    big = encode(Image.new("L", (30, 30), 255))  # 900 pixels each
    with pytest.raises(DatasetError) as e:
        read_zip(make_zip({f"{c}/{i}.png": big for c in ("a", "b") for i in range(5)}))
    one_sentence(e, "megapixels in all", "shrink them")
    assert read_zip(make_zip(dataset(n=5))).counts() == [4, 4]  # 10 × 24×20: within it


def test_too_many_entries_are_refused_before_the_directory_is_read(monkeypatch):
    data = make_zip({f"a/{i}.png": b"" for i in range(40)})
    assert folders._entries(data) == 40
    monkeypatch.setattr(folders, "MAX_FILES", 10)
    monkeypatch.setattr(folders, "MAX_CLASSES", 5)  # 10 + 3 × 5 entries allowed for folders

    def no_directory(*args, **kwargs):
        raise AssertionError("the zip's directory was read")

    monkeypatch.setattr(folders.zipfile, "ZipFile", no_directory)
    with pytest.raises(DatasetError) as e:
        read_zip(data)
    one_sentence(e, "40 files", "over the limit")


def test_any_error_while_decoding_skips_the_file(monkeypatch):
    """Pillow can raise almost anything on a crafted file (TypeError, KeyError, ...)."""
    calls = []

    def crafted(image, channels=1):
        calls.append(1)
        if len(calls) == 3:
            raise KeyError("a crafted EXIF tag")
        return torch.zeros(channels, 28, 28, dtype=torch.uint8)

    monkeypatch.setattr(folders, "to_input", crafted)
    d = read_zip(make_zip(dataset(n=6)))
    assert d.skipped == 1 and sum(d.counts()) + sum(d.counts("test")) == 11


def test_progress_is_reported_while_reading():
    seen = []
    read_zip(shapes_zip(per_class=60, seed=1), progress=lambda *at: seen.append(at))
    assert seen == [(100, 240), (200, 240), (240, 240)]
