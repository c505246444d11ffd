"""Files made from a trained generator: sample grids, latent walks, latent arithmetic.

The library side of `sample.py`, for scripts and notebooks too; the manual is docs/sampling.md.
Noise comes from `keras_gan.latent.sample_noise` and runs through
`keras_gan.generation.run_generator`, so `n` samples with a seed are the images
`GAN.generate(n, seed=seed)` returns. Files are written atomically.
"""

from __future__ import annotations

import dataclasses
import io
import math
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import keras
import numpy as np
from PIL import Image

from keras_gan import latent
from keras_gan.errors import is_integer
from keras_gan.figures import ArithmeticFigure, arithmetic_figure, grid_image, to_images
from keras_gan.files import write_bytes_atomically
from keras_gan.generation import (
    DEFAULT_BATCH_SIZE,
    LABEL_EMBEDDING_LAYER,
    GeneratorInfo,
    SamplingError,
    describe_generator,
    load_generator,
    run_generator,
)

__all__ = [
    "DEFAULT_BATCH_SIZE",
    "LABEL_EMBEDDING_LAYER",
    "ArithmeticFigure",
    "GeneratorInfo",
    "Samples",
    "SamplingError",
    "arithmetic_figure",
    "describe_generator",
    "draw_samples",
    "frame_count",
    "generate",
    "gif_frames",
    "grid_image",
    "interpolation_frames",
    "interpolation_strip",
    "load_generator",
    "sample_grid",
    "save_gif",
    "save_npz",
    "save_png",
    "walk_latents",
]


# ------------------------------------------------------------------------------- labels
def _resolve_classes(info: GeneratorInfo, classes: str | Sequence[int]) -> list[int]:
    if isinstance(classes, str):
        if classes != "all":
            raise SamplingError(f"classes must be 'all' or a list of labels, got {classes!r}.")
        if not info.conditional:
            raise SamplingError("The generator is not conditional: it takes no class labels.")
        return list(range(info.num_classes))
    resolved = [info.check_label(label) for label in classes]
    if not resolved:
        raise SamplingError("No classes given.")
    return resolved


def _exclusive(label: Any, classes: Any) -> None:
    if label is not None and classes is not None:
        raise SamplingError("Give either one label or classes (one row per class), not both.")


# ------------------------------------------------------------------------------- samples
def generate(
    generator: keras.Model,
    z: np.ndarray,
    labels: np.ndarray | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
) -> np.ndarray:
    """Run the generator on noise `z` (and `labels`) in inference mode: float32 samples.

    This is `keras_gan.generation.run_generator`, the path `GAN.generate` takes too, so the
    same noise gives bit-identical images.
    """
    return run_generator(generator, z, labels, batch_size=batch_size)


@dataclasses.dataclass
class Samples:
    """Samples drawn by `draw_samples`.

    Args:
        images: uint8 `(n, H, W, C)`.
        z: the noise that made them.
        labels: their classes (`None` if unconditional).
        cols: the grid's columns.
        seed: the noise's seed.
    """

    images: np.ndarray
    z: np.ndarray
    labels: np.ndarray | None
    cols: int
    seed: int | None

    def arrays(self) -> dict[str, np.ndarray]:
        """What `save_npz` writes: images, z, labels (if any), seed (-1 for none)."""
        arrays = {"images": self.images, "z": self.z}
        if self.labels is not None:
            arrays["labels"] = self.labels
        arrays["seed"] = np.array(-1 if self.seed is None else self.seed, dtype=np.int64)
        return arrays


def draw_samples(
    generator: keras.Model,
    n: int = 64,
    seed: int | None = None,
    *,
    cols: int | None = None,
    label: int | None = None,
    classes: str | Sequence[int] | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
) -> Samples:
    """`n` samples from noise `latent.sample_noise(n, latent_dim, seed)`.

    Conditional generators: `label` gives every sample that class, by default the classes
    take turns; `classes` (`"all"` or a list) instead makes one row per class of `cols`
    samples each (default `ceil(n / len(classes))`) on the same `cols` noise vectors, so
    each column shows one z under every class.
    """
    info = describe_generator(generator, images=True)
    _exclusive(label, classes)
    if classes is not None:
        rows = _resolve_classes(info, classes)
        per_class = cols if cols is not None else math.ceil(n / len(rows))
        z = np.tile(latent.sample_noise(per_class, info.latent_dim, seed), (len(rows), 1))
        labels = np.repeat(np.asarray(rows, dtype=np.int32), per_class)
        cols = per_class
    else:
        z = latent.sample_noise(n, info.latent_dim, seed)
        labels = info.labels_for(n, label)
        cols = latent.grid_shape(n, cols)[1]
    images = to_images(generate(generator, z, labels, batch_size))
    return Samples(images, z, labels, cols, seed)


def sample_grid(
    generator: keras.Model,
    n: int = 64,
    seed: int | None = None,
    cols: int | None = None,
    *,
    label: int | None = None,
    classes: str | Sequence[int] | None = None,
    padding: int = 2,
    scale: int = 1,
    numbered: bool = False,
) -> np.ndarray:
    """A uint8 picture of `draw_samples` in a grid.

    Sample `i` sits at row `i // cols`, column `i % cols`; `cols` defaults to
    `ceil(sqrt(n))`, or one row per class. See `grid_image` for `padding`, `scale` and
    `numbered`.
    """
    samples = draw_samples(generator, n, seed, cols=cols, label=label, classes=classes)
    return grid_image(samples.images, samples.cols, padding=padding, scale=scale, numbered=numbered)


