"""A residual generator and discriminator in the SNGAN style (Miyato et al. 2018, App. B).

G: z -> dense -> residual up-blocks (BN, ReLU, 2x nearest upsampling, 3x3 convs; 1x1-conv
shortcut) -> BN, ReLU, 3x3 conv, tanh. D: residual down-blocks (the first "optimised", without
the leading ReLU), spectral normalisation on every conv and dense, ReLU, global sum pooling,
one float32 logit (a projection discriminator when conditional). Gulrajani et al. 2017 (ResNet
for CIFAR-10) and BigGAN (Brock et al. 2019, channel widths that shrink as G upsamples).
"""

from __future__ import annotations

from collections.abc import Sequence

import keras
from keras import layers

from keras_gan.networks.batch_norm import batch_normalization
from keras_gan.networks.blocks import (
    check_num_classes,
    generator_inputs,
    label_input,
    maybe_spectral,
    projection_logit,
)
from keras_gan.networks.dcgan import dcgan_start_size

# Widths are `width * multiplier`, the multiplier doubling per resolution step up to this cap.
MAX_WIDTH_MULTIPLIER = 8
# D halves the resolution until it is at most this size (SNGAN's CIFAR D ends at 8x8).
D_FINAL_SIZE = 8


def _geometry(image_shape: Sequence[int]) -> tuple[int, int, int]:
    if len(image_shape) != 3:
        raise ValueError(f"resnet needs images of shape (H, W, C), got {tuple(image_shape)}.")
    height, width, channels = image_shape
    if height != width:
        raise ValueError(f"resnet needs square images, got {height}x{width}.")
    try:
        start, doublings = dcgan_start_size(height)
    except ValueError as error:
        raise ValueError(str(error).replace("dcgan", "resnet", 1)) from None
    return start, doublings, channels


def _check_width(width: int) -> None:
    if int(width) < 1:
        raise ValueError(f"width must be a positive number of channels, got {width}.")


def _multiplier(step: int) -> int:
    return min(2**step, MAX_WIDTH_MULTIPLIER)


def _batch_norm(name: str, fused: bool) -> keras.layers.BatchNormalization:
    return batch_normalization(fused, momentum=0.9, epsilon=1e-5, name=name)


def _up_block(x, filters: int, name: str, fused_batch_norm: bool):
    """G's block: BN, ReLU, upsample, conv3x3, BN, ReLU, conv3x3, plus upsample + conv1x1."""
    shortcut = layers.UpSampling2D(2, name=f"{name}_sc_up")(x)
    shortcut = layers.Conv2D(filters, 1, name=f"{name}_sc_conv")(shortcut)
    x = _batch_norm(f"{name}_bn1", fused_batch_norm)(x)
    x = layers.ReLU(name=f"{name}_relu1")(x)
    x = layers.UpSampling2D(2, name=f"{name}_up")(x)
    x = layers.Conv2D(filters, 3, padding="same", name=f"{name}_conv1")(x)
    x = _batch_norm(f"{name}_bn2", fused_batch_norm)(x)
    x = layers.ReLU(name=f"{name}_relu2")(x)
    x = layers.Conv2D(filters, 3, padding="same", name=f"{name}_conv2")(x)
    return layers.Add(name=f"{name}_add")([x, shortcut])


def _down_block(x, filters: int, name: str, spectral_norm: bool, first: bool, down: bool):
    """D's block: [ReLU], conv3x3, ReLU, conv3x3, [avgpool], plus the shortcut. The first
    ("optimised") block has no leading ReLU and pools before its 1x1 shortcut conv."""

    def conv(size: int, suffix: str):
        layer = layers.Conv2D(filters, size, padding="same", name=f"{name}_{suffix}")
        return maybe_spectral(layer, spectral_norm)

    shortcut = x
    if first:
        shortcut = layers.AveragePooling2D(2, name=f"{name}_sc_pool")(shortcut)
        shortcut = conv(1, "sc_conv")(shortcut)
    elif down or x.shape[-1] != filters:
        shortcut = conv(1, "sc_conv")(shortcut)
        if down:
            shortcut = layers.AveragePooling2D(2, name=f"{name}_sc_pool")(shortcut)
    if not first:
        x = layers.ReLU(name=f"{name}_relu1")(x)
    x = conv(3, "conv1")(x)
    x = layers.ReLU(name=f"{name}_relu2")(x)
    x = conv(3, "conv2")(x)
    if down:
        x = layers.AveragePooling2D(2, name=f"{name}_pool")(x)
    return layers.Add(name=f"{name}_add")([x, shortcut])


