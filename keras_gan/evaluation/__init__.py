"""Sample quality of a generator: FID, KID, classifier score and mode coverage.

`evaluate(generator_or_images, dataset)` scores a generator against real images in one
feature space (`scoring`); the metrics themselves are in `metrics`, the feature spaces in
`features` (InceptionV3) and `classifier` (the default domain classifier), the real images in
`reference`, and `EvaluationCallback` (`callback`) scores during `fit`. The user's guide,
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
    "HOLDOUT_EVERY",
    "INCEPTION_PATTERN",
    "INCEPTION_SIZE",
    "MIN_SHARE",
    "NOT_COMPARABLE",
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
