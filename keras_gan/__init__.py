"""keras-gan: Generative Adversarial Networks the Keras way.

``GAN`` is a ``keras.Model`` whose ``train_step`` plays one round of the adversarial game;
``networks`` builds generator/discriminator pairs, ``losses`` holds the adversarial losses.
``keras_gan.data``, ``keras_gan.callbacks`` and ``keras_gan.latent`` are imported on demand.
"""

from keras_gan import losses, networks
from keras_gan.gan import GAN, default_optimizer

__version__ = "0.1.0"

__all__ = ["GAN", "__version__", "default_optimizer", "losses", "networks"]
