"""The metrics of sample quality on features and class probabilities (NumPy arrays).

FID (Heusel et al. 2017), KID (Binkowski et al. 2018), the classifier score (Salimans et al.
2016) and mode coverage. What each means and how to read it: docs/evaluation.md.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import tensorflow as tf

from keras_gan.errors import KerasGanError

__all__ = [
    "MIN_SHARE",
    "EvaluationError",
    "ModeCoverage",
    "class_distribution",
    "classifier_score",
    "feature_statistics",
    "frechet_distance",
    "frechet_distance_from_statistics",
    "kernel_distance",
    "mode_coverage",
]

MIN_SHARE = 0.25
_KL_SMOOTHING = 1e-6
_LOG_EPS = 1e-12


class EvaluationError(KerasGanError):
    """A bad evaluation request; `str(error)` is one line that says what to do."""


def feature_statistics(features: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The Gaussian fit of FID: mean and covariance of a set of features.

    Args:
        features: array of shape `(n, d)` with `n >= 2`.

    Returns:
        `(mean (d,), covariance (d, d))`, float64.
    """
    features = _as_features(features, "features")
    if features.shape[0] < 2:
        raise EvaluationError("FID needs at least 2 samples to estimate a covariance.")
    return features.mean(axis=0), np.cov(features, rowvar=False).reshape(
        features.shape[1], features.shape[1]
    )


def _psd_sqrt(matrix: np.ndarray) -> np.ndarray:
    """Symmetric square root of a symmetric PSD matrix; round-off negatives clipped to 0."""
    values, vectors = np.linalg.eigh((matrix + matrix.T) / 2.0)
    return (vectors * np.sqrt(np.clip(values, 0.0, None))) @ vectors.T


def frechet_distance_from_statistics(
    mu1: np.ndarray, sigma1: np.ndarray, mu2: np.ndarray, sigma2: np.ndarray
) -> float:
    """Fréchet distance of `N(mu1, sigma1)` and `N(mu2, sigma2)` (Heusel et al. 2017, Eq. 6).

    `||mu1 - mu2||^2 + Tr(S1) + Tr(S2) - 2 Tr((S1 S2)^(1/2))`, with
    `Tr((S1 S2)^(1/2)) = sum sqrt(eig(S1^(1/2) S2 S1^(1/2)))`: both products have the same
    eigenvalues, and the second is symmetric PSD, so the result is real and stable even for
    singular covariances.

    Args:
        mu1: mean of the first Gaussian, `(d,)`.
        sigma1: its covariance, `(d, d)`.
        mu2: mean of the second Gaussian, `(d,)`.
        sigma2: its covariance, `(d, d)`.

    Returns:
        The distance, a float >= 0.
    """
    mu1, mu2 = np.asarray(mu1, np.float64), np.asarray(mu2, np.float64)
    sigma1, sigma2 = np.asarray(sigma1, np.float64), np.asarray(sigma2, np.float64)
    if mu1.shape != mu2.shape or sigma1.shape != sigma2.shape:
        raise EvaluationError(
            f"Feature statistics differ in shape: {mu1.shape}/{sigma1.shape} vs "
            f"{mu2.shape}/{sigma2.shape}; use one feature space for both sets."
        )
    root1 = _psd_sqrt(sigma1)
    middle = root1 @ sigma2 @ root1
    eigenvalues = np.linalg.eigvalsh((middle + middle.T) / 2.0)
    trace_sqrt = float(np.sqrt(np.clip(eigenvalues, 0.0, None)).sum())
    difference = mu1 - mu2
    distance = float(difference @ difference + np.trace(sigma1) + np.trace(sigma2))
    return max(distance - 2.0 * trace_sqrt, 0.0)


def frechet_distance(features_a: np.ndarray, features_b: np.ndarray) -> float:
    """FID between two sets of features (Heusel et al. 2017); lower is better.

    Args:
        features_a: `(n, d)` features of one set of images, e.g. the real ones.
        features_b: `(m, d)` features of the other set, in the same feature space.

    Returns:
        The Fréchet distance of the two Gaussian fits.
    """
    return frechet_distance_from_statistics(
        *feature_statistics(features_a), *feature_statistics(features_b)
    )


