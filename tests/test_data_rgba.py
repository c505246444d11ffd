"""Transparent images are composited onto a background colour, not stripped of their alpha."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from keras_gan import data
from keras_gan.cli import train as train_cli
from keras_gan.training import TrainConfig, TrainingError

# One 4x4 RGBA sprite: garbage (pure red) under alpha 0, a half-transparent blue, opaque green.
RED, BLUE, GREEN = (255, 0, 0), (0, 0, 255), (30, 200, 60)


def sprite() -> np.ndarray:
    pixels = np.zeros((4, 4, 4), np.uint8)
    pixels[..., :3] = RED  # alpha 0 below: what lies under must not show
    pixels[1:3, 1:3] = (*BLUE, 128)
    pixels[3, :] = (*GREEN, 255)
    return pixels


def blend(pixels: np.ndarray, background: tuple[int, int, int]) -> np.ndarray:
    """a * rgb + (1 - a) * background, rounded to the nearest integer."""
    alpha = pixels[..., 3:].astype(np.float64) / 255
    mixed = alpha * pixels[..., :3] + (1 - alpha) * np.asarray(background, np.float64)
    return np.floor(mixed + 0.5).astype(np.uint8)


def as_uint8(images: np.ndarray) -> np.ndarray:
    return np.rint((images + 1.0) * 127.5).astype(np.uint8)


def load_all(folder: Path, **options) -> np.ndarray:
    dataset = data.load(folder, batch_size=2, shuffle=False, drop_remainder=False, **options)
    return np.concatenate(list(dataset.as_numpy_iterator()))


@pytest.fixture
def rgba_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "sprites"
    folder.mkdir()
    Image.fromarray(sprite(), "RGBA").save(folder / "a.png")
    Image.fromarray(sprite(), "RGBA").save(folder / "b.png")
    with Image.open(folder / "a.png") as written:  # a real RGBA PNG, red under alpha 0
        assert written.mode == "RGBA"
        assert tuple(np.asarray(written)[0, 0]) == (*RED, 0)
    return folder


def test_transparent_pixels_become_exactly_white(rgba_folder: Path) -> None:
    images = load_all(rgba_folder)
    assert images.shape == (2, 4, 4, 3)
    transparent = sprite()[..., 3] == 0
    assert np.all(images[0][transparent] == 1.0)  # white, exactly, in [-1, 1]
    np.testing.assert_array_equal(as_uint8(images[0]), blend(sprite(), (255, 255, 255)))
    # The half-transparent blue: round((128 * 255 + 127 * 255) / 255) = 255 in blue, 127 else.
    assert tuple(as_uint8(images[0])[1, 1]) == (127, 127, 255)
    assert tuple(as_uint8(images[0])[3, 0]) == GREEN  # opaque pixels are untouched


@pytest.mark.parametrize(
    ("background", "rgb"),
    [("black", (0, 0, 0)), ("#00ff00", (0, 255, 0)), ("RoyalBlue", (65, 105, 225))],
)
def test_other_backgrounds(rgba_folder: Path, background: str, rgb: tuple[int, int, int]) -> None:
    images = load_all(rgba_folder, background=background)
    np.testing.assert_array_equal(as_uint8(images[1]), blend(sprite(), rgb))
    if background == "black":
        assert np.all(images[0][sprite()[..., 3] == 0] == -1.0)


def test_grayscale_composites_then_converts(rgba_folder: Path) -> None:
    images = load_all(rgba_folder, channels=1)
    assert images.shape == (2, 4, 4, 1)
    assert np.all(images[0][sprite()[..., 3] == 0] == 1.0)
    expected = np.asarray(Image.fromarray(blend(sprite(), (255, 255, 255))).convert("L"))
    np.testing.assert_array_equal(as_uint8(images[0])[..., 0], expected)


def test_palette_and_grey_alpha_images(tmp_path: Path) -> None:
    palette = tmp_path / "palette"
    palette.mkdir()
    indices = np.array([[0, 1], [1, 0]], np.uint8)
    image = Image.fromarray(indices, "P")
    image.putpalette([*RED, *GREEN] + [0] * 762)
    image.save(palette / "p.png", transparency=0)  # palette entry 0 (red) is transparent
    image.save(palette / "p.gif", transparency=0)
    with Image.open(palette / "p.png") as written:
        assert written.mode == "P" and written.info.get("transparency") == 0
    images = load_all(palette, background="black")
    for decoded in images:
        np.testing.assert_array_equal(
            as_uint8(decoded), np.array([[(0, 0, 0), GREEN], [GREEN, (0, 0, 0)]], np.uint8)
        )
    grey = tmp_path / "grey"
    grey.mkdir()
    la = np.array([[[200, 0], [50, 255]], [[10, 64], [90, 255]]], np.uint8)
    Image.fromarray(la, "LA").save(grey / "la.png")
    (decoded,) = load_all(grey)  # every image grey: one channel
    assert decoded.shape == (2, 2, 1)
    np.testing.assert_array_equal(
        as_uint8(decoded)[..., 0], blend(la[..., [0, 0, 0, 1]], (255, 255, 255))[..., 0]
    )


def test_opaque_images_ignore_the_background(tmp_path: Path) -> None:
    Image.fromarray(sprite()[..., :3], "RGB").save(tmp_path / "opaque.png")
    white, black = (load_all(tmp_path, background=colour) for colour in ("white", "black"))
    np.testing.assert_array_equal(white, black)
    np.testing.assert_array_equal(as_uint8(white[0]), sprite()[..., :3])


def test_rgba_arrays_are_composited_like_files(tmp_path: Path) -> None:
    np.savez(tmp_path / "sprites.npz", x=np.stack([sprite(), sprite()]))
    for background, rgb in (("white", (255, 255, 255)), ("#204060", (32, 64, 96))):
        images = load_all(tmp_path / "sprites.npz", background=background)
        assert images.shape == (2, 4, 4, 3)
        np.testing.assert_array_equal(as_uint8(images[0]), blend(sprite(), rgb))
    grey = load_all(tmp_path / "sprites.npz", channels=1, image_size=2)
    assert grey.shape == (2, 2, 2, 1)


def test_the_file_cache_is_keyed_by_the_background(rgba_folder: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    white = load_all(rgba_folder, cache_dir=cache)
    black = load_all(rgba_folder, cache_dir=cache, background="black")
    assert np.all(white[0][sprite()[..., 3] == 0] == 1.0)
    assert np.all(black[0][sprite()[..., 3] == 0] == -1.0)  # not the white images cached


@pytest.mark.parametrize("background", ["nope", "#ff000080", "", "#12345"])
def test_bad_background_is_one_line_data_error(rgba_folder: Path, background: str) -> None:
    for call in (data.load, data.describe):
        with pytest.raises(data.DataError, match="background must be an opaque colour") as error:
            call(rgba_folder, background=background)
        assert "\n" not in str(error.value)


def test_train_config_background(tmp_path: Path) -> None:
    assert TrainConfig(dataset="emoji").background == "white"
    TrainConfig(dataset="emoji", background="#102030").validate()
    with pytest.raises(TrainingError, match="background must be an opaque colour"):
        TrainConfig(dataset="emoji", background="mauve-ish").validate()
    values = TrainConfig(dataset="emoji", background="black").to_dict()
    assert TrainConfig.from_dict(values).background == "black"
    values.pop("background")  # a config.json written before the setting existed
    path = tmp_path / "config.json"
    path.write_text(json.dumps(values))
    assert TrainConfig.load(path).background == "white"
    assert "background" not in train_cli.config.RESUME_OVERRIDES
    assert {field.name for field in dataclasses.fields(TrainConfig)} >= {"background"}


def test_cli_rejects_a_bad_background(capsys: pytest.CaptureFixture[str]) -> None:
    assert train_cli.main(["--dataset", "emoji", "--background", "nope"]) == 2
    error = capsys.readouterr().err.strip()
    assert "--background" in error and "'nope' is not an opaque colour" in error
    assert len(error.splitlines()) == 1
