"""Ports and processes of the local servers."""

from __future__ import annotations

import signal
import socket
import subprocess
from typing import Any


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def stop_process(
    process: subprocess.Popen[Any], stop_signal: int = signal.SIGTERM, timeout: float = 15
) -> None:
    """Asks a process to stop with `stop_signal`, and kills it if it has not after `timeout`."""
    if process.poll() is not None:
        return
    process.send_signal(stop_signal)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=timeout)
