"""The checks of single settings of a run, and the names they accept: losses and aliases,
architectures (with those users register), background colours, packing, and what
`augment="auto"` resolves to. No TensorFlow, no Keras (`TrainConfig` uses them).
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

from keras_gan.errors import check_integer, is_integer
from keras_gan.training.defaults import (
    ARCHITECTURES,
    AUGMENT_AUTO_MAX_IMAGES,
    LOSS_ALIASES,
    LOSSES,
)
from keras_gan.training.exceptions import TrainingError

if TYPE_CHECKING:
    from keras_gan.data import DatasetInfo

__all__ = [
    "architectures",
    "canonical_loss",
    "check_background",
    "check_choice",
    "check_loss",
    "check_pack",
    "resolved_augment",
]


def architectures() -> tuple[str, ...]:
    """The architecture names a run may use, sorted.

    The built-in `ARCHITECTURES`, plus any registered with `keras_gan.networks.register`
    (looked up only when `keras_gan.networks` has been imported, which registering needs).

    Returns:
        A tuple of names.
    """
    networks = sys.modules.get("keras_gan.networks")
    return tuple(networks.available()) if networks is not None else ARCHITECTURES


def canonical_loss(name: str) -> str | None:
    """The registry name of a loss name or alias (`"wgan-gp"` -> `"wasserstein"`).

    Args:
        name: a loss name, in any case, with `-` or `_`.

    Returns:
        One of `LOSSES`, or `None` for an unknown name.
    """
    key = name.strip().lower().replace("-", "_")
    key = LOSS_ALIASES.get(key, key)
    return key if key in LOSSES else None


def check_loss(loss: Any) -> str:
    if not isinstance(loss, str):
        raise TrainingError(f"A loss must be a name, got {type(loss).__name__}.")
    name = canonical_loss(loss)
    if name is None:
        raise TrainingError(
            f"Unknown loss {loss!r}; choose one of {', '.join(LOSSES)} "
            "or pass a keras_gan.losses.AdversarialLoss instance."
        )
    return name


def check_choice(name: str, value: Any, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise TrainingError(f"{name} must be one of {', '.join(allowed)}, got {value!r}.")


def check_background(background: Any) -> None:
    """A colour Pillow knows, without alpha (as `keras_gan.data` parses it; no TensorFlow)."""
    from PIL import ImageColor

    try:
        rgb = ImageColor.getrgb(background.strip()) if isinstance(background, str) else ()
    except ValueError:
        rgb = ()
    if len(rgb) != 3:
        raise TrainingError(
            "background must be an opaque colour such as white, black or #rrggbb, got "
            f"{background!r}."
        )


def check_pack(pack: Any, batch_size: Any, conditional: bool) -> None:
    check_integer("pack", pack, minimum=1, error=TrainingError)
    if pack > 1 and conditional:
        raise TrainingError("pack > 1 is not defined for a conditional GAN; use pack 1.")
    if is_integer(batch_size) and batch_size % pack:
        raise TrainingError(f"batch_size {batch_size} must be a multiple of pack {pack}.")


def resolved_augment(augment: str, info: DatasetInfo | None, deep_dcgan: bool = False) -> str:
    """`augment` with "auto" resolved: "ada" (Karras et al. 2020) for a DCGAN with extra layers
    (`deep_dcgan`) on at most `AUGMENT_AUTO_MAX_IMAGES` images, where its deeper D memorises
    the set; "off" otherwise, where ADA did not win (`defaults.AUGMENT_AUTO_MAX_IMAGES`'
    comment). Points refuse augmentation."""
    if augment not in ("auto", "off") and info is not None and not info.is_image:
        raise TrainingError(f"augment {augment!r} needs images; {info.name} holds points.")
    if augment != "auto":
        return augment
    small = (
        info is not None
        and info.is_image
        and info.num_examples is not None
        and info.num_examples <= AUGMENT_AUTO_MAX_IMAGES
    )
    return "ada" if deep_dcgan and small else "off"
