"""The residual (SNGAN-style) architecture: shapes, spectral norm, a hinge step, save/reload."""

import keras
import numpy as np
import pytest

from keras_gan import GAN, networks, training

LATENT = 8


def noise(n: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=(n, LATENT)).astype("float32")


@pytest.mark.parametrize(
    ("image_shape", "start", "d_pools"),
    [((28, 28, 1), 7, 2), ((32, 32, 3), 4, 2), ((64, 64, 3), 4, 3)],
)
def test_resnet_builds_the_requested_shapes(image_shape, start, d_pools):
    generator, discriminator = networks.build("resnet", image_shape, LATENT, width=4)
    assert generator.output_shape == (None, *image_shape)
    assert generator.get_layer("to_grid").output.shape[1] == start
    assert generator.layers[-1].dtype_policy.compute_dtype == "float32"
    images = generator(noise(3), training=False)
    assert images.shape == (3, *image_shape)
    assert -1.0 <= float(keras.ops.min(images)) < float(keras.ops.max(images)) <= 1.0
    # D halves the size down to at most 8x8, then one more block, then a float32 logit.
    pools = [x for x in discriminator.layers if x.name.startswith("down") and "_pool" in x.name]
    assert len([x for x in pools if "_sc_" not in x.name]) == d_pools
    assert discriminator.output_shape == (None, 1)
    assert discriminator(images, training=True).shape == (3, 1)
    assert discriminator.layers[-1].dtype_policy.compute_dtype == "float32"


def test_resnet_discriminator_is_spectrally_normalised_residual_network():
    generator, discriminator = networks.build("resnet", (16, 16, 1), LATENT, width=4)
    weighted = [
        x for x in discriminator.layers if isinstance(x, keras.layers.Conv2D | keras.layers.Dense)
    ]
    assert weighted == []  # every conv and dense is inside a SpectralNormalization wrapper
    wrapped = [x for x in discriminator.layers if isinstance(x, keras.layers.SpectralNormalization)]
    # optimised block: 2 convs + shortcut; one more block at 8x8 (no shortcut: same width); logit
    assert len(wrapped) == 3 + 2 + 1
    assert not any(isinstance(x, keras.layers.BatchNormalization) for x in discriminator.layers)
    assert sum(isinstance(x, keras.layers.Add) for x in discriminator.layers) == 2
    assert sum(isinstance(x, keras.layers.Add) for x in generator.layers) == 2  # 4 -> 8 -> 16
    ups = [x for x in generator.layers if isinstance(x, keras.layers.UpSampling2D)]
    assert {x.interpolation for x in ups} == {"nearest"}
    convs = [x for x in generator.layers if type(x) is keras.layers.Conv2D]
    assert [x.filters for x in convs if x.name.endswith("conv2")] == [8, 4]  # widths halve
    _, plain = networks.build("resnet", (16, 16, 1), LATENT, width=4, spectral_norm=False)
    assert not any(isinstance(x, keras.layers.SpectralNormalization) for x in plain.layers)


def test_one_hinge_step_moves_both_players():
    keras.utils.set_random_seed(0)
    generator, discriminator = networks.build("resnet", (8, 8, 1), LATENT, width=4)
    gan = GAN(generator, discriminator, latent_dim=LATENT, seed=1)
    gan.compile(keras.optimizers.Adam(1e-3), keras.optimizers.Adam(1e-3), loss="hinge")
    g_before = [np.array(v) for v in generator.trainable_variables]
    d_before = [np.array(v) for v in discriminator.trainable_variables]
    real = np.random.default_rng(0).uniform(-1, 1, size=(8, 8, 8, 1)).astype("float32")
    logs = gan.train_on_batch(real, return_dict=True)
    assert np.isfinite(logs["d_loss"]) and np.isfinite(logs["g_loss"])
    g_after = [np.array(v) for v in generator.trainable_variables]
    d_after = [np.array(v) for v in discriminator.trainable_variables]
    assert all(not np.array_equal(a, b) for a, b in zip(g_before, g_after, strict=True))
    # The hinge loss's gradient for the logit's bias is (fakes - reals) inside the margin, which
    # can cancel to exactly 0; every other weight of D moves.
    moved = [not np.array_equal(a, b) for a, b in zip(d_before, d_after, strict=True)]
    paths = [v.path for v in discriminator.trainable_variables]
    assert all(m for m, path in zip(moved, paths, strict=True) if not path.endswith("logit/bias"))


def test_resnet_saves_and_reloads_with_safe_mode(tmp_path):
    generator, discriminator = networks.build("resnet", (8, 8, 3), LATENT, width=4)
    images = generator(noise(4), training=False)
    discriminator(images, training=True)  # moves the spectral-norm state off its initial value
    for model, inputs in ((generator, noise(4)), (discriminator, images)):
        path = tmp_path / f"{model.name}.keras"
        model.save(path)
        restored = keras.saving.load_model(path, safe_mode=True)
        np.testing.assert_array_equal(
            np.asarray(model(inputs, training=False)), np.asarray(restored(inputs, training=False))
        )


def test_conditional_resnet_takes_labels():
    generator, discriminator = networks.build("resnet", (8, 8, 1), LATENT, width=4, num_classes=3)
    labels = np.array([0, 1, 2, 1], "int32")
    images = np.asarray(generator([noise(4), labels], training=False))
    assert images.shape == (4, 8, 8, 1)
    logits = discriminator([images, labels], training=False)
    assert logits.shape == (4, 1)
    assert discriminator.get_layer("label_projection") is not None


def test_resnet_config_defaults_to_the_hinge_loss():
    resnet = training.TrainConfig(dataset="x", arch="resnet", image_shape=(8, 8, 1)).resolved()
    assert resnet.loss == "hinge"
    assert (resnet.beta2, resnet.lr_d) == (
        training.ARCHITECTURE_DEFAULTS["resnet"]["beta2"],
        training.ARCHITECTURE_DEFAULTS["resnet"]["lr_d"],
    )
    assert training.TrainConfig(dataset="x", arch="dcgan").resolved().loss == "non_saturating"
    explicit = training.TrainConfig(dataset="x", arch="resnet", loss="lsgan").resolved()
    assert explicit.loss == "least_squares"
    with pytest.raises(training.TrainingError, match="resnet cannot build"):
        training.TrainConfig(dataset="x", arch="resnet", image_size=100).validate()
    with pytest.raises(ValueError, match="resnet cannot build"):
        networks.build("resnet", (100, 100, 3), LATENT)
