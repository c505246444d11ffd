"""Mode collapse measured on data with known modes: `ring8`, `grid25` and `stacked_mnist`.

The measures of VEEGAN (Srivastava et al. 2017, Sec. 5) and PacGAN (Lin et al. 2018, Sec. 5):
modes covered, the share of high-quality samples (2-D) and the KL divergence of the generated
mode histogram from the uniform one. Definitions and defaults: docs/evaluation.md.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from keras_gan.data.stacked import NUM_STACKED_MODES, STACKED_MNIST
from keras_gan.data.toy import MIXTURES
from keras_gan.evaluation.features import FeatureSpace
from keras_gan.evaluation.metrics import EvaluationError

__all__ = [
    "DEFAULT_MODE_SAMPLES",
    "DIGIT_CLASSIFIER_DATASET",
    "HIGH_QUALITY_STDS",
    "MODE_DATASETS",
    "ModeResult",
    "classify_channels",
    "evaluate_modes",
    "is_mode_dataset",
    "mixture_modes",
    "mode_kl",
    "stacked_modes",
]

MODE_DATASETS = (*MIXTURES, STACKED_MNIST)
# PacGAN scores 2,500 samples of the 2-D mixtures and 26,000 of Stacked MNIST.
DEFAULT_MODE_SAMPLES = {**{name: 2500 for name in MIXTURES}, STACKED_MNIST: 26_000}
HIGH_QUALITY_STDS = 3.0
DIGIT_CLASSIFIER_DATASET = "mnist"


def is_mode_dataset(dataset: Any) -> bool:
    """Whether `dataset` names one of `MODE_DATASETS` (any case)."""
    return isinstance(dataset, str) and dataset.strip().lower() in MODE_DATASETS


@dataclass
class ModeResult:
    """The mode figures of one set of samples; `high_quality` is `None` for Stacked MNIST."""

    dataset: str
    num_samples: int
    modes_covered: int
    num_modes: int
    kl: float | None
    histogram: list[int]
    high_quality: float | None = None
    criterion: str = ""
    classifier: str | None = None
    classifier_accuracy: float | None = None
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (what `evaluate.py --json` prints for these datasets)."""
        return asdict(self)

    def table(self) -> str:
        """A small human-readable table."""
        rows = [
            ("dataset", self.dataset),
            ("generated samples", f"{self.num_samples:,}"),
            ("modes covered", f"{self.modes_covered} / {self.num_modes}"),
        ]
        if self.high_quality is not None:
            rows.append(("high-quality samples", f"{100 * self.high_quality:.1f}%"))
        kl = "n/a (no sample near a mode)" if self.kl is None else f"{self.kl:.4f} nats"
        rows.append(("mode KL (gen || uniform)", kl))
        rows.append(("criterion", self.criterion))
        if self.classifier is not None:
            accuracy = self.classifier_accuracy
            suffix = "" if accuracy is None else f" (test acc {accuracy:.3f})"
            rows.append(("digit classifier", self.classifier + suffix))
        width = max(len(name) for name, _ in rows)
        return "\n".join([*(f"{name.ljust(width)}  {value}" for name, value in rows), *self.notes])


def mode_kl(histogram: np.ndarray) -> float | None:
    """`KL(p || uniform)` in nats, `p` the normalised `histogram`; `None` when it is all 0.

    PacGAN's (and Metz et al.'s) KL of the mode distribution: `log K - H(p)`, 0 for a uniform
    histogram, `log K` for one mode; empty modes add nothing.
    """
    counts = np.asarray(histogram, dtype=np.float64)
    total = counts.sum()
    if total <= 0:
        return None
    p = counts[counts > 0] / total
    return max(float(np.sum(p * np.log(p * len(counts)))), 0.0)


def mixture_modes(
    points: np.ndarray,
    centres: np.ndarray,
    std: float,
    *,
    threshold: float = HIGH_QUALITY_STDS,
    min_count: int = 1,
    dataset: str = "mixture",
) -> ModeResult:
    """Modes covered, high-quality share and mode KL of 2-D samples of an isotropic mixture.

    A sample is high quality when it lies within `threshold` standard deviations of its
    nearest centre, which it is assigned to; a mode is covered when at least `min_count`
    high-quality samples are assigned to it (VEEGAN and PacGAN: 3 std, 1 sample). The KL is
    that of the high-quality samples' mode histogram from the uniform one (`mode_kl`).

    Args:
        points: `(n, 2)` samples.
        centres: `(K, 2)` means of the mixture.
        std: the components' standard deviation.
        threshold: the high-quality radius, in standard deviations.
        min_count: high-quality samples a mode needs to count as covered.
        dataset: the name reported.

    Returns:
        A `ModeResult`.
    """
    points = np.asarray(points, dtype=np.float64)
    centres = np.asarray(centres, dtype=np.float64)
    if points.ndim != 2 or points.shape[0] == 0 or points.shape[1] != centres.shape[1]:
        raise EvaluationError(
            f"Samples of {dataset} must have shape (n, {centres.shape[1]}), got {points.shape}."
        )
    if not np.all(np.isfinite(points)):
        raise EvaluationError("Samples contain NaN or infinite values (a diverged generator?).")
    distances = np.linalg.norm(points[:, None, :] - centres[None, :, :], axis=2) / std
    nearest = distances.argmin(axis=1)
    good = distances[np.arange(len(points)), nearest] < threshold
    histogram = np.bincount(nearest[good], minlength=len(centres))
    return ModeResult(
        dataset=dataset,
        num_samples=len(points),
        modes_covered=int((histogram >= min_count).sum()),
        num_modes=len(centres),
        kl=mode_kl(histogram),
        histogram=[int(count) for count in histogram],
        high_quality=float(good.mean()),
        criterion=(
            f"high quality: within {threshold:g} std ({threshold * std:g}) of the nearest mode; "
            f"covered: >= {min_count} high-quality sample(s)"
        ),
    )


