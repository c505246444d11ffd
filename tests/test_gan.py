"""The GAN model: what one train_step moves, its metrics, generation, save and reload."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_gan import GAN, losses, networks
from keras_gan.gan_metrics import decision_accuracies

LATENT = 8
SHAPE = (8, 8, 1)


def images(n: int, seed: int = 0) -> np.ndarray:
    """Smooth random blobs in [-1, 1]: cheap 'real' 8x8 images."""
    rng = np.random.default_rng(seed)
    grid = np.linspace(-1, 1, SHAPE[0])
    centres = rng.uniform(-0.5, 0.5, size=(n, 2))
    yy, xx = np.meshgrid(grid, grid, indexing="ij")
    dist = (yy[None] - centres[:, :1, None]) ** 2 + (xx[None] - centres[:, 1:, None]) ** 2
    return (2.0 * np.exp(-dist / 0.2) - 1.0)[..., None].astype("float32")


def make_gan(arch: str = "mlp", loss="non_saturating", d_steps: int = 1, **options) -> GAN:
    defaults = {"mlp": {"generator_hidden": (16,), "discriminator_hidden": (16,)}}
    defaults["dcgan"] = {"base_filters": 4}
    generator, discriminator = networks.build(
        arch, SHAPE, LATENT, **{**defaults.get(arch, {}), **options}
    )
    gan = GAN(generator, discriminator, latent_dim=LATENT, d_steps=d_steps, seed=42)
    gan.compile(
        d_optimizer=keras.optimizers.Adam(1e-3),
        g_optimizer=keras.optimizers.Adam(1e-3),
        loss=loss,
    )
    return gan


def snapshot(model: keras.Model) -> list[np.ndarray]:
    return [np.array(v) for v in model.trainable_variables]


def changed(before, after) -> list[bool]:
    return [not np.array_equal(b, a) for b, a in zip(before, after, strict=True)]


def test_discriminator_phase_moves_only_the_discriminator():
    gan = make_gan("dcgan")
    g_before, d_before = snapshot(gan.generator), snapshot(gan.discriminator)
    gan.discriminator_step(images(16))
    assert not any(changed(g_before, snapshot(gan.generator)))
    assert all(changed(d_before, snapshot(gan.discriminator)))


def test_generator_phase_moves_only_the_generator():
    gan = make_gan("dcgan")
    g_before, d_before = snapshot(gan.generator), snapshot(gan.discriminator)
    gan.generator_step(16)
    assert all(changed(g_before, snapshot(gan.generator)))
    assert not any(changed(d_before, snapshot(gan.discriminator)))


def test_d_steps_makes_k_discriminator_updates_per_generator_update():
    gan = make_gan(d_steps=3)
    gan.fit(images(40), batch_size=8, epochs=1, verbose=0)  # 5 steps
    assert int(gan.d_optimizer.iterations) == 15
    assert int(gan.g_optimizer.iterations) == 5


def test_partial_last_batch_trains():
    gan = make_gan()
    history = gan.fit(images(10), batch_size=4, epochs=2, verbose=0)  # 4 + 4 + 2
    assert int(gan.g_optimizer.iterations) == 6
    assert np.isfinite(history.history["d_loss"]).all()


def test_metrics_are_mean_trackers_reset_each_epoch():
    gan = make_gan()
    history = gan.fit(images(32), batch_size=8, epochs=2, verbose=0)
    assert set(history.history) == {
        "d_loss", "g_loss", "d_real", "d_fake", "d_accuracy", "d_real_accuracy",
        "d_fake_accuracy", "d_grad_norm", "g_grad_norm",
    }  # fmt: skip
    assert all(isinstance(m, keras.metrics.Mean) for m in gan.metrics)
    for name in ("d_real", "d_fake", "d_accuracy"):  # probabilities for the cross-entropy loss
        assert all(0.0 <= value <= 1.0 for value in history.history[name])
    # The count of a tracker is one epoch's worth of examples: 4 steps x 8 (reset at epoch 2).
    assert float(gan.g_loss_tracker.count) == 32.0
    assert float(gan.d_accuracy_tracker.count) == 64.0  # real and fake decisions


def test_d_loss_metric_equals_the_loss_of_the_step():
    gan = make_gan(discriminator_dropout=0.0)  # deterministic D
    real = images(8)
    state = np.array(gan.seed_generator.state)
    z = gan.sample_noise(8)
    gan.seed_generator.state.assign(state)
    fake = gan.generator(z, training=True)
    expected = keras.ops.mean(
        losses.NonSaturating().discriminator_loss(
            gan.discriminator(real, training=True), gan.discriminator(fake, training=True)
        )
    )
    result = gan.discriminator_step(real)
    assert float(keras.ops.mean(result["per_example"])) == pytest.approx(float(expected), rel=1e-4)


def test_loss_is_reduced_by_the_global_batch_size():
    """With SGD(lr=1), the D update is exactly -grad(mean over the batch) on one replica."""
    generator, discriminator = networks.build(
        "mlp", (2,), 2, generator_hidden=(), discriminator_hidden=(), discriminator_dropout=0
    )
    gan = GAN(generator, discriminator, latent_dim=2, seed=0)
    gan.compile(keras.optimizers.SGD(1.0), keras.optimizers.SGD(1.0), loss="least_squares")
    real = np.random.default_rng(0).normal(size=(6, 2)).astype("float32")
    state = np.array(gan.seed_generator.state)
    fake = gan.generator(gan.sample_noise(6))
    gan.seed_generator.state.assign(state)
    weights = discriminator.trainable_variables
    with tf.GradientTape() as tape:
        per_example = losses.LeastSquares().discriminator_loss(
            discriminator(real), discriminator(fake)
        )
        mean_loss = tf.reduce_mean(per_example)
    expected = [
        np.array(w) - np.array(g)
        for w, g in zip(weights, tape.gradient(mean_loss, weights), strict=True)
    ]
    gan.discriminator_step(real)
    for weight, want in zip(weights, expected, strict=True):
        np.testing.assert_allclose(np.array(weight), want, rtol=1e-5, atol=1e-6)


def test_wasserstein_gp_reports_raw_scores_and_the_penalty():
    gan = make_gan("dcgan", loss="wasserstein", normalization="layer")
    history = gan.fit(images(16), batch_size=8, epochs=1, verbose=0)
    assert "gradient_penalty" in history.history
    assert history.history["gradient_penalty"][0] >= 0.0
    assert np.isfinite(history.history["d_loss"]).all()


@pytest.mark.parametrize("loss", losses.NAMES)
def test_every_loss_trains_by_name(loss):
    gan = make_gan(loss=loss)
    history = gan.fit(images(16), batch_size=8, epochs=1, verbose=0)
    assert np.isfinite(history.history["g_loss"]).all()


def test_generate_and_call():
    gan = make_gan("dcgan")
    samples = gan.generate(5, seed=3)
    assert samples.shape == (5, *SHAPE) and samples.dtype == np.float32
    assert samples.min() >= -1.0 and samples.max() <= 1.0
    np.testing.assert_array_equal(samples, gan.generate(5, seed=3))  # seeded and inference-mode
    z = np.random.default_rng(0).normal(size=(600, LATENT)).astype("float32")
    np.testing.assert_allclose(gan.generate(z)[:4], np.asarray(gan(z[:4])), atol=1e-6)
    assert gan.generate(z).shape == (600, *SHAPE)  # more than one generation batch


def test_sample_noise_advances_the_seed_generator():
    gan = make_gan()
    first, second = np.array(gan.sample_noise(4)), np.array(gan.sample_noise(4))
    assert first.shape == (4, LATENT)
    assert not np.array_equal(first, second)


def test_constructor_and_compile_validate():
    generator, discriminator = networks.build("mlp", SHAPE, LATENT)
    with pytest.raises(ValueError, match="d_steps"):
        GAN(generator, discriminator, LATENT, d_steps=0)
    with pytest.raises(ValueError, match="latent_dim"):
        GAN(generator, discriminator, 0)
    gan = GAN(generator, discriminator, LATENT)
    shared = keras.optimizers.Adam()
    with pytest.raises(ValueError, match="two different optimizers"):
        gan.compile(shared, shared)
    with pytest.raises(ValueError, match="Unknown loss"):
        gan.compile(loss="nope")
    with pytest.raises(RuntimeError, match="compile"):
        GAN(generator, discriminator, LATENT).discriminator_step(images(2))


def test_default_optimizers_follow_dcgan():
    generator, discriminator = networks.build("mlp", SHAPE, LATENT)
    gan = GAN(generator, discriminator, LATENT)
    gan.compile()
    for optimizer in (gan.d_optimizer, gan.g_optimizer):
        assert float(optimizer.learning_rate) == pytest.approx(2e-4)
        assert optimizer.beta_1 == 0.5
    assert isinstance(gan.adversarial_loss, losses.NonSaturating)


def test_save_and_reload_resumes_exactly(tmp_path):
    gan = make_gan("dcgan", loss=losses.Hinge(), d_steps=2)
    gan.fit(images(16), batch_size=8, epochs=1, verbose=0)
    path = tmp_path / "gan.keras"
    gan.save(path)
    restored = keras.saving.load_model(path, safe_mode=True)

    assert isinstance(restored, GAN) and restored.d_steps == 2
    assert isinstance(restored.adversarial_loss, losses.Hinge)
    z = np.random.default_rng(1).normal(size=(4, LATENT)).astype("float32")
    np.testing.assert_array_equal(restored.generate(z), gan.generate(z))
    for original, loaded in (
        (gan.d_optimizer, restored.d_optimizer),
        (gan.g_optimizer, restored.g_optimizer),
    ):
        assert int(loaded.iterations) == int(original.iterations)
        for a, b in zip(original.variables, loaded.variables, strict=True):
            np.testing.assert_array_equal(np.array(a), np.array(b))
    np.testing.assert_array_equal(
        np.array(restored.seed_generator.state), np.array(gan.seed_generator.state)
    )
    # One more epoch from the reloaded model equals one more epoch of the original.
    gan.fit(images(16), batch_size=8, epochs=1, verbose=0, shuffle=False)
    restored.fit(images(16), batch_size=8, epochs=1, verbose=0, shuffle=False)
    assert int(restored.d_optimizer.iterations) == 8
    np.testing.assert_allclose(restored.generate(z), gan.generate(z), atol=1e-5)


def test_generator_alone_saves_and_reloads_with_safe_mode(tmp_path):
    gan = make_gan("dcgan")
    path = tmp_path / "generator.keras"
    gan.generator.save(path)
    generator = keras.saving.load_model(path, safe_mode=True)
    z = np.random.default_rng(2).normal(size=(3, LATENT)).astype("float32")
    np.testing.assert_array_equal(np.asarray(generator(z)), gan.generate(z))


def test_mixed_bfloat16_trains_with_float32_outputs():
    keras.mixed_precision.set_dtype_policy("mixed_bfloat16")
    try:
        gan = make_gan("dcgan")
        history = gan.fit(images(16), batch_size=8, epochs=1, verbose=0)
        assert gan.generate(2).dtype == np.float32
        assert np.isfinite(history.history["d_loss"]).all()
        assert not isinstance(gan.d_optimizer, keras.optimizers.LossScaleOptimizer)
    finally:
        keras.mixed_precision.set_dtype_policy("float32")


def test_mixed_float16_wraps_both_optimizers_in_loss_scaling():
    keras.mixed_precision.set_dtype_policy("mixed_float16")
    try:
        gan = make_gan("mlp")
        assert isinstance(gan.d_optimizer, keras.optimizers.LossScaleOptimizer)
        assert isinstance(gan.g_optimizer, keras.optimizers.LossScaleOptimizer)
        gan.fit(images(16), batch_size=8, epochs=1, verbose=0)
        assert int(gan.g_optimizer.iterations) == 2
    finally:
        keras.mixed_precision.set_dtype_policy("float32")


def test_design_snippet_trains_saves_and_reloads(tmp_path):
    """The user-facing example of DESIGN.md and README.md, on a tiny tf.data pipeline."""
    g, d = networks.build("dcgan", image_shape=(28, 28, 1), latent_dim=100, base_filters=8)
    gan = GAN(generator=g, discriminator=d, latent_dim=100)
    gan.compile(
        d_optimizer=keras.optimizers.Adam(2e-4, beta_1=0.5),
        g_optimizer=keras.optimizers.Adam(2e-4, beta_1=0.5),
        loss="non_saturating",
    )
    real = np.tanh(np.random.default_rng(0).normal(size=(40, 28, 28, 1))).astype("float32")
    dataset = tf.data.Dataset.from_tensor_slices(real).batch(16)
    history = gan.fit(dataset, epochs=2, verbose=0)
    assert len(history.history["g_loss"]) == 2
    gan.generator.save(tmp_path / "generator.keras")
    generator = keras.saving.load_model(tmp_path / "generator.keras", safe_mode=True)
    assert generator(np.zeros((1, 100), "float32")).shape == (1, 28, 28, 1)


def labelled_blobs(n: int = 3000) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Three classes of 2-D points around distinct centres."""
    centres = np.array([[-2.0, 0.0], [2.0, 0.0], [0.0, 2.0]], "float32")
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 3, n).astype("int32")
    points = (centres[labels] + 0.2 * rng.normal(size=(n, 2))).astype("float32")
    return points, labels, centres


