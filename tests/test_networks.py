"""Generator/discriminator builders: shapes, the DCGAN recipe, options and the registry."""

import os
import subprocess
import sys

import keras
import numpy as np
import pytest

from keras_gan import GAN, networks
from keras_gan.networks import registry


@pytest.mark.parametrize(
    ("image_shape", "first_resolution"),
    [((28, 28, 1), 7), ((32, 32, 3), 4), ((64, 64, 3), 4)],
)
def test_dcgan_builds_the_requested_shapes(image_shape, first_resolution):
    generator, discriminator = networks.build("dcgan", image_shape, latent_dim=16, base_filters=8)
    assert generator.input_shape == (None, 16)
    assert generator.output_shape == (None, *image_shape)
    assert discriminator.input_shape == (None, *image_shape)
    assert discriminator.output_shape == (None, 1)
    reshape = next(layer for layer in generator.layers if isinstance(layer, keras.layers.Reshape))
    assert reshape.output.shape[1] == first_resolution
    images = generator(np.random.default_rng(0).normal(size=(3, 16)).astype("float32"))
    assert images.shape == (3, *image_shape)
    assert float(keras.ops.min(images)) >= -1.0 and float(keras.ops.max(images)) <= 1.0
    assert discriminator(images).shape == (3, 1)


def test_dcgan_follows_radford_et_al():
    generator, discriminator = networks.build("dcgan", (64, 64, 3), latent_dim=100)
    g_types = [type(layer).__name__ for layer in generator.layers]
    assert g_types.count("Conv2DTranspose") == 4  # 4x4 -> 8 -> 16 -> 32 -> 64
    assert g_types.count("FusedBatchNormalization") == 4  # keras BatchNormalization, fused on CPUs
    assert g_types.count("ReLU") == 4
    assert generator.layers[-1].get_config()["activation"] == "tanh"
    # G's channels halve: 512 at 4x4 (base_filters=64) down to 64 before the RGB output.
    convs = [layer for layer in generator.layers if isinstance(layer, keras.layers.Conv2DTranspose)]
    assert [conv.filters for conv in convs] == [256, 128, 64, 3]

    d_layers = discriminator.layers
    d_convs = [layer for layer in d_layers if isinstance(layer, keras.layers.Conv2D)]
    assert [conv.strides for conv in d_convs] == [(2, 2)] * 4
    assert [conv.filters for conv in d_convs] == [64, 128, 256, 512]
    # No BatchNorm on D's first layer: conv -> LeakyReLU directly.
    first_conv = d_layers.index(d_convs[0])
    assert isinstance(d_layers[first_conv + 1], keras.layers.LeakyReLU)
    assert sum(isinstance(layer, keras.layers.BatchNormalization) for layer in d_layers) == 3
    leaky = [layer for layer in d_layers if isinstance(layer, keras.layers.LeakyReLU)]
    assert all(layer.negative_slope == pytest.approx(0.2) for layer in leaky)
    # Weights ~ N(0, 0.02).
    kernel = d_convs[-1].kernel.numpy()
    assert abs(kernel.mean()) < 0.002
    assert kernel.std() == pytest.approx(0.02, rel=0.1)


def test_dcgan_width_and_depth_options():
    narrow, _ = networks.build("dcgan", (32, 32, 1), 8, base_filters=4)
    deeper, deeper_d = networks.build("dcgan", (32, 32, 1), 8, base_filters=4, extra_layers=1)
    assert narrow.count_params() < deeper.count_params()
    assert deeper.output_shape == (None, 32, 32, 1)
    assert deeper_d.output_shape == (None, 1)


def test_dcgan_discriminator_normalisation_and_spectral_norm():
    _, layer_norm_d = networks.build("dcgan", (28, 28, 1), 8, base_filters=4, normalization="layer")
    assert not any(isinstance(x, keras.layers.BatchNormalization) for x in layer_norm_d.layers)
    assert any(isinstance(x, keras.layers.LayerNormalization) for x in layer_norm_d.layers)
    _, sn_d = networks.build(
        "dcgan", (28, 28, 1), 8, base_filters=4, normalization="none", spectral_norm=True
    )
    wrapped = [x for x in sn_d.layers if isinstance(x, keras.layers.SpectralNormalization)]
    assert len(wrapped) == 3  # two convs and the logit
    assert sn_d(np.zeros((2, 28, 28, 1), "float32"), training=True).shape == (2, 1)


@pytest.mark.parametrize("size", [24 * 5, 100, 9])
def test_dcgan_rejects_sizes_it_cannot_build(size):
    with pytest.raises(ValueError, match="cannot build"):
        networks.build("dcgan", (size, size, 3), 8)


def test_dcgan_start_sizes():
    assert networks.dcgan_start_size(28) == (7, 2)
    assert networks.dcgan_start_size(32) == (4, 3)
    assert networks.dcgan_start_size(128) == (4, 5)
    assert networks.dcgan_start_size(48) == (6, 3)


def test_mlp_on_images_and_on_points():
    generator, discriminator = networks.build(
        "mlp", (8, 8, 1), 4, generator_hidden=(16,), discriminator_hidden=(16, 8)
    )
    assert generator.output_shape == (None, 8, 8, 1)
    assert discriminator.output_shape == (None, 1)
    assert generator.get_layer("output").get_config()["activation"] == "tanh"
    dropout = [x for x in discriminator.layers if isinstance(x, keras.layers.Dropout)]
    assert [x.rate for x in dropout] == [0.3, 0.3]

    point_g, point_d = networks.build("mlp", (2,), 2, generator_hidden=())
    assert point_g.output_shape == (None, 2)
    assert point_g.get_layer("output").get_config()["activation"] == "linear"
    assert point_d.output_shape == (None, 1)


