"""Adversarial losses, computed per example from the discriminator's raw outputs (logits).

Every loss returns one value per example (shape `(batch,)`) so that the caller can reduce it
as `sum / global_batch_size`, the reduction that keeps gradients right under `tf.distribute`
(see `GAN.train_step`). All are written with `softplus`/`relu` on logits, never
`log(sigmoid(x))`, so they stay finite for any logit. Use them by name (`"minimax"`,
`"non_saturating"`, `"least_squares"`, `"wasserstein"`, `"hinge"`) through `get`, or pass an
instance, e.g. `Wasserstein(gradient_penalty_weight=5)`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import keras
import tensorflow as tf
from keras import ops

__all__ = [
    "AdversarialLoss",
    "Hinge",
    "LeastSquares",
    "Minimax",
    "NonSaturating",
    "Wasserstein",
    "get",
    "gradient_penalty",
]


def _flat(logits: Any) -> Any:
    """Logits as float32 of shape (batch,): losses are always computed in float32."""
    logits = ops.cast(logits, "float32")
    return ops.reshape(logits, (ops.shape(logits)[0],))


class AdversarialLoss:
    """Base class: the two players' per-example losses and how to read D's output.

    Subclasses implement `discriminator_loss` and `generator_loss`. `score` maps a raw D
    output to what the metrics report as D(x) (a probability for the cross-entropy losses, the
    raw score otherwise) and `decision_threshold` is the score that separates "real" from
    "fake" for the discriminator-accuracy metric.
    """

    name = "adversarial"
    decision_threshold = 0.0
    gradient_penalty_weight = 0.0

    def discriminator_loss(self, real_logits: Any, fake_logits: Any) -> Any:
        """D's loss per example.

        Args:
            real_logits: D's raw outputs on real data, shape `(batch,)` or `(batch, 1)`.
            fake_logits: D's raw outputs on generated data, the same shape.

        Returns:
            A float32 tensor of shape `(batch,)`.
        """
        raise NotImplementedError

    def generator_loss(self, fake_logits: Any) -> Any:
        """G's loss per example, from D's raw outputs `fake_logits` on generated data.

        Returns:
            A float32 tensor of shape `(batch,)`.
        """
        raise NotImplementedError

    def score(self, logits: Any) -> Any:
        """D's output as reported in metrics; raw by default."""
        return _flat(logits)

    def get_config(self) -> dict:
        return {}

    @classmethod
    def from_config(cls, config: dict) -> AdversarialLoss:
        return cls(**config)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


class _CrossEntropyLoss(AdversarialLoss):
    """Shared D loss of the original GAN: -log D(x) - log(1 - D(G(z))), D = sigmoid(logit)."""

    decision_threshold = 0.5

    def discriminator_loss(self, real_logits: Any, fake_logits: Any) -> Any:
        return ops.softplus(-_flat(real_logits)) + ops.softplus(_flat(fake_logits))

    def score(self, logits: Any) -> Any:
        return ops.sigmoid(_flat(logits))


@keras.saving.register_keras_serializable(package="keras_gan")
class Minimax(_CrossEntropyLoss):
    """Saturating minimax game, G minimises log(1 - D(G(z))) (Goodfellow et al. 2014, Eq. 1)."""

    name = "minimax"

    def generator_loss(self, fake_logits: Any) -> Any:
        return -ops.softplus(_flat(fake_logits))


@keras.saving.register_keras_serializable(package="keras_gan")
class NonSaturating(_CrossEntropyLoss):
    """Non-saturating game, G minimises -log D(G(z)) (Goodfellow et al. 2014, Sec. 3)."""

    name = "non_saturating"

    def generator_loss(self, fake_logits: Any) -> Any:
        return ops.softplus(-_flat(fake_logits))


@keras.saving.register_keras_serializable(package="keras_gan")
class LeastSquares(AdversarialLoss):
    """LSGAN with the 0-1-1 coding: D -> 1 on real, 0 on fake; G -> 1 (Mao et al. 2017, Eq. 2)."""

    name = "least_squares"
    decision_threshold = 0.5

    def discriminator_loss(self, real_logits: Any, fake_logits: Any) -> Any:
        return 0.5 * ops.square(_flat(real_logits) - 1.0) + 0.5 * ops.square(_flat(fake_logits))

    def generator_loss(self, fake_logits: Any) -> Any:
        return 0.5 * ops.square(_flat(fake_logits) - 1.0)


