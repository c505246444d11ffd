"""The 2-D Gaussian toy of the seed material: a linear G learns a shifted, correlated Gaussian."""

import time

import keras
import numpy as np

from keras_gan import GAN, networks

MEAN = np.array([1.0, -0.5])
COVARIANCE = np.array([[1.0, 0.6], [0.6, 0.8]])
MEAN_TOLERANCE = 0.1  # absolute, per coordinate
COVARIANCE_TOLERANCE = 0.12  # absolute, per entry


def test_linear_generator_matches_mean_and_covariance_within_a_minute():
    keras.utils.set_random_seed(0)
    real = np.random.default_rng(0).multivariate_normal(MEAN, COVARIANCE, 8192).astype("float32")
    # Linear G: x = A z + b, able to represent any Gaussian (cov = A A^T); 3-layer MLP D.
    generator, discriminator = networks.build(
        "mlp",
        (2,),
        2,
        generator_hidden=(),
        discriminator_hidden=(64, 64, 64),
        discriminator_dropout=0.0,
    )
    gan = GAN(generator, discriminator, latent_dim=2, seed=0)
    gan.compile(
        d_optimizer=keras.optimizers.Adam(5e-3, beta_1=0.5),
        g_optimizer=keras.optimizers.Adam(5e-3, beta_1=0.5),
    )
    started = time.perf_counter()
    history = gan.fit(real, batch_size=64, epochs=12, verbose=0)
    elapsed = time.perf_counter() - started

    samples = gan.generate(20_000, seed=1)
    np.testing.assert_allclose(samples.mean(axis=0), MEAN, atol=MEAN_TOLERANCE)
    np.testing.assert_allclose(np.cov(samples.T), COVARIANCE, atol=COVARIANCE_TOLERANCE)
    # Near equilibrium D cannot separate the two: its accuracy drifts toward 50%.
    assert abs(history.history["d_accuracy"][-1] - 0.5) < 0.1
    assert elapsed < 60.0