def stacked_modes(digits: np.ndarray, *, min_count: int = 1) -> ModeResult:
    """Modes covered and mode KL of Stacked MNIST samples from their channels' digits.

    Args:
        digits: `(n, 3)` digits of the (R, G, B) channels; the mode is `100 d1 + 10 d2 + d3`.
        min_count: samples a mode needs to count as covered (PacGAN: 1).

    Returns:
        A `ModeResult` over the 1,000 modes (no high-quality share).
    """
    digits = np.asarray(digits)
    if digits.ndim != 2 or digits.shape[1] != 3 or digits.shape[0] == 0:
        raise EvaluationError(f"Expected the (n, 3) digits of n >= 1 samples, got {digits.shape}.")
    if digits.min() < 0 or digits.max() > 9:
        raise EvaluationError("Digits must lie in 0..9.")
    modes = digits.astype(np.int64) @ np.array([100, 10, 1])
    histogram = np.bincount(modes, minlength=NUM_STACKED_MODES)
    return ModeResult(
        dataset=STACKED_MNIST,
        num_samples=len(digits),
        modes_covered=int((histogram >= min_count).sum()),
        num_modes=NUM_STACKED_MODES,
        kl=mode_kl(histogram),
        histogram=[int(count) for count in histogram],
        criterion=f"mode = the 3 channels' digits; covered: >= {min_count} sample(s)",
    )


def classify_channels(
    images: np.ndarray, space: FeatureSpace, batch_size: int = 256, progress: bool = False
) -> np.ndarray:
    """The digit of each channel of `(n, 28, 28, 3)` images in [-1, 1], by a digit classifier.

    Returns:
        int64 `(n, 3)`: the classifier's argmax for the R, G and B channels.
    """
    images = np.asarray(images, dtype=np.float32)
    if images.ndim != 4 or images.shape[-1] != 3:
        raise EvaluationError(f"Stacked MNIST samples must be (n, H, W, 3), got {images.shape}.")
    if space.num_classes != 10:
        raise EvaluationError(f"{space.name} is not a digit classifier (10 classes).")
    digits = []
    for channel in range(3):
        _, probabilities = space.embed(
            images[..., channel : channel + 1], batch_size, progress, f"channel {channel}"
        )
        digits.append(probabilities.argmax(axis=1))
    return np.stack(digits, axis=1)


def evaluate_modes(
    generator_or_samples: Any,
    dataset: str,
    *,
    n: int | None = None,
    seed: int | None = 0,
    classifier: FeatureSpace | None = None,
    batch_size: int = 256,
    progress: bool = False,
) -> ModeResult:
    """The mode figures of a generator (or of samples) of `ring8`, `grid25` or `stacked_mnist`.

    Args:
        generator_or_samples: a `GAN`, a generator `keras.Model` (`n` samples are drawn as
            `generate_images` does, from `seed`), or an array of samples (points, or images in
            [-1, 1]).
        dataset: one of `MODE_DATASETS`.
        n: the number of samples; `DEFAULT_MODE_SAMPLES[dataset]` (PacGAN's) when `None`.
        seed: the noise seed.
        classifier: Stacked MNIST's digit classifier; `domain_classifier("mnist")`, trained
            once and cached, when `None`.
        batch_size: samples per generator call and per classifier pass.
        progress: show progress bars.

    Returns:
        A `ModeResult`.
    """
    started = time.perf_counter()
    if not is_mode_dataset(dataset):
        raise EvaluationError(
            f"{dataset!r} has no known modes; mode metrics need one of {', '.join(MODE_DATASETS)}."
        )
    dataset = dataset.strip().lower()
    if isinstance(generator_or_samples, np.ndarray):
        samples = np.asarray(generator_or_samples, dtype=np.float32)
    else:
        from keras_gan.evaluation.scoring import generate_images

        count = DEFAULT_MODE_SAMPLES[dataset] if n is None else int(n)
        samples = generate_images(
            generator_or_samples, count, seed=seed, batch_size=batch_size, progress=progress
        )
    if dataset in MIXTURES:
        mixture = MIXTURES[dataset]
        result = mixture_modes(samples, mixture.centres, mixture.std, dataset=dataset)
    else:
        if classifier is None:
            from keras_gan.evaluation.classifier import domain_classifier

            classifier = domain_classifier(DIGIT_CLASSIFIER_DATASET, verbose=progress)
        result = stacked_modes(classify_channels(samples, classifier, batch_size, progress))
        result.classifier = classifier.name
        result.classifier_accuracy = classifier.test_accuracy
    expected = DEFAULT_MODE_SAMPLES[dataset]
    if result.num_samples != expected:
        result.notes.append(
            f"Modes covered and KL depend on the sample count: PacGAN's figures use {expected:,}."
        )
    result.seconds = round(time.perf_counter() - started, 1)
    return result