@keras.saving.register_keras_serializable(package="keras_gan")
class Wasserstein(AdversarialLoss):
    """WGAN critic loss D(G(z)) - D(x) plus gradient penalty (Gulrajani et al. 2017, Alg. 1).

    Args:
        gradient_penalty_weight: lambda (10 in the paper); 0 gives the plain WGAN loss
            (Arjovsky et al. 2017), which then needs weight clipping or spectral normalisation.
    """

    name = "wasserstein"

    def __init__(self, gradient_penalty_weight: float = 10.0):
        if gradient_penalty_weight < 0:
            raise ValueError(f"gradient_penalty_weight must be >= 0, got {gradient_penalty_weight}")
        self.gradient_penalty_weight = float(gradient_penalty_weight)

    def discriminator_loss(self, real_logits: Any, fake_logits: Any) -> Any:
        return _flat(fake_logits) - _flat(real_logits)

    def generator_loss(self, fake_logits: Any) -> Any:
        return -_flat(fake_logits)

    def get_config(self) -> dict:
        return {"gradient_penalty_weight": self.gradient_penalty_weight}


@keras.saving.register_keras_serializable(package="keras_gan")
class Hinge(AdversarialLoss):
    """Hinge loss: D minimises relu(1 - D(x)) + relu(1 + D(G(z))), G minimises -D(G(z))
    (Lim & Ye 2017; Miyato et al. 2018, Eq. 17)."""

    name = "hinge"

    def discriminator_loss(self, real_logits: Any, fake_logits: Any) -> Any:
        return ops.relu(1.0 - _flat(real_logits)) + ops.relu(1.0 + _flat(fake_logits))

    def generator_loss(self, fake_logits: Any) -> Any:
        return -_flat(fake_logits)


_BY_NAME: dict[str, type[AdversarialLoss]] = {
    cls.name: cls for cls in (Minimax, NonSaturating, LeastSquares, Wasserstein, Hinge)
}
_ALIASES = {"lsgan": "least_squares", "wgan_gp": "wasserstein", "wgan-gp": "wasserstein"}

NAMES: tuple[str, ...] = tuple(_BY_NAME)


def get(identifier: str | AdversarialLoss | dict) -> AdversarialLoss:
    """The adversarial loss for a name, a serialized config or an instance.

    Args:
        identifier: a name from `NAMES` (or an alias such as `"lsgan"`, `"wgan-gp"`), a config
            from `keras.saving.serialize_keras_object`, or an `AdversarialLoss` (returned as
            is).

    Returns:
        An `AdversarialLoss`.

    Raises:
        ValueError: for an unknown name or a config of something else.
        TypeError: for any other kind of value.
    """
    if isinstance(identifier, AdversarialLoss):
        return identifier
    if isinstance(identifier, dict):
        loss = keras.saving.deserialize_keras_object(identifier)
        if not isinstance(loss, AdversarialLoss):
            raise ValueError(f"Not an adversarial loss config: {identifier!r}")
        return loss
    if isinstance(identifier, str):
        key = identifier.strip().lower().replace("-", "_")
        key = _ALIASES.get(key, key)
        if key in _BY_NAME:
            return _BY_NAME[key]()
        raise ValueError(
            f"Unknown loss {identifier!r}; choose one of {', '.join(NAMES)} "
            "or pass a keras_gan.losses.AdversarialLoss instance."
        )
    raise TypeError(f"A loss must be a name or an AdversarialLoss, got {type(identifier).__name__}")


def gradient_penalty(critic: Callable[[Any], Any], real: Any, fake: Any, interpolation: Any) -> Any:
    """The WGAN-GP penalty (||grad_x critic(x_hat)||_2 - 1)^2 at x_hat = a*real + (1-a)*fake.

    Gulrajani et al. 2017, Alg. 1, lines 6-7. Call it inside the discriminator's gradient
    tape: the penalty is itself differentiated with respect to the critic's weights.

    Args:
        critic: the discriminator as a function of images (with a conditional one's labels
            bound, e.g. by a lambda).
        real: a batch of real images.
        fake: a batch of generated images of the same shape.
        interpolation: one coefficient a ~ U[0, 1] per example, shape `(batch,)`.

    Returns:
        The penalty per example, float32 of shape `(batch,)`.
    """
    real = ops.cast(real, "float32")
    fake = ops.cast(fake, "float32")
    shape = (ops.shape(real)[0],) + (1,) * (len(real.shape) - 1)
    alpha = ops.reshape(ops.cast(interpolation, "float32"), shape)
    interpolated = alpha * real + (1.0 - alpha) * fake
    with tf.GradientTape() as tape:
        tape.watch(interpolated)
        scores = ops.cast(critic(interpolated), "float32")
    gradients = tape.gradient(scores, interpolated)
    gradients = ops.reshape(gradients, (ops.shape(gradients)[0], -1))
    norms = ops.sqrt(ops.sum(ops.square(gradients), axis=1) + 1e-12)
    return ops.square(norms - 1.0)
