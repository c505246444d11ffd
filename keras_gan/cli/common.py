"""What the `keras-gan` commands share: exit codes, the one `main` wrapper, quiet TensorFlow.

Importing this module sets `TF_CPP_MIN_LOG_LEVEL` before TensorFlow can be imported, and `main`
keeps TensorFlow's native log lines (which that variable cannot hide) off the console unless
`--debug` is given. Nothing here imports TensorFlow.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import warnings
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

# Before TensorFlow is first imported, so its C++ INFO and WARNING lines stay off the console.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import click

from keras_gan.errors import integer_requirement, one_line

__all__ = [
    "CONTEXT_SETTINGS",
    "EXIT_DIVERGED",
    "EXIT_ERROR",
    "EXIT_INTERRUPTED",
    "EXIT_OK",
    "EXIT_TERMINATED",
    "EXIT_USAGE",
    "FloatRange",
    "IntRange",
    "Names",
    "check_background",
    "debug_option",
    "library_logs_on_stdout",
    "main",
    "quiet_native_logs",
]

# ---------------------------------------------------------------------- exit codes
EXIT_OK = 0  # done
EXIT_ERROR = 1  # bad input (a setting, the data, a file) or a failed write; one line on stderr
EXIT_USAGE = 2  # the command line itself is wrong
EXIT_DIVERGED = 3  # a loss became NaN or infinite; the last good checkpoint is kept
EXIT_INTERRUPTED = 130  # 128 + SIGINT, as a shell reports a Ctrl-C
EXIT_TERMINATED = 143  # 128 + SIGTERM

CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


class _Session:
    """One run of a command: whether `--debug` was given, and the quieted stderr."""

    def __init__(self) -> None:
        self.debug = False
        self.quiet = _QuietStderr()


def main(command: click.Command, argv: Sequence[str] | None = None, prog_name: str = "") -> int:
    """Run a click command and turn every way it can end into an exit code.

    A bad command line prints one line and returns `EXIT_USAGE`; a `KerasGanError` (or another
    `ValueError`) or an `OSError` prints `Error: <its first line>` and returns `EXIT_ERROR`, as
    does any other exception (with a hint to rerun with `--debug`, which raises instead);
    Ctrl-C returns `EXIT_INTERRUPTED`. TensorFlow's native log lines are dropped meanwhile.

    Args:
        command: the click command or group.
        argv: the arguments; `None` reads `sys.argv[1:]`.
        prog_name: the name in usage lines, e.g. `"train.py"`.

    Returns:
        The command's own exit code (an `int` it returns), else `EXIT_OK`.
    """
    session = _Session()
    try:
        session.quiet.start()
        try:
            result = command.main(
                args=argv, prog_name=prog_name or None, standalone_mode=False, obj=session
            )
        finally:
            session.quiet.stop()
    except click.exceptions.NoArgsIsHelpError as error:  # `keras-gan` alone: the help
        click.echo(error.ctx.get_help() if error.ctx is not None else error.format_message())
        return EXIT_USAGE
    except click.UsageError as error:
        where = error.ctx.command_path if error.ctx is not None else prog_name
        click.echo(f"Error: {one_line(error.format_message())} (see {where} --help)", err=True)
        return EXIT_USAGE
    except click.ClickException as error:
        click.echo(f"Error: {one_line(error.format_message())}", err=True)
        return error.exit_code
    except click.Abort:
        click.echo("Interrupted.", err=True)
        return EXIT_INTERRUPTED
    except (ValueError, OSError) as error:  # KerasGanError is a ValueError
        if session.debug:
            raise
        click.echo(f"Error: {one_line(error)}", err=True)
        return EXIT_ERROR
    except Exception as error:
        if session.debug:
            raise
        click.echo(
            f"Error: unexpected {type(error).__name__}: {one_line(error)} "
            "(rerun with --debug for details)",
            err=True,
        )
        return EXIT_ERROR
    return result if isinstance(result, int) else EXIT_OK


def _debug(ctx: click.Context, param: click.Parameter, value: bool) -> None:
    session = ctx.find_object(_Session)
    if value and session is not None:
        session.debug = True
        session.quiet.stop()


debug_option = click.option(
    "--debug",
    is_flag=True,
    is_eager=True,
    expose_value=False,
    callback=_debug,
    help="Show TensorFlow's log lines, Python warnings and full tracebacks.",
)


# ---------------------------------------------------------------------- quiet TensorFlow
class _QuietStderr:
    """File descriptor 2 to /dev/null (TensorFlow's C++ logging writes there directly, and
    before absl is initialised ignores `TF_CPP_MIN_LOG_LEVEL`), Python warnings off; Python's
    own `sys.stderr` keeps writing to the real stderr. `stop` puts everything back."""

    def __init__(self) -> None:
        self._saved: tuple[int, Any, Any] | None = None

    def start(self) -> None:
        if self._saved is not None:
            return
        try:
            sys.stderr.flush()
            terminal = os.dup(2)
            devnull = os.open(os.devnull, os.O_WRONLY)
        except (AttributeError, OSError, ValueError):
            return  # no stderr to quiet (closed, or not a file descriptor)
        os.dup2(devnull, 2)
        os.close(devnull)
        original = sys.stderr
        if _writes_to_fd_2(original):
            sys.stderr = open(  # noqa: SIM115 (closed by stop)
                terminal, "w", buffering=1, encoding="utf-8", errors="replace", closefd=False
            )
        filters = warnings.catch_warnings()
        filters.__enter__()
        warnings.simplefilter("ignore")
        self._saved = (terminal, original, filters)

    def stop(self) -> None:
        if self._saved is None:
            return
        terminal, original, filters = self._saved
        self._saved = None
        filters.__exit__(None, None, None)
        with contextlib.suppress(OSError, ValueError):
            sys.stderr.flush()
        if sys.stderr is not original:
            sys.stderr.close()
            sys.stderr = original
        os.dup2(terminal, 2)
        os.close(terminal)


def _writes_to_fd_2(stream: Any) -> bool:
    try:
        return stream.fileno() == 2
    except (AttributeError, OSError, ValueError):
        return False


@contextlib.contextmanager
def quiet_native_logs(enabled: bool = True) -> Iterator[None]:
    """Keep TensorFlow's native log lines and Python warnings off the console meanwhile.

    Args:
        enabled: `False` changes nothing (for `--debug`).
    """
    quiet = _QuietStderr()
    if enabled:
        quiet.start()
    try:
        yield
    finally:
        quiet.stop()


@contextlib.contextmanager
def library_logs_on_stdout() -> Iterator[None]:
    """Show the `keras_gan` loggers' INFO lines (data, model, run directory) as plain lines on
    stdout while the block runs, then put the loggers back as they were."""
    package_logger = logging.getLogger("keras_gan")
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(logging.Formatter("%(message)s"))
    level, propagate = package_logger.level, package_logger.propagate
    package_logger.addHandler(handler)
    package_logger.setLevel(logging.INFO)
    package_logger.propagate = False
    try:
        yield
    finally:
        package_logger.removeHandler(handler)
        package_logger.setLevel(level)
        package_logger.propagate = propagate


# ---------------------------------------------------------------------- parameter types
class _SaysWhatIsWanted:
    """Mixin for click's range types: out of range is one line naming the flag and the range.

    Text that is not a number at all keeps click's own message (from `number_type`).
    """

    number_type: click.ParamType

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        number = self.number_type.convert(value, param, ctx)
        try:
            return super().convert(number, param, ctx)
        except click.BadParameter:
            message = f"{_flag(param)} must be {self._wanted()}, got {number}."
            raise click.UsageError(message, ctx) from None

    def _wanted(self) -> str:
        raise NotImplementedError


class IntRange(_SaysWhatIsWanted, click.IntRange):
    """`click.IntRange` whose error says what is wanted: `--epochs must be a positive integer,
    got 0.`, in the words of `keras_gan.errors.check_integer`."""

    name = "integer"  # the metavar: INTEGER, with the range in the help's [x>=1]
    number_type = click.INT

    def _wanted(self) -> str:
        if self.max is None and self.min is not None and not self.min_open:
            return integer_requirement(self.min)
        return f"in the range {self._describe_range()}"


class FloatRange(_SaysWhatIsWanted, click.FloatRange):
    """`click.FloatRange` whose error says what is wanted: `--lr-d must be a positive number,
    got -1.0.` or `--beta1 must be in [0, 1), got 1.5.`"""

    name = "float"
    number_type = click.FLOAT

    def _wanted(self) -> str:
        if self.min == 0 and self.max in (None, float("inf")):
            return "a positive number" if self.min_open else "a non-negative number"
        if self.min is None or self.max is None:
            return f"in the range {self._describe_range()}"
        low = "(" if self.min_open else "["
        high = ")" if self.max_open else "]"
        return f"in {low}{self.min:g}, {self.max:g}{high}"


class Names(click.Choice):
    """`click.Choice` of names that ignores case and `-` versus `_` (`wgan-gp` is `wgan_gp`);
    the names may come from a function, read when a value is checked (a registry)."""

    def __init__(self, names: Iterable[str] | Callable[[], Iterable[str]]) -> None:
        self._names = names if callable(names) else tuple(names)
        super().__init__(self.choices, case_sensitive=False)

    @property  # type: ignore[override]
    def choices(self) -> tuple[str, ...]:
        return tuple(self._names() if callable(self._names) else self._names)

    @choices.setter
    def choices(self, value: Iterable[str]) -> None:
        pass  # set by click.Choice.__init__; the names above are the truth

    def normalize_choice(self, choice: object, ctx: click.Context | None) -> str:
        return str(choice).strip().casefold().replace("-", "_")


def _flag(param: click.Parameter | None) -> str:
    if param is None:
        return "the value"
    options = [name for name in param.opts if name.startswith("--")]
    return options[0] if options else (param.human_readable_name or "the value")


def check_background(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """`None`, or a colour name or `#rrggbb` that Pillow can parse (no alpha)."""
    if value is None:
        return None
    from PIL import ImageColor

    try:
        rgb = ImageColor.getrgb(value.strip())
    except ValueError:
        rgb = ()
    if len(rgb) != 3:
        raise click.BadParameter(
            f"{value!r} is not an opaque colour; use a name such as white or black, or #rrggbb",
            ctx,
            param,
        )
    return value.strip()
