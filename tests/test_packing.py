"""Packing (PacGAN): the maths, D's input shape, the losses on packed batches by hand, saving,
and packing with ADA under MirroredStrategy."""

import keras
import numpy as np
import pytest
import tensorflow as tf
from test_distribute import TWO_CPUS, _run, _write

from keras_gan import GAN, losses, networks, packing, training

RNG = np.random.default_rng(0)


def test_pack_concatenates_consecutive_samples_along_the_last_axis():
    images = RNG.normal(size=(6, 3, 3, 2)).astype("float32")
    packed = np.asarray(packing.pack(images, 3))
    assert packed.shape == (2, 3, 3, 6) == (2, *packing.packed_shape((3, 3, 2), 3))
    for group in range(2):
        want = np.concatenate([images[3 * group + i] for i in range(3)], axis=-1)
        np.testing.assert_array_equal(packed[group], want)
    points = np.arange(12, dtype="float32").reshape(6, 2)
    np.testing.assert_array_equal(np.asarray(packing.pack(points, 2)), points.reshape(3, 4))
    assert packing.pack(points, 1) is points
    with pytest.raises(ValueError, match="multiple of pack=4"):
        packing.pack(points, 4)
    with pytest.raises(ValueError, match="at least 1"):
        packing.check_pack(0)


def linear_gan(loss) -> GAN:
    """2-D points packed by 2. G: x = Az + b; D: one Dense, weights known; SGD(1)."""
    generator = keras.Sequential([keras.Input((2,)), keras.layers.Dense(2)])
    discriminator = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1)])
    generator.set_weights([np.array([[1.0, 0.5], [-0.5, 2.0]], "float32"), np.ones(2, "float32")])
    discriminator.set_weights([np.array([[0.3], [-0.7], [0.2], [0.4]], "float32"), np.ones(1)])
    gan = GAN(generator, discriminator, latent_dim=2, seed=0, pack=2)
    gan.compile(keras.optimizers.SGD(1.0), keras.optimizers.SGD(1.0), loss=loss)
    return gan


@pytest.mark.parametrize("loss", ["non_saturating", "hinge", "wasserstein"])
def test_losses_on_packed_batches_match_hand_computed_values(loss):
    gan = linear_gan(loss)
    kernel, bias = (np.array(w) for w in gan.discriminator.get_weights())
    real = RNG.normal(size=(4, 2)).astype("float32")
    state = np.array(gan.seed_generator.state)
    z = np.array(gan.sample_noise(4))
    gan.seed_generator.state.assign(state)
    a, b = (np.array(w) for w in gan.generator.get_weights())
    fake = z @ a + b
    real_logits = (real.reshape(2, 4) @ kernel + bias)[:, 0]  # pairs (0, 1) and (2, 3)
    fake_logits = (fake.reshape(2, 4) @ kernel + bias)[:, 0]
    d_loss = {
        "non_saturating": np.logaddexp(0, -real_logits) + np.logaddexp(0, fake_logits),
        "hinge": np.maximum(0, 1 - real_logits) + np.maximum(0, 1 + fake_logits),
        # A linear critic's input gradient is its kernel: the penalty is (|w| - 1)^2.
        "wasserstein": fake_logits - real_logits + 10 * (np.linalg.norm(kernel) - 1) ** 2,
    }[loss]
    result = gan.discriminator_step(real)
    np.testing.assert_allclose(np.asarray(result["per_example"]), d_loss, rtol=1e-5)
    np.testing.assert_allclose(np.asarray(result["real_logits"])[:, 0], real_logits, rtol=1e-5)
    # SGD(1): D moved by minus the gradient of the mean over the 2 packed examples.
    if loss == "hinge":
        active_real, active_fake = (1 - real_logits > 0), (1 + fake_logits > 0)
        x_real, x_fake = real.reshape(2, 4), fake.reshape(2, 4)
        grad = (-(active_real[:, None] * x_real) + active_fake[:, None] * x_fake).mean(0)
        np.testing.assert_allclose(
            np.array(gan.discriminator.weights[0])[:, 0], kernel[:, 0] - grad, rtol=1e-5
        )
    g_result = gan.generator_step(4)
    assert np.asarray(g_result["per_example"]).shape == (2,)


