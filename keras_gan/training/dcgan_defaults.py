"""The DCGAN's size rules: the width and depth a run that sets none gets from its image shape
(and, for the width, its precision). Measured at equal wall time; docs/training.md and
docs/benchmarks.md give the figures. Imports Keras only when a shape is known.
"""

from __future__ import annotations

from keras_gan.training.checks import check_choice
from keras_gan.training.defaults import (
    DCGAN_EXTRA_LAYERS,
    DCGAN_EXTRA_LAYERS_MAX_UPSAMPLINGS,
    DCGAN_MIN_BASE_FILTERS,
    DCGAN_WIDEST_FILTERS,
    PRECISIONS,
)

__all__ = ["default_dcgan_extra_layers", "default_dcgan_width"]


def _dcgan_upsamplings(image_shape: tuple[int, ...] | None) -> int | None:
    """How many times the DCGAN of `image_shape` doubles its start size; `None` when the
    shape is unknown or no DCGAN can build it (the build says why)."""
    if image_shape is None or len(image_shape) != 3:
        return None
    from keras_gan.networks import dcgan_start_size  # Keras: only when a shape is known

    try:
        return dcgan_start_size(image_shape[0])[1]
    except ValueError:
        return None


def default_dcgan_width(
    image_shape: tuple[int, ...] | None, precision: str = "float32"
) -> int | None:
    """The DCGAN `base_filters` of a run that sets none: G's widest layer (at the start size)
    gets `DCGAN_WIDEST_FILTERS[precision]` channels, but the width never falls below
    `DCGAN_MIN_BASE_FILTERS[precision]`: in float32 32 at 28x28 and 16 at 32x32 and larger,
    in the mixed precisions twice that (64, 32). The precision decides because it sets what
    width costs per step (docs/benchmarks.md, "The DCGAN's width"). `None` when the shape is
    unknown or no DCGAN can build it (the build says why).

    Raises:
        TrainingError: for a precision not in `PRECISIONS` ("auto" is resolved first).
    """
    check_choice("precision", precision, PRECISIONS)
    doublings = _dcgan_upsamplings(image_shape)
    if doublings is None:
        return None
    widest = DCGAN_WIDEST_FILTERS[precision]
    return max(DCGAN_MIN_BASE_FILTERS[precision], widest >> (doublings - 1))


def default_dcgan_extra_layers(image_shape: tuple[int, ...] | None) -> int | None:
    """The DCGAN `extra_layers` of a run that sets none: `DCGAN_EXTRA_LAYERS` stride-1 conv
    blocks per resolution in G and D for nets of at most `DCGAN_EXTRA_LAYERS_MAX_UPSAMPLINGS`
    upsamplings (28x28 and smaller), none for larger images. Depth at 28x28 bought more than
    the images/s it cost (docs/benchmarks.md, "Extra layers"). `None` when the shape is
    unknown or no DCGAN can build it (the build says why).
    """
    doublings = _dcgan_upsamplings(image_shape)
    if doublings is None:
        return None
    return DCGAN_EXTRA_LAYERS if doublings <= DCGAN_EXTRA_LAYERS_MAX_UPSAMPLINGS else 0
