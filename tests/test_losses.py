"""Adversarial losses against values computed by hand from their textbook definitions."""

import math

import keras
import numpy as np
import pytest

from keras_gan import losses

REAL_LOGITS = np.array([[2.0], [-1.0]], dtype="float32")
FAKE_LOGITS = np.array([[0.5], [-3.0]], dtype="float32")


def sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


def per_example(values) -> np.ndarray:
    return np.asarray(keras.ops.convert_to_numpy(values), dtype="float64")


def test_non_saturating_matches_goodfellow_definitions():
    loss = losses.get("non_saturating")
    expected_d = [
        -math.log(sigmoid(r)) - math.log(1.0 - sigmoid(f))
        for r, f in zip(REAL_LOGITS[:, 0], FAKE_LOGITS[:, 0], strict=True)
    ]
    expected_g = [-math.log(sigmoid(f)) for f in FAKE_LOGITS[:, 0]]
    np.testing.assert_allclose(
        per_example(loss.discriminator_loss(REAL_LOGITS, FAKE_LOGITS)), expected_d, rtol=1e-5
    )
    np.testing.assert_allclose(per_example(loss.generator_loss(FAKE_LOGITS)), expected_g, rtol=1e-5)
    # Hand-computed: -log s(2) - log(1 - s(0.5)) = 0.126928 + 0.974077.
    assert per_example(loss.discriminator_loss(REAL_LOGITS, FAKE_LOGITS))[0] == pytest.approx(
        1.101005, abs=1e-5
    )


def test_minimax_generator_minimises_log_one_minus_d():
    loss = losses.get("minimax")
    expected_g = [math.log(1.0 - sigmoid(f)) for f in FAKE_LOGITS[:, 0]]
    np.testing.assert_allclose(per_example(loss.generator_loss(FAKE_LOGITS)), expected_g, rtol=1e-5)
    # Same discriminator loss as the non-saturating game.
    np.testing.assert_allclose(
        per_example(loss.discriminator_loss(REAL_LOGITS, FAKE_LOGITS)),
        per_example(losses.NonSaturating().discriminator_loss(REAL_LOGITS, FAKE_LOGITS)),
    )


def test_least_squares_uses_zero_one_one_coding():
    loss = losses.get("least_squares")
    # 0.5 (2 - 1)^2 + 0.5 * 0.5^2 = 0.625 ; 0.5 (-1 - 1)^2 + 0.5 * (-3)^2 = 6.5
    np.testing.assert_allclose(
        per_example(loss.discriminator_loss(REAL_LOGITS, FAKE_LOGITS)), [0.625, 6.5]
    )
    # 0.5 (0.5 - 1)^2 = 0.125 ; 0.5 (-3 - 1)^2 = 8
    np.testing.assert_allclose(per_example(loss.generator_loss(FAKE_LOGITS)), [0.125, 8.0])


def test_wasserstein_critic_and_generator():
    loss = losses.get("wasserstein")
    assert loss.gradient_penalty_weight == 10.0
    np.testing.assert_allclose(
        per_example(loss.discriminator_loss(REAL_LOGITS, FAKE_LOGITS)), [0.5 - 2.0, -3.0 + 1.0]
    )
    np.testing.assert_allclose(per_example(loss.generator_loss(FAKE_LOGITS)), [-0.5, 3.0])


def test_hinge():
    loss = losses.get("hinge")
    # relu(1 - 2) + relu(1 + 0.5) = 1.5 ; relu(1 + 1) + relu(1 - 3) = 2
    np.testing.assert_allclose(
        per_example(loss.discriminator_loss(REAL_LOGITS, FAKE_LOGITS)), [1.5, 2.0]
    )
    np.testing.assert_allclose(per_example(loss.generator_loss(FAKE_LOGITS)), [-0.5, 3.0])


@pytest.mark.parametrize("name", losses.NAMES)
def test_losses_stay_finite_for_extreme_logits(name):
    loss = losses.get(name)
    extreme = np.array([[-200.0], [200.0]], dtype="float32")
    assert np.all(np.isfinite(per_example(loss.discriminator_loss(extreme, extreme))))
    assert np.all(np.isfinite(per_example(loss.generator_loss(extreme))))
    # -log sigmoid(-200) = 200 exactly in float32, not inf.
    if name == "non_saturating":
        assert per_example(loss.generator_loss(extreme))[0] == pytest.approx(200.0)


def test_gradient_penalty_of_a_linear_critic_is_norm_minus_one_squared():
    # critic(x) = w . x has gradient w everywhere: ||w|| = ||(3, 4)|| = 5 -> (5 - 1)^2 = 16.
    critic = keras.layers.Dense(1, use_bias=False)
    critic.build((None, 2))
    critic.set_weights([np.array([[3.0], [4.0]], dtype="float32")])
    real = np.random.default_rng(0).normal(size=(5, 2)).astype("float32")
    fake = np.random.default_rng(1).normal(size=(5, 2)).astype("float32")
    interpolation = np.linspace(0, 1, 5).astype("float32")
    penalty = per_example(losses.gradient_penalty(critic, real, fake, interpolation))
    np.testing.assert_allclose(penalty, [16.0] * 5, rtol=1e-5)


def test_gradient_penalty_interpolates_per_example():
    # critic(x) = sum(x^2) / 2 has gradient x: the penalty is (||x_hat|| - 1)^2 at x_hat.
    def critic(x):
        return keras.ops.sum(keras.ops.square(x), axis=1, keepdims=True) / 2.0

    real = np.array([[2.0, 0.0], [0.0, 3.0]], dtype="float32")
    fake = np.zeros((2, 2), dtype="float32")
    interpolation = np.array([0.5, 1.0], dtype="float32")  # x_hat = (1, 0) and (0, 3)
    penalty = per_example(losses.gradient_penalty(critic, real, fake, interpolation))
    np.testing.assert_allclose(penalty, [0.0, 4.0], atol=1e-5)


def test_get_by_alias_instance_and_config():
    assert isinstance(losses.get("LSGAN"), losses.LeastSquares)
    assert isinstance(losses.get("wgan-gp"), losses.Wasserstein)
    custom = losses.Wasserstein(gradient_penalty_weight=5.0)
    assert losses.get(custom) is custom
    restored = losses.get(keras.saving.serialize_keras_object(custom))
    assert isinstance(restored, losses.Wasserstein)
    assert restored.gradient_penalty_weight == 5.0


def test_unknown_loss_names_the_choices():
    with pytest.raises(ValueError, match="non_saturating"):
        losses.get("vanilla-ish")
    with pytest.raises(ValueError, match=">= 0"):
        losses.Wasserstein(gradient_penalty_weight=-1)