def test_maxout_is_the_maximum_of_each_group_of_pieces(tmp_path):
    maxout = networks.Maxout(pieces=3)
    x = np.array([[1.0, 5.0, -2.0, 0.0, -1.0, -3.0]], "float32")
    np.testing.assert_array_equal(np.asarray(maxout(x)), [[5.0, 0.0]])
    _, discriminator = networks.build(
        "mlp", (2,), 2, discriminator_hidden=(4, 4), discriminator_maxout=5, init_std=0.02
    )
    dense = [x for x in discriminator.layers if isinstance(x, keras.layers.Dense)]
    assert [x.units for x in dense] == [20, 20, 1]  # 4 units of 5 pieces, then the logit
    assert not any(isinstance(x, keras.layers.LeakyReLU) for x in discriminator.layers)
    assert 0.015 < float(np.std(dense[1].kernel.numpy())) < 0.025
    path = tmp_path / "d.keras"
    discriminator.save(path)
    points = np.random.default_rng(0).normal(size=(3, 2)).astype("float32")
    reloaded = keras.saving.load_model(path)
    np.testing.assert_allclose(reloaded(points), discriminator(points), atol=1e-6)


def test_a_gan_with_a_maxout_discriminator_reloads_in_a_new_process_after_import_gan(tmp_path):
    """The documented way to reload (docs/gan.md, Saving): `import keras_gan.gan`, then
    `keras.saving.load_model`; the 2-D mixtures' default D is made of Maxout layers."""
    generator, discriminator = networks.build(
        "mlp", (2,), 2, discriminator_hidden=(4,), discriminator_maxout=5, init_std=0.02
    )
    path = tmp_path / "gan.keras"
    GAN(generator, discriminator, latent_dim=2).save(path)
    code = (
        "import sys, keras, keras_gan.gan\n"
        "gan = keras.saving.load_model(sys.argv[1], safe_mode=True)\n"
        "print(*[type(layer).__name__ for layer in gan.discriminator.layers])"
    )
    result = subprocess.run(
        [sys.executable, "-c", code, str(path)],
        capture_output=True,
        text=True,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "Maxout" in result.stdout.split()


def test_mlp_generator_with_batch_norm_as_pacgan():
    generator, _ = networks.build("mlp", (2,), 2, generator_hidden=(8, 8), generator_batchnorm=True)
    norms = [x for x in generator.layers if isinstance(x, keras.layers.BatchNormalization)]
    hidden = [x for x in generator.layers if isinstance(x, keras.layers.Dense)][:-1]
    assert len(norms) == 2 and not any(x.use_bias for x in hidden)


def test_zero_hidden_layer_mlp_generator_is_affine():
    generator, _ = networks.build("mlp", (2,), 2, generator_hidden=())
    rng = np.random.default_rng(0)
    z1, z2 = rng.normal(size=(2, 5, 2)).astype("float32")
    zero = np.zeros((5, 2), "float32")

    def g(z):
        return np.asarray(generator(z))

    np.testing.assert_allclose(g(z1 + z2) - g(z2), g(z1) - g(zero), atol=1e-5)


def test_unknown_options_and_architectures_are_errors():
    with pytest.raises(ValueError, match="no option"):
        networks.build("dcgan", (28, 28, 1), 8, hidden_units=3)
    with pytest.raises(ValueError, match="Unknown architecture 'stylegan'"):
        networks.build("stylegan", (28, 28, 1), 8)
    with pytest.raises(ValueError, match="latent_dim"):
        networks.build("mlp", (28, 28, 1), 0)


def test_register_a_user_architecture(monkeypatch):
    monkeypatch.setattr(registry, "_REGISTRY", dict(registry._REGISTRY))  # leave no trace

    def tiny_generator(image_shape, latent_dim, *, width=4):
        z = keras.Input((latent_dim,))
        x = keras.layers.Dense(width, activation="relu")(z)
        x = keras.layers.Dense(int(np.prod(image_shape)), activation="tanh")(x)
        return keras.Model(z, keras.layers.Reshape(image_shape)(x))

    def tiny_discriminator(image_shape):
        image = keras.Input(image_shape)
        return keras.Model(image, keras.layers.Dense(1)(keras.layers.Flatten()(image)))

    networks.register("tiny-test", tiny_generator, tiny_discriminator, overwrite=True)
    assert "tiny-test" in networks.available()
    generator, discriminator = networks.build("tiny-test", (4, 4, 1), 3, width=7)
    assert generator.layers[1].units == 7
    assert discriminator.output_shape == (None, 1)
    with pytest.raises(ValueError, match="already registered"):
        networks.register("tiny-test", tiny_generator, tiny_discriminator)


def test_outputs_stay_float32_under_mixed_precision():
    keras.mixed_precision.set_dtype_policy("mixed_bfloat16")
    try:
        generator, discriminator = networks.build("dcgan", (28, 28, 1), 8, base_filters=4)
        images = generator(np.zeros((2, 8), "float32"))
        assert images.dtype == "float32"
        assert discriminator(images).dtype == "float32"
        assert generator.layers[2].compute_dtype == "bfloat16"
    finally:
        keras.mixed_precision.set_dtype_policy("float32")
