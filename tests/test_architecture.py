"""The rooms of docs/architecture.md: who may import whom, checked on the source."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "keras_gan"


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_rooms(path: Path) -> set[str]:
    """The `keras_gan` rooms (`keras_gan.X`) a module imports anywhere in its body."""
    rooms = set()
    for node in ast.walk(ast.parse(path.read_text())):
        names = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
            if node.module == "keras_gan":
                names = [f"keras_gan.{alias.name}" for alias in node.names]
        rooms.update(
            ".".join(name.split(".")[:2]) for name in names if name.startswith("keras_gan.")
        )
    return rooms


MODULES = {module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}

# room prefix -> rooms it must never import (docs/architecture.md)
FORBIDDEN = {
    "keras_gan.errors": {"*"},
    "keras_gan.files": {"*"},
    "keras_gan.run_dir": {"*"},
    "keras_gan.data": {
        "keras_gan.gan", "keras_gan.networks", "keras_gan.training", "keras_gan.callbacks",
        "keras_gan.evaluation", "keras_gan.generation", "keras_gan.sampling", "keras_gan.cli",
    },
    "keras_gan.evaluation": {"keras_gan.training", "keras_gan.callbacks", "keras_gan.cli"},
    "keras_gan.generation": {
        "keras_gan.training", "keras_gan.callbacks", "keras_gan.data", "keras_gan.performance",
        "keras_gan.evaluation", "keras_gan.cli",
    },
    "keras_gan.sampling": {
        "keras_gan.training", "keras_gan.callbacks", "keras_gan.data", "keras_gan.performance",
        "keras_gan.evaluation", "keras_gan.cli",
    },
    "keras_gan.figures": {"keras_gan.training", "keras_gan.callbacks", "keras_gan.data"},
    "keras_gan.checkpoints": {"keras_gan.training", "keras_gan.cli", "keras_gan.data"},
    "keras_gan.callbacks": {"keras_gan.training", "keras_gan.cli", "keras_gan.data"},
    "keras_gan.gan": {"keras_gan.training", "keras_gan.callbacks", "keras_gan.data"},
}  # fmt: skip


@pytest.mark.parametrize("name", sorted(MODULES))
def test_each_module_imports_only_what_its_room_may(name: str) -> None:
    room = ".".join(name.split(".")[:2])
    own = {room}
    imported = imported_rooms(MODULES[name]) - own
    forbidden = FORBIDDEN.get(room, set())
    if "*" in forbidden:
        assert imported == set(), f"{name} must not import other keras_gan modules: {imported}"
    else:
        assert not imported & forbidden, f"{name} imports {sorted(imported & forbidden)}"
    if room != "keras_gan.cli":
        assert "keras_gan.cli" not in imported, f"the library must not import the CLI ({name})"


def test_the_rule_checker_sees_imports_inside_functions(tmp_path: Path) -> None:
    module = tmp_path / "example.py"
    module.write_text(
        "def f():\n    from keras_gan import training\n    import keras_gan.data.base\n"
    )
    assert imported_rooms(module) == {"keras_gan.training", "keras_gan.data"}
