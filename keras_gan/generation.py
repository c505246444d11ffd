"""The one path from noise to samples, and the inference side's way to load a generator.

`GAN.generate`, `sampling`, `evaluation` and the CLIs all call `run_generator`, so the same
noise gives bit-identical images everywhere: inference mode, batches of `DEFAULT_BATCH_SIZE`,
float32 out. A conditional generator's labels take turns (`cycling_labels`) unless given.
`load_generator` reads a run directory or a `.keras` file without importing training.
"""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import keras
import numpy as np

from keras_gan.checkpoints import latest_checkpoint
from keras_gan.errors import KerasGanError, is_integer, one_line
from keras_gan.files import is_complete_keras_file
from keras_gan.run_dir import RunPaths

__all__ = [
    "DEFAULT_BATCH_SIZE",
    "LABEL_EMBEDDING_LAYER",
    "GeneratorInfo",
    "SamplingError",
    "cycling_labels",
    "describe_generator",
    "generator_classes",
    "load_generator",
    "load_keras_file",
    "run_generator",
    "sampling_generator",
]

DEFAULT_BATCH_SIZE = 256
LABEL_EMBEDDING_LAYER = "label_embedding"


class SamplingError(KerasGanError):
    """A generator, a model file or a request that cannot be sampled; the message is one line."""


def cycling_labels(count: int, num_classes: int) -> np.ndarray:
    """Balanced labels where the classes take turns: sample `i` has class `i % num_classes`.

    Returns:
        int32 array of shape `(count,)`.
    """
    return np.arange(count, dtype=np.int32) % np.int32(num_classes)


def generator_classes(model: keras.Model) -> int | None:
    """How many classes a conditional `[z, label]` generator takes, or `None` if it takes `z`.

    The count is the label embedding's `input_dim`: the Embedding layer named
    `label_embedding` (as `keras_gan.networks` builds it), else the model's only Embedding.

    Raises:
        KerasGanError: for a two-input model whose label embedding cannot be told.
    """
    if len(getattr(model, "inputs", None) or []) != 2:
        return None
    embeddings = [layer for layer in model.layers if isinstance(layer, keras.layers.Embedding)]
    named = [layer for layer in embeddings if layer.name == LABEL_EMBEDDING_LAYER]
    if named or len(embeddings) == 1:
        return int((named or embeddings)[0].input_dim)
    raise KerasGanError(
        f"Cannot tell how many classes the two-input model {model.name!r} takes: it has no "
        f"Embedding layer named {LABEL_EMBEDDING_LAYER!r}."
    )


def sampling_generator(model: keras.Model) -> keras.Model:
    """The network to draw samples from.

    A GAN's `sampling_generator` (its weight average if it keeps one), the `generator` of other
    GAN models (keras.io style), else the model itself.
    """
    for name in ("sampling_generator", "generator"):
        network = getattr(model, name, None)
        if isinstance(network, keras.Model):
            return network
    return model


def run_generator(
    generator: keras.Model,
    z: Any,
    labels: Any | None = None,
    *,
    batch_size: int = DEFAULT_BATCH_SIZE,
    training: bool = False,
    on_batch: Callable[[int], Any] | None = None,
) -> np.ndarray:
    """Run `generator` on noise `z` (and `labels`), batch by batch.

    Args:
        generator: a Keras generator taking `z`, or `[z, labels]` when `labels` is given.
        z: noise of shape `(n, latent_dim)`.
        labels: one int label per sample for a conditional generator, else `None`.
        batch_size: samples per call; the same value gives bit-identical samples.
        training: run BatchNorm (and Dropout) in training mode.
        on_batch: called with the number of samples of each batch done (a progress bar).

    Returns:
        float32 NumPy array of shape `(n, *generator.output_shape[1:])`.
    """
    z = np.asarray(z, dtype=np.float32)
    label_array = None if labels is None else np.asarray(labels, dtype=np.int32)
    outputs = []
    for start in range(0, len(z), batch_size):
        part = slice(start, start + batch_size)
        inputs = z[part] if label_array is None else [z[part], label_array[part]]
        outputs.append(keras.ops.convert_to_numpy(generator(inputs, training=training)))
        if on_batch is not None:
            on_batch(len(z[part]))
    if not outputs:
        return np.zeros((0, *generator.output_shape[1:]), dtype=np.float32)
    return np.concatenate(outputs).astype(np.float32)