def conditional_gan(latent_dim: int = 4) -> GAN:
    generator, discriminator = networks.build(
        "mlp",
        (2,),
        latent_dim,
        generator_hidden=(32, 32),
        discriminator_hidden=(32, 32),
        discriminator_dropout=0.0,
        num_classes=3,
    )
    gan = GAN(generator, discriminator, latent_dim=latent_dim, seed=0, num_classes=3)
    gan.compile(keras.optimizers.Adam(2e-3, beta_1=0.5), keras.optimizers.Adam(2e-3, beta_1=0.5))
    return gan


def test_conditional_gan_follows_the_label_for_the_same_noise():
    keras.utils.set_random_seed(0)
    points, labels, centres = labelled_blobs()
    gan = conditional_gan()
    gan.fit(points, labels, batch_size=64, epochs=5, verbose=0)
    z = np.random.default_rng(1).normal(size=(500, 4)).astype("float32")
    for label, centre in enumerate(centres):
        np.testing.assert_allclose(gan.generate(z, labels=label).mean(axis=0), centre, atol=0.3)
    by_default = gan.generate(z[:6])  # classes take turns: 0, 1, 2, 0, 1, 2
    np.testing.assert_array_equal(by_default, gan.generate(z[:6], labels=[0, 1, 2, 0, 1, 2]))
    assert not np.array_equal(by_default, gan.generate(z[:6], labels=0))


