"""keras_gan.performance: precision policies, XLA / steps-per-execution options, strategies
and the chief rule; and that GAN.compile/fit honour them."""

import json

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_gan import GAN, networks, performance

SHAPE = (8, 8, 1)
LATENT = 4


@pytest.fixture(autouse=True)
def float32_afterwards():
    yield
    keras.mixed_precision.set_dtype_policy("float32")


def images(n: int) -> np.ndarray:
    return np.random.default_rng(0).uniform(-1, 1, (n, *SHAPE)).astype("float32")


def tiny_gan(arch: str = "mlp", **compile_options) -> GAN:
    options = {"mlp": {"generator_hidden": (8,), "discriminator_hidden": (8,)}}
    options["dcgan"] = {"base_filters": 4}
    generator, discriminator = networks.build(arch, SHAPE, LATENT, **options[arch])
    gan = GAN(generator, discriminator, latent_dim=LATENT, seed=0)
    gan.compile(keras.optimizers.Adam(1e-3), keras.optimizers.Adam(1e-3), **compile_options)
    return gan


# ---------------------------------------------------------------------------- precision
@pytest.mark.parametrize(
    ("name", "policy"),
    [
        ("float32", "float32"),
        ("mixed_bfloat16", "mixed_bfloat16"),
        ("mixed-float16", "mixed_float16"),
        ("bf16", "mixed_bfloat16"),
        ("fp32", "float32"),
    ],
)
def test_set_precision_applies_the_keras_policy(name, policy):
    assert performance.set_precision(name).name == policy
    assert keras.mixed_precision.dtype_policy().name == policy


def test_set_precision_rejects_unknown_names_in_one_line():
    with pytest.raises(ValueError, match="float32, mixed_bfloat16, mixed_float16") as error:
        performance.set_precision("float8")
    assert "\n" not in str(error.value)


def test_auto_precision_is_one_of_the_choices():
    assert performance.recommended_precision() in performance.PRECISIONS
    assert performance.set_precision("auto").name in performance.PRECISIONS


@pytest.mark.parametrize("precision", ["mixed_bfloat16", "mixed_float16"])
@pytest.mark.parametrize(
    ("arch", "options"),
    [
        ("mlp", {}),
        ("dcgan", {"base_filters": 4}),
        ("dcgan", {"base_filters": 4, "spectral_norm": True, "normalization": "none"}),
        ("dcgan", {"base_filters": 4, "num_classes": 3}),
    ],
)
def test_builders_compute_in_16_bits_and_output_float32(precision, arch, options):
    """G's images and D's logits stay float32 under a mixed policy; the body computes in 16."""
    performance.set_precision(precision)
    generator, discriminator = networks.build(arch, SHAPE, LATENT, **options)
    compute = precision.removeprefix("mixed_")
    z = tf.zeros((2, LATENT))
    labels = tf.zeros((2,), "int32")
    conditional = "num_classes" in options
    fake = generator([z, labels] if conditional else z, training=True)
    logits = discriminator([fake, labels] if conditional else fake, training=True)
    assert fake.dtype == "float32" and logits.dtype == "float32"
    for model in (generator, discriminator):
        assert any(layer.compute_dtype == compute for layer in model.layers if layer.weights)
        assert all(w.dtype == "float32" for w in model.trainable_weights)


def test_float16_loss_scaling_skips_overflowing_steps_under_fit():
    """LossScaleOptimizer under fit: a loss scale so large that float16 gradients overflow
    skips the update and halves the scale, leaving the weights finite and unchanged."""
    performance.set_precision("mixed_float16")
    generator, discriminator = networks.build("mlp", SHAPE, LATENT, generator_hidden=(8,))
    gan = GAN(generator, discriminator, latent_dim=LATENT, seed=0)

    def scaled():
        return keras.optimizers.LossScaleOptimizer(keras.optimizers.Adam(1e-3), 2.0**40)

    gan.compile(scaled(), scaled())
    before = [np.array(v) for v in gan.discriminator.trainable_variables]
    gan.fit(images(16), batch_size=8, epochs=1, verbose=0)  # 2 steps
    assert float(gan.d_optimizer.dynamic_scale) == 2.0**38
    assert int(gan.d_optimizer.iterations) == 0
    for old, new in zip(before, gan.discriminator.trainable_variables, strict=True):
        np.testing.assert_array_equal(old, np.array(new))
    # From a sane scale, float16 training applies every step.
    gan = tiny_gan()
    assert isinstance(gan.g_optimizer, keras.optimizers.LossScaleOptimizer)
    history = gan.fit(images(32), batch_size=8, epochs=1, verbose=0)
    assert int(gan.g_optimizer.iterations) == 4
    assert np.isfinite(history.history["d_loss"]).all()


# ---------------------------------------------------------------------------- compilation
@pytest.mark.parametrize(
    ("value", "expected"),
    [("auto", "auto"), ("on", True), ("OFF", False), (True, True), ("false", False)],
)
def test_parse_jit_compile(value, expected):
    assert performance.parse_jit_compile(value) == expected