# ------------------------------------------------------------------------------- what it is
@dataclasses.dataclass(frozen=True)
class GeneratorInfo:
    """What a generator takes and makes.

    Args:
        latent_dim: the size of its noise `z`.
        output_shape: the shape of one sample (no batch axis).
        num_classes: for a conditional generator, labels run over `0..num_classes - 1`.
    """

    latent_dim: int
    output_shape: tuple[int, ...]
    num_classes: int | None = None

    @property
    def conditional(self) -> bool:
        """Whether the generator takes `[z, labels]`."""
        return self.num_classes is not None

    @property
    def is_image(self) -> bool:
        """Whether samples are images `(H, W)` or `(H, W, C)` with C in {1, 3}."""
        shape = self.output_shape
        return len(shape) == 2 or (len(shape) == 3 and shape[-1] in (1, 3))

    def check_label(self, label: Any) -> int:
        """`label` as an `int`, checked against the generator's classes.

        Raises:
            SamplingError: for an unconditional generator, a non-integer or an unknown class.
        """
        if not self.conditional:
            raise SamplingError("The generator is not conditional: it takes no class labels.")
        if not is_integer(label):
            raise SamplingError(f"A class label must be an integer, got {label!r}.")
        if not 0 <= label < self.num_classes:
            raise SamplingError(
                f"Label {label} is out of range: the generator has {self.num_classes} classes "
                f"(0..{self.num_classes - 1})."
            )
        return int(label)

    def labels_for(self, count: int, label: int | None = None) -> np.ndarray | None:
        """One int32 label per sample: `label` for all, else the classes in turn.

        Returns:
            `(count,)` labels (`cycling_labels` by default), or `None` for an unconditional
            generator and no `label`.
        """
        if label is not None:
            return np.full(count, self.check_label(label), dtype=np.int32)
        return cycling_labels(count, self.num_classes) if self.conditional else None


def describe_generator(generator: Any, *, images: bool = False) -> GeneratorInfo:
    """Check that `generator` looks like a generator and say what it takes and makes.

    A generator takes noise `(batch, latent_dim)`, or `[noise, labels]` with int labels of
    shape `(batch,)` (conditional), and has one output of a fixed shape.

    Args:
        generator: the model to check.
        images: also require samples that are images (`GeneratorInfo.is_image`).

    Raises:
        SamplingError: for anything else.
    """
    if not isinstance(generator, keras.Model):
        raise SamplingError(f"Expected a generator keras.Model, got {type(generator).__name__}.")
    inputs = list(getattr(generator, "inputs", None) or [])
    shapes = [tuple(tensor.shape) for tensor in inputs]
    expected = "noise (batch, latent_dim), or [noise, labels (batch,)]"
    if len(inputs) not in (1, 2) or len(shapes[0]) != 2 or shapes[0][-1] is None:
        shown = ", ".join(str(shape) for shape in shapes) or "nothing"
        raise SamplingError(
            f"Model {generator.name!r} is not a generator: it takes {shown}; a generator "
            f"takes {expected}."
        )
    num_classes = None
    if len(inputs) == 2:
        if len(shapes[1]) != 1 or "int" not in str(inputs[1].dtype):
            raise SamplingError(
                f"Model {generator.name!r} is not a generator: its second input is "
                f"{shapes[1]} {inputs[1].dtype}; a conditional generator takes int labels "
                "of shape (batch,)."
            )
        try:
            num_classes = generator_classes(generator)
        except KerasGanError as error:
            raise SamplingError(str(error)) from None
    output_shape = generator.output_shape
    if not isinstance(output_shape, tuple) or not all(isinstance(d, int) for d in output_shape[1:]):
        raise SamplingError(
            f"Model {generator.name!r} is not a generator: it has outputs {output_shape}; "
            "a generator has one output of a fixed shape."
        )
    info = GeneratorInfo(int(shapes[0][-1]), tuple(output_shape[1:]), num_classes)
    if images and not info.is_image:
        raise SamplingError(
            f"Model {generator.name!r} makes samples of shape {info.output_shape}, not images "
            "(H, W, 1) or (H, W, 3); there is nothing to draw."
        )
    return info


