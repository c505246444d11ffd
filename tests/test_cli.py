"""keras_gan.cli: the `keras-gan` group, the exit codes, the shared error handling, and `--help`
of every command answering without importing TensorFlow."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tomllib

import click
import pytest
from cli_helpers import REPO

from keras_gan import cli
from keras_gan.cli import common
from keras_gan.errors import KerasGanError

COMMANDS = ("train", "sample", "evaluate")
ENV = {key: value for key, value in os.environ.items() if key != "TF_CPP_MIN_LOG_LEVEL"}


def run_python(code: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", code, *args],
        cwd=REPO,
        env=ENV,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_exit_codes():
    assert (common.EXIT_OK, common.EXIT_ERROR, common.EXIT_USAGE, common.EXIT_DIVERGED) == (
        0,
        1,
        2,
        3,
    )
    assert (common.EXIT_INTERRUPTED, common.EXIT_TERMINATED) == (130, 143)


def test_the_console_script_is_the_group_of_the_three_commands():
    scripts = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["scripts"]
    assert scripts == {"keras-gan": "keras_gan.cli:main"}
    assert sorted(cli.group.commands) == sorted(COMMANDS)
    for name in COMMANDS:
        assert cli.group.commands[name] is getattr(cli, name).cli


def test_group_help_lists_the_commands(capsys):
    assert cli.main(["--help"]) == 0
    out = capsys.readouterr().out
    assert all(f"  {name} " in out for name in COMMANDS), out


@pytest.mark.parametrize("name", COMMANDS)
def test_help_answers_without_tensorflow(name):
    """In a fresh process: `--help` through the module, the group and the script."""
    code = (
        "import sys\n"
        f"from keras_gan.cli import main, {name}\n"
        f"assert {name}.main(['--help']) == 0\n"
        f"assert main(['{name}', '--help']) == 0\n"
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in ('tensorflow', 'keras'))\n"
        "assert not heavy, heavy\n"
    )
    result = run_python(code)
    assert result.returncode == 0, result.stderr
    assert f"Usage: python {name}.py [OPTIONS]" in result.stdout
    assert f"Usage: keras-gan {name} [OPTIONS]" in result.stdout
    assert result.stderr == ""


def test_scripts_importtime_shows_no_tensorflow():
    result = subprocess.run(
        [sys.executable, "-X", "importtime", str(REPO / "train.py"), "--help"],
        cwd=REPO,
        env=ENV,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0
    assert "--dataset" in result.stdout
    assert "tensorflow" not in result.stderr and "keras_gan.cli.train" in result.stderr


def test_importing_keras_gan_stays_lazy_but_names_still_resolve():
    code = (
        "import sys, keras_gan, keras_gan.cli, keras_gan.training.config\n"
        "assert 'tensorflow' not in sys.modules\n"
        "from keras_gan import GAN, default_optimizer, losses, networks\n"
        "assert GAN.__name__ == 'GAN' and callable(default_optimizer)\n"
        "assert losses.__name__ == 'keras_gan.losses' and hasattr(networks, 'build')\n"
    )
    result = run_python(code)
    assert result.returncode == 0, result.stderr


# ------------------------------------------------------------------------------- common.main
def _command(error: BaseException | None = None, result: int | None = None) -> click.Command:
    @click.command("demo")
    @click.option("--count", type=common.IntRange(min=1), default=1)
    @click.option("--rate", type=common.FloatRange(min=0, max=1, max_open=True), default=0.5)
    @click.option("--name", type=common.Names(("least_squares", "wgan_gp")), default="wgan_gp")
    @common.debug_option
    def demo(count: int, rate: float, name: str) -> int | None:
        if error is not None:
            raise error
        click.echo(json.dumps([count, rate, name]))
        return result

    return demo


def _one_error_line(capsys) -> str:
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("Error: "), err
    return lines[0]


def test_values_are_checked_by_the_types(capsys):
    assert common.main(_command(), ["--name", "WGAN-GP", "--count", "3"], "demo") == 0
    assert json.loads(capsys.readouterr().out) == [3, 0.5, "wgan_gp"]
    cases = [
        (["--count", "0"], "Error: --count must be a positive integer, got 0. (see demo --help)"),
        (["--count", "x"], "Error: Invalid value for '--count': 'x' is not a valid integer."),
        (["--rate", "1"], "Error: --rate must be in [0, 1), got 1.0."),
        (["--name", "nope"], "Error: Invalid value for '--name': 'nope' is not one of"),
        (["--nope"], "Error: No such option '--nope'."),
    ]
    for args, start in cases:
        assert common.main(_command(), args, "demo") == common.EXIT_USAGE
        assert _one_error_line(capsys).startswith(start)


@pytest.mark.parametrize(
    ("error", "code", "line"),
    [
        (KerasGanError("bad setting\nmore detail"), 1, "Error: bad setting"),
        (OSError(28, "No space left on device"), 1, "Error: [Errno 28] No space left on device"),
        (RuntimeError("boom"), 1, "Error: unexpected RuntimeError: boom (rerun with --debug"),
        (KeyboardInterrupt(), 130, "Interrupted."),
    ],
)
def test_errors_become_one_line_and_an_exit_code(capsys, error, code, line):
    assert common.main(_command(error), [], "demo") == code
    err = capsys.readouterr().err
    assert next(text for text in err.splitlines() if text.strip()).startswith(line), err


def test_debug_raises_instead(capsys):
    with pytest.raises(RuntimeError, match="boom"):
        common.main(_command(RuntimeError("boom")), ["--debug"], "demo")


def test_a_returned_code_is_the_exit_code(capsys):
    assert common.main(_command(result=common.EXIT_DIVERGED), [], "demo") == 3


def test_native_stderr_is_quiet_while_python_stderr_is_not(capfd):
    """Writes to file descriptor 2 (TensorFlow's C++ logs) are dropped, `sys.stderr` is kept,
    and both are restored afterwards."""
    with common.quiet_native_logs():
        os.write(2, b"native line\n")
        print("python line", file=sys.stderr)
    os.write(2, b"after\n")
    assert capfd.readouterr().err == "python line\nafter\n"


def test_tensorflow_log_level_is_set_before_tensorflow_loads():
    result = run_python(
        "import os, sys, keras_gan.cli\n"
        "assert os.environ['TF_CPP_MIN_LOG_LEVEL'] == '2' and 'tensorflow' not in sys.modules\n"
    )
    assert result.returncode == 0, result.stderr