def test_conditional_networks_take_labels_and_reload(tmp_path):
    generator, discriminator = networks.build(
        "dcgan", (28, 28, 1), 8, base_filters=4, num_classes=10
    )
    assert [tuple(x.shape) for x in generator.inputs] == [(None, 8), (None,)]
    assert discriminator.get_layer("label_projection").input_dim == 10
    gan = GAN(generator, discriminator, latent_dim=8, num_classes=10)
    gan.compile()
    real = np.zeros((8, 28, 28, 1), "float32")
    gan.fit(real, np.arange(8) % 10, batch_size=4, epochs=1, verbose=0)
    gan.save(tmp_path / "cgan.keras")
    restored = keras.saving.load_model(tmp_path / "cgan.keras", safe_mode=True)
    assert restored.num_classes == 10
    z = np.random.default_rng(0).normal(size=(3, 8)).astype("float32")
    np.testing.assert_array_equal(restored.generate(z, labels=7), gan.generate(z, labels=7))


def test_conditional_mismatches_are_clear_errors():
    generator, discriminator = networks.build("mlp", (2,), 2, num_classes=3)
    with pytest.raises(ValueError, match="single input"):
        GAN(generator, discriminator, 2)
    plain_g, plain_d = networks.build("mlp", (2,), 2)
    with pytest.raises(ValueError, match="num_classes=3"):
        GAN(plain_g, plain_d, 2, num_classes=3)
    gan = GAN(generator, discriminator, 2, num_classes=3)
    with pytest.raises(ValueError, match=r"0\.\.2"):
        gan.generate(2, labels=5)
    with pytest.raises(ValueError, match="not conditional"):
        GAN(plain_g, plain_d, 2).generate(2, labels=1)
    with pytest.raises(ValueError, match="at least 2"):
        networks.build("mlp", (2,), 2, num_classes=1)


