"""`SampleGrid`: the generator's output on fixed noise, as a PNG per epoch and in TensorBoard.

Samples come from `keras_gan.generation.run_generator`, so a grid shows exactly what
`GAN.generate` and `sample.py` give for the same noise. See `docs/callbacks.md`.
"""

from __future__ import annotations

import io
import logging
import os
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf
from matplotlib.figure import Figure
from PIL import Image

from keras_gan import files, latent
from keras_gan.callbacks.base import EpochAware, figure_png
from keras_gan.callbacks.tensorboard import WRITERS
from keras_gan.gan import sampling_generator
from keras_gan.generation import cycling_labels, generator_classes, run_generator

__all__ = ["SampleGrid"]

logger = logging.getLogger(__name__)


def _png(pixels: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG")
    return buffer.getvalue()


def _classes(model: keras.Model, generator: keras.Model) -> int | None:
    """A GAN's `num_classes`; for another model, what its generator's label embedding says."""
    if hasattr(model, "num_classes"):
        return model.num_classes or None
    return generator_classes(generator)


class SampleGrid(EpochAware):
    """The generator's output on the same fixed noise, as a PNG per epoch and in TensorBoard.

    Images become one grid (`latent.image_grid`) written to `directory/epoch_0001.png`
    (1-based epoch numbers). Two-dimensional points (the Gaussian toy) become a scatter plot
    of `real_samples` against the generated points instead, on axes fixed by the real data so
    that the frames can be compared. With `log_dir` the same picture is logged as the
    TensorBoard image `samples` at the epoch number. For a conditional GAN the grid has one
    row per class, the columns sharing the same noise.

    Args:
        directory: where the PNG files go.
        noise: the fixed `(n, latent_dim)` noise; by default `num_samples` vectors are drawn
            from `seed` when training starts (read them back from `self.noise` to keep them).
        num_samples: how many samples to draw when `noise` is not given.
        every: write every `every` epochs (and always after the last one); an epoch cut
            short is not drawn.
        log_dir: TensorBoard log folder, or `None` for PNG files only.
        real_samples: real points drawn on 2-D scatter plots.
        seed: the seed of the default noise.
    """

    def __init__(
        self,
        directory: str | os.PathLike,
        noise: np.ndarray | None = None,
        num_samples: int = 64,
        every: int = 1,
        log_dir: str | os.PathLike | None = None,
        real_samples: np.ndarray | None = None,
        seed: int | None = None,
    ) -> None:
        super().__init__()
        if not isinstance(every, int) or every < 1:
            raise ValueError(f"every must be a positive integer, got {every!r}.")
        self.directory = Path(directory)
        self.noise = None if noise is None else np.asarray(noise, dtype="float32")
        self.num_samples = int(num_samples)
        self.every = every
        self.log_dir = None if log_dir is None else Path(log_dir)
        self.real_samples = None if real_samples is None else np.asarray(real_samples)
        self.seed = seed
        self.last_path: Path | None = None
        self._writer: tf.summary.SummaryWriter | None = None
        self._limits: tuple[tuple[float, float], tuple[float, float]] | None = None
        self._warned = False

    def on_train_begin(self, logs: dict | None = None) -> None:
        super().on_train_begin(logs)
        latent_dim = int(self.model.latent_dim)
        if self.noise is None:
            self.noise = latent.sample_noise(self.num_samples, latent_dim, seed=self.seed)
        if self.noise.ndim != 2 or self.noise.shape[1] != latent_dim:
            raise ValueError(
                f"Sample noise has shape {self.noise.shape}; the generator needs (n, {latent_dim})."
            )
        if self.log_dir is not None:
            self._writer = WRITERS.acquire(self.log_dir)

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        if not self._epoch_completed():
            return
        number = epoch + 1
        last_epoch = self.params.get("epochs") if self.params else None
        if number % self.every == 0 or number == last_epoch:
            self.write(number)

    def on_train_end(self, logs: dict | None = None) -> None:
        if self._writer is not None:
            WRITERS.release(self.log_dir)
            self._writer = None

    def render(self) -> np.ndarray | None:
        """Draw the current picture.

        Returns:
            uint8 pixels of shape `(H, W)` or `(H, W, 3)`, or `None` for samples it cannot
            draw (neither images nor 2-D points).
        """
        generator = sampling_generator(self.model)
        classes = _classes(self.model, generator)
        if classes and len(generator.output_shape) > 2:
            return self._class_rows(generator, classes)
        labels = None if not classes else cycling_labels(len(self.noise), classes)
        samples = run_generator(generator, self.noise, labels)
        if samples.ndim in (3, 4):
            return latent.image_grid(samples)
        if samples.ndim == 2 and samples.shape[1] == 2:
            png = figure_png(self._scatter(samples))
            return np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))
        if not self._warned:
            logger.warning("SampleGrid cannot draw samples of shape %s; skipping.", samples.shape)
            self._warned = True
        return None

    def _class_rows(self, generator: keras.Model, classes: int) -> np.ndarray:
        """A conditional generator's grid: one row per class, the same noise in each column."""
        per_class = latent.grid_shape(len(self.noise))[1]
        noise = np.tile(self.noise[:per_class], (classes, 1))
        labels = np.repeat(np.arange(classes, dtype="int32"), per_class)
        return latent.image_grid(run_generator(generator, noise, labels), cols=per_class)

    def write(self, epoch_number: int) -> Path | None:
        """Draw the samples now and save them as `epoch_<epoch_number:04d>.png`.

        Returns:
            The PNG written, or `None` when the samples cannot be drawn.
        """
        pixels = self.render()
        if pixels is None:
            return None
        path = files.write_bytes_atomically(
            self.directory / f"epoch_{epoch_number:04d}.png", _png(pixels)
        )
        if self._writer is not None:
            image = pixels[None, ..., None] if pixels.ndim == 2 else pixels[None]
            with self._writer.as_default():
                tf.summary.image("samples", image, step=epoch_number)
            self._writer.flush()
        self.last_path = path
        return path

    def _scatter(self, generated: np.ndarray) -> Figure:
        if self._limits is None:
            reference = self.real_samples if self.real_samples is not None else generated
            low, high = np.percentile(reference, [0.5, 99.5], axis=0)
            margin = 0.25 * (high - low) + 1e-3
            self._limits = (
                (low[0] - margin[0], high[0] + margin[0]),
                (low[1] - margin[1], high[1] + margin[1]),
            )
        figure = Figure(figsize=(5, 5))
        axes = figure.add_subplot()
        if self.real_samples is not None:
            axes.scatter(*self.real_samples[:, :2].T, s=4, alpha=0.3, label="real")
        axes.scatter(*generated.T, s=4, alpha=0.6, label="generated")
        axes.set_xlim(*self._limits[0])
        axes.set_ylim(*self._limits[1])
        axes.legend(loc="upper right")
        axes.set_title("real vs generated")
        figure.tight_layout()
        return figure
