"""Ports and processes of the local servers."""

from __future__ import annotations

import signal
import socket
import subprocess
from pathlib import Path
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


def session_processes(session: int) -> list[int]:
    """Every process of a session (field 6 of /proc/PID/stat): a process started with
    `start_new_session` and all it started, whatever process groups they made of their own."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[3]) == session:
            found.append(int(stat.parent.name))
    return found