# ------------------------------------------------------------------------------- weight average
def ema_gan(momentum: float = 0.9) -> GAN:
    generator, discriminator = networks.build("dcgan", SHAPE, LATENT, base_filters=4)
    gan = GAN(generator, discriminator, latent_dim=LATENT, seed=3, ema_momentum=momentum)
    gan.compile(keras.optimizers.Adam(1e-2), keras.optimizers.Adam(1e-2))
    return gan


def all_values(model: keras.Model) -> list[np.ndarray]:
    return [np.array(v) for v in model.weights]


def test_generator_average_is_the_exponential_moving_average_of_every_variable():
    """avg = m avg + (1 - m) w with m = min(0.2, (1 + t) / (10 + t)) after update t."""
    gan = ema_gan(momentum=0.2)
    initial = all_values(gan.generator)
    for a, b in zip(all_values(gan.generator_ema), initial, strict=True):
        np.testing.assert_array_equal(a, b)  # the average starts at the initial weights
    gan.fit(images(8), batch_size=8, epochs=1, verbose=0)
    first = all_values(gan.generator)
    m = 2 / 11  # warming up: below 0.2
    expected = [m * w0 + (1 - m) * w1 for w0, w1 in zip(initial, first, strict=True)]
    for average, want in zip(all_values(gan.generator_ema), expected, strict=True):
        np.testing.assert_allclose(average, want, rtol=1e-5, atol=1e-7)
    gan.fit(images(8, seed=1), batch_size=8, epochs=1, verbose=0)
    second = all_values(gan.generator)
    m = 0.2  # 3 / 12 = 0.25 is past the momentum
    expected = [m * e + (1 - m) * w2 for e, w2 in zip(expected, second, strict=True)]
    for average, want in zip(all_values(gan.generator_ema), expected, strict=True):
        np.testing.assert_allclose(average, want, rtol=1e-5, atol=1e-7)
    # BatchNorm moving statistics (non-trainable) are averaged too, and the copy never trains.
    names = [v.path for v in gan.generator_ema.weights]
    assert any("moving_mean" in name for name in names)
    assert gan.generator_ema.trainable_weights == []
    assert len(gan.g_optimizer.variables) == len(make_gan("dcgan").g_optimizer.variables)


