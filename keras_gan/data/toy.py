"""`gaussian`: a shifted, correlated Gaussian point cloud for toy GANs.

Points are float32 of shape `(batch, D)`, not rescaled, sampled with NumPy from the seed; the
`test` split is a different random stream than `train`.
"""

from __future__ import annotations

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
GAUSSIAN_MEAN: tuple[float, ...] = (1.0, -0.5)
GAUSSIAN_COV: tuple[tuple[float, ...], ...] = ((1.0, 0.6), (0.6, 0.8))
GAUSSIAN_NUM_EXAMPLES = 10_000


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
