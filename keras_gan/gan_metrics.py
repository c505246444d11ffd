"""What a GAN reports while it trains: its metrics, D's decisions and the gradients' norms.

`GAN` inherits `GanMetrics`: one `keras.metrics.Mean` per number (reset each epoch, so the
logs are epoch means; the augmentation's `augment_p` is its current value), updated from the
results of the discriminator and generator steps. The names are listed in docs/gan.md.
"""

from __future__ import annotations

from typing import Any

import keras
import tensorflow as tf
from keras import ops

from keras_gan import losses as losses_module
from keras_gan import replicas

__all__ = [
    "CurrentValue",
    "GanMetrics",
    "decision_accuracies",
    "discriminator_accuracy",
    "gradient_norm",
]


def discriminator_accuracy(
    loss_fn: losses_module.AdversarialLoss, real_logits: Any, fake_logits: Any
) -> Any:
    """Per-decision correctness of D: real scored above, fake at or below the threshold.

    For the Wasserstein critic, whose scores have no fixed threshold (any shift is as good),
    it is the fraction of (real_i, fake_i) pairs ranked the right way round.
    """
    real_scores = loss_fn.score(real_logits)
    fake_scores = loss_fn.score(fake_logits)
    if isinstance(loss_fn, losses_module.Wasserstein):
        return ops.cast(real_scores > fake_scores, "float32")
    return ops.concatenate(decision_accuracies(loss_fn, real_logits, fake_logits))


def decision_accuracies(
    loss_fn: losses_module.AdversarialLoss, real_logits: Any, fake_logits: Any
) -> tuple[Any, Any]:
    """D's right decisions on real and on fake examples, separately (1.0 right, 0.0 wrong).

    A real example is judged right when its score lies above `loss_fn.decision_threshold`, a
    fake one when it lies at or below it. The Wasserstein critic's scores have no fixed
    threshold, so its threshold is the midpoint of the batch's mean real and mean fake score
    (the decision a critic that separates the two batches by any margin gets right).

    Returns:
        `(real_right, fake_right)`, float32 of shapes `(n_real,)` and `(n_fake,)`.
    """
    real_scores = loss_fn.score(real_logits)
    fake_scores = loss_fn.score(fake_logits)
    if isinstance(loss_fn, losses_module.Wasserstein):
        threshold = 0.5 * (ops.mean(real_scores) + ops.mean(fake_scores))
    else:
        threshold = loss_fn.decision_threshold
    return (
        ops.cast(real_scores > threshold, "float32"),
        ops.cast(fake_scores <= threshold, "float32"),
    )


def gradient_norm(gradients: list[Any], optimizer: keras.optimizers.Optimizer) -> tuple[Any, Any]:
    """The global L2 norm of a player's gradient, unscaled, and whether it counts.

    Under `tf.distribute` the norm is that of the gradient summed over the replicas (the one
    the optimizer applies), which costs one more all-reduce of the gradients per step. The
    gradient of a loss scaled by a `LossScaleOptimizer` is divided by the scale; a step it
    skips (an overflow in float16) does not count.

    Args:
        gradients: the gradients of the scaled loss (`None` for unconnected variables).
        optimizer: the player's optimizer, before it applies them.

    Returns:
        `(norm, counts)`: float32 scalars, `counts` 1.0 or 0.0.
    """
    present = [gradient for gradient in gradients if gradient is not None]
    context = tf.distribute.get_replica_context()
    if present and replicas.num_replicas() > 1 and context is not None:
        present = context.all_reduce(tf.distribute.ReduceOp.SUM, present)
    if not present:
        return ops.zeros((), "float32"), ops.zeros((), "float32")
    norm = ops.cast(tf.linalg.global_norm(present), "float32")
    norm = norm / ops.cast(optimizer.scale_loss(1.0), "float32")
    if isinstance(optimizer, keras.optimizers.LossScaleOptimizer):
        counts = ops.cast(ops.isfinite(norm), "float32")
        return ops.where(counts > 0, norm, 0.0), counts
    return norm, ops.ones((), "float32")


