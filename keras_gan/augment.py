"""Differentiable augmentation of what the discriminator sees: DiffAugment and ADA.

`GAN(..., augment="diffaugment" | "ada" | Augmentation(...))` augments real and fake images
alike, in both phases, before D (Zhao et al. 2020, "Differentiable Augmentation for
Data-Efficient GAN Training"; Karras et al. 2020, "Training Generative Adversarial Networks
with Limited Data"). Every op is differentiable, so G's gradient flows through it, and draws
its randomness from seeds of the GAN's noise stream. See docs/gan.md.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import keras
import tensorflow as tf
from keras import ops

from keras_gan import losses as losses_module

__all__ = [
    "ADA_INTERVAL",
    "ADA_KIMG",
    "ADA_TARGET",
    "AUGMENT_NAMES",
    "OPS",
    "POLICY",
    "Augmentation",
    "augment",
    "get",
]

POLICY = ("color", "translation", "cutout")  # DiffAugment's policy for its image GANs
ADA_TARGET = 0.6  # Karras et al. 2020, Sec. 3: target of r_t = E[sign(D(real))]
ADA_INTERVAL = 4  # D steps between two adjustments of p (ADA: every 4 minibatches)
ADA_KIMG = 100.0  # thousands of images for p to go from 0 to 1 (ADA: 500; see Augmentation)
AUGMENT_NAMES = ("off", "diffaugment", "ada")


def _seed(seed: Any, index: int) -> Any:
    return tf.random.experimental.stateless_fold_in(seed, index)


def _uniform(seed: Any, shape: Any) -> Any:
    return tf.random.stateless_uniform(shape, seed=seed)


def _integers(seed: Any, shape: Any, low: int, high: int) -> Any:
    """Integers in [low, high)."""
    return tf.random.stateless_uniform(shape, seed=seed, minval=low, maxval=high, dtype="int32")


def _column(values: Any, images: Any) -> Any:
    """Per-example values `(B,)` as `(B, 1, 1, 1)` in the images' dtype."""
    return ops.cast(ops.reshape(values, (-1, 1, 1, 1)), images.dtype)


def brightness(images: Any, seed: Any) -> Any:
    """Add U(-0.5, 0.5) to every pixel of an example."""
    batch = ops.shape(images)[0]
    return images + _column(_uniform(seed, (batch,)) - 0.5, images)


def saturation(images: Any, seed: Any) -> Any:
    """Scale each pixel's distance from its channels' mean by U(0, 2) (no-op on grey)."""
    batch = ops.shape(images)[0]
    mean = ops.mean(images, axis=-1, keepdims=True)
    return (images - mean) * _column(2.0 * _uniform(seed, (batch,)), images) + mean


def contrast(images: Any, seed: Any) -> Any:
    """Scale each pixel's distance from the example's mean by U(0.5, 1.5)."""
    batch = ops.shape(images)[0]
    mean = ops.mean(images, axis=(1, 2, 3), keepdims=True)
    return (images - mean) * _column(_uniform(seed, (batch,)) + 0.5, images) + mean


def translation(images: Any, seed: Any, ratio: float = 0.125) -> Any:
    """Shift by up to `ratio` of the size each way (whole pixels), filling with zeros."""
    batch, height, width = ops.shape(images)[0], images.shape[1], images.shape[2]
    shifts = []
    for axis, size in enumerate((height, width)):
        limit = int(size * ratio + 0.5)
        shift = _integers(_seed(seed, axis), (batch, 1), -limit, limit + 1)
        # Index i + shift of the image padded by one zero row/column on each side.
        shifts.append(ops.clip(ops.arange(size, dtype="int32")[None] + shift + 1, 0, size + 1))
    padded = tf.pad(images, [[0, 0], [1, 1], [1, 1], [0, 0]])
    rows = tf.gather(padded, shifts[0], axis=1, batch_dims=1)
    return tf.gather(rows, shifts[1], axis=2, batch_dims=1)


