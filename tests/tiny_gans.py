"""Tiny real GANs and data shared by the callback, monitor and evaluation tests."""

from __future__ import annotations

from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from keras_gan import GAN, networks

LATENT = 4
SHAPE = (8, 8, 1)


def blobs(n: int, seed: int = 0) -> np.ndarray:
    """Smooth random blobs in [-1, 1]: cheap 'real' 8x8 images."""
    rng = np.random.default_rng(seed)
    grid = np.linspace(-1, 1, SHAPE[0])
    centres = rng.uniform(-0.5, 0.5, size=(n, 2))
    yy, xx = np.meshgrid(grid, grid, indexing="ij")
    dist = (yy[None] - centres[:, :1, None]) ** 2 + (xx[None] - centres[:, 1:, None]) ** 2
    return (2.0 * np.exp(-dist / 0.2) - 1.0)[..., None].astype("float32")


def quadrants_npz(folder: Path) -> Path:
    """256 8x8 images in 4 classes (a bright quadrant each, on faint noise), with labels, as
    `folder/quadrants.npz`: a labelled dataset whose domain classifier trains in a second."""
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 4, 256).astype("int64")
    images = (rng.random((256, 8, 8)) * 40).astype("uint8")
    for index, label in enumerate(labels):
        row, col = divmod(int(label), 2)
        images[index, row * 4 : row * 4 + 4, col * 4 : col * 4 + 4] = 255
    path = folder / "quadrants.npz"
    np.savez(path, x=images, y=labels)
    return path


def batches(values: np.ndarray, batch: int = 32) -> tf.data.Dataset:
    return tf.data.Dataset.from_tensor_slices(values).batch(batch, drop_remainder=True)


def make_gan(
    shape=SHAPE, lr_d=1e-3, lr_g=1e-3, seed=1, generator_hidden: tuple[int, ...] = (16,)
) -> GAN:
    """An MLP GAN with Adam(beta_1=0.5) for both players, seeded."""
    keras.utils.set_random_seed(seed)
    generator, discriminator = networks.build(
        "mlp", shape, LATENT, generator_hidden=generator_hidden, discriminator_hidden=(16,)
    )
    gan = GAN(generator, discriminator, LATENT, seed=seed)
    gan.compile(
        d_optimizer=keras.optimizers.Adam(lr_d, beta_1=0.5),
        g_optimizer=keras.optimizers.Adam(lr_g, beta_1=0.5),
    )
    return gan