def test_samples_come_from_the_average():
    gan = ema_gan()
    gan.fit(images(16), batch_size=8, epochs=1, verbose=0)
    z = np.random.default_rng(4).normal(size=(5, LATENT)).astype("float32")
    assert gan.sampling_generator is gan.generator_ema
    averaged = np.asarray(gan.generator_ema(z, training=False))
    np.testing.assert_array_equal(gan.generate(z), averaged)
    np.testing.assert_array_equal(np.asarray(gan(z)), averaged)
    assert not np.allclose(np.asarray(gan.generator(z, training=False)), averaged)
    plain = make_gan("dcgan")
    assert plain.generator_ema is None and plain.sampling_generator is plain.generator


def test_generator_average_saves_reloads_and_resumes_exactly(tmp_path):
    gan = ema_gan(momentum=0.8)
    gan.fit(images(16), batch_size=8, epochs=1, verbose=0)
    path = tmp_path / "gan.keras"
    gan.save(path)
    restored = keras.saving.load_model(path, safe_mode=True)
    assert restored.ema_momentum == 0.8
    for a, b in zip(all_values(restored.generator_ema), all_values(gan.generator_ema), strict=True):
        np.testing.assert_array_equal(a, b)
    gan.fit(images(16), batch_size=8, epochs=1, verbose=0, shuffle=False)
    restored.fit(images(16), batch_size=8, epochs=1, verbose=0, shuffle=False)
    z = np.random.default_rng(5).normal(size=(4, LATENT)).astype("float32")
    np.testing.assert_allclose(restored.generate(z), gan.generate(z), atol=1e-5)
    # The exported sampling generator reloads on its own.
    gan.sampling_generator.save(tmp_path / "generator.keras")
    alone = keras.saving.load_model(tmp_path / "generator.keras", safe_mode=True)
    np.testing.assert_allclose(np.asarray(alone(z)), gan.generate(z), atol=1e-6)


