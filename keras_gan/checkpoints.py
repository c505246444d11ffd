"""The checkpoint format of a training run, and how to find the newest complete one.

A checkpoint is `ckpt-<step:09d>.keras` (`GAN.save`: both networks, both optimizers, the noise
RNG) plus `ckpt-<step:09d>.json`, written after it, that says which epoch and step it belongs
to and holds the networks' own random states (`seed_states`). Both are written atomically, so
a checkpoint counts once its JSON exists and its archive is intact. `TrainingCheckpoint` (the
callback that writes them) lives in `keras_gan.callbacks`; see `docs/callbacks.md`.
"""

from __future__ import annotations

import json
import logging
import os
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import keras
import numpy as np
from keras import ops

from keras_gan import files

if TYPE_CHECKING:
    from keras_gan.callbacks.checkpoint import TrainingCheckpoint

__all__ = [
    "CHECKPOINT_FORMAT_VERSION",
    "CheckpointInfo",
    "TrainingCheckpoint",
    "find_checkpoints",
    "latest_checkpoint",
    "model_optimizers",
    "read_checkpoint_metadata",
    "restore_seed_states",
    "seed_states",
    "state_is_finite",
    "training_step",
    "write_checkpoint",
]

logger = logging.getLogger(__name__)

CHECKPOINT_PATTERN = re.compile(r"^ckpt-(?P<step>\d{9})\.json$")
CHECKPOINT_FORMAT_VERSION = 1
_SEED_STATE_SUFFIX = "seed_generator_state"


def __getattr__(name: str) -> Any:
    """`TrainingCheckpoint` on demand: it subclasses a callback base of `keras_gan.callbacks`."""
    if name == "TrainingCheckpoint":
        from keras_gan.callbacks.checkpoint import TrainingCheckpoint

        return TrainingCheckpoint
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# ------------------------------------------------------------------------------- model state
def model_optimizers(model: keras.Model) -> dict[str, keras.optimizers.Optimizer]:
    """The optimizers of `model` by role.

    Returns:
        A GAN's `{"d": d_optimizer, "g": g_optimizer}`, a plain model's `{"": optimizer}`, or
        `{}` for an uncompiled model.
    """
    found = {
        role: getattr(model, f"{role}_optimizer", None)
        for role in ("d", "g")
        if getattr(model, f"{role}_optimizer", None) is not None
    }
    if not found and getattr(model, "optimizer", None) is not None:
        found[""] = model.optimizer
    return found


def training_step(model: keras.Model) -> int:
    """Training steps done so far, as counted by the generator optimizer's `iterations`.

    The count is part of the saved optimizer state, so it continues across a resume: it is the
    step axis of the per-step TensorBoard scalars and names the checkpoints.

    Returns:
        The step count, 0 for a model without an optimizer.
    """
    optimizers = model_optimizers(model)
    optimizer = optimizers.get("g") or next(iter(optimizers.values()), None)
    if optimizer is None:
        return 0
    return int(ops.convert_to_numpy(optimizer.iterations))


def state_is_finite(model: keras.Model) -> bool:
    """Whether every floating-point weight and optimizer variable of `model` is finite.

    Checkpoints and exported generators are only written when it is, so a NaN never reaches
    the disk.
    """
    variables = list(model.weights)
    for optimizer in model_optimizers(model).values():
        variables.extend(optimizer.variables)
    for variable in variables:
        value = ops.convert_to_numpy(variable)
        if np.issubdtype(value.dtype, np.floating) and not np.all(np.isfinite(value)):
            return False
    return True


def _seed_variables(network: keras.Model | None) -> list[Any]:
    if network is None:
        return []
    return [v for v in network.variables if v.path.endswith(_SEED_STATE_SUFFIX)]


def seed_states(model: keras.Model) -> dict[str, list[list[int]]]:
    """The state of every `SeedGenerator` inside the GAN's networks (e.g. each Dropout's).

    `model.save` does not keep them, so a checkpoint records them in its JSON for a resumed
    run to continue the same random streams.

    Returns:
        `{"generator": [...], "discriminator": [...]}`, each a list of states in layer order.
    """
    states = {}
    for role in ("generator", "discriminator"):
        network = getattr(model, role, None)
        if network is not None:
            states[role] = [ops.convert_to_numpy(v).tolist() for v in _seed_variables(network)]
    return states


def restore_seed_states(model: keras.Model, states: dict[str, list[list[int]]] | None) -> int:
    """Put back the random states recorded by `seed_states`.

    A network whose layers do not match the record is left alone, with a warning.

    Args:
        model: the GAN loaded from the checkpoint.
        states: `CheckpointInfo.seed_states`, or `None`.

    Returns:
        How many states were restored.
    """
    restored = 0
    for role, values in (states or {}).items():
        variables = _seed_variables(getattr(model, role, None))
        if len(variables) != len(values):
            logger.warning("Not restoring the %s's random states: its layers do not match.", role)
            continue
        for variable, value in zip(variables, values, strict=True):
            variable.assign(np.asarray(value, dtype=variable.dtype))
            restored += 1
    return restored


