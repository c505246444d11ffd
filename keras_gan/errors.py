"""The one base class for errors a user can cause, and the checks that raise them.

Every error the library raises for bad input or an unusable file is a `KerasGanError`, whose
message is one line a user can act on. The CLIs print that line and exit 1 (`keras_gan.cli`).
"""

from __future__ import annotations

import numbers
from typing import Any

__all__ = ["KerasGanError", "check_integer", "integer_requirement", "is_integer", "one_line"]


class KerasGanError(ValueError):
    """Bad input or an unusable file; the message is one line that says what to do.

    A `ValueError` subclass, so code that catches `ValueError` keeps working.
    """


def one_line(error: BaseException, max_length: int | None = None) -> str:
    """The first line of an error's message, or its class name when it has none.

    Args:
        error: the exception to report.
        max_length: cut the line to this many characters (ending in `...`); `None` keeps it.

    Returns:
        One line of text, for a one-line report on stderr.
    """
    lines = str(error).strip().splitlines()
    first = lines[0] if lines else type(error).__name__
    if max_length is not None and len(first) > max_length:
        first = first[: max_length - 3] + "..."
    return first


def is_integer(value: Any) -> bool:
    """Whether `value` is a Python or NumPy integer (a `bool` is not).

    NumPy's integer types register as `numbers.Integral`, so NumPy need not be imported here
    (this module is on the CLIs' start-up path).
    """
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def check_integer(
    name: str,
    value: Any,
    minimum: int | None = 1,
    error: type[Exception] = KerasGanError,
    hint: str = "",
) -> int:
    """Check that `value` is an integer of at least `minimum`, and return it as an `int`.

    Args:
        name: what the value is called in the message (e.g. `"batch_size"`).
        value: the value to check.
        minimum: the smallest value allowed; `None` allows any integer.
        error: the exception class to raise.
        hint: words added to the message, e.g. `" (e.g. 32 or 64)"`.

    Returns:
        `int(value)`.

    Raises:
        error: when `value` is not an integer or is below `minimum`.
    """
    if not is_integer(value):
        kind = "an integer" if minimum is None else integer_requirement(minimum)
        raise error(f"{name} must be {kind}{hint}, got {value!r}.")
    if minimum is not None and value < minimum:
        raise error(f"{name} must be {integer_requirement(minimum)}{hint}, got {value!r}.")
    return int(value)


def integer_requirement(minimum: int) -> str:
    """`"a positive integer"`, `"a non-negative integer"` or `"an integer of at least N"`."""
    if minimum == 1:
        return "a positive integer"
    if minimum == 0:
        return "a non-negative integer"
    return f"an integer of at least {minimum}"
