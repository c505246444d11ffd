"""The `emoji` dataset: 3,786 colour 64x64 RGBA emoji (npm's `emoji-datasource-google`).

`npm pack` fetches the package's tarball (about 74 MB) without a Node project; its PNGs are
extracted once, atomically, into one subfolder per `emoji.json` category under
`$KERAS_GAN_CACHE/datasets` (default `~/.cache/keras_gan/datasets`), and read as an image
folder, so transparent pixels are composited onto the request's background. Offline, a
prepared `emoji/` folder or the tarball in `data_dir` serves instead. See docs/data.md, "Emoji".
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import subprocess
import tarfile
import tempfile
from pathlib import Path
from urllib.parse import urlparse

from keras_gan.data.base import DataError, Options
from keras_gan.data.folders import ImageFolder
from keras_gan.data.probe import network_available, offline_forced
from keras_gan.errors import one_line

EMOJI = "emoji"
PACKAGE = "emoji-datasource-google"
VERSION = "16.0.0"  # pinned, so that every machine trains and scores on the same images
IMAGE_DIR = "package/img/google/64/"
CACHE_ENV = "KERAS_GAN_CACHE"  # the same root as the domain classifiers' cache
NPM_TIMEOUT_S = 300.0
DEFAULT_REGISTRY = "https://registry.npmjs.org/"
_TARBALL = re.compile(rf"^{PACKAGE}-(?P<version>[0-9][0-9A-Za-z.+-]*)\.tgz$")


def cache_root() -> Path:
    """`$KERAS_GAN_CACHE/datasets`, or `~/.cache/keras_gan/datasets` when it is unset."""
    root = os.environ.get(CACHE_ENV)
    base = Path(root).expanduser() if root else Path.home() / ".cache" / "keras_gan"
    return base / "datasets"


def cached_folder(version: str = VERSION, cache_dir: str | os.PathLike | None = None) -> Path:
    """Where version `version` is extracted: `<cache_dir or cache_root()>/<package>-<version>`."""
    base = Path(cache_dir).expanduser() if cache_dir is not None else cache_root()
    return base / f"{PACKAGE}-{version}"


def image_categories(metadata: list[dict]) -> dict[str, str]:
    """Each image file name of `emoji.json` -> its category (skin tones share their base's)."""
    categories: dict[str, str] = {}
    for entry in metadata:
        category = str(entry.get("category") or "Other")
        for item in (entry, *(entry.get("skin_variations") or {}).values()):
            if item.get("image"):
                categories[str(item["image"])] = category
    return categories


def extract(tarball: str | os.PathLike, destination: str | os.PathLike) -> dict[str, int]:
    """Write the 64x64 PNGs of `tarball` into `destination/<category>/`, atomically.

    They are extracted into a temporary folder beside `destination`, which is then renamed,
    so a folder that exists is complete. Images absent from `emoji.json` are skipped.

    Args:
        tarball: the `npm pack` tarball.
        destination: the folder to create.

    Returns:
        The number of images per category.

    Raises:
        DataError: when the tarball cannot be read or holds no emoji images.
    """
    destination = Path(destination)
    destination.parent.mkdir(parents=True, exist_ok=True)
    counts: dict[str, int] = {}
    temporary = Path(tempfile.mkdtemp(prefix=f".{destination.name}-", dir=destination.parent))
    try:
        with tarfile.open(tarball, "r:gz") as archive:
            stream = archive.extractfile("package/emoji.json")
            categories = image_categories(json.load(stream)) if stream else {}
            for member in archive:
                name = member.name[len(IMAGE_DIR) :]
                if not member.isfile() or not member.name.startswith(IMAGE_DIR) or "/" in name:
                    continue
                category = categories.get(name)
                content = archive.extractfile(member) if category else None
                if content is None:
                    continue
                (temporary / category).mkdir(exist_ok=True)
                (temporary / category / name).write_bytes(content.read())
                counts[category] = counts.get(category, 0) + 1
        if not counts:
            raise DataError(f"{tarball} holds no emoji images under {IMAGE_DIR}")
        counts = dict(sorted(counts.items()))
        summary = {"package": PACKAGE, "tarball": Path(tarball).name, "counts": counts}
        (temporary / ".emoji.json").write_text(json.dumps(summary, indent=2) + "\n")
        temporary.chmod(0o755)  # mkdtemp's 0700 would hide a shared cache from other users
        try:
            os.replace(temporary, destination)
        except OSError:
            if not destination.is_dir():  # else another process finished it first
                raise
    except DataError:
        raise
    except (OSError, tarfile.TarError, KeyError, ValueError) as error:
        raise DataError(
            f"Cannot extract the emoji from {tarball}: {one_line(error, max_length=200)}; "
            f"fetch it again with `npm pack {PACKAGE}@{VERSION}`"
        ) from error
    finally:
        shutil.rmtree(temporary, ignore_errors=True)
    return counts


def _offline_hint() -> str:
    return (
        f"run `npm pack {PACKAGE}@{VERSION}` on a machine with network and pass the folder "
        "holding the .tgz as data_dir (--data-dir)"
    )


def npm_registry(npm: str) -> str:
    """The registry `npm` is configured with (`npm config get registry`), or npm's default."""
    try:
        result = subprocess.run(
            [npm, "config", "get", "registry"], capture_output=True, text=True, timeout=30
        )
    except (OSError, subprocess.TimeoutExpired):
        return DEFAULT_REGISTRY
    registry = result.stdout.strip()
    return registry if result.returncode == 0 and registry.startswith("http") else DEFAULT_REGISTRY


def npm_pack(folder: str | os.PathLike, timeout_s: float = NPM_TIMEOUT_S) -> Path:
    """Fetch the pinned tarball into `folder` with `npm pack`; returns its path.

    The registry is probed first (3 s, as for TFDS), so offline it fails in seconds.

    Raises:
        DataError: when npm is absent, offline, or fails, saying how to provide the tarball.
    """
    npm = shutil.which("npm")
    if npm is None:
        raise DataError(f"Cannot fetch the emoji: npm is not installed; {_offline_hint()}")
    if offline_forced():
        raise DataError(f"Cannot fetch the emoji: KERAS_GAN_OFFLINE is set; {_offline_hint()}")
    registry = urlparse(npm_registry(npm))
    host = registry.hostname or "registry.npmjs.org"
    port = registry.port or (80 if registry.scheme == "http" else 443)
    if not network_available((host, port)):
        raise DataError(f"Cannot fetch the emoji: {host}:{port} unreachable; {_offline_hint()}")
    command = [npm, "pack", f"{PACKAGE}@{VERSION}", "--silent", "--fetch-retries=1"]
    try:
        result = subprocess.run(
            command, cwd=folder, capture_output=True, text=True, timeout=timeout_s
        )
    except subprocess.TimeoutExpired:
        raise DataError(
            f"`npm pack {PACKAGE}@{VERSION}` took over {timeout_s:.0f} s; {_offline_hint()}"
        ) from None
    tarball = Path(folder) / f"{PACKAGE}-{VERSION}.tgz"
    if result.returncode != 0 or not tarball.is_file():
        lines = (result.stderr or result.stdout).strip().splitlines() or ["no output"]
        raise DataError(
            f"`npm pack {PACKAGE}@{VERSION}` failed ({one_line(lines[-1], max_length=200)}); "
            f"{_offline_hint()}"
        )
    return tarball


def find_tarball(folder: str | os.PathLike) -> tuple[Path, str] | None:
    """The newest-named `emoji-datasource-google-<version>.tgz` in `folder`, with its version."""
    with contextlib.suppress(OSError):
        found = sorted(
            (path.name, path) for path in Path(folder).iterdir() if _TARBALL.match(path.name)
        )
        if found:
            name, path = found[-1]
            return path, _TARBALL.match(name)["version"]
    return None


def prepare(data_dir: str | None = None, cache_dir: str | os.PathLike | None = None) -> Path:
    """The folder of emoji by category, fetched and extracted the first time.

    Looks in order for `data_dir/emoji/` (class subfolders), a tarball in `data_dir`
    (extracted into the cache), the cached folder, then fetches with `npm pack`.

    Args:
        data_dir: a folder searched first (the run's `--data-dir`).
        cache_dir: where tarballs are extracted; `cache_root()` when `None`.

    Returns:
        The folder, one subfolder of PNGs per category.

    Raises:
        DataError: when the emoji can be neither found nor fetched.
    """
    if data_dir is not None:
        prepared = Path(data_dir) / EMOJI
        if prepared.is_dir():
            return prepared
        found = find_tarball(data_dir)
        if found is not None:
            tarball, version = found
            folder = cached_folder(version, cache_dir)
            if not folder.is_dir():
                extract(tarball, folder)
            return folder
    folder = cached_folder(VERSION, cache_dir)
    if folder.is_dir():
        return folder
    folder.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".npm-pack-", dir=folder.parent) as download:
        extract(npm_pack(download), folder)
    return folder


def emoji_source(data_dir: str | None, options: Options) -> ImageFolder:
    """The `emoji` dataset as an image folder labelled by category (see `prepare`)."""
    folder = prepare(data_dir)
    source = ImageFolder(str(folder), options)
    source.name = EMOJI
    source.origin = f"{PACKAGE} in {folder}"
    return source
