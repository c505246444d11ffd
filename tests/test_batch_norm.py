"""FusedBatchNormalization: Keras's BatchNormalization, computed by TensorFlow's fused kernel
on CPUs, with the same results (Ioffe & Szegedy 2015, Algorithm 1 and 2)."""

import subprocess
import sys

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_gan import GAN, networks
from keras_gan.callbacks import ExportGenerator
from keras_gan.networks.batch_norm import (
    FusedBatchNormalization,
    fused_kernel_available,
    with_keras_batch_norm,
)

MOMENTUM, EPSILON = 0.9, 1e-5


@pytest.fixture
def policy(request):
    keras.mixed_precision.set_dtype_policy(request.param)
    yield request.param
    keras.mixed_precision.set_dtype_policy("float32")


def _layer(cls, shape, **options):
    layer = cls(
        momentum=MOMENTUM,
        epsilon=EPSILON,
        gamma_initializer=keras.initializers.Constant(1.5),
        beta_initializer=keras.initializers.Constant(-0.25),
        **options,
    )
    layer.build(shape)
    return layer


def _train_step(layer, x):
    """One training-mode call, its gradients for loss = sum(y * channel index), and an
    inference-mode call after the moving statistics moved."""
    x = tf.constant(x)
    channel_weights = tf.range(x.shape[-1], dtype="float32")
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = layer(x, training=True)
        loss = tf.reduce_sum(tf.cast(y, "float32") * channel_weights)
    grads = tape.gradient(loss, [x, layer.gamma, layer.beta])
    return [np.asarray(tf.cast(t, "float32")) for t in (y, *grads, layer(x, training=False))]


def _op_types(layer, shape, training):
    function = tf.function(lambda x: layer(x, training=training))
    graph = function.get_concrete_function(tf.TensorSpec(shape, "float32")).graph
    return {op.type for op in graph.get_operations()}


@pytest.mark.parametrize("shape", [(8, 5, 5, 3), (16, 4)])
def test_training_normalises_with_batch_statistics_and_moves_the_averages(shape):
    x = np.random.default_rng(0).normal(2.0, 3.0, shape).astype("float32")
    layer = _layer(FusedBatchNormalization, shape)
    y, *_ = _train_step(layer, x)
    axes = tuple(range(len(shape) - 1))
    mean, variance = x.mean(axis=axes), x.var(axis=axes)  # the biased variance, as Keras
    np.testing.assert_allclose(y, 1.5 * (x - mean) / np.sqrt(variance + EPSILON) - 0.25, atol=1e-4)
    np.testing.assert_allclose(layer.moving_mean.numpy(), (1 - MOMENTUM) * mean, rtol=1e-5)
    expected_variance = MOMENTUM * 1.0 + (1 - MOMENTUM) * variance
    np.testing.assert_allclose(layer.moving_variance.numpy(), expected_variance, rtol=1e-5)


@pytest.mark.parametrize("policy", ["float32", "mixed_bfloat16"], indirect=True)
@pytest.mark.parametrize("shape", [(8, 5, 5, 3), (16, 4)])
def test_same_outputs_gradients_and_statistics_as_keras_batch_normalization(policy, shape):
    x = np.random.default_rng(1).normal(2.0, 3.0, shape).astype("float32")
    keras_layer = _layer(keras.layers.BatchNormalization, shape)
    fused_layer = _layer(FusedBatchNormalization, shape)
    expected, got = _train_step(keras_layer, x), _train_step(fused_layer, x)
    for name, want, have in zip(
        ["y", "dx", "dgamma", "dbeta", "y_inference"], expected, got, strict=True
    ):
        np.testing.assert_allclose(have, want, rtol=1e-4, atol=1e-4, err_msg=name)
    for variable in ("moving_mean", "moving_variance"):
        want, have = getattr(keras_layer, variable), getattr(fused_layer, variable)
        np.testing.assert_allclose(have.numpy(), want.numpy(), rtol=1e-6, err_msg=variable)
    assert got[0].dtype == np.float32 and fused_layer.compute_dtype == keras_layer.compute_dtype