def cutout(images: Any, seed: Any, ratio: float = 0.5) -> Any:
    """Zero a square of `ratio` of the size at a random centre (it may cross the border)."""
    batch, height, width = ops.shape(images)[0], images.shape[1], images.shape[2]
    inside = None
    for axis, size in enumerate((height, width)):
        length = int(size * ratio + 0.5)
        centre = _integers(_seed(seed, axis), (batch, 1), 0, size + (1 - length % 2))
        start = centre - length // 2
        index = ops.arange(size, dtype="int32")[None]
        span = ops.logical_and(index >= start, index < start + length)  # (B, size)
        span = span[:, :, None] if axis == 0 else span[:, None, :]
        inside = span if inside is None else ops.logical_and(inside, span)
    keep = 1.0 - ops.cast(inside, images.dtype)
    return images * keep[..., None]


OPS: dict[str, tuple[Callable[[Any, Any], Any], ...]] = {
    "color": (brightness, saturation, contrast),
    "translation": (translation,),
    "cutout": (cutout,),
}


def augment(images: Any, seed: Any, p: Any, policy: Sequence[str] = POLICY) -> Any:
    """Apply each op of `policy` to each example with probability `p`, independently.

    Args:
        images: a batch `(B, H, W, C)`.
        seed: a stateless seed `[2]` (int32/int64); the same seed gives the same result.
        p: the probability (a float or a scalar tensor); 0 returns `images` exactly.
        policy: names from `OPS` ("color" is brightness, saturation and contrast).

    Returns:
        The augmented batch, differentiable with respect to `images`.
    """
    batch = ops.shape(images)[0]
    p = ops.cast(p, "float32")
    functions = [function for name in policy for function in OPS[name]]
    for index, function in enumerate(functions):
        applied = _uniform(_seed(seed, 2 * index), (batch,)) < p
        changed = function(images, _seed(seed, 2 * index + 1))
        images = ops.where(ops.reshape(applied, (-1, 1, 1, 1)), changed, images)
    return images


def _replica_sum(value: Any) -> Any:
    context = tf.distribute.get_replica_context()
    if context is None or tf.distribute.get_strategy().num_replicas_in_sync == 1:
        return value
    return context.all_reduce(tf.distribute.ReduceOp.SUM, value)


