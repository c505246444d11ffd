"""Sample quality of a generator: FID, KID, classifier score and mode coverage.

`evaluate(generator_or_images, dataset)` scores a generator against real images in one
feature space (`scoring`); the metrics themselves are in `metrics`, the feature spaces in
`features` (InceptionV3) and `classifier` (the default domain classifier), the real images in
`reference`, and `EvaluationCallback` (`callback`) scores during `fit`; `modes` measures mode
collapse on data with known modes (`ring8`, `grid25`, `stacked_mnist`). The user's guide,
with every metric's definition and the classifier cache, is docs/evaluation.md.
"""

from keras_gan.evaluation.callback import EvaluationCallback
from keras_gan.evaluation.classifier import (
    CACHE_ENV,
    DEFAULT_CLASSIFIER_EPOCHS,
    build_classifier,
    default_cache_dir,
    domain_classifier,
)
from keras_gan.evaluation.features import (
    INCEPTION_PATTERN,
    INCEPTION_SIZE,
    FeatureSpace,
    feature_space,
    find_inception_weights,
    inception_v3,
)
from keras_gan.evaluation.metrics import (
    MIN_SHARE,
    EvaluationError,
    ModeCoverage,
    class_distribution,
    classifier_score,
    feature_statistics,
    frechet_distance,
    frechet_distance_from_statistics,
    kernel_distance,
    mode_coverage,
)
from keras_gan.evaluation.modes import (
    DEFAULT_MODE_SAMPLES,
    DIGIT_CLASSIFIER_DATASET,
    HIGH_QUALITY_STDS,
    MODE_DATASETS,
    ModeResult,
    classify_channels,
    evaluate_modes,
    is_mode_dataset,
    mixture_modes,
    mode_kl,
    stacked_modes,
)
from keras_gan.evaluation.reference import (
    HOLDOUT_EVERY,
    matching_data_options,
    reference_images,
)
from keras_gan.evaluation.scoring import (
    NOT_COMPARABLE,
    EvaluationResult,
    evaluate,
    generate_images,
)

__all__ = [
    "CACHE_ENV",
    "DEFAULT_CLASSIFIER_EPOCHS",
    "DEFAULT_MODE_SAMPLES",
    "DIGIT_CLASSIFIER_DATASET",
    "HIGH_QUALITY_STDS",
    "HOLDOUT_EVERY",
    "INCEPTION_PATTERN",
    "INCEPTION_SIZE",
    "MIN_SHARE",
    "MODE_DATASETS",
    "NOT_COMPARABLE",
    "EvaluationCallback",
    "EvaluationError",
    "EvaluationResult",
    "FeatureSpace",
    "ModeCoverage",
    "ModeResult",
    "build_classifier",
    "class_distribution",
    "classifier_score",
    "classify_channels",
    "default_cache_dir",
    "domain_classifier",
    "evaluate",
    "evaluate_modes",
    "feature_space",
    "feature_statistics",
    "find_inception_weights",
    "frechet_distance",
    "frechet_distance_from_statistics",
    "generate_images",
    "inception_v3",
    "is_mode_dataset",
    "kernel_distance",
    "matching_data_options",
    "mixture_modes",
    "mode_coverage",
    "mode_kl",
    "reference_images",
    "stacked_modes",
]
