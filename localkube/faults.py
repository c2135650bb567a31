"""Faults as users meet them, for the engine tests and bench.kills: a `pulumi up` killed with
every process it started (a lost CI runner), at a moment read from the API server's watch (or at
any moment: bench.kills); the recovery README "When a run is interrupted" describes; and what a
recovered stack must look like afterwards."""

from __future__ import annotations

import copy
import http.client
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from localkube.cluster import ApiClient
from localkube.engine import PROJECT_DIR, Engine, exported_state, project_program
from localkube.processes import session_processes
from localkube.state import key_pair

LOCAL = yaml.safe_load((PROJECT_DIR / "Pulumi.local.yaml").read_text())["config"]
PREFIX = "mtls-ingress:"
OWNED_BY_STACK = "app.kubernetes.io/part-of=mtls-ingress"
CAS = ("mtls-ingress-server-ca", "mtls-ingress-client-ca")
KILL_TIMEOUT_SECONDS = 300


def local_config() -> dict[str, Any]:
    """The committed `local` stack's `mtls-ingress:` config, without the prefix: a copy of its
    own, for a test to change."""
    return {key.removeprefix(PREFIX): copy.deepcopy(value) for key, value in LOCAL.items()}


def local_program(root: Path, stack: str, namespace: str) -> Path:
    """The committed `local` stack's program and config, as stack `stack` in `namespace`."""
    return project_program(root, local_config() | {"namespace": namespace}, stack=stack)


def start_up(engine: Engine, *arguments: str, wrapper: Sequence[str] = ()) -> subprocess.Popen[str]:
    """`pulumi up --yes` in a process session of its own, as a CI runner starts it."""
    return subprocess.Popen(
        [*wrapper, "pulumi", "--non-interactive", "up", "--yes", "--skip-preview", *arguments],
        cwd=engine.program,
        env=engine.environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )


