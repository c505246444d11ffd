"""The bounded offline probe tried before any TFDS download.

A TCP connection to `storage.googleapis.com:443` (where TFDS downloads from) in a daemon
thread, with a 3 s timeout, remembered for 60 s. `KERAS_GAN_OFFLINE=1` means offline without
probing; `KERAS_GAN_PROBE=host:port` probes another address.
"""

from __future__ import annotations

import os
import socket
import threading
import time

from keras_gan.data.base import DataError

DEFAULT_PROBE_ADDRESS = ("storage.googleapis.com", 443)
PROBE_TIMEOUT_S = 3.0
PROBE_MEMORY_S = 60.0

_probe_memory: dict[tuple[str, int], tuple[float, bool]] = {}


def offline_forced() -> bool:
    """Whether `KERAS_GAN_OFFLINE` is set to a true value (1, true, yes, on)."""
    return os.environ.get("KERAS_GAN_OFFLINE", "").strip().lower() in {"1", "true", "yes", "on"}


def probe_address() -> tuple[str, int]:
    """`$KERAS_GAN_PROBE` as `(host, port)`, else `DEFAULT_PROBE_ADDRESS`.

    Raises:
        DataError: when `KERAS_GAN_PROBE` is not `host:port`.
    """
    value = os.environ.get("KERAS_GAN_PROBE", "").strip()
    if not value:
        return DEFAULT_PROBE_ADDRESS
    host, separator, port = value.rpartition(":")
    if not separator or not host or not port.isdigit():
        raise DataError(
            f"KERAS_GAN_PROBE={value!r} is not host:port; fix it (e.g. host:443) or unset it"
        )
    return host.strip("[]"), int(port)


def network_available(
    address: tuple[str, int] | None = None, timeout_s: float = PROBE_TIMEOUT_S
) -> bool:
    """Whether a TCP connection to `address` opens within `timeout_s` seconds.

    Runs in a daemon thread so a hanging DNS lookup cannot exceed the timeout, and remembers
    each address's answer for a minute so `describe` then `load` probe once.

    Args:
        address: `(host, port)`; defaults to `$KERAS_GAN_PROBE` or the TFDS storage host.
        timeout_s: seconds to wait for the connection.

    Returns:
        `True` when the connection opened; `False` at once when `KERAS_GAN_OFFLINE` is set.
    """
    if offline_forced():
        return False
    address = address or probe_address()
    remembered = _probe_memory.get(address)
    if remembered is not None and time.monotonic() - remembered[0] < PROBE_MEMORY_S:
        return remembered[1]
    outcome: list[bool] = []

    def connect() -> None:
        try:
            with socket.create_connection(address, timeout=timeout_s):
                outcome.append(True)
        except OSError:
            outcome.append(False)

    thread = threading.Thread(target=connect, name="keras-gan-network-probe", daemon=True)
    thread.start()
    thread.join(timeout_s + 0.5)
    available = bool(outcome) and outcome[0]
    _probe_memory[address] = (time.monotonic(), available)
    return available