def build_resnet_generator(
    image_shape: Sequence[int],
    latent_dim: int,
    *,
    width: int = 16,
    num_classes: int | None = None,
    label_embedding_dim: int = 16,
    fused_batch_norm: bool = True,
) -> keras.Model:
    """Residual G (Miyato et al. 2018, Table 4): z -> dense to start x start, one up-block per
    doubling, then BN, ReLU, conv3x3 and tanh.

    The start size is the DCGAN's (`dcgan_start_size`: 7 for 28x28, 4 for 32 and 64). The
    channels halve as the resolution doubles, ending at `width` (BigGAN's schedule; SNGAN's
    CIFAR G keeps 256 throughout).

    Args:
        image_shape: `(H, W, C)`, square, H a size `dcgan_start_size` accepts.
        latent_dim: the size of z.
        width: channels of the last (full-resolution) block.
        num_classes: makes the model take `[z, label]`, the label embedding concatenated to z.
        label_embedding_dim: the size of that embedding.
        fused_batch_norm: BatchNorm through TensorFlow's fused kernel on CPUs
            (`FusedBatchNormalization`, same results); False keeps Keras's own layer.
    """
    check_num_classes(num_classes)
    _check_width(width)
    start, doublings, channels = _geometry(image_shape)
    widths = [int(width) * _multiplier(doublings - 1 - step) for step in range(doublings)]
    inputs, x = generator_inputs(latent_dim, num_classes, label_embedding_dim)
    x = layers.Dense(start * start * widths[0], name="project")(x)
    x = layers.Reshape((start, start, widths[0]), name="to_grid")(x)
    for step, filters in enumerate(widths):
        x = _up_block(x, filters, f"up{step + 1}", fused_batch_norm)
    x = _batch_norm("out_bn", fused_batch_norm)(x)
    x = layers.ReLU(name="out_relu")(x)
    x = layers.Conv2D(channels, 3, padding="same", name="to_pixels")(x)
    image = layers.Activation("tanh", dtype="float32", name="output")(x)
    return keras.Model(inputs, image, name="resnet_generator")


def build_resnet_discriminator(
    image_shape: Sequence[int],
    *,
    width: int = 16,
    spectral_norm: bool = True,
    num_classes: int | None = None,
) -> keras.Model:
    """Residual D (Miyato et al. 2018, Table 4): down-blocks to at most 8x8 (the first one
    optimised), one more block there, then ReLU, global sum pooling and one logit.

    Args:
        image_shape: `(H, W, C)`, as for `build_resnet_generator`.
        width: channels of the first block; they double with each further down-block.
        spectral_norm: spectral normalisation of every conv and the logit (the paper's D).
        num_classes: makes the model take `[image, label]`, a projection discriminator
            (Miyato & Koyama 2018).
    """
    check_num_classes(num_classes)
    _check_width(width)
    _geometry(image_shape)
    image = keras.Input(tuple(image_shape), name="image")
    labels = label_input() if num_classes else None
    x, size, step = image, int(image_shape[0]), 0
    while step == 0 or (size > D_FINAL_SIZE and size % 2 == 0):
        filters = int(width) * _multiplier(step)
        x = _down_block(x, filters, f"down{step + 1}", spectral_norm, first=step == 0, down=True)
        size, step = size // 2, step + 1
    x = _down_block(x, filters, f"block{step + 1}", spectral_norm, first=False, down=False)
    x = layers.ReLU(name="out_relu")(x)
    x = layers.GlobalAveragePooling2D(name="pool")(x)
    features = layers.Rescaling(float(size * size), name="sum_pool")(x)
    logit = projection_logit(features, labels, num_classes, spectral_norm)
    inputs = [image, labels] if num_classes else image
    return keras.Model(inputs, logit, name="resnet_discriminator")