def test_ema_momentum_is_validated():
    generator, discriminator = networks.build("dcgan", SHAPE, LATENT, base_filters=4)
    for bad in (1.0, -0.1, 1.5):
        with pytest.raises(ValueError, match="ema_momentum"):
            GAN(generator, discriminator, latent_dim=LATENT, ema_momentum=bad)


# ------------------------------------------------------------- D's decisions and gradient norms
@pytest.mark.parametrize("loss", ["non_saturating", "least_squares", "hinge", "wasserstein"])
def test_real_and_fake_accuracies_by_hand(loss):
    """Right decisions on real and on fake, separately: above / at-or-below the threshold
    (a logit of 0, an LSGAN output of 0.5; the critic's: the midpoint of the batch means)."""
    loss_fn = losses.get(loss)
    shift = 0.5 if loss == "least_squares" else 0.0
    real = np.array([2.0, -1.0, 3.0, 0.0], "float32") + shift
    fake = np.array([-2.0, 1.0, -3.0, 0.0], "float32") + shift  # means 1 and -1: midpoint 0
    real_right, fake_right = decision_accuracies(loss_fn, real, fake)
    np.testing.assert_array_equal(np.asarray(real_right), [1, 0, 1, 0])
    np.testing.assert_array_equal(np.asarray(fake_right), [1, 0, 1, 1])
    gan = make_gan()
    gan.adversarial_loss = loss_fn
    gan._update_discriminator_metrics(
        {"per_example": np.zeros(4, "float32"), "real_logits": real, "fake_logits": fake}
    )
    assert float(gan.d_real_accuracy_tracker.result()) == 0.5
    assert float(gan.d_fake_accuracy_tracker.result()) == 0.75


def linear_points_gan(optimizer=keras.optimizers.SGD) -> GAN:
    generator, discriminator = networks.build(
        "mlp", (2,), 2, generator_hidden=(), discriminator_hidden=(4,), discriminator_dropout=0
    )
    gan = GAN(generator, discriminator, latent_dim=2, seed=0)
    gan.compile(optimizer(1.0), optimizer(1.0), loss="non_saturating")
    return gan


def update_norm(before: list[np.ndarray], model: keras.Model) -> float:
    after = snapshot(model)
    return float(np.sqrt(sum(np.sum((a - b) ** 2) for a, b in zip(after, before, strict=True))))


def test_gradient_norms_are_the_size_of_an_sgd_step():
    """With SGD(1) a player moves by minus its gradient: the norm is the step's length."""
    gan = linear_points_gan()
    real = np.random.default_rng(0).normal(size=(8, 2)).astype("float32")
    before = snapshot(gan.discriminator)
    norm, counts = gan.discriminator_step(real)["grad_norm"]
    assert float(norm) == pytest.approx(update_norm(before, gan.discriminator), rel=1e-5)
    assert float(counts) == 1.0 and float(norm) > 0
    before = snapshot(gan.generator)
    norm, _ = gan.generator_step(8)["grad_norm"]
    assert float(norm) == pytest.approx(update_norm(before, gan.generator), rel=1e-5)
    d_before, g_before = snapshot(gan.discriminator), snapshot(gan.generator)
    logs = gan.train_step(real)
    assert float(logs["d_grad_norm"]) == pytest.approx(update_norm(d_before, gan.discriminator))
    assert float(logs["g_grad_norm"]) == pytest.approx(update_norm(g_before, gan.generator))


def test_gradient_norms_are_unscaled_under_float16_loss_scaling():
    keras.mixed_precision.set_dtype_policy("mixed_float16")
    try:
        gan = linear_points_gan()
        assert isinstance(gan.d_optimizer, keras.optimizers.LossScaleOptimizer)
        real = np.random.default_rng(0).normal(size=(8, 2)).astype("float32")
        before = snapshot(gan.discriminator)
        norm, counts = gan.discriminator_step(real)["grad_norm"]
        assert float(counts) == 1.0
        assert float(norm) == pytest.approx(update_norm(before, gan.discriminator), rel=1e-2)
    finally:
        keras.mixed_precision.set_dtype_policy("float32")
