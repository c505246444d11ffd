"""The one path from noise to samples that every part of the library uses.

`GAN.generate`, `sampling`, `evaluation` and the CLIs all call `run_generator`, so the same
noise gives bit-identical images everywhere: inference mode, batches of `DEFAULT_BATCH_SIZE`,
float32 out. A conditional generator's labels take turns (`cycling_labels`) unless given.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import keras
import numpy as np

from keras_gan.errors import KerasGanError

__all__ = [
    "DEFAULT_BATCH_SIZE",
    "LABEL_EMBEDDING_LAYER",
    "cycling_labels",
    "generator_classes",
    "run_generator",
]

DEFAULT_BATCH_SIZE = 256
LABEL_EMBEDDING_LAYER = "label_embedding"


def cycling_labels(count: int, num_classes: int) -> np.ndarray:
    """Balanced labels where the classes take turns: sample `i` has class `i % num_classes`.

    Returns:
        int32 array of shape `(count,)`.
    """
    return np.arange(count, dtype=np.int32) % np.int32(num_classes)


def generator_classes(model: keras.Model) -> int | None:
    """How many classes a conditional `[z, label]` generator takes, or `None` if it takes `z`.

    The count is the label embedding's `input_dim`: the Embedding layer named
    `label_embedding` (as `keras_gan.networks` builds it), else the model's only Embedding.

    Raises:
        KerasGanError: for a two-input model whose label embedding cannot be told.
    """
    if len(getattr(model, "inputs", None) or []) != 2:
        return None
    embeddings = [layer for layer in model.layers if isinstance(layer, keras.layers.Embedding)]
    named = [layer for layer in embeddings if layer.name == LABEL_EMBEDDING_LAYER]
    if named or len(embeddings) == 1:
        return int((named or embeddings)[0].input_dim)
    raise KerasGanError(
        f"Cannot tell how many classes the two-input model {model.name!r} takes: it has no "
        f"Embedding layer named {LABEL_EMBEDDING_LAYER!r}."
    )


def run_generator(
    generator: keras.Model,
    z: Any,
    labels: Any | None = None,
    *,
    batch_size: int = DEFAULT_BATCH_SIZE,
    training: bool = False,
    on_batch: Callable[[int], Any] | None = None,
) -> np.ndarray:
    """Run `generator` on noise `z` (and `labels`), batch by batch.

    Args:
        generator: a Keras generator taking `z`, or `[z, labels]` when `labels` is given.
        z: noise of shape `(n, latent_dim)`.
        labels: one int label per sample for a conditional generator, else `None`.
        batch_size: samples per call; the same value gives bit-identical samples.
        training: run BatchNorm (and Dropout) in training mode.
        on_batch: called with the number of samples of each batch done (a progress bar).

    Returns:
        float32 NumPy array of shape `(n, *generator.output_shape[1:])`.
    """
    z = np.asarray(z, dtype=np.float32)
    label_array = None if labels is None else np.asarray(labels, dtype=np.int32)
    outputs = []
    for start in range(0, len(z), batch_size):
        part = slice(start, start + batch_size)
        inputs = z[part] if label_array is None else [z[part], label_array[part]]
        outputs.append(keras.ops.convert_to_numpy(generator(inputs, training=training)))
        if on_batch is not None:
            on_batch(len(z[part]))
    if not outputs:
        return np.zeros((0, *generator.output_shape[1:]), dtype=np.float32)
    return np.concatenate(outputs).astype(np.float32)