def _polynomial_kernel(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    # tf.matmul rather than NumPy's: OpenBLAS threads spin, and slow down ten-fold, on a CPU
    # shared with other work. base * base * base is much faster than base ** 3 (pow).
    base = tf.linalg.matmul(x, y, transpose_b=True).numpy() / x.shape[1] + 1.0
    return base * base * base


def _unbiased_mmd2(x: np.ndarray, y: np.ndarray) -> float:
    """Unbiased MMD^2 (Gretton et al. 2012, Eq. 3) with the KID kernel."""
    m, n = x.shape[0], y.shape[0]
    k_xx, k_yy, k_xy = _polynomial_kernel(x, x), _polynomial_kernel(y, y), _polynomial_kernel(x, y)
    within_x = (k_xx.sum() - np.trace(k_xx)) / (m * (m - 1))
    within_y = (k_yy.sum() - np.trace(k_yy)) / (n * (n - 1))
    return float(within_x + within_y - 2.0 * k_xy.mean())


def kernel_distance(
    features_a: np.ndarray,
    features_b: np.ndarray,
    *,
    num_subsets: int = 100,
    subset_size: int = 1000,
    seed: int | None = 0,
) -> tuple[float, float]:
    """KID (Binkowski et al. 2018, Sec. 3): the unbiased MMD^2 with the kernel `(x.y / d + 1)^3`.

    Averaged over random subsets of each set (fewer samples when a set is smaller; computed
    once, std 0, when the subsets are both whole sets). Unbiased, so ~0 (possibly negative)
    for two samples of one distribution.

    Args:
        features_a: `(n, d)` features of one set.
        features_b: `(m, d)` features of the other set.
        num_subsets: how many random subsets to average over.
        subset_size: samples of each set per subset.
        seed: seed of the subsets' choice.

    Returns:
        `(mean, std)` over the subsets.
    """
    x = _as_features(features_a, "features_a")
    y = _as_features(features_b, "features_b")
    if x.shape[1] != y.shape[1]:
        raise EvaluationError(
            f"Features differ in size ({x.shape[1]} vs {y.shape[1]}); use one feature space."
        )
    size = min(int(subset_size), x.shape[0], y.shape[0])
    if size < 2:
        raise EvaluationError("KID needs at least 2 samples in each set.")
    if num_subsets < 1:
        raise EvaluationError(f"num_subsets must be at least 1, got {num_subsets}.")
    if size == x.shape[0] == y.shape[0]:
        return _unbiased_mmd2(x, y), 0.0
    rng = np.random.default_rng(seed)
    values = [
        _unbiased_mmd2(
            x[rng.choice(x.shape[0], size, replace=False)],
            y[rng.choice(y.shape[0], size, replace=False)],
        )
        for _ in range(int(num_subsets))
    ]
    return float(np.mean(values)), float(np.std(values))


def classifier_score(probabilities: np.ndarray, splits: int = 10) -> tuple[float, float]:
    """The Inception-style score `exp(E_x KL(p(y|x) || p(y)))` (Salimans et al. 2016, Sec. 4.1).

    Between 1 and the number of classes; higher is better. `p(y)` is each split's mean.

    Args:
        probabilities: a classifier's `(n, K)` class probabilities for the samples.
        splits: how many equal parts of the (seeded-shuffled) samples to score.

    Returns:
        `(mean, std)` over the splits.
    """
    probabilities = _as_probabilities(probabilities)
    count = probabilities.shape[0]
    # Shuffled (seeded) so that each split mixes the classes even when the samples are ordered.
    probabilities = probabilities[np.random.default_rng(0).permutation(count)]
    splits = max(1, min(int(splits), count))
    scores = []
    for part in np.array_split(probabilities, splits):
        marginal = part.mean(axis=0, keepdims=True)
        kl = np.sum(part * (np.log(part + _LOG_EPS) - np.log(marginal + _LOG_EPS)), axis=1)
        scores.append(math.exp(float(kl.mean())))
    return float(np.mean(scores)), float(np.std(scores))


def class_distribution(
    probabilities_or_labels: np.ndarray, num_classes: int | None = None
) -> np.ndarray:
    """Class histogram of argmax predictions or of integer labels.

    Args:
        probabilities_or_labels: `(n, K)` probabilities or `(n,)` integer labels.
        num_classes: length of the histogram; `K`, or the largest label + 1, when `None`.

    Returns:
        int64 counts of shape `(num_classes,)`.
    """
    values = np.asarray(probabilities_or_labels)
    if values.ndim == 2:
        num_classes = values.shape[1] if num_classes is None else num_classes
        values = values.argmax(axis=1)
    if values.ndim != 1:
        raise EvaluationError(f"Expected labels (n,) or probabilities (n, K), got {values.shape}.")
    if num_classes is None:
        num_classes = int(values.max()) + 1 if values.size else 0
    return np.bincount(values.astype(np.int64), minlength=num_classes)[:num_classes]


@dataclass(frozen=True)
class ModeCoverage:
    """Which classes a generator produces, as judged by a classifier.

    `num_classes` counts the classes the real data shows (a real share above 0): a class the
    classifier never reads in the real images is not there to cover, so it is neither covered
    nor counted, though it keeps its place in `histogram`.
    """

    histogram: tuple[int, ...]
    reference: tuple[float, ...]
    covered: tuple[bool, ...]
    classes_covered: int
    num_classes: int
    class_kl: float
    min_share: float


def mode_coverage(
    probabilities_or_labels: np.ndarray,
    reference: np.ndarray | None = None,
    *,
    num_classes: int | None = None,
    min_share: float = MIN_SHARE,
) -> ModeCoverage:
    """Class histogram of generated samples, classes covered and `KL(generated || real)`.

    A class is covered when its generated share is at least `min_share` times its real share;
    classes with no real share are left out of the count (`ModeCoverage`). The real
    distribution is smoothed by 1e-6 so that the KL stays finite.

    Args:
        probabilities_or_labels: the classifier's `(n, K)` probabilities (or predicted labels)
            for the generated samples.
        reference: the real class distribution, as `K` shares or counts, or the real images'
            `(m, K)` probabilities; uniform when `None`.
        num_classes: the number of classes when only labels are given.
        min_share: the fraction of a class's real share it needs to count as covered.

    Returns:
        A `ModeCoverage`.
    """
    histogram = class_distribution(probabilities_or_labels, num_classes)
    num_classes = histogram.shape[0]
    if reference is None:
        real = np.full(num_classes, 1.0 / num_classes)
    else:
        reference = np.asarray(reference, dtype=np.float64)
        if reference.ndim == 2:
            reference = class_distribution(reference, num_classes).astype(np.float64)
        if reference.shape != (num_classes,) or reference.sum() <= 0 or reference.min() < 0:
            raise EvaluationError(
                f"The real class distribution must be {num_classes} non-negative numbers."
            )
        real = reference / reference.sum()
    total = histogram.sum()
    if total == 0:
        raise EvaluationError("Mode coverage needs at least one generated sample.")
    generated = histogram / total
    present_in_real = real > 0
    covered = present_in_real & (generated >= min_share * real)
    smoothed = (real + _KL_SMOOTHING) / (1.0 + num_classes * _KL_SMOOTHING)
    present = generated > 0
    kl = float(np.sum(generated[present] * np.log(generated[present] / smoothed[present])))
    return ModeCoverage(
        histogram=tuple(int(count) for count in histogram),
        reference=tuple(float(share) for share in real),
        covered=tuple(bool(flag) for flag in covered),
        classes_covered=int(covered.sum()),
        num_classes=int(present_in_real.sum()),
        class_kl=max(kl, 0.0),
        min_share=float(min_share),
    )


def _as_features(features: Any, name: str) -> np.ndarray:
    array = np.asarray(features, dtype=np.float64)
    if array.ndim != 2 or array.shape[0] == 0:
        raise EvaluationError(f"{name} must have shape (n, d) with n >= 1, got {array.shape}.")
    if not np.all(np.isfinite(array)):
        raise EvaluationError(f"{name} contain NaN or infinite values (a diverged generator?).")
    return array


def _as_probabilities(probabilities: Any) -> np.ndarray:
    array = np.asarray(probabilities, dtype=np.float64)
    if array.ndim != 2 or array.shape[0] == 0:
        raise EvaluationError(f"Probabilities must have shape (n, K), got {array.shape}.")
    return array
