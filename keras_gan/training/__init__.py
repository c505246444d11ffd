"""Training a GAN from Python: settings, run directory, checkpoints, resume.

`train(TrainConfig(dataset="mnist"))` does what `train.py` does; `resume(run_dir, epochs=10)`
continues a run. The names are loaded on first use (PEP 562), so `keras_gan.training.config`
(the settings and the names offered as choices) stays free of TensorFlow. See docs/training.md.
"""

from __future__ import annotations

import importlib
from typing import Any

# Each public name and the module of this package (or of keras_gan) that defines it.
_WHERE = {
    "ARCHITECTURES": "keras_gan.training.config",
    "ARCHITECTURE_DEFAULTS": "keras_gan.training.config",
    "GRADIENT_PENALTY_LOSSES": "keras_gan.training.config",
    "JIT_COMPILE_CHOICES": "keras_gan.training.config",
    "LEGACY_PRECISION": "keras_gan.training.config",
    "LOSSES": "keras_gan.training.config",
    "LOSS_ALIASES": "keras_gan.training.config",
    "LOSS_DEFAULTS": "keras_gan.training.config",
    "PRECISIONS": "keras_gan.training.config",
    "PRECISION_CHOICES": "keras_gan.training.config",
    "RESUME_OVERRIDES": "keras_gan.training.config",
    "SAMPLE_IMAGES": "keras_gan.training.config",
    "SAMPLE_POINTS": "keras_gan.training.config",
    "STRATEGIES": "keras_gan.training.config",
    "TrainConfig": "keras_gan.training.config",
    "architectures": "keras_gan.training.config",
    "canonical_loss": "keras_gan.training.config",
    "default_dcgan_extra_layers": "keras_gan.training.dcgan_defaults",
    "default_dcgan_width": "keras_gan.training.dcgan_defaults",
    "check_writable": "keras_gan.training.runs",
    "default_run_dir": "keras_gan.training.runs",
    "load_config": "keras_gan.training.runs",
    "TrainingDivergedError": "keras_gan.training.exceptions",
    "TrainingError": "keras_gan.training.exceptions",
    "TrainingInterrupted": "keras_gan.training.exceptions",
    "RunPaths": "keras_gan.run_dir",
    "RunInUseError": "keras_gan.run_lock",
    "RunLock": "keras_gan.run_lock",
    "build_callbacks": "keras_gan.training.build",
    "build_gan": "keras_gan.training.build",
    "load_gan": "keras_gan.training.build",
    "precision_policy": "keras_gan.training.build",
    "resume": "keras_gan.training.run",
    "train": "keras_gan.training.run",
    "latest_checkpoint": "keras_gan.checkpoints",
    "load_generator": "keras_gan.training.build",
}

__all__ = sorted(_WHERE)


def __getattr__(name: str) -> Any:
    """Import the module that defines `name` on first use (PEP 562)."""
    if name not in _WHERE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(_WHERE[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_WHERE})