class CurrentValue(keras.metrics.Metric):
    """A metric whose result is the last value given to it (the mean of the replicas')."""

    def __init__(self, name: str, dtype: str = "float32") -> None:
        super().__init__(name=name, dtype=dtype)
        self.value = self.add_variable((), "zeros", aggregation="mean", name="value")

    def update_state(self, value: Any) -> None:
        self.value.assign(ops.cast(value, self.dtype))

    def result(self) -> Any:
        return ops.convert_to_tensor(self.value)

    def reset_state(self) -> None:
        self.value.assign(ops.zeros((), self.dtype))


class GanMetrics:
    """The trackers of a `GAN` and their bookkeeping (mixed into `GAN`, before keras.Model).

    The model must have `adversarial_loss` (or `None`) and `augmentation` (or `None`).
    """

    def _init_trackers(self) -> None:
        mean = keras.metrics.Mean
        self.d_loss_tracker = mean(name="d_loss")
        self.g_loss_tracker = mean(name="g_loss")
        self.d_real_tracker = mean(name="d_real")
        self.d_fake_tracker = mean(name="d_fake")
        self.d_accuracy_tracker = mean(name="d_accuracy")
        self.d_real_accuracy_tracker = mean(name="d_real_accuracy")
        self.d_fake_accuracy_tracker = mean(name="d_fake_accuracy")
        self.d_grad_norm_tracker = mean(name="d_grad_norm")
        self.g_grad_norm_tracker = mean(name="g_grad_norm")
        self.gradient_penalty_tracker = mean(name="gradient_penalty")
        self.augment_p_tracker = CurrentValue(name="augment_p")
        self.ada_rt_tracker = mean(name="ada_rt")

    @property
    def metrics(self) -> list[keras.metrics.Metric]:
        trackers = [self.d_loss_tracker, self.g_loss_tracker, self.d_real_tracker]
        trackers += [self.d_fake_tracker, self.d_accuracy_tracker, self.d_real_accuracy_tracker]
        trackers += [self.d_fake_accuracy_tracker, self.d_grad_norm_tracker]
        trackers.append(self.g_grad_norm_tracker)
        if self.adversarial_loss is not None and self.adversarial_loss.gradient_penalty_weight:
            trackers.append(self.gradient_penalty_tracker)
        if self.augmentation is not None:
            trackers.append(self.augment_p_tracker)
            if self.augmentation.adaptive:
                trackers.append(self.ada_rt_tracker)
        return trackers

    def _update_discriminator_metrics(self, result: dict[str, Any]) -> None:
        """Update D's trackers from a `discriminator_step` result (or test_step's values)."""
        loss_fn = self.adversarial_loss
        real_logits, fake_logits = result["real_logits"], result["fake_logits"]
        self.d_loss_tracker.update_state(result["per_example"])
        self.d_real_tracker.update_state(loss_fn.score(real_logits))
        self.d_fake_tracker.update_state(loss_fn.score(fake_logits))
        self.d_accuracy_tracker.update_state(
            discriminator_accuracy(loss_fn, real_logits, fake_logits)
        )
        real_right, fake_right = decision_accuracies(loss_fn, real_logits, fake_logits)
        self.d_real_accuracy_tracker.update_state(real_right)
        self.d_fake_accuracy_tracker.update_state(fake_right)
        if result.get("gradient_penalty") is not None:
            self.gradient_penalty_tracker.update_state(result["gradient_penalty"])
        if result.get("grad_norm") is not None:
            norm, counts = result["grad_norm"]
            self.d_grad_norm_tracker.update_state(norm, sample_weight=counts)
        if self.augmentation is not None:
            self.augment_p_tracker.update_state(self.augmentation.p)
            if self.augmentation.adaptive:
                self.ada_rt_tracker.update_state(self.augmentation.real_signs(loss_fn, real_logits))

    def _update_generator_metrics(self, result: dict[str, Any]) -> None:
        """Update G's trackers from a `generator_step` result."""
        self.g_loss_tracker.update_state(result["per_example"])
        if result.get("grad_norm") is not None:
            norm, counts = result["grad_norm"]
            self.g_grad_norm_tracker.update_state(norm, sample_weight=counts)
