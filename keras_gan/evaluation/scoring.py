"""Score one generator: `evaluate` gives every figure of `EvaluationResult` in one feature space.

`generate_images` draws a generator's samples through `keras_gan.generation.run_generator`,
so they are the images `GAN.generate` and the CLIs give for the same seed. See
docs/evaluation.md for what the figures mean.
"""

from __future__ import annotations

import os
import time
from dataclasses import asdict, dataclass, field
from typing import Any

import keras
import numpy as np

from keras_gan import latent
from keras_gan.errors import KerasGanError
from keras_gan.evaluation.features import FeatureSpace, _Progress, feature_space
from keras_gan.evaluation.metrics import (
    MIN_SHARE,
    EvaluationError,
    classifier_score,
    frechet_distance,
    kernel_distance,
    mode_coverage,
)
from keras_gan.evaluation.reference import matching_data_options, reference_images
from keras_gan.gan import sampling_generator
from keras_gan.generation import (
    DEFAULT_BATCH_SIZE,
    cycling_labels,
    generator_classes,
    run_generator,
)

__all__ = ["NOT_COMPARABLE", "EvaluationResult", "evaluate", "generate_images"]

NOT_COMPARABLE = (
    "Numbers from different feature spaces (e.g. a domain classifier vs inception_v3, or "
    "classifiers of different datasets) are not comparable."
)


def generate_images(
    generator: Any,
    n: int,
    *,
    seed: int | None = 0,
    batch_size: int = DEFAULT_BATCH_SIZE,
    progress: bool = False,
) -> np.ndarray:
    """Samples of a generator, from the noise `GAN.generate` draws for the same seed.

    Noise `z ~ N(0, I)` comes from `latent.sample_noise(n, latent_dim, seed)`; a conditional
    generator gets the classes in turn (`cycling_labels`), so balanced labels. The generator
    runs in inference mode.

    Args:
        generator: a generator `keras.Model`, or a model that has one (`GAN`, whose
            `sampling_generator` is used, or a keras.io-style GAN with a `.generator`).
        n: the number of samples.
        seed: the noise seed; `None` draws fresh noise.
        batch_size: samples per generator call.
        progress: show a progress bar.

    Returns:
        float32 images of shape `(n, H, W, C)`.
    """
    n = int(n)
    if n < 1:
        raise EvaluationError(f"The number of samples must be positive, got {n}.")
    model = sampling_generator(generator)
    if not isinstance(model, keras.Model) or not getattr(model, "inputs", None):
        raise EvaluationError(
            f"Expected a GAN or a generator keras.Model, got {type(generator).__name__}."
        )
    latent_dim = int(model.inputs[0].shape[-1])
    try:
        num_classes = getattr(generator, "num_classes", None) or generator_classes(model)
    except KerasGanError as error:
        raise EvaluationError(str(error)) from None
    z = latent.sample_noise(n, latent_dim, seed)
    labels = cycling_labels(n, num_classes) if num_classes else None
    bar = _Progress(n, f"Generating {n:,} samples", progress)
    return run_generator(model, z, labels, batch_size=batch_size, on_batch=bar.add)


@dataclass
class EvaluationResult:
    """All figures of one evaluation; `feature_space` names the space they live in."""

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
        """A JSON-ready dict (what `evaluate.py --json` prints)."""
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
    batch_size: int = DEFAULT_BATCH_SIZE,
    data_dir: str | None = None,
    background: str = "white",
    kid_subsets: int = 100,
    kid_subset_size: int = 1000,
    progress: bool = False,
) -> EvaluationResult:
    """FID, KID, classifier score and mode coverage of a generator against real images.

    The generator is only run, never trained.

    Args:
        generator_or_images: a `GAN`, a generator `keras.Model` (`n` samples are drawn with
            `seed`) or an array of images in [-1, 1].
        dataset: the real data; needed unless both `space` and `real_images` are given.
        n: the number of generated samples, and of real images by default.
        space: the feature space; by default the domain classifier of `dataset` loaded at the
            generator's image shape (`matching_data_options`).
        real_images: the real images; by default `n` images of `reference_images(dataset)`.
        seed: seed of the noise, the real subset and KID's subsets.
        batch_size: samples per generator call and per feature pass.
        data_dir: passed to `keras_gan.data.load`.
        background: the colour transparent pixels of `dataset` are composited onto (the
            run's `background`), for the domain classifier and the real images.
        kid_subsets: KID's number of subsets.
        kid_subset_size: KID's subset size.
        progress: show progress bars.

    Returns:
        An `EvaluationResult`.
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
    options: dict[str, Any] = {"data_dir": data_dir, "background": background}
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
