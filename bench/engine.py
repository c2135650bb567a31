"""The program under the real engine, with N clients, in render-to-directory mode
(`kubernetes:renderYamlToDirectory`: the Kubernetes objects are written as YAML files instead
of sent to a cluster), its state in a local folder or, with --backend, in an S3-compatible object
store (versitygw) or a PostgreSQL server started on 127.0.0.1 for the run:

1. `pulumi up` of a new stack (or, with --shards K, of the stack that holds the CAs, then K
   client shards of N/K clients each, then the CA stack again, listing them);
2. a no-change `pulumi preview` of every stack;
3. the `pulumi up` runs that revoke one client (with shards: the shard's, then the CA
   stack's, whose CRL lists it).

    python -m bench.engine 100 [--skip-checkpoints] [--shards K] [--limit SECONDS]
        [--backend file|s3|postgres]

Prints JSON: clients, shards, backend, resources, seconds of each phase (summed over the
stacks, and the slowest stack's preview), and the peak memory of the engine's process tree (the
CLI, the language host, the program and the provider plugins, summed; not the backend's
server). An `up` still running after --limit seconds is stopped and reported as `null` seconds
(nothing after it is measured).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from bench.evaluate import config_with_clients
from localkube.backends import BACKEND_KINDS, BackendKind, StateBackend, state_backend
from localkube.engine import Engine, new_engine, project_program, toolchain_bin


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


ISSUER = "organization/mtls-ingress/bench"


@dataclass
class Phase:
    """Seconds (None once a command was stopped) and peak MiB of a sequence of commands."""

    seconds: float | None = 0.0
    peak_mib: float = 0.0
    slowest: float = 0.0

    def add(self, measured: tuple[float | None, float]) -> bool:
        """Adds one command's figures; False once a command ran past its limit."""
        seconds, peak = measured
        self.peak_mib = max(self.peak_mib, peak)
        if seconds is None or self.seconds is None:
            self.seconds = None
            return False
        self.seconds += seconds
        self.slowest = max(self.slowest, seconds)
        return True


def _edit_config(engine: Engine, stack: str, edit: Callable[[dict[str, Any]], None]) -> None:
    """Changes the `mtls-ingress:` keys of a stack file in place."""
    path = engine.program / f"Pulumi.{stack}.yaml"
    document = yaml.safe_load(path.read_text())
    keys = {key.removeprefix("mtls-ingress:"): value for key, value in document["config"].items()}
    edit(keys)
    document["config"] = {
        (key if ":" in key else f"mtls-ingress:{key}"): value for key, value in keys.items()
    }
    path.write_text(yaml.safe_dump(document))


def _revoke_first(config: dict[str, Any]) -> None:
    config["pki"]["clients"][0]["revoked"] = True


def _main_stack(
    root: Path, clients: int, shards: int, skip_checkpoints: bool, state: StateBackend
) -> Engine:
    """The stack `bench` of the project's program, rendering to `root/rendered`: with all the
    clients, or, with shards, the CAs only (an empty list of shards at first)."""
    config = config_with_clients(0 if shards else clients)
    if shards:
        config["pki"]["clientShards"] = []
    program = project_program(
        root,
        config,
        stack="bench",
        provider_config={"kubernetes:renderYamlToDirectory": str(root / "rendered")},
    )
    extra = {"PULUMI_SKIP_CHECKPOINTS": "true"} if skip_checkpoints else {}
    return new_engine(root, program, "bench", backend=state, **extra)


def _shard_stacks(main: Engine, root: Path, names: list[str], clients: int) -> list[Engine]:
    """One stack per name, each the same project in a folder of its own with every
    len(names)-th client, issued by the CAs of the main stack (ISSUER)."""
    shards = []
    for index, name in enumerate(names):
        shard = Engine(root / name, main.environment)
        shutil.copytree(main.program, shard.program)
        (shard.program / "Pulumi.bench.yaml").unlink()
        members = config_with_clients(clients)["pki"]["clients"][index :: len(names)]
        document = {"issuerStack": ISSUER, "pki": {"clients": members}}
        stack_file = {"config": {f"mtls-ingress:{k}": v for k, v in document.items()}}
        (shard.program / f"Pulumi.{name}.yaml").write_text(yaml.safe_dump(stack_file))
        shard.run("stack", "init", name)
        shards.append(shard)
    return shards


