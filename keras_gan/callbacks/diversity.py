"""How diverse a generator's samples are: the measures `FailureMonitor` watches for mode collapse.

`pixel_features` is the cheap feature space, `sample_diversity` the mean distance between
samples' features and `class_coverage` the classes a classifier sees among them. See
`docs/callbacks.md`.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

__all__ = ["class_coverage", "pixel_features", "sample_diversity"]

_PIXEL_SIZE = 8


def pixel_features(samples: np.ndarray) -> np.ndarray:
    """The cheap feature space: 2-D points as they are, images area-downsampled to <= 8x8.

    Args:
        samples: `(n, d)` points or `(n, H, W, C)` images.

    Returns:
        `(n, features)` float64.
    """
    samples = np.asarray(samples, dtype=np.float32)
    if samples.ndim == 4:
        size = (min(samples.shape[1], _PIXEL_SIZE), min(samples.shape[2], _PIXEL_SIZE))
        samples = tf.image.resize(samples, size, method="area").numpy()
    return samples.reshape(len(samples), -1).astype(np.float64)


def sample_diversity(features: np.ndarray) -> float:
    """Mean Euclidean distance between the pairs of rows of `features` (0 for one row)."""
    features = np.asarray(features, dtype=np.float64)
    n = len(features)
    if n < 2:
        return 0.0
    squares = np.sum(features**2, axis=1)
    distances = squares[:, None] + squares[None, :] - 2.0 * features @ features.T
    distances = np.sqrt(np.maximum(distances, 0.0))
    return float(distances.sum() / (n * (n - 1)))


def class_coverage(probabilities: np.ndarray) -> float:
    """Classes predicted for at least a quarter of their even share of the samples."""
    counts = np.bincount(np.argmax(probabilities, axis=1), minlength=probabilities.shape[1])
    share = len(probabilities) / probabilities.shape[1]
    return float(np.sum(counts >= max(1.0, share / 4)))
