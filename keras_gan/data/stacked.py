"""`stacked_mnist`: three shipped MNIST digits stacked as the R, G, B channels (1,000 modes).

The benchmark of mode collapse of Metz et al. 2017, VEEGAN and PacGAN, built from the 5,000
shipped digits (`digits.py`). Images are assembled lazily from a fixed, seeded table of digit
indices, so 128,000 of them (PacGAN's number) cost 1.5 MB, not 300 MB. `train` draws from the
4,500 digits the `mnist_digits` domain classifier trains on, `test` from the 500 it holds out
(every 10th). The label of digits (d1, d2, d3) in (R, G, B) is `100 d1 + 10 d2 + d3`.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from keras_gan.data import arrays
from keras_gan.data.base import DataError, DatasetInfo, Options, PipelineSettings, Split
from keras_gan.data.digits import digits_arrays
from keras_gan.data.sources import Source

STACKED_MNIST = "stacked_mnist"
STACKED_NUM_EXAMPLES = {"train": 128_000, "test": 26_000}  # PacGAN trains on 128,000
STACKED_SEED = 1000
NUM_STACKED_MODES = 1000
HOLDOUT_EVERY = 10  # as keras_gan.evaluation.reference: every 10th digit is held out
SHAPE = (28, 28, 3)


def digit_pool(split: str) -> np.ndarray:
    """Indices into the shipped digits that `split` stacks: every 10th for `test`, else the rest.

    Raises:
        DataError: for a split other than `train` and `test`.
    """
    if split not in STACKED_NUM_EXAMPLES:
        raise DataError(f"stacked_mnist has splits 'train' and 'test', not {split!r}; use one")
    positions = np.arange(len(digits_arrays()[1]))
    held_out = positions % HOLDOUT_EVERY == 0
    return positions[held_out if split == "test" else ~held_out]


def stacked_indices(split: str, count: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The digit indices `(count, 3)` (R, G, B) of a split's images and their labels.

    Args:
        split: `train` or `test`.
        count: how many; the split's default (128,000 or 26,000) when `None`. A smaller count
            gives the first images of the default table.

    Returns:
        `(indices, labels)`: int32 indices into `digits_arrays()` and int32 labels in [0, 1000).
    """
    pool = digit_pool(split)
    count = STACKED_NUM_EXAMPLES[split] if count is None else int(count)
    stream = list(STACKED_NUM_EXAMPLES).index(split)
    rng = np.random.default_rng([STACKED_SEED, stream])
    indices = pool[rng.integers(len(pool), size=(max(count, 0), 3))].astype(np.int32)
    digit_labels = digits_arrays()[1][indices]
    labels = digit_labels[:, 0] * 100 + digit_labels[:, 1] * 10 + digit_labels[:, 2]
    return indices, labels.astype(np.int32)


def stack_digits(indices: np.ndarray | tf.Tensor) -> tf.Tensor:
    """uint8 images `(n, 28, 28, 3)` whose channels are the digits `indices` `(n, 3)` name."""
    digits = tf.constant(digits_arrays()[0][..., 0])
    return tf.transpose(tf.gather(digits, indices), (0, 2, 3, 1))


class StackedMnist(Source):
    """Stacked MNIST from the shipped digits; `train` (128,000) and `test` (26,000) splits."""

    name = STACKED_MNIST
    origin = "three of the 5,000 shipped MNIST digits per image, stacked as R, G, B"

    def _count(self, split: Split, options: Options) -> int:
        total = STACKED_NUM_EXAMPLES.get(split.name)
        if total is None:
            raise DataError(
                f"stacked_mnist has splits 'train' and 'test', not {split.name!r}; use one"
            )
        count = len(range(total)[split.bounds(total)])
        return count if options.num_examples is None else min(count, options.num_examples)

    def info(self, split: Split, options: Options) -> DatasetInfo:
        return DatasetInfo(
            name=self.name,
            origin=self.origin,
            split=split.text,
            element_shape=arrays.final_shape(SHAPE, options),
            num_examples=self._count(split, options),
            num_classes=NUM_STACKED_MODES,
        )

    def dataset(
        self, split: Split, options: Options, settings: PipelineSettings
    ) -> tuple[tf.data.Dataset, DatasetInfo]:
        info = self.info(split, options)
        indices, labels = stacked_indices(split.name)
        selection = split.bounds(len(indices))
        indices = indices[selection][: options.num_examples]
        labels = labels[selection][: options.num_examples]
        arrays.check_split_size(len(indices), settings, self.name, split.text)
        if settings.with_labels:
            dataset = tf.data.Dataset.from_tensor_slices((indices, labels))
        else:
            dataset = tf.data.Dataset.from_tensor_slices(indices)
        if settings.shuffle:
            dataset = dataset.shuffle(
                len(indices), seed=settings.seed, reshuffle_each_iteration=True
            )
        dataset = arrays.batch(dataset, settings)
        size, channels = options.image_size, options.channels

        def images(batch: tf.Tensor) -> tf.Tensor:
            return arrays.prepare_tensor(stack_digits(batch), size, channels)

        if settings.with_labels:
            dataset = dataset.map(
                lambda batch, label: (images(batch), label), num_parallel_calls=tf.data.AUTOTUNE
            )
        else:
            dataset = dataset.map(images, num_parallel_calls=tf.data.AUTOTUNE)
        return arrays.rescale_and_prefetch(dataset, settings), info