def kill_session(process: subprocess.Popen[Any]) -> None:
    """SIGKILL to a process started with `start_new_session` and everything it started (the
    language host, the program, the provider plugins), as when a runner's machine goes
    away."""
    for _ in range(3):  # a process may start another while the first ones are killed
        for pid in session_processes(process.pid):
            with suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
    process.wait(timeout=60)
    deadline = time.monotonic() + 10
    while session_processes(process.pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not session_processes(process.pid), "a process of the killed run is still alive"


@dataclass
class Kill:
    """What a killed run had done when it was killed."""

    event: tuple[str, str, str] | None = None
    """(watch event type, kind, name) that triggered the kill; None if the run ended first."""
    output: str = ""
    exit_code: int | None = None
    seen: list[tuple[str, str, str]] = field(default_factory=list)


Trigger = Callable[[str, str, dict[str, Any]], bool]


def added(kind: str) -> Trigger:
    """The first `kind` object (Secret, ConfigMap, Ingress) the stack's run creates."""
    return lambda event, seen_kind, _obj: event == "ADDED" and seen_kind == kind


def modified(kind: str, name: str | None = None) -> Trigger:
    """The first change to an existing object of `kind` (named `name`)."""
    return lambda event, seen_kind, obj: (
        event == "MODIFIED"
        and seen_kind == kind
        and (name is None or obj["metadata"]["name"] == name)
    )


COLLECTIONS = {
    "Secret": "/api/v1/namespaces/{namespace}/secrets",
    "ConfigMap": "/api/v1/namespaces/{namespace}/configmaps",
    "Ingress": "/apis/networking.k8s.io/v1/namespaces/{namespace}/ingresses",
}


def up_killed_at(
    engine: Engine,
    client: ApiClient,
    namespace: str,
    trigger: Trigger | None = None,
    *,
    at_output: str | None = None,
    wrapper: Sequence[str] = (),
) -> Kill:
    """Runs `pulumi up` and kills its process session the moment the API server reports the
    event `trigger` accepts, read from watches on the namespace's objects (not polled: the
    window between an object's creation and the engine's checkpoint is milliseconds), or the
    moment the run prints a line that matches the regular expression `at_output`."""
    kill = Kill()
    fired = threading.Event()
    pattern = re.compile(at_output) if at_output else None
    with _watches(client, namespace) as streams:
        process = start_up(engine, wrapper=wrapper)

        def fire(seen: tuple[str, str, str]) -> None:
            if not fired.is_set():
                fired.set()
                kill.event = seen
                kill_session(process)

        def watch(kind: str, lines: Iterator[bytes]) -> None:
            try:
                for line in lines:
                    event = json.loads(line)
                    seen = (event["type"], kind, event["object"]["metadata"]["name"])
                    kill.seen.append(seen)
                    if trigger is not None and trigger(event["type"], kind, event["object"]):
                        fire(seen)
            except (OSError, ValueError, AttributeError, http.client.HTTPException):
                return  # the watch was shut down

        readers = [
            threading.Thread(target=watch, args=(kind, lines), daemon=True)
            for kind, lines in streams.items()
        ]
        for reader in readers:
            reader.start()
        assert process.stdout is not None
        output = []
        deadline = time.monotonic() + KILL_TIMEOUT_SECONDS
        for line in process.stdout:
            output.append(line)
            if pattern is not None and pattern.search(line):
                fire(("output", "", line.strip()))
            if time.monotonic() > deadline:
                fire(("timeout", "", ""))
        process.wait(timeout=60)
        kill.output = "".join(output)
        kill.exit_code = process.returncode
    return kill


@contextmanager
def _watches(client: ApiClient, namespace: str) -> Iterator[dict[str, Iterator[bytes]]]:
    connections = []
    streams: dict[str, Iterator[bytes]] = {}
    try:
        for kind, template in COLLECTIONS.items():
            collection = template.format(namespace=namespace)
            version = client.get(collection)["metadata"]["resourceVersion"]
            connection, response = client.stream(
                f"{collection}?watch=true&resourceVersion={version}&labelSelector={OWNED_BY_STACK}"
            )
            connections.append(connection)
            streams[kind] = iter(response)
        yield streams
    finally:
        for connection in connections:
            # Shutting the socket down ends a read blocked in a reader thread; close() alone
            # would wait for it.
            if connection.sock is not None:
                with suppress(OSError):
                    connection.sock.shutdown(socket.SHUT_RDWR)
            connection.close()


def pending_operations(engine: Engine) -> list[tuple[str, str]]:
    """(type, resource type) of each operation the state holds as begun but not finished."""
    deployment = json.loads(exported_state(engine))["deployment"]
    return [
        (operation["type"], operation["resource"]["type"])
        for operation in deployment.get("pending_operations") or []
    ]


def repair(engine: Engine) -> str:
    """`python -m components.recovery repair`: what a kill in the middle of a checkpoint write
    leaves (every command fails "failed to load checkpoint: EOF") repaired; its report."""
    return engine.execute([sys.executable, "-m", "components.recovery", "repair"]).stdout


def unlock(engine: Engine) -> None:
    """After a lost run, as the README says: repair the state if a command says it cannot load
    it, then remove the dead run's lock."""
    repair(engine)
    engine.run("cancel", "--yes")


def recover(engine: Engine, *, wrapper: Sequence[str] = ()) -> subprocess.CompletedProcess[str]:
    """What README "When a run is interrupted" says to do after a lost run: repair the state
    if needed, remove the dead run's lock, then `python -m components.recovery up`, which runs
    `pulumi up` and settles the creates the killed run left pending."""
    unlock(engine)
    stack = engine.run("stack", "--show-name").stdout.strip()
    completed = engine.execute(
        [*wrapper, sys.executable, "-m", "components.recovery", "up", "--stack", stack]
    )
    return completed


def state_objects(engine: Engine) -> set[tuple[str, str]]:
    """(kind, name) of every Kubernetes object of a namespace that the state holds."""
    deployment = json.loads(exported_state(engine))["deployment"]
    held = set()
    for resource in deployment.get("resources") or []:
        kind = resource["type"].rsplit(":", 1)[-1]
        if resource["type"].startswith("kubernetes:") and kind in COLLECTIONS:
            held.add((kind, resource["outputs"]["metadata"]["name"]))
    return held


def cluster_objects(client: ApiClient, namespace: str) -> set[tuple[str, str]]:
    """(kind, name) of every object of the stack's labels in `namespace`."""
    return {
        (kind, item["metadata"]["name"])
        for kind, template in COLLECTIONS.items()
        for item in client.get(
            f"{template.format(namespace=namespace)}?labelSelector={OWNED_BY_STACK}"
        )["items"]
    }


def ca_keys(engine: Engine) -> dict[str, str]:
    """The private keys of the stack's CAs, from its state."""
    exported = exported_state(engine)
    return {name: key_pair(exported, name)[1] for name in CAS}


def stored_ca_keys(engine: Engine) -> dict[str, str]:
    """The private keys of those of the stack's CAs that its state holds already."""
    exported = exported_state(engine)
    keys = {}
    for name in CAS:
        with suppress(KeyError):
            keys[name] = key_pair(exported, name)[1]
    return keys


def assert_converged(engine: Engine, client: ApiClient, namespace: str) -> None:
    """A second preview is clean, no operation is left pending, and the cluster holds exactly
    the objects the state holds."""
    engine.run("preview", "--expect-no-changes")
    assert pending_operations(engine) == [], pending_operations(engine)
    assert cluster_objects(client, namespace) == state_objects(engine)