# ------------------------------------------------------------------------------- walks
def frame_count(points: int, steps: int, closed: bool) -> int:
    """Frames of a walk through `points` latent points with `steps` frames per segment.

    `points * steps` for a closed loop, `(points - 1) * steps + 1` for an open path.
    """
    return points * steps if closed else (points - 1) * steps + 1


def walk_latents(
    latent_dim: int,
    walks: int = 1,
    points: int = 2,
    steps: int = 8,
    method: str = "slerp",
    seed: int | None = None,
    closed: bool = False,
) -> np.ndarray:
    """`walks` latent walks `(walks, frame_count(points, steps, closed), latent_dim)`.

    The points are `z = latent.sample_noise(walks * points, latent_dim, seed)`; walk `i`
    goes through `z[i], z[walks + i], z[2 * walks + i], ...`, so it starts at sample `i`
    of a grid drawn with the same seed. Paths are `latent.interpolation_path`.
    """
    if not is_integer(points) or points < 2:
        raise SamplingError(f"A walk needs at least 2 points, got {points!r}.")
    if not is_integer(walks) or walks < 1:
        raise SamplingError(f"walks must be a positive integer, got {walks!r}.")
    bank = latent.sample_noise(walks * points, latent_dim, seed).reshape(points, walks, -1)
    return np.stack(
        [latent.interpolation_path(bank[:, walk], steps, method, closed) for walk in range(walks)]
    )


def interpolation_frames(
    generator: keras.Model,
    steps: int = 8,
    method: str = "slerp",
    seed: int | None = None,
    *,
    walks: int = 1,
    points: int = 2,
    closed: bool = False,
    label: int | None = None,
    classes: str | Sequence[int] | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
) -> np.ndarray:
    """Images along latent walks: uint8 `(walks, frames, H, W, C)`.

    See `walk_latents` and `frame_count`; `method` is one of `latent.INTERPOLATION_METHODS`.
    Conditional generators: walk `i` has class `label`, or by default `i % num_classes`;
    `classes` instead makes one walk per class, all along the same latent path.
    """
    info = describe_generator(generator, images=True)
    _exclusive(label, classes)
    rows = None if classes is None else _resolve_classes(info, classes)
    count = 1 if rows is not None else walks
    path = walk_latents(info.latent_dim, count, points, steps, method, seed, closed)
    if rows is not None:
        path = np.repeat(path, len(rows), axis=0)
        walk_labels = np.asarray(rows, dtype=np.int32)
    else:
        walk_labels = info.labels_for(count, label)
    frames = path.shape[1]
    labels = None if walk_labels is None else np.repeat(walk_labels, frames)
    images = to_images(generate(generator, path.reshape(-1, info.latent_dim), labels, batch_size))
    return images.reshape(path.shape[0], frames, *images.shape[1:])


def interpolation_strip(
    frames: np.ndarray, *, padding: int = 2, scale: int = 1, numbered: bool = False
) -> np.ndarray:
    """One row per walk of `interpolation_frames` output: a uint8 picture."""
    walks, count = frames.shape[:2]
    return grid_image(
        frames.reshape(walks * count, *frames.shape[2:]),
        count,
        padding=padding,
        scale=scale,
        numbered=numbered,
    )


def gif_frames(
    frames: np.ndarray, cols: int | None = None, *, padding: int = 2, scale: int = 1
) -> list[np.ndarray]:
    """One picture per time step for `save_gif`, each a grid of the walks.

    `cols` defaults to `ceil(sqrt(walks))`.
    """
    return [
        grid_image(frames[:, step], cols, padding=padding, scale=scale)
        for step in range(frames.shape[1])
    ]


# ------------------------------------------------------------------------------- files
def _picture(image: np.ndarray) -> Image.Image:
    image = np.asarray(image)
    if image.dtype != np.uint8:
        raise SamplingError(f"Pictures must be uint8, got {image.dtype}.")
    if image.ndim == 3 and image.shape[-1] == 1:
        image = image[..., 0]
    if image.ndim not in (2, 3) or (image.ndim == 3 and image.shape[-1] != 3):
        raise SamplingError(
            f"A picture must be (height, width) or (height, width, 3), got {image.shape}."
        )
    return Image.fromarray(image)


def save_png(image: np.ndarray, path: str | os.PathLike) -> Path:
    """Write a uint8 picture as a PNG, atomically; returns the path."""
    buffer = io.BytesIO()
    _picture(image).save(buffer, format="PNG")
    return write_bytes_atomically(path, buffer.getvalue())


def save_gif(frames: Sequence[np.ndarray], path: str | os.PathLike, fps: float = 10) -> Path:
    """Write uint8 pictures as an animated GIF that loops forever (`loop=0`), atomically.

    Each frame shows for `1000 / fps` ms. Pillow merges a frame identical to the one before
    it into that frame, so the file has one frame per picture unless pictures repeat.
    """
    if len(frames) == 0:
        raise SamplingError("No frames to write.")
    if not fps > 0:
        raise SamplingError(f"fps must be positive, got {fps!r}.")
    images = [_picture(frame) for frame in frames]
    buffer = io.BytesIO()
    images[0].save(
        buffer,
        format="GIF",
        save_all=True,
        append_images=images[1:],
        duration=max(1, round(1000 / fps)),
        loop=0,
    )
    return write_bytes_atomically(path, buffer.getvalue())


def save_npz(path: str | os.PathLike, **arrays: np.ndarray) -> Path:
    """Write arrays to an uncompressed `.npz`, atomically (any name; nothing is appended).

    For samples: `save_npz(path, **samples.arrays())`.
    """
    if not arrays:
        raise SamplingError("No arrays to write.")
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return write_bytes_atomically(path, buffer.getvalue())
