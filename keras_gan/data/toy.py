"""The 2-D toys: `gaussian` (a shifted, correlated Gaussian) and the mode-collapse mixtures.

`ring8` and `grid25` are the mixtures of VEEGAN (Srivastava et al. 2017) and PacGAN (Lin et
al. 2018). Points are float32 of shape `(batch, D)`, not rescaled; the `test` split is a
different random stream than `train`. `gaussian` is drawn from the seed, the mixtures from a
fixed seed (the same points in every run, like a real dataset; the shuffling follows the seed).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import tensorflow as tf

from keras_gan.data.arrays import check_batch
from keras_gan.data.base import (
    DataError,
    DatasetInfo,
    Options,
    PipelineSettings,
    Split,
    no_labels_message,
)
from keras_gan.data.sources import Source
from keras_gan.errors import one_line

GAUSSIAN = "gaussian"
RING8 = "ring8"
GRID25 = "grid25"
GAUSSIAN_MEAN: tuple[float, ...] = (1.0, -0.5)
GAUSSIAN_COV: tuple[tuple[float, ...], ...] = ((1.0, 0.6), (0.6, 0.8))
GAUSSIAN_NUM_EXAMPLES = 10_000
MIXTURE_NUM_EXAMPLES = {"train": 100_000, "test": 10_000}  # PacGAN: 100,000 training points
MIXTURE_SEED = 15
_CHUNK = 10_000


@dataclass(frozen=True)
class Mixture:
    """An equal-weight mixture of isotropic 2-D Gaussians: its `centres` `(K, 2)` and `std`."""

    name: str
    centres: np.ndarray
    std: float

    @property
    def num_modes(self) -> int:
        """K, the number of components."""
        return len(self.centres)

    def sample(self, count: int, seed: int | list[int] | None) -> tuple[np.ndarray, np.ndarray]:
        """`count` float32 points and their int32 component, components drawn uniformly."""
        rng = np.random.default_rng(seed)
        modes = rng.integers(self.num_modes, size=count).astype(np.int32)
        noise = rng.standard_normal((count, 2)) * self.std
        return (self.centres[modes] + noise).astype(np.float32), modes


def _ring8() -> Mixture:
    angles = 2.0 * np.pi * np.arange(8) / 8.0
    return Mixture(RING8, np.stack([np.cos(angles), np.sin(angles)], axis=1), 0.01)


def _grid25() -> Mixture:
    axis = np.arange(-4.0, 5.0, 2.0)
    return Mixture(GRID25, np.array([(x, y) for x in axis for y in axis]), 0.05)


# PacGAN's code (github.com/fjxmlzn/PacGAN, synthetic_data_experiments/*/config.py), which
# follows VEEGAN: ring8 has means (cos 2 pi i/8, sin 2 pi i/8) and std 0.01; grid25 has means
# {-4, -2, 0, 2, 4}^2 and std 0.05.
MIXTURES: dict[str, Mixture] = {RING8: _ring8(), GRID25: _grid25()}


class GaussianSource(Source):
    """Points from N(`gaussian_mean`, `gaussian_cov`); `num_examples` of them (default 10,000)."""

    name = GAUSSIAN
    origin = "a Gaussian"  # `info` names the mean and covariance.
    _SPLITS = ("train", "test")

    def _validated(self, split: Split, options: Options) -> tuple[np.ndarray, np.ndarray, int]:
        if split.sliced or split.name not in self._SPLITS:
            raise DataError(f"gaussian has splits 'train' and 'test', not {split.text!r}; use one")
        if options.image_size is not None or options.channels is not None:
            raise DataError("gaussian yields 2-D points, not images; drop image_size and channels")
        try:
            mean = np.asarray(options.gaussian_mean, dtype=np.float64)
            cov = np.asarray(options.gaussian_cov, dtype=np.float64)
        except (TypeError, ValueError) as error:
            raise DataError(
                f"gaussian mean/cov must be numbers: {one_line(error, max_length=200)}"
            ) from error
        if mean.ndim != 1 or cov.shape != (len(mean), len(mean)):
            raise DataError(
                f"gaussian covariance must be {len(mean)}x{len(mean)} to match the mean of "
                f"length {len(mean)}, got shape {cov.shape}; fix gaussian_cov"
            )
        if not np.allclose(cov, cov.T):
            raise DataError("gaussian covariance must be symmetric; fix gaussian_cov")
        try:
            np.linalg.cholesky(cov)
        except np.linalg.LinAlgError as error:
            raise DataError(
                "gaussian covariance must be positive definite (all eigenvalues > 0); "
                "fix gaussian_cov"
            ) from error
        count = GAUSSIAN_NUM_EXAMPLES if options.num_examples is None else options.num_examples
        return mean, cov, count

    def info(self, split: Split, options: Options) -> DatasetInfo:
        mean, cov, count = self._validated(split, options)
        origin = f"a Gaussian with mean {mean.tolist()} and covariance {cov.tolist()}"
        return DatasetInfo(GAUSSIAN, origin, split.text, (len(mean),), count, None)

    def dataset(
        self, split: Split, options: Options, settings: PipelineSettings
    ) -> tuple[tf.data.Dataset, DatasetInfo]:
        info = self.info(split, options)
        if settings.with_labels:
            raise DataError(no_labels_message(GAUSSIAN))
        mean, cov, count = self._validated(split, options)
        check_batch(settings.batch_size, count, settings.drop_remainder, GAUSSIAN)
        stream = self._SPLITS.index(split.name)
        seed = None if settings.seed is None else [settings.seed, stream]
        points = np.random.default_rng(seed).multivariate_normal(mean, cov, size=count)
        dataset = tf.data.Dataset.from_tensor_slices(points.astype(np.float32))
        if settings.shuffle:
            dataset = dataset.shuffle(count, seed=settings.seed, reshuffle_each_iteration=True)
        dataset = dataset.batch(settings.batch_size, drop_remainder=settings.drop_remainder)
        return dataset.prefetch(tf.data.AUTOTUNE), info


def mixture_points(name: str, split: str, count: int) -> np.ndarray:
    """The first `count` points of mixture `name`'s fixed `split` (`train` or `test`).

    Drawn in chunks of 10,000, each from its own seed, so fewer points are a prefix of more.
    """
    stream = MixtureSource._SPLITS.index(split)
    chunks = [
        MIXTURES[name].sample(_CHUNK, [MIXTURE_SEED, stream, start // _CHUNK])[0]
        for start in range(0, count, _CHUNK)
    ]
    return np.concatenate(chunks)[:count] if chunks else np.zeros((0, 2), np.float32)


class MixtureSource(Source):
    """`ring8` or `grid25`: 100,000 `train` and 10,000 `test` points (or `num_examples`).

    Args:
        name: a key of `MIXTURES`.
    """

    _SPLITS = ("train", "test")

    def __init__(self, name: str) -> None:
        self.name = name
        self.mixture = MIXTURES[name]
        self.origin = (
            f"a mixture of {self.mixture.num_modes} 2-D Gaussians of std {self.mixture.std:g} "
            "(VEEGAN/PacGAN)"
        )

    def _count(self, split: Split, options: Options) -> int:
        if split.sliced or split.name not in self._SPLITS:
            raise DataError(
                f"{self.name} has splits 'train' and 'test', not {split.text!r}; use one"
            )
        if options.image_size is not None or options.channels is not None:
            raise DataError(
                f"{self.name} yields 2-D points, not images; drop image_size and channels"
            )
        default = MIXTURE_NUM_EXAMPLES[split.name]
        return default if options.num_examples is None else options.num_examples

    def info(self, split: Split, options: Options) -> DatasetInfo:
        count = self._count(split, options)
        return DatasetInfo(self.name, self.origin, split.text, (2,), count, None)

    def dataset(
        self, split: Split, options: Options, settings: PipelineSettings
    ) -> tuple[tf.data.Dataset, DatasetInfo]:
        info = self.info(split, options)
        if settings.with_labels:
            raise DataError(no_labels_message(self.name))
        count = info.num_examples
        check_batch(settings.batch_size, count, settings.drop_remainder, self.name)
        points = mixture_points(self.name, split.name, count)
        dataset = tf.data.Dataset.from_tensor_slices(points)
        if settings.shuffle:
            dataset = dataset.shuffle(count, seed=settings.seed, reshuffle_each_iteration=True)
        dataset = dataset.batch(settings.batch_size, drop_remainder=settings.drop_remainder)
        return dataset.prefetch(tf.data.AUTOTUNE), info
