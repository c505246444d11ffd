"""keras-gan: Generative Adversarial Networks the Keras way.

`GAN` is a `keras.Model` whose `train_step` plays one round of the adversarial game;
`networks` builds generator/discriminator pairs, `losses` holds the adversarial losses.
Every name and submodule is imported on first use (PEP 562), so `import keras_gan.cli` and
`keras_gan.training.config` stay free of TensorFlow.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

# The names defined in a submodule, and where.
_NAMES = {"GAN": "keras_gan.gan", "default_optimizer": "keras_gan.gan"}

__all__ = ["GAN", "__version__", "default_optimizer", "losses", "networks"]


def __getattr__(name: str) -> Any:
    """Import `name` (a class, a function or a submodule such as `losses`) on first use."""
    if name in _NAMES:
        value = getattr(importlib.import_module(_NAMES[name]), name)
    elif name.isidentifier() and not name.startswith("_"):
        try:
            value = importlib.import_module(f"{__name__}.{name}")
        except ModuleNotFoundError as error:
            if error.name != f"{__name__}.{name}":
                raise
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