# ------------------------------------------------------------------------------- format
@dataclass(frozen=True)
class CheckpointInfo:
    """One complete checkpoint: the `.keras` file and what its JSON says about it.

    Attributes:
        path: the `.keras` archive (load it with `keras.saving.load_model(path,
            safe_mode=True)`).
        metadata_path: the `.json` file next to it.
        epochs_completed: whole epochs trained, i.e. the `initial_epoch` to resume at.
        step: `training_step` when it was written.
        end_of_epoch: `False` for checkpoints written inside an epoch (every N steps, Ctrl-C).
        d_step: the discriminator optimizer's `iterations`, when it has one.
        written_at: local time of writing, ISO 8601.
        seed_states: the networks' own random states (`restore_seed_states` after loading).
    """

    path: Path
    metadata_path: Path
    epochs_completed: int
    step: int
    end_of_epoch: bool
    d_step: int | None = None
    written_at: str | None = None
    seed_states: dict[str, list[list[int]]] | None = None


def read_checkpoint_metadata(metadata_path: str | os.PathLike) -> CheckpointInfo | None:
    """The `CheckpointInfo` of a checkpoint's JSON file, or `None` if it is unreadable."""
    metadata_path = Path(metadata_path)
    try:
        metadata = json.loads(metadata_path.read_text())
        return CheckpointInfo(
            path=metadata_path.with_name(str(metadata["file"])),
            metadata_path=metadata_path,
            epochs_completed=int(metadata["epochs_completed"]),
            step=int(metadata["step"]),
            end_of_epoch=bool(metadata["end_of_epoch"]),
            d_step=metadata.get("d_step"),
            written_at=metadata.get("written_at"),
            seed_states=metadata.get("seed_states"),
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None


def write_checkpoint(
    model: keras.Model, directory: str | os.PathLike, epochs_completed: int, end_of_epoch: bool
) -> CheckpointInfo | None:
    """Write a checkpoint of `model` as it is now: the `.keras` archive, then its JSON.

    Each file is written with `keras_gan.files.write_atomically`; the checkpoint is named
    after `training_step(model)`. The caller checks `state_is_finite` first.

    Args:
        model: the (compiled) GAN.
        directory: the checkpoint folder.
        epochs_completed: whole epochs done, the `initial_epoch` to resume at.
        end_of_epoch: whether the checkpoint is at the end of an epoch.

    Returns:
        The checkpoint written, as read back from its JSON.
    """
    directory = Path(directory)
    step = training_step(model)
    keras_path = directory / f"ckpt-{step:09d}.keras"
    metadata_path = keras_path.with_suffix(".json")
    d_optimizer = getattr(model, "d_optimizer", None)
    d_step = None if d_optimizer is None else int(ops.convert_to_numpy(d_optimizer.iterations))
    files.write_atomically(keras_path, model.save)
    metadata = {
        "format": CHECKPOINT_FORMAT_VERSION,
        "file": keras_path.name,
        "epochs_completed": int(epochs_completed),
        "step": step,
        "d_step": d_step,
        "end_of_epoch": bool(end_of_epoch),
        "written_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "seed_states": seed_states(model),
    }
    files.write_bytes_atomically(metadata_path, (json.dumps(metadata, indent=2) + "\n").encode())
    return read_checkpoint_metadata(metadata_path)


# ------------------------------------------------------------------------------- discovery
def find_checkpoints(directory: str | os.PathLike) -> list[CheckpointInfo]:
    """The checkpoints in `directory` with readable metadata and an existing `.keras` file.

    Temporary files are ignored; archives are not checked (`latest_checkpoint` does that).

    Returns:
        Oldest first (by step, then epochs); empty when the folder does not exist.
    """
    directory = Path(directory)
    if not directory.is_dir():
        return []
    found = []
    for metadata_path in directory.iterdir():
        if not CHECKPOINT_PATTERN.match(metadata_path.name):
            continue
        info = read_checkpoint_metadata(metadata_path)
        if info is not None and info.path.is_file():
            found.append(info)
    return sorted(found, key=lambda info: (info.step, info.epochs_completed))


def latest_checkpoint(directory: str | os.PathLike) -> CheckpointInfo | None:
    """The newest checkpoint whose archive is intact.

    A newer checkpoint with a damaged `.keras` file is skipped with a warning and the
    previous one is returned.

    Args:
        directory: a checkpoint folder, or a run directory (its `checkpoints/` is searched).

    Returns:
        The checkpoint, or `None` when there is no complete one.
    """
    directory = Path(directory)
    if (directory / "checkpoints").is_dir():
        directory = directory / "checkpoints"
    for info in reversed(find_checkpoints(directory)):
        if files.is_complete_keras_file(info.path):
            return info
        logger.warning("Skipping damaged checkpoint %s.", info.path)
    return None
