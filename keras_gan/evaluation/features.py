"""Feature spaces: networks that map images in [-1, 1] to features (and class probabilities).

`FeatureSpace` wraps one; `inception_v3` loads Keras's InceptionV3 from weights already on
disk (never downloaded); `feature_space` picks it or the domain classifier
(`keras_gan.evaluation.classifier`). Numbers of different spaces are not comparable; see
docs/evaluation.md.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from keras_gan.errors import one_line
from keras_gan.evaluation.metrics import EvaluationError

__all__ = [
    "INCEPTION_PATTERN",
    "INCEPTION_SIZE",
    "FeatureSpace",
    "feature_space",
    "find_inception_weights",
    "inception_v3",
]

INCEPTION_SIZE = 299
INCEPTION_PATTERN = "inception_v3_weights_tf_dim_ordering_tf_kernels*.h5"
_RANGE_SLACK = 1.01


class _Progress:
    """A `keras.utils.Progbar` when enabled, else nothing."""

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


class FeatureSpace:
    """A network that maps images in [-1, 1] to features (and maybe class probabilities).

    Args:
        name: identifies the space in every result; numbers of different names are not
            comparable.
        model: maps images to features, or to `[features, probabilities]` when `num_classes`
            is given.
        image_shape: the `(H, W, C)` the model takes, or `None` for any (it resizes).
        num_classes: the number of classes of the probabilities, `None` without them.
        class_names: a name per class, for result tables.
        description: `name` plus what makes the space trustworthy, e.g. the test accuracy.
        test_accuracy: the classifier's test accuracy, when known.
        preprocess: applied to the `[-1, 1]` images before `model` (e.g. a resize).
        path: the file the model was loaded from.
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
        """Check that `images` fit this space's input.

        Args:
            images: `(n, H, W, C)` floats.
            what: what they are, to start the error message (e.g. `"Generated images"`).

        Raises:
            EvaluationError: for another shape, non-finite values or values outside [-1, 1].
        """
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
        """The features (and class probabilities) of `images`.

        Args:
            images: `(n, H, W, C)` floats in [-1, 1].
            batch_size: images per forward pass.
            progress: show a progress bar.
            label: what the images are, for the progress bar and errors.

        Returns:
            `(features (n, d), probabilities (n, K) or None)`, float64.
        """
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


def _keras_model_dirs() -> list[Path]:
    dirs = []
    if os.environ.get("KERAS_HOME"):
        dirs.append(Path(os.environ["KERAS_HOME"]).expanduser() / "models")
    dirs += [Path.home() / ".keras" / "models", Path("/tmp/.keras/models")]
    return dirs


def find_inception_weights(path: str | os.PathLike | None = None) -> Path | None:
    """The InceptionV3 weights file on disk; never downloads.

    Args:
        path: a weights file to use (it must exist); `None` searches Keras's model cache
            (`$KERAS_HOME/models`, `~/.keras/models`, `/tmp/.keras/models`) for
            `inception_v3_weights_tf_dim_ordering_tf_kernels*.h5`.

    Returns:
        The file, or `None` when the cache holds none.
    """
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
    """The `inception_v3` feature space (2048-d pool features), from local weights only.

    Args:
        weights: a Keras InceptionV3 `.h5` file; by default Keras's model cache is searched
            (`find_inception_weights`). A file whose name contains `notop` gives features only.

    Returns:
        The `FeatureSpace`; with the full model it also gives ImageNet's 1000 probabilities.

    Raises:
        EvaluationError: when no weights file is found (they are never downloaded) or it
            cannot be loaded.
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
        raise EvaluationError(
            f"Cannot load InceptionV3 weights from {path}: {one_line(error)}"
        ) from None
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
    background: str = "white",
    retrain: bool = False,
    verbose: bool = False,
) -> FeatureSpace:
    """The feature space of one kind.

    Args:
        dataset: the dataset whose domain classifier to use (`kind="classifier"`).
        kind: `"classifier"` (`domain_classifier` of `dataset`) or `"inception_v3"`
            (`inception_v3` from local weights).
        inception_weights: the InceptionV3 weights file; Keras's cache when `None`.
        data_dir: passed to `keras_gan.data.load`.
        image_size: load the dataset at this size (see `matching_data_options`).
        channels: load the dataset with this many channels.
        background: the colour transparent pixels of the dataset are composited onto.
        retrain: retrain the domain classifier even when it is cached.
        verbose: print what is loaded or trained.

    Returns:
        The `FeatureSpace`.
    """
    if kind == "inception_v3":
        return inception_v3(inception_weights)
    if kind != "classifier":
        raise EvaluationError(f"Unknown feature space {kind!r}; use classifier or inception_v3.")
    if dataset is None:
        raise EvaluationError("The classifier feature space needs a dataset (--dataset).")
    # Imported here: the classifier module builds on this one.
    from keras_gan.evaluation.classifier import domain_classifier

    return domain_classifier(
        dataset,
        data_dir=data_dir,
        image_size=image_size,
        channels=channels,
        background=background,
        retrain=retrain,
        verbose=verbose,
    )