# ------------------------------------------------------------------------------- loading
def load_keras_file(path: str | os.PathLike) -> keras.Model:
    """Load a `.keras` file with `safe_mode=True`, after checking that it is intact.

    Raises:
        SamplingError: for a damaged or foreign file, one embedding Python code (a `Lambda`
            layer, refused by safe mode) or one Keras cannot rebuild.
    """
    if not is_complete_keras_file(path):
        raise SamplingError(
            f"{path} is not a Keras model file: expected a complete .keras archive written by "
            "model.save() (this one is of another kind, truncated or damaged)."
        )
    import keras_gan.gan  # noqa: F401  (here, as gan imports this module: registers GAN, losses)

    try:
        return keras.saving.load_model(path, safe_mode=True)
    except Exception as error:  # Keras raises many kinds for a file it cannot rebuild
        if "arbitrary code execution" in str(error):
            raise SamplingError(
                f"Refusing to load {path}: it embeds Python code (e.g. a Lambda layer), which "
                "safe_mode=True never runs; if you trust the file, load it yourself with "
                "keras.saving.load_model(path, safe_mode=False)."
            ) from None
        raise SamplingError(f"Cannot load {path}: {one_line(error)}") from None


def _generator_file(source: str | os.PathLike) -> Path:
    """The `.keras` file to read for `source`: itself, or a run directory's newest generator.

    In a run directory `generator.keras` is used unless a complete checkpoint is newer (a run
    killed before it could export) or the export is damaged (a torn write); then the newest
    complete checkpoint.
    """
    path = Path(source)
    if not path.is_dir():
        if not path.is_file():
            raise SamplingError(f"No such run directory or .keras file: {source}")
        return path
    paths = RunPaths(path)
    checkpoint = latest_checkpoint(path)
    exported = paths.generator.is_file() and is_complete_keras_file(paths.generator)
    if exported and (
        checkpoint is None
        or paths.generator.stat().st_mtime_ns >= checkpoint.metadata_path.stat().st_mtime_ns
    ):
        return paths.generator
    if checkpoint is not None:
        return checkpoint.path
    if paths.generator.is_file():
        raise SamplingError(
            f"{paths.generator} is damaged (not a complete .keras archive) and {source} "
            "has no complete checkpoint to fall back on."
        )
    raise SamplingError(f"{source} holds no generator.keras and no complete checkpoint.")


def _configured_latent_dim(run_dir: Path) -> int | None:
    """The `latent_dim` a run's `config.json` names (`None` if it names none)."""
    config = RunPaths(run_dir).config
    if not config.is_file():
        raise SamplingError(f"{run_dir} is not a run directory (it has no config.json).")
    try:
        settings = json.loads(config.read_text())
    except (OSError, ValueError) as error:
        raise SamplingError(f"Cannot read {config}: {one_line(error)}") from None
    if not isinstance(settings, dict):
        raise SamplingError(f"{config} does not hold a settings object.")
    return settings.get("latent_dim")


def load_generator(source: str | os.PathLike) -> keras.Model:
    """The trained generator of a run directory or of a `.keras` file.

    The file may hold a generator or a GAN (a checkpoint), whose `sampling_generator` (the
    weight average, if kept) is returned. It is loaded with `safe_mode=True` and checked with
    `describe_generator`; a run directory's generator must take the `latent_dim` of its
    `config.json`.

    Args:
        source: a run directory (`generator.keras`, or the newest complete checkpoint when
            that is newer or damaged) or a `.keras` file.

    Returns:
        The generator, a `keras.Model`.

    Raises:
        SamplingError: with a one-line message, for anything that cannot be loaded.
    """
    path = Path(source)
    latent_dim = _configured_latent_dim(path) if path.is_dir() else None
    model = sampling_generator(load_keras_file(_generator_file(source)))
    try:
        info = describe_generator(model)
    except SamplingError as error:
        raise SamplingError(f"{source}: {error}") from None
    if latent_dim not in (None, info.latent_dim):
        raise SamplingError(
            f"{source}: the generator takes z of size {info.latent_dim} but config.json says "
            f"latent_dim {latent_dim}; the run directory is inconsistent."
        )
    return model