@dataclass
class Phases:
    """The figures of `up`, no-change preview and revocation over all the stacks."""

    up: Phase
    preview: Phase
    revoke: Phase
    completed: bool
    """False once an `up` ran past its limit (nothing after it was measured)."""


def _phases(
    main: Engine, stacks: list[tuple[Engine, str]], names: list[str], limit: float | None
) -> Phases:
    """Every stack's `up` (with shards, then the main stack's again, listing them), every
    stack's no-change preview, and the revocation of one client (with shards, in the first
    shard, then the main stack's `up` that lists it in its CRL)."""

    def run(engine: Engine, *arguments: str) -> tuple[float | None, float]:
        command = ["pulumi", "--non-interactive", *arguments]
        return timed(command, engine.program, engine.environment, limit)

    up, preview, revoke = Phase(), Phase(), Phase()
    deploy = ["up", "--yes", "--skip-preview"]
    ok = all(up.add(run(engine, *deploy)) for engine, _ in stacks)
    if ok and names:
        _edit_config(
            main,
            "bench",
            lambda c: c["pki"].update(
                clientShards=[f"organization/mtls-ingress/{name}" for name in names]
            ),
        )
        ok = up.add(run(main, *deploy))
    if ok:
        for engine, _ in stacks:
            preview.add(run(engine, "preview", "--expect-no-changes"))
        revoking = stacks[1] if names else stacks[0]
        _edit_config(revoking[0], revoking[1], _revoke_first)
        if revoke.add(run(revoking[0], *deploy)) and names:
            revoke.add(run(main, *deploy))
    return Phases(up, preview, revoke, ok)


def measure(
    clients: int,
    *,
    skip_checkpoints: bool,
    shards: int,
    limit: float | None,
    backend: BackendKind = "file",
) -> dict[str, Any]:
    with (
        tempfile.TemporaryDirectory(prefix="mtls-bench-engine-") as scratch,
        state_backend(backend, Path(scratch) / "backend", toolchain_bin()) as state,
    ):
        root = Path(scratch)
        main = _main_stack(root, clients, shards, skip_checkpoints, state)
        names = [f"shard-{index:03d}" for index in range(shards)]
        shard_stacks = _shard_stacks(main, root, names, clients)
        stacks = [(main, "bench"), *zip(shard_stacks, names, strict=True)]
        phases = _phases(main, stacks, names, limit)
        exported = [json.loads(engine.run("stack", "export").stdout) for engine, _ in stacks]
    ok = phases.completed
    return {
        "clients": clients,
        "shards": shards,
        "backend": backend,
        "resources": sum(len(state["deployment"]["resources"]) for state in exported),
        "skip_checkpoints": skip_checkpoints,
        "up_seconds": phases.up.seconds,
        "up_peak_mib": phases.up.peak_mib,
        "preview_seconds": phases.preview.seconds if ok else None,
        "slowest_preview_seconds": phases.preview.slowest if ok else None,
        "preview_peak_mib": phases.preview.peak_mib,
        "revoke_seconds": phases.revoke.seconds if ok else None,
        "state_mib": sum(len(json.dumps(state)) for state in exported) / 2**20,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("clients", type=int)
    parser.add_argument("--skip-checkpoints", action="store_true")
    parser.add_argument("--shards", type=int, default=0, help="split the clients over K shards")
    parser.add_argument("--limit", type=float, help="stop an up that runs longer, in seconds")
    parser.add_argument(
        "--backend", choices=BACKEND_KINDS, default="file", help="where the state is kept"
    )
    arguments = parser.parse_args()
    result = measure(
        arguments.clients,
        skip_checkpoints=arguments.skip_checkpoints,
        shards=arguments.shards,
        limit=arguments.limit,
        backend=arguments.backend,
    )
    print(json.dumps(result))


if __name__ == "__main__":
    sys.exit(main())
