"""The program under the real engine: `pulumi up` of a new stack and a no-change `pulumi preview`
with N clients, in render-to-directory mode (`kubernetes:renderYamlToDirectory`: the Kubernetes
objects are written as YAML files instead of sent to a cluster), local file backend.

    python -m bench.engine 100 [--skip-checkpoints] [--limit SECONDS]

Prints JSON: clients, resources, seconds of each command, and the peak memory of the engine's
process tree (the CLI, the language host, the program and the provider plugins, summed). An
`up` still running after --limit seconds is stopped and reported as `null` seconds (the
preview is then not measured).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from bench.evaluate import config_with_clients
from tests.engine.conftest import new_engine, project_program


def tree_rss_mib(root: int) -> float:
    """Resident memory of a process and all its descendants, MiB."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        pid = int(stat.parent.name)
        children.setdefault(int(fields[1]), []).append(pid)
        rss[pid] = int(fields[21])
    total, stack = 0, [root]
    while stack:
        pid = stack.pop()
        total += rss.get(pid, 0)
        stack += children.get(pid, [])
    return total * os.sysconf("SC_PAGE_SIZE") / 2**20


def timed(
    command: list[str], cwd: Path, environment: dict[str, str], limit: float | None = None
) -> tuple[float | None, float]:
    """(seconds, peak MiB of the process tree) of a command that must succeed; (None, peak)
    when it ran past `limit` seconds and was stopped."""
    started = time.perf_counter()
    process = subprocess.Popen(
        command, cwd=cwd, env=environment, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    peak = 0.0
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.wait(0.2):
            peak = max(peak, tree_rss_mib(process.pid))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        output, _ = process.communicate(timeout=limit)
    except subprocess.TimeoutExpired:
        process.terminate()
        process.communicate()
        done.set()
        sampler.join()
        return None, peak
    done.set()
    sampler.join()
    elapsed = time.perf_counter() - started
    if process.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed:\n{output.decode()[-4000:]}")
    return elapsed, peak


def measure(clients: int, *, skip_checkpoints: bool, limit: float | None) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="mtls-bench-engine-") as scratch:
        root = Path(scratch)
        program = project_program(
            root,
            config_with_clients(clients),
            stack="bench",
            provider_config={"kubernetes:renderYamlToDirectory": str(root / "rendered")},
        )
        extra = {"PULUMI_SKIP_CHECKPOINTS": "true"} if skip_checkpoints else {}
        engine = new_engine(root, program, "bench", **extra)
        pulumi = ["pulumi", "--non-interactive"]
        up = timed(
            [*pulumi, "up", "--yes", "--skip-preview"], engine.program, engine.environment, limit
        )
        preview: tuple[float | None, float] = (None, 0.0)
        if up[0] is not None:
            preview = timed(
                [*pulumi, "preview", "--expect-no-changes"], engine.program, engine.environment
            )
        exported = engine.run("stack", "export").stdout
        resources = len(json.loads(exported)["deployment"]["resources"])
    return {
        "clients": clients,
        "resources": resources,
        "skip_checkpoints": skip_checkpoints,
        "up_seconds": up[0],
        "up_peak_mib": up[1],
        "preview_seconds": preview[0],
        "preview_peak_mib": preview[1],
        "state_mib": len(exported) / 2**20,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("clients", type=int)
    parser.add_argument("--skip-checkpoints", action="store_true")
    parser.add_argument("--limit", type=float, help="stop an up that runs longer, in seconds")
    arguments = parser.parse_args()
    result = measure(
        arguments.clients, skip_checkpoints=arguments.skip_checkpoints, limit=arguments.limit
    )
    print(json.dumps(result))


if __name__ == "__main__":
    sys.exit(main())