@keras.saving.register_keras_serializable(package="keras_gan")
class Augmentation(keras.layers.Layer):
    """The augmentation of D's inputs, and (ADA) the controller of its probability `p`.

    `p` is a non-trainable variable, saved and reloaded with the GAN. Adaptive (ADA, Karras
    et al. 2020, Sec. 3): every `interval` D steps, with r_t = E[sign(D(real))] over those
    steps' (augmented) real examples, `p += sign(r_t - target) * images / (ada_kimg * 1000)`,
    clipped to [0, 1]; `images` counts the real images of those steps over all replicas, whose
    sums are all-reduced, so every replica moves `p` alike.

    The ADA paper lets p go from 0 to 1 in 500k images (runs of 10-25M images on GPUs). The
    default `ada_kimg=100` lets p rise by 0.01 per thousand images (0.00256 every 4 steps at
    batch 64). Faster is worse, measured (docs/benchmarks.md): with 10, p reached 0.95 within
    600 steps on 2,000 Fashion-MNIST images, pushed up while D wins only because G is still
    bad, and FID after 1,249 steps was 39.5 against 34.5 without augmentation; with 100 it
    was 35.5, p 0.2 at 600 steps.

    Args:
        policy: op groups from `OPS`, a sequence or a comma-separated string.
        p: the probability of each op, per example (the starting value when adaptive).
        adaptive: steer `p` as ADA does.
        target: ADA's target of r_t.
        interval: D steps between two adjustments.
        ada_kimg: thousands of real images for `p` to go from 0 to 1.
    """

    def __init__(
        self,
        policy: Sequence[str] | str = POLICY,
        p: float = 1.0,
        adaptive: bool = False,
        target: float = ADA_TARGET,
        interval: int = ADA_INTERVAL,
        ada_kimg: float = ADA_KIMG,
        **kwargs: Any,
    ):
        kwargs.setdefault("name", "augmentation")
        super().__init__(**kwargs)
        names = policy.split(",") if isinstance(policy, str) else policy
        self.policy = tuple(name.strip() for name in names if name.strip())
        unknown = [name for name in self.policy if name not in OPS]
        if unknown or not self.policy:
            raise ValueError(f"Unknown augmentation {unknown or policy!r}; use {', '.join(OPS)}.")
        if not 0.0 <= float(p) <= 1.0:
            raise ValueError(f"The augmentation probability p must lie in [0, 1], got {p}.")
        if int(interval) < 1 or not float(ada_kimg) > 0 or not math.isfinite(float(ada_kimg)):
            raise ValueError("interval must be >= 1 and ada_kimg a positive number.")
        self.initial_p, self.adaptive, self.target = float(p), bool(adaptive), float(target)
        self.interval, self.ada_kimg = int(interval), float(ada_kimg)

        def state(name: str, value: float = 0.0) -> keras.Variable:
            return self.add_weight(
                shape=(),
                initializer=keras.initializers.Constant(value),
                dtype="float32",
                trainable=False,
                autocast=False,
                aggregation="only_first_replica",  # replicas compute the same value
                name=name,
            )

        self.p = state("p", self.initial_p)
        if self.adaptive:
            self.sign_sum, self.signs_seen, self.images_seen, self.steps_seen = (
                state(name) for name in ("sign_sum", "signs_seen", "images_seen", "steps_seen")
            )
        self.built = True

    def call(self, images: Any, seed: Any) -> Any:
        """`augment(images, seed, p, policy)` with this augmentation's current `p`."""
        return augment(images, seed, self.p, self.policy)

    def augment(self, images: Any, seed: Any) -> Any:
        """The same as calling it, without Keras's input casting (images keep their dtype)."""
        return self.call(images, seed)

    @staticmethod
    def real_signs(loss_fn: losses_module.AdversarialLoss, real_logits: Any) -> Any:
        """sign(D(real)) per example: of the logit for the cross-entropy losses (the score
        minus `decision_threshold`, 0.5 for least squares), of the raw output otherwise."""
        return ops.sign(loss_fn.score(real_logits) - loss_fn.decision_threshold)

    def observe(self, signs: Any, images: Any) -> None:
        """Count one D step's `signs` of D(real) and `images` real images; adjust p when due.

        Args:
            signs: `real_signs` of this replica's examples, shape `(n,)`.
            images: this replica's real images in the step (n times the packing).
        """
        if not self.adaptive:
            raise ValueError("observe() is for an adaptive augmentation (adaptive=True).")
        signs = ops.cast(signs, "float32")
        local = ops.stack(
            [ops.sum(signs), ops.cast(ops.size(signs), "float32"), ops.cast(images, "float32")]
        )
        total = _replica_sum(local)
        sign_sum = self.sign_sum + total[0]
        signs_seen = self.signs_seen + total[1]
        images_seen = self.images_seen + total[2]
        steps = self.steps_seen + 1.0
        due = ops.cast(steps >= float(self.interval), "float32")
        r_t = sign_sum / ops.maximum(signs_seen, 1.0)
        step = ops.sign(r_t - self.target) * images_seen / (self.ada_kimg * 1000.0)
        self.p.assign(ops.clip(self.p + due * step, 0.0, 1.0))
        keep = 1.0 - due
        for variable, value in (
            (self.sign_sum, sign_sum),
            (self.signs_seen, signs_seen),
            (self.images_seen, images_seen),
            (self.steps_seen, steps),
        ):
            variable.assign(value * keep)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(
            policy=",".join(self.policy),
            p=self.initial_p,
            adaptive=self.adaptive,
            target=self.target,
            interval=self.interval,
            ada_kimg=self.ada_kimg,
        )
        return config


def get(identifier: str | Augmentation | dict | None) -> Augmentation | None:
    """The augmentation for a name, a serialized config or an instance.

    Args:
        identifier: `None`/"off" (none), "diffaugment" (p = 1, DiffAugment's policy), "ada"
            (adaptive p from 0), an `Augmentation` (returned as is) or its serialized config.

    Returns:
        An `Augmentation`, or `None`.

    Raises:
        ValueError: for anything else.
    """
    if identifier is None or isinstance(identifier, Augmentation):
        return identifier
    if isinstance(identifier, dict):
        augmentation = keras.saving.deserialize_keras_object(identifier)
        if isinstance(augmentation, Augmentation):
            return augmentation
    elif isinstance(identifier, str):
        key = identifier.strip().lower()
        if key in ("off", "none"):
            return None
        if key == "diffaugment":
            return Augmentation()
        if key == "ada":
            return Augmentation(p=0.0, adaptive=True)
    raise ValueError(
        f"Unknown augment {identifier!r}; use one of {', '.join(AUGMENT_NAMES)} or a "
        "keras_gan.augment.Augmentation."
    )
