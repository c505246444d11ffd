"""The `keras-gan` command: `keras-gan train`, `keras-gan sample`, `keras-gan evaluate`.

`python train.py`, `python sample.py` and `python evaluate.py` run the same commands. The
exit codes and the error handling they share are in `keras_gan.cli.common`; `--help` of
every command answers without importing TensorFlow.
"""

from __future__ import annotations

from collections.abc import Sequence

import click

from keras_gan import __version__
from keras_gan.cli import common, evaluate, sample, train

__all__ = ["group", "main"]


@click.group("keras-gan", context_settings=common.CONTEXT_SETTINGS)
@click.version_option(__version__, prog_name="keras-gan")
def group() -> None:
    """Train GANs, draw samples from them and score them."""


group.add_command(train.cli, "train")
group.add_command(sample.cli, "sample")
group.add_command(evaluate.cli, "evaluate")


def main(argv: Sequence[str] | None = None) -> int:
    """The `keras-gan` console script; returns its exit code.

    Args:
        argv: the arguments after `keras-gan`; `None` reads `sys.argv[1:]`.

    Returns:
        The exit code of the command (see `keras_gan.cli.common`).
    """
    return common.main(group, argv, prog_name="keras-gan")
