"""The `emoji` dataset: fetched with `npm pack` once, extracted by category, read composited."""

from __future__ import annotations

import io
import json
import tarfile
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from keras_gan import data
from keras_gan.data import emoji
from keras_gan.data.base import Options
from keras_gan.data.folders import has_transparency


def alpha_of(path: str) -> np.ndarray:
    with Image.open(path) as image:
        return np.asarray(image.convert("RGBA"))[..., 3]


@pytest.fixture(scope="module")
def emoji_folder() -> Path:
    """The real emoji, fetched into the keras-gan cache the first time (reused after)."""
    try:
        return emoji.prepare()
    except data.DataError as error:
        pytest.skip(f"the emoji dataset is unavailable here (needs npm and its registry): {error}")


def test_folder_holds_rgba_64x64_pngs_by_category(emoji_folder: Path) -> None:
    categories = sorted(path.name for path in emoji_folder.iterdir() if path.is_dir())
    assert 9 <= len(categories) <= 11 and "Smileys & Emotion" in categories
    files = sorted(emoji_folder.glob("*/*.png"))
    assert len(files) > 3000
    summary = json.loads((emoji_folder / ".emoji.json").read_text())
    assert sum(summary["counts"].values()) == len(files)
    for path in files[:: len(files) // 40]:
        with Image.open(path) as image:  # RGBA, a few grey LA and palette PNGs
            assert image.size == (64, 64) and has_transparency(image)


def test_load_composites_onto_white(emoji_folder: Path) -> None:
    info = data.describe(emoji.EMOJI)
    assert info.element_shape == (64, 64, 3) and info.num_examples > 3000
    assert info.class_names == tuple(sorted(p.name for p in emoji_folder.iterdir() if p.is_dir()))
    dataset = data.load(emoji.EMOJI, batch_size=32, shuffle=False, with_labels=True)
    images, labels = next(iter(dataset.as_numpy_iterator()))
    assert images.shape == (32, 64, 64, 3) and images.dtype == np.float32
    assert images.min() >= -1.0 and images.max() <= 1.0
    assert set(labels) <= set(range(info.num_classes))
    files = emoji.emoji_source(None, Options(64, 3, None)).files[:32]
    transparent, corners = 0, 0
    for path, image in zip(files, images, strict=True):
        alpha = alpha_of(path)
        transparent += int((alpha == 0).sum())
        assert np.all(image[alpha == 0] == 1.0)  # exactly white, whatever lay under
        if alpha[0, 0] == 0:
            corners += 1
            assert np.all(image[0, 0] == 1.0)
    assert transparent > 32 * 64 * 64 * 0.1 and corners > 16  # largely transparent PNGs
    black = next(iter(data.load(emoji.EMOJI, batch_size=8, shuffle=False, background="black")))
    alpha = alpha_of(files[0])
    assert np.all(black.numpy()[0][alpha == 0] == -1.0)


def test_cached_folder_is_reused_offline(emoji_folder: Path, monkeypatch) -> None:
    monkeypatch.setenv("KERAS_GAN_OFFLINE", "1")
    assert emoji.prepare() == emoji_folder


def fake_tarball(path: Path) -> Path:
    """A tarball shaped like npm's: emoji.json, two 64x64 images, one skin tone, one stray."""
    metadata = [
        {"image": "1f600.png", "category": "Smileys & Emotion"},
        {
            "image": "1f44b.png",
            "category": "People & Body",
            "skin_variations": {"1F3FB": {"image": "1f44b-1f3fb.png"}},
        },
    ]
    pixels = np.zeros((64, 64, 4), np.uint8)
    pixels[..., 0] = 255  # red under alpha 0
    pixels[16:48, 16:48] = (10, 20, 30, 255)
    png = io.BytesIO()
    Image.fromarray(pixels, "RGBA").save(png, format="PNG")
    files = {"package/emoji.json": json.dumps(metadata).encode()}
    for name in ("1f600.png", "1f44b.png", "1f44b-1f3fb.png", "stray.png"):
        files[f"{emoji.IMAGE_DIR}{name}"] = png.getvalue()
    with tarfile.open(path, "w:gz") as archive:
        for name, content in files.items():
            member = tarfile.TarInfo(name)
            member.size = len(content)
            archive.addfile(member, io.BytesIO(content))
    return path


def test_tarball_in_data_dir_is_extracted_once(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("KERAS_GAN_OFFLINE", "1")
    monkeypatch.setenv(emoji.CACHE_ENV, str(tmp_path / "cache"))
    data_dir = tmp_path / "downloads"
    data_dir.mkdir()
    fake_tarball(data_dir / "emoji-datasource-google-0.1.0.tgz")
    folder = emoji.prepare(str(data_dir))
    assert folder == tmp_path / "cache" / "datasets" / "emoji-datasource-google-0.1.0"
    assert sorted(p.relative_to(folder).as_posix() for p in folder.glob("*/*.png")) == [
        "People & Body/1f44b-1f3fb.png",
        "People & Body/1f44b.png",
        "Smileys & Emotion/1f600.png",
    ]
    assert not [p for p in folder.parent.iterdir() if p.name.startswith(".")]  # no leftovers
    stamp = folder.stat().st_mtime_ns
    assert emoji.prepare(str(data_dir)) == folder and folder.stat().st_mtime_ns == stamp
    images, labels = next(
        iter(data.load("emoji", data_dir=data_dir, batch_size=3, with_labels=True, shuffle=False))
    )
    assert images.shape == (3, 64, 64, 3) and list(labels.numpy()) == [0, 0, 1]
    assert np.all(images.numpy()[:, 0, 0] == 1.0)  # red under alpha 0 became white
    info = data.describe("emoji", data_dir=data_dir)
    assert info.name == "emoji" and info.class_names == ("People & Body", "Smileys & Emotion")


def test_offline_without_a_copy_fails_fast_with_what_to_do(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("KERAS_GAN_OFFLINE", "1")
    monkeypatch.setenv(emoji.CACHE_ENV, str(tmp_path))
    start = time.monotonic()
    with pytest.raises(data.DataError) as error:
        data.load("emoji")
    assert time.monotonic() - start < 10
    message = str(error.value)
    assert "\n" not in message
    assert f"npm pack {emoji.PACKAGE}@{emoji.VERSION}" in message and "--data-dir" in message
