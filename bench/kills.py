"""Lost runners at random moments: `python -m bench.kills [--rounds N] [--backend KIND]`.

Each round creates the committed `local` stack (as a new stack, in a namespace of its own) on
a throwaway API server, kills `pulumi up` with every process it started at a random moment of
its run, and recovers as README "When a run is interrupted" says (`python -m
components.recovery repair` if the state reads "failed to load checkpoint", `pulumi cancel`,
`python -m components.recovery up`). Then it checks what the engine tests check after their
fixed kill points: a clean second preview, no operation left pending, exactly the objects of
the state in the namespace, and the CA keys that the killed run had stored. Each round ends
with `pulumi destroy`.

Prints JSON: the rounds, the kills that left creates pending, the states left unreadable (and
repaired), the recoveries that converged, the objects left in the cluster outside the state,
and the CA keys that changed.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from localkube.backends import BACKEND_KINDS, state_backend
from localkube.cluster import LocalCluster
from localkube.engine import Engine, new_engine, toolchain_bin
from localkube.faults import (
    LOCAL,
    cluster_objects,
    kill_session,
    local_program,
    pending_operations,
    recover,
    start_up,
    state_objects,
    stored_ca_keys,
)
from localkube.objects import cluster_with_ingress_nginx, install_backend

BACKEND = LOCAL["mtls-ingress:ingress"]["backend"]
UNREADABLE = "failed to load checkpoint"


def one_round(
    engine: Engine, cluster: LocalCluster, namespace: str, delay: float
) -> dict[str, Any]:
    """Creates the stack, kills the run after `delay` seconds, recovers and checks."""
    process = start_up(engine)
    time.sleep(delay)
    finished_first = process.poll() is not None
    kill_session(process)
    exported = engine.run("stack", "export", check=False)
    unreadable = exported.returncode != 0 and UNREADABLE in exported.stdout + exported.stderr
    if unreadable:
        engine.execute([sys.executable, "-m", "components.recovery", "repair"])
    repaired = unreadable and engine.run("stack", "export", check=False).returncode == 0
    pending = bool(pending_operations(engine))
    keys = stored_ca_keys(engine)
    failure = ""
    try:
        recover(engine)
        engine.run("preview", "--expect-no-changes")
    except AssertionError as error:
        failure = str(error)[-2000:]
    client = cluster.client()
    leaked = cluster_objects(client, namespace) - state_objects(engine)
    after = stored_ca_keys(engine)
    changed = [name for name, key in keys.items() if after.get(name) != key]
    engine.run("destroy", "--yes", "--skip-preview", check=False)
    return {
        "delay": round(delay, 2),
        "finished_before_the_kill": finished_first,
        "pending": pending,
        "unreadable": unreadable,
        "repaired": repaired,
        "recovered": not failure and not pending_operations(engine),
        "failure": failure,
        "leaked": sorted(f"{kind}/{name}" for kind, name in leaked),
        "keys_changed": changed,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=12)
    parser.add_argument("--backend", choices=BACKEND_KINDS, default="file")
    parser.add_argument("--seed", type=int, default=1)
    arguments = parser.parse_args()
    chance = random.Random(arguments.seed)
    bin_directory = toolchain_bin()
    rounds = []
    duration = 0.0
    with (
        tempfile.TemporaryDirectory(prefix="mtls-ingress-kills-") as folder,
        cluster_with_ingress_nginx(bin_directory, Path(folder) / "cluster") as cluster,
        state_backend(arguments.backend, Path(folder) / "backend", bin_directory) as backend,
    ):
        root, client = Path(folder), cluster.client()
        for index in range(arguments.rounds + 1):
            namespace = stack = f"kills-{index}"
            install_backend(client, namespace, BACKEND["service"], int(BACKEND["port"]))
            home = root / stack
            home.mkdir()
            engine = new_engine(
                home,
                local_program(home, stack, namespace),
                stack,
                backend=backend,
                KUBECONFIG=str(cluster.kubeconfig),
            )
            if index == 0:
                # How long an uninterrupted creation takes: kills fall anywhere in it.
                started = time.perf_counter()
                engine.run("up", "--yes", "--skip-preview")
                duration = time.perf_counter() - started
                engine.run("destroy", "--yes", "--skip-preview")
                continue
            delay = chance.uniform(0.5, duration)
            rounds.append(one_round(engine, cluster, namespace, delay))
            print(json.dumps(rounds[-1]), file=sys.stderr, flush=True)
    print(
        json.dumps(
            {
                "backend": arguments.backend,
                "rounds": len(rounds),
                "creation_seconds": round(duration, 1),
                "left_creates_pending": sum(bool(r["pending"]) for r in rounds),
                "left_unreadable": sum(r["unreadable"] for r in rounds),
                "repaired": sum(r["repaired"] for r in rounds),
                "recovered": sum(r["recovered"] for r in rounds),
                "objects_leaked": sum(len(r["leaked"]) for r in rounds),
                "ca_keys_changed": sum(len(r["keys_changed"]) for r in rounds),
            }
        )
    )


if __name__ == "__main__":
    main()
