"""Packing (PacGAN, Lin et al. 2018): the discriminator judges m samples at once.

`GAN(..., pack=m)` concatenates m consecutive samples of a batch along the last axis (the
channels of an image, the features of a flat vector): a batch of B samples of shape
`(H, W, C)` becomes B / m packed examples of shape `(H, W, m * C)`, real with real and fake
with fake. D must be built on `packed_shape(sample_shape, m)`. See docs/gan.md.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import keras
import tensorflow as tf
from keras import ops

__all__ = ["check_networks", "check_pack", "pack", "packed_shape"]


def check_pack(pack: Any) -> int:
    """`pack` as an int, checked.

    Raises:
        ValueError: unless `pack` is an integer of at least 1.
    """
    if isinstance(pack, bool) or int(pack) != pack or int(pack) < 1:
        raise ValueError(f"pack must be an integer of at least 1, got {pack!r}.")
    return int(pack)


def check_networks(
    generator: keras.Model,
    discriminator: keras.Model,
    pack: int,
    conditional: bool = False,
    augment: bool = False,
) -> None:
    """Refuse, in one line, what packing or augmentation cannot do with these networks.

    Checked where the networks' shapes are known (Functional and Sequential models).

    Raises:
        ValueError: pack > 1 for a conditional GAN, augmentation of non-images, or a
            discriminator not built on `packed_shape` of the generator's samples.
    """
    if pack > 1 and conditional:
        raise ValueError("pack > 1 is not defined for a conditional GAN; use pack=1.")
    outputs = getattr(generator, "outputs", None)
    sample = tuple(outputs[0].shape[1:]) if outputs else None
    if augment and sample is not None and len(sample) != 3:
        raise ValueError(f"augment needs images (H, W, C); the generator makes {sample}.")
    inputs = getattr(discriminator, "inputs", None)
    if sample is None or not inputs or None in sample:
        return
    wanted = packed_shape(sample, pack)
    if tuple(inputs[0].shape[1:]) != wanted:
        raise ValueError(
            f"The discriminator takes {tuple(inputs[0].shape[1:])} but pack={pack} needs "
            f"{wanted}: build it on keras_gan.packing.packed_shape(sample_shape, pack)."
        )


def packed_shape(sample_shape: Sequence[int], pack: int) -> tuple[int, ...]:
    """The shape of one packed example: `sample_shape` with its last axis `pack` times wider.

    Args:
        sample_shape: the shape of one sample, e.g. `(28, 28, 1)` or `(2,)`.
        pack: the number of samples per packed example (m).

    Returns:
        A tuple, e.g. `(28, 28, 2)` for m = 2.
    """
    shape = tuple(int(dim) for dim in sample_shape)
    return (*shape[:-1], shape[-1] * check_pack(pack))


def pack(samples: Any, pack: int) -> Any:
    """Concatenate each run of `pack` consecutive samples along the last axis.

    Packed example i holds samples `i*m .. i*m + m - 1`, in that order along the last axis
    (channels `[s0 c0..cC, s1 c0..cC, ...]`).

    Args:
        samples: a batch `(B, ..., C)` with B a multiple of `pack`.
        pack: m; 1 returns `samples` unchanged.

    Returns:
        A tensor `(B / m, ..., m * C)`.

    Raises:
        ValueError: when B is known and not a multiple of m (known only at run time: an
            `InvalidArgumentError` with the same message).
    """
    if pack == 1:
        return samples
    batch = samples.shape[0]
    if batch is not None and batch % pack:
        raise ValueError(
            f"A batch of {batch} samples cannot be packed by {pack}: use a (per-replica) batch "
            f"size that is a multiple of pack={pack}."
        )
    rank = len(samples.shape)
    dynamic = ops.shape(samples)
    if batch is None:  # known only at run time: fail with the same message (ignored by XLA)
        with tf.control_dependencies(
            [
                tf.debugging.assert_equal(
                    dynamic[0] % pack,
                    0,
                    message=f"The (per-replica) batch size must be a multiple of pack={pack}",
                )
            ]
        ):
            samples = tf.identity(samples)
    inner = [dynamic[axis] for axis in range(1, rank)]
    grouped = ops.reshape(samples, [-1, pack, *inner])
    if rank > 2:  # move the m axis next to the channels: (B/m, ..., m, C)
        grouped = ops.transpose(grouped, [0, *range(2, rank), 1, rank])
    return ops.reshape(grouped, [-1, *inner[:-1], inner[-1] * pack])
