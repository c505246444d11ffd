"""Generator and discriminator builders, and a registry of architectures by name.

A pair is `build_generator(image_shape, latent_dim, **options)` (z to image) and
`build_discriminator(image_shape, **options)` (image to logit), each returning a `keras.Model`.
`build("dcgan", (64, 64, 3), 100, base_filters=128)` builds a registered pair (`mlp`, `dcgan`,
`resnet`); `register` adds your own. Both builders end in a float32 layer (G's output, D's
logit), so they stay correct under a `mixed_bfloat16`/`mixed_float16` dtype policy. A new
architecture is a module here with its two builders, registered below.
"""

from keras_gan.networks.batch_norm import FusedBatchNormalization
from keras_gan.networks.blocks import Maxout
from keras_gan.networks.dcgan import (
    DCGAN_INIT_STDDEV,
    build_dcgan_discriminator,
    build_dcgan_generator,
    dcgan_start_size,
)
from keras_gan.networks.mlp import build_mlp_discriminator, build_mlp_generator
from keras_gan.networks.registry import available, build, register
from keras_gan.networks.resnet import build_resnet_discriminator, build_resnet_generator

__all__ = [
    "DCGAN_INIT_STDDEV",
    "FusedBatchNormalization",
    "Maxout",
    "available",
    "build",
    "build_dcgan_discriminator",
    "build_dcgan_generator",
    "build_mlp_discriminator",
    "build_mlp_generator",
    "build_resnet_discriminator",
    "build_resnet_generator",
    "dcgan_start_size",
    "register",
]

register("mlp", build_mlp_generator, build_mlp_discriminator)
register("dcgan", build_dcgan_generator, build_dcgan_discriminator)
register("resnet", build_resnet_generator, build_resnet_discriminator)