@pytest.mark.parametrize("value", ["0", 0, "-2", "2.5", 2.5, "many", None, True])
def test_parse_steps_per_execution_rejects_non_positive_integers(value):
    with pytest.raises(ValueError, match="positive integer"):
        performance.parse_steps_per_execution(value)


def test_compile_options_feed_gan_compile():
    assert performance.compile_options("on", "8") == {"jit_compile": True, "steps_per_execution": 8}
    with pytest.raises(ValueError, match="auto, on or off"):
        performance.compile_options("sometimes", 1)


@pytest.mark.parametrize("arch", ["mlp", "dcgan"])
def test_xla_compiled_training_step_trains(arch):
    gan = tiny_gan(arch, **performance.compile_options("on", 1))
    assert gan.jit_compile is True
    history = gan.fit(images(16), batch_size=8, epochs=1, verbose=0)
    assert int(gan.g_optimizer.iterations) == 2
    assert np.isfinite(history.history["g_loss"]).all()


def test_steps_per_execution_runs_every_step_and_keeps_metrics_per_epoch():
    gan = tiny_gan(**performance.compile_options("off", 4))
    history = gan.fit(images(72), batch_size=8, epochs=2, verbose=0)  # 9 steps: 4 + 4 + 1
    assert int(gan.d_optimizer.iterations) == int(gan.g_optimizer.iterations) == 18
    assert float(gan.g_loss_tracker.count) == 72.0  # reset at the epoch, every example counted
    assert np.isfinite(history.history["d_loss"]).all()


def test_compile_config_keeps_auto_jit_and_reloads(tmp_path):
    gan = tiny_gan(**performance.compile_options("auto", 2))
    assert gan.get_compile_config()["jit_compile"] == "auto"
    gan.fit(images(16), batch_size=8, epochs=1, verbose=0)
    gan.save(tmp_path / "gan.keras")
    restored = keras.saving.load_model(tmp_path / "gan.keras", safe_mode=True)
    assert restored.steps_per_execution == 2
    assert int(restored.d_optimizer.iterations) == 2


def test_compile_builds_the_optimizers_for_distributed_fit():
    gan = tiny_gan()
    assert gan.d_optimizer.built and gan.g_optimizer.built


# ---------------------------------------------------------------------------- strategies
def test_default_and_mirrored_strategies_train():
    assert performance.make_strategy("default") is tf.distribute.get_strategy()
    strategy = performance.make_strategy("mirrored")
    with strategy.scope():
        gan = tiny_gan()
    gan.fit(images(16), batch_size=8, epochs=1, verbose=0)
    assert int(np.asarray(gan.g_optimizer.iterations)) == 2


def test_make_strategy_errors_are_one_line(monkeypatch, tmp_path):
    monkeypatch.delenv("TF_CONFIG", raising=False)
    monkeypatch.delenv("TPU_NAME", raising=False)
    cases = [("nccl", "Unknown strategy"), ("multiworker", "TF_CONFIG")]
    if not list(tf.config.list_logical_devices("TPU")) and not any(
        __import__("pathlib").Path("/dev").glob("accel*")
    ):
        cases.append(("tpu", "No TPU found"))
    for name, message in cases:
        with pytest.raises(ValueError, match=message) as error:
            performance.make_strategy(name)
        assert "\n" not in str(error.value)
    monkeypatch.setenv("TF_CONFIG", "{not json")
    with pytest.raises(ValueError, match="not valid JSON"):
        performance.make_strategy("multiworker")
    monkeypatch.setenv("TF_CONFIG", json.dumps({"cluster": {"worker": ["a:1"]}}))
    with pytest.raises(ValueError, match="task"):
        performance.make_strategy("multiworker")
    config = {"cluster": {"worker": ["a:1"]}, "task": {"type": "worker", "index": 3}}
    monkeypatch.setenv("TF_CONFIG", json.dumps(config))
    with pytest.raises(ValueError, match="not in the cluster"):
        performance.make_strategy("multiworker")


@pytest.mark.parametrize(
    ("cluster", "task", "chief"),
    [
        ({"worker": ["a:1", "b:1"]}, {"type": "worker", "index": 0}, True),
        ({"worker": ["a:1", "b:1"]}, {"type": "worker", "index": 1}, False),
        ({"chief": ["c:1"], "worker": ["a:1"]}, {"type": "chief", "index": 0}, True),
        ({"chief": ["c:1"], "worker": ["a:1"]}, {"type": "worker", "index": 0}, False),
        ({"worker": ["a:1"], "evaluator": ["e:1"]}, {"type": "evaluator", "index": 0}, False),
    ],
)
def test_is_chief_follows_tf_config(monkeypatch, tmp_path, cluster, task, chief):
    monkeypatch.setenv("TF_CONFIG", json.dumps({"cluster": cluster, "task": task}))
    assert performance.is_chief() is chief
    path = performance.worker_path(tmp_path / "ckpt" / "gan.keras")
    if chief:
        assert path == tmp_path / "ckpt" / "gan.keras"
    else:
        assert path.name == "gan.keras" and path.parent.name.startswith(".worker_")


def test_is_chief_without_a_cluster(monkeypatch):
    monkeypatch.delenv("TF_CONFIG", raising=False)
    assert performance.is_chief()
    assert performance.is_chief(tf.distribute.get_strategy())