def test_discriminator_is_built_on_the_packed_shape_and_pack_is_saved(tmp_path):
    config = training.TrainConfig(
        "x", arch="mlp", image_shape=(4, 4, 1), pack=2, batch_size=4, latent_dim=2,
        network_options={"generator_hidden": [4], "discriminator_hidden": [4]},
    ).resolved()  # fmt: skip
    gan = training.build_gan(config)
    assert gan.discriminator.inputs[0].shape[1:] == (4, 4, 2)
    assert gan.generator.outputs[0].shape[1:] == (4, 4, 1)
    assert gan.augmentation is None  # "auto" without data is off
    points = training.build_gan(
        training.TrainConfig("x", arch="mlp", image_shape=(2,), pack=3, batch_size=6).resolved()
    )
    assert points.discriminator.inputs[0].shape[1:] == (6,)
    history = gan.fit(RNG.uniform(-1, 1, (8, 4, 4, 1)).astype("float32"), batch_size=4, verbose=0)
    assert np.isfinite(history.history["d_loss"]).all()
    gan.save(tmp_path / "gan.keras")
    restored = keras.saving.load_model(tmp_path / "gan.keras", safe_mode=True)
    assert restored.pack == 2
    x = RNG.uniform(-1, 1, (4, 4, 4, 1)).astype("float32")
    np.testing.assert_allclose(
        np.asarray(restored.discriminator(packing.pack(x, 2))),
        np.asarray(gan.discriminator(packing.pack(x, 2))),
        atol=1e-6,
    )


def test_bad_packing_is_refused_in_one_line():
    g, d = networks.build("mlp", (2,), 2, generator_hidden=(), discriminator_hidden=())
    with pytest.raises(ValueError, match=r"takes \(2,\) but pack=2 needs \(4,\)"):
        GAN(g, d, latent_dim=2, pack=2)
    g, d = networks.build("mlp", (2,), 2, num_classes=3, discriminator_shape=(4,))
    with pytest.raises(ValueError, match="not defined for a conditional GAN"):
        GAN(g, d, latent_dim=2, num_classes=3, pack=2)
    with pytest.raises(training.TrainingError, match="batch_size 6 must be a multiple of pack 4"):
        training.TrainConfig("x", pack=4, batch_size=6).validate()
    with pytest.raises(training.TrainingError, match="conditional"):
        training.TrainConfig("x", pack=2, conditional=True).validate()
    gan = linear_gan(losses.NonSaturating())
    with pytest.raises((ValueError, tf.errors.InvalidArgumentError), match="multiple of pack=2"):
        gan.fit(np.zeros((3, 2), "float32"), batch_size=3, verbose=0)


MIRRORED_PACK_ADA = (
    TWO_CPUS
    + """
import json
import sys

import keras
import numpy as np

from keras_gan import GAN, networks
from keras_gan.augment import Augmentation

strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
data = np.random.default_rng(0).uniform(-1, 1, (32, 8, 8, 1)).astype("float32")
with strategy.scope():
    g, _ = networks.build("mlp", (8, 8, 1), 4, generator_hidden=(8,))
    _, d = networks.build("mlp", (8, 8, 2), 4, discriminator_hidden=(8,), discriminator_dropout=0)
    d.weights[-1].assign(np.array([5.0], "float32"))  # D(real) > 0: r_t = 1 > 0.6
    ada = Augmentation(p=0.0, adaptive=True, interval=2, ada_kimg=0.2)  # 200 images: 0 -> 1
    gan = GAN(g, d, latent_dim=4, seed=3, augment=ada, pack=2)
    gan.compile(keras.optimizers.Adam(1e-2), keras.optimizers.Adam(1e-6), "hinge")
history = gan.fit(data, batch_size=8, epochs=1, shuffle=False, verbose=0).history
copies = [float(v) for v in strategy.experimental_local_results(gan.augmentation.p.value)]
gan.save(sys.argv[1])
print(json.dumps({"copies": copies, "history": history}))
"""
)


def test_pack_and_ada_under_mirrored_strategy(tmp_path):
    """Batches of 4 per replica packed by 2; ADA's p moves alike on both replicas, by the
    images of both: 2 adjustments (4 D steps, every 2) of 2 x 8 / 200 each."""
    result = _run(_write(tmp_path, "pack_ada.py", MIRRORED_PACK_ADA), str(tmp_path / "g.keras"))
    assert result["copies"] == pytest.approx([0.16, 0.16], abs=1e-6)
    assert result["history"]["augment_p"] == pytest.approx([0.16], abs=1e-6)
    assert result["history"]["ada_rt"] == pytest.approx([1.0])
    restored = keras.saving.load_model(tmp_path / "g.keras", safe_mode=True)
    assert float(restored.augmentation.p) == pytest.approx(0.16, abs=1e-6)
    assert restored.pack == 2 and restored.discriminator.inputs[0].shape[1:] == (8, 8, 2)
    assert all(np.isfinite(v).all() for v in result["history"].values())