def test_takes_the_fused_kernel_on_a_cpu_and_keras_ops_otherwise():
    assert fused_kernel_available()  # the test machines have no GPU
    layer = _layer(FusedBatchNormalization, (8, 5, 5, 3))
    for training in (True, False):
        ops = _op_types(layer, (8, 5, 5, 3), training)
        assert "FusedBatchNormV3" in ops and "Mean" not in ops
    # Cross-replica statistics are Keras's own path: the fused kernel sees one replica only.
    synchronized = _layer(FusedBatchNormalization, (8, 5, 5, 3), synchronized=True)
    ops = _op_types(synchronized, (8, 5, 5, 3), True)
    assert "FusedBatchNormV3" not in ops and "DivNoNan" in ops  # Keras's synchronized moments


def test_a_generator_with_it_saves_and_loads(tmp_path):
    generator, _ = networks.build("dcgan", (28, 28, 1), 8, base_filters=8)
    z = np.random.default_rng(2).normal(size=(4, 8)).astype("float32")
    generator(z, training=True)  # moves the moving statistics off their initial values
    path = tmp_path / "generator.keras"
    generator.save(path)
    loaded = keras.saving.load_model(path)
    assert sum(isinstance(x, FusedBatchNormalization) for x in loaded.layers) == 2
    np.testing.assert_allclose(loaded(z, training=False), generator(z, training=False), atol=1e-6)


@pytest.mark.parametrize(
    ("arch", "shape", "options", "expected"),
    [
        ("dcgan", (28, 28, 1), {"base_filters": 8}, 3),  # 2 in G, 1 in D (none on its input)
        ("resnet", (28, 28, 1), {"width": 8}, 5),  # 2 per up-block in G, and its output BN
        ("mlp", (2,), {"generator_hidden": (8, 8), "generator_batchnorm": True}, 2),
    ],
)
def test_the_networks_use_it_and_fused_batch_norm_false_builds_keras_own_layer(
    arch, shape, options, expected
):
    for fused, layer_class in (
        (True, FusedBatchNormalization),
        (False, keras.layers.BatchNormalization),
    ):
        generator, discriminator = networks.build(arch, shape, 8, fused_batch_norm=fused, **options)
        norms = [
            type(x)
            for x in generator.layers + discriminator.layers
            if isinstance(x, keras.layers.BatchNormalization)
        ]
        assert norms == [layer_class] * expected


def test_an_exported_generator_loads_with_plain_keras(tmp_path):
    """generator.keras names Keras's own layer, so it loads without keras_gan, as before."""
    generator, discriminator = networks.build("dcgan", (28, 28, 1), 8, base_filters=8)
    gan = GAN(generator, discriminator, latent_dim=8, ema_momentum=0.9, seed=0)
    gan.compile()
    images = np.random.default_rng(3).uniform(-1, 1, (32, 28, 28, 1)).astype("float32")
    path = tmp_path / "generator.keras"
    gan.fit(images, batch_size=16, epochs=1, verbose=0, callbacks=[ExportGenerator(path)])
    z = np.random.default_rng(4).normal(size=(4, 8)).astype("float32")
    np.save(tmp_path / "z.npy", z)
    expected = np.asarray(gan.sampling_generator(z, training=False))
    script = (
        "import sys, keras, numpy as np\n"
        "model = keras.saving.load_model(sys.argv[1], safe_mode=True)\n"
        "assert 'keras_gan' not in sys.modules\n"
        "print(sorted({type(x).__name__ for x in model.layers if 'Norm' in type(x).__name__}))\n"
        "np.save(sys.argv[3], np.asarray(model(np.load(sys.argv[2]), training=False)))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script, str(path), str(tmp_path / "z.npy"), str(tmp_path / "y.npy")],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.split("\n")[-2] == "['BatchNormalization']"
    np.testing.assert_allclose(np.load(tmp_path / "y.npy"), expected, atol=1e-6)


def test_with_keras_batch_norm_keeps_a_model_without_the_fused_layer():
    generator, _ = networks.build("dcgan", (28, 28, 1), 8, base_filters=8, fused_batch_norm=False)
    assert with_keras_batch_norm(generator) is generator


def test_a_fused_batch_norm_option_that_is_not_a_bool_is_refused(tmp_path, capsys):
    from keras_gan.cli import train as train_cli

    args = ["--dataset", "mnist", "--epochs", "1", "--run-dir", str(tmp_path / "run")]
    code = train_cli.main([*args, "--network-option", "fused_batch_norm=maybe"])
    errors = [line for line in capsys.readouterr().err.splitlines() if line.startswith("Error")]
    assert code != 0
    assert errors == [
        "Error: Bad network option for dcgan: fused_batch_norm must be true or false, got 'maybe'."
    ]
    assert not (tmp_path / "run" / "generator.keras").exists()
