"""Interrupted runs on a file backend, with the real CLI: a `pulumi up` killed while it holds
the stack's lock, a checkpoint whose metadata file was left empty, and two updates at once; and
the deploy workflow's own command, `python -m components.recovery up`, against each.

The lock is genuine: a `pulumi up` of the engine tests' program is held in the program (it waits
for a file the test writes) and its whole process session is killed with SIGKILL, as a lost
runner's would be."""

from __future__ import annotations

import json
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from localkube.engine import Engine, copy_program, new_engine
from localkube.faults import kill_session
from support.pki_material import make_authority

STACK = "dev"
PROJECT = "mtls-ingress-revocation"
WORKFLOW = "acme/payments/.github/workflows/deploy.yml"
# Put before the program: once HOLD_MARKER is set, the program writes it and waits for
# HOLD_RELEASE, so that the update holds the stack's lock for as long as the test needs.
HOLD = """\
import os as _os
import time as _time
from pathlib import Path as _Path

if _os.environ.get("HOLD_MARKER"):
    _Path(_os.environ["HOLD_MARKER"]).write_text(str(_os.getpid()))
    _deadline = _time.monotonic() + 300
    while not _Path(_os.environ["HOLD_RELEASE"]).exists() and _time.monotonic() < _deadline:
        _time.sleep(0.1)
"""


@dataclass
class Deployed:
    engine: Engine
    state: Path

    @property
    def locks(self) -> list[Path]:
        directory = self.state / ".pulumi" / "locks" / "organization" / PROJECT / STACK
        return sorted(directory.glob("*.json")) if directory.exists() else []

    @property
    def checkpoint(self) -> Path:
        return self.state / ".pulumi" / "stacks" / PROJECT / f"{STACK}.json"

    def resources(self) -> list[dict[str, Any]]:
        """The stack's resources as the state holds them, by URN, secrets decrypted (their
        ciphertext changes on every write, the order with the order steps end in): what an
        update without changes leaves as it was."""
        exported = json.loads(self.engine.run("stack", "export", "--show-secrets").stdout)
        resources = [
            {key: resource.get(key) for key in ("urn", "id", "inputs", "outputs")}
            for resource in exported["deployment"]["resources"]
        ]
        return sorted(resources, key=lambda resource: str(resource["urn"]))

    def recovery(self, *arguments: str, **environment: str) -> subprocess.CompletedProcess[str]:
        """`python -m components.recovery ARGUMENTS` in the program's folder, as a step runs it."""
        return subprocess.run(
            [sys.executable, "-m", "components.recovery", *arguments],
            cwd=self.engine.program,
            env={**self.engine.environment, **environment},
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )

    def record_previous_run(self, host: str) -> None:
        """The deployer tag a previous run of the deploy workflow on `host` leaves."""
        value = f"{host} run 41.1 of {WORKFLOW}"
        self.engine.run("stack", "tag", "set", "mtls-ingress:deployer", value)


class HeldUpdate:
    """A `pulumi up` in a process session of its own, held inside the program."""

    def __init__(self, deployed: Deployed, scratch: Path) -> None:
        self.marker, self.release = scratch / "held", scratch / "release"
        self.log = scratch / "held-up.log"
        with self.log.open("w") as log:
            self.process = subprocess.Popen(
                ["pulumi", "--non-interactive", "up", "--yes", "--skip-preview"],
                cwd=deployed.engine.program,
                env={
                    **deployed.engine.environment,
                    "HOLD_MARKER": str(self.marker),
                    "HOLD_RELEASE": str(self.release),
                },
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + 300
        while not self.marker.exists():
            assert self.process.poll() is None, self.log.read_text()
            assert time.monotonic() < deadline, "the update never reached the program"
            time.sleep(0.1)

    def kill(self) -> None:
        """SIGKILL every process of the update's session, as a runner that is lost."""
        kill_session(self.process)

    def finish(self) -> int:
        self.release.write_text("")
        return self.process.wait(timeout=600)


@pytest.fixture
def deployed(tmp_path: Path) -> Iterator[Deployed]:
    program = copy_program(Path(__file__).with_name("revocation_program"), tmp_path / "program")
    main = program / "__main__.py"
    main.write_text(HOLD + main.read_text())
    engine = new_engine(tmp_path, program, STACK)
    authority = make_authority("Lost Runner CA")
    engine.run("config", "set", "caCertificate", "--", authority.certificate_pem)
    engine.run("config", "set", "--secret", "caPrivateKey", "--", authority.private_key_pem)
    engine.run("up", "--yes", "--skip-preview")
    yield Deployed(engine, tmp_path / "state")
    engine.run("cancel", "--yes", check=False)


@pytest.fixture
def killed(deployed: Deployed, tmp_path: Path) -> Deployed:
    """The stack after a `pulumi up` was killed in the middle: locked by it."""
    held = HeldUpdate(deployed, tmp_path)
    held.kill()
    assert len(deployed.locks) == 1
    return deployed


def _set_lock_host(deployed: Deployed, host: str) -> dict[str, Any]:
    (path,) = deployed.locks
    lock: dict[str, Any] = json.loads(path.read_text())
    lock["hostname"] = host
    path.write_text(json.dumps(lock))
    return lock


def _workflow_run(number: int) -> dict[str, str]:
    return {
        "GITHUB_RUN_ID": str(number),
        "GITHUB_RUN_ATTEMPT": "1",
        "GITHUB_WORKFLOW_REF": f"{WORKFLOW}@refs/heads/main",
    }


def _described(lock: dict[str, Any]) -> str:
    return f"{lock['username']}@{lock['hostname']} (pid {lock['pid']}) at "


def test_a_killed_update_leaves_the_stack_locked(killed: Deployed) -> None:
    (path,) = killed.locks
    lock = json.loads(path.read_text())
    assert lock["hostname"] == socket.gethostname()
    refresh = killed.engine.run("refresh", "--yes", "--skip-preview", check=False)
    assert refresh.returncode != 0
    assert "the stack is currently locked by 1 lock(s)" in refresh.stderr
    killed.engine.run("preview")  # a preview takes no lock
    refused = killed.engine.run("up", "--yes", "--skip-preview", check=False)
    assert refused.returncode != 0
    output = refused.stdout + refused.stderr
    assert (
        "the stack is currently locked by 1 lock(s). Either wait for the other process(es) to "
        "end or delete the lock file with `pulumi cancel`."
    ) in output
    # The lock's URL (with the backend's query string), its owner, pid and time.
    assert re.search(
        rf"\n  file://{re.escape(str(path))}\?no_tmp_dir=true: created by "
        rf"{re.escape(_described(lock))}\d{{4}}-\d\d-\d\dT\d\d:\d\d:\d\d\S*\n",
        output,
    ), output


def test_pulumi_cancel_then_up_recovers_by_hand(killed: Deployed) -> None:
    before = killed.resources()
    killed.engine.run("cancel", "--yes")
    assert killed.locks == []
    killed.engine.run("up", "--yes", "--skip-preview")
    assert killed.resources() == before


@pytest.mark.parametrize(
    "previous_host",
    [
        pytest.param(None, id="this host, its pid gone"),
        pytest.param("fv-az101-7", id="the previous run's runner, elsewhere"),
    ],
)
def test_the_workflow_clears_the_lock_of_its_own_killed_run(
    killed: Deployed, previous_host: str | None
) -> None:
    before = killed.resources()
    host = previous_host or socket.gethostname()
    lock = _set_lock_host(killed, host)
    killed.record_previous_run(host)
    completed = killed.recovery("up", "--stack", STACK, "--", "--skip-preview", **_workflow_run(42))
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert (
        f"cleared the lock of {STACK} left by a run of this workflow that is no longer running: "
        f"{_described(lock)}"
    ) in completed.stdout
    assert killed.locks == []
    assert killed.resources() == before
    tags = json.loads(killed.engine.run("stack", "tag", "ls", "--json").stdout)
    assert tags["mtls-ingress:deployer"] == f"{socket.gethostname()} run 42.1 of {WORKFLOW}"


@pytest.mark.parametrize(
    ("lock_host", "recorded_host"),
    [
        pytest.param("laptop-42", None, id="lock from a host no run of the workflow used"),
        pytest.param(None, "fv-az101-7", id="the previous run was on another host"),
    ],
)
def test_the_workflow_never_breaks_a_lock_it_cannot_prove_dead(
    killed: Deployed, lock_host: str | None, recorded_host: str | None
) -> None:
    before = killed.resources()
    lock = _set_lock_host(killed, lock_host or socket.gethostname())
    killed.record_previous_run(recorded_host or socket.gethostname())
    (path,) = killed.locks
    completed = killed.recovery("up", "--stack", STACK, "--", "--skip-preview", **_workflow_run(42))
    assert completed.returncode != 0
    assert "cleared the lock" not in completed.stdout
    assert f"the stack {STACK} is locked; no lock was removed" in completed.stderr
    assert _described(lock) in completed.stderr
    assert f"pulumi cancel --yes --stack {STACK}" in completed.stderr
    assert killed.locks == [path]
    assert killed.resources() == before


def test_run_by_hand_the_command_clears_no_lock(killed: Deployed) -> None:
    killed.record_previous_run(socket.gethostname())
    completed = killed.recovery("up", "--stack", STACK, "--", "--skip-preview")
    assert completed.returncode != 0
    assert "are not both runs of one workflow" in completed.stderr
    assert len(killed.locks) == 1


def test_an_empty_checkpoint_metadata_file_is_repaired(deployed: Deployed) -> None:
    before = deployed.resources()
    attrs = deployed.checkpoint.with_name(deployed.checkpoint.name + ".attrs")
    assert attrs.stat().st_size > 0
    attrs.write_bytes(b"")  # as a kill in the middle of a checkpoint write leaves it
    # Every command fails, `pulumi cancel` as well; `stack ls` says only "EOF".
    for command in (("stack", "ls"), ("cancel", "--yes"), ("up", "--yes", "--skip-preview")):
        broken = deployed.engine.run(*command, check=False)
        assert broken.returncode != 0, command
        assert "error: " in broken.stderr and "EOF" in broken.stderr, command
    assert "failed to load checkpoint: EOF" in broken.stderr

    repaired = deployed.recovery("repair")
    assert repaired.returncode == 0, repaired.stderr
    assert repaired.stdout.splitlines() == [
        f"repaired {deployed.checkpoint}: removed its empty metadata file {attrs.name}, left by "
        "an interrupted write (the file reads the same without it)"
    ]
    assert not attrs.exists()
    deployed.engine.run("stack", "ls")
    deployed.engine.run("preview", "--expect-no-changes")
    deployed.engine.run("up", "--yes", "--skip-preview")
    assert deployed.resources() == before
    again = deployed.recovery("repair")
    assert again.stdout.startswith("nothing needed repair in ")


def test_the_workflows_command_repairs_before_its_update(deployed: Deployed) -> None:
    before = deployed.resources()
    attrs = deployed.checkpoint.with_name(deployed.checkpoint.name + ".attrs")
    attrs.write_bytes(b"")
    completed = deployed.recovery(
        "up", "--stack", STACK, "--", "--skip-preview", **_workflow_run(42)
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert completed.stdout.startswith(f"repaired {deployed.checkpoint}: ")
    assert deployed.resources() == before


def test_repair_never_touches_a_non_empty_metadata_file(deployed: Deployed) -> None:
    attrs = deployed.checkpoint.with_name(deployed.checkpoint.name + ".attrs")
    content = attrs.read_bytes()
    completed = deployed.recovery("repair", "--stack", STACK)
    assert completed.stdout.startswith("nothing needed repair in ")
    assert attrs.read_bytes() == content


def test_of_two_updates_at_once_one_runs_and_the_other_is_refused(
    deployed: Deployed, tmp_path: Path
) -> None:
    before = deployed.resources()
    held = HeldUpdate(deployed, tmp_path)
    try:
        (path,) = deployed.locks
        lock = json.loads(path.read_text())
        second = deployed.engine.run("up", "--yes", "--skip-preview", check=False)
        assert second.returncode != 0
        output = second.stdout + second.stderr
        assert "the stack is currently locked by 1 lock(s)" in output
        assert f"created by {_described(lock)}" in output
        assert deployed.resources() == before
        assert deployed.locks == [path]

        # The workflow's command sees the same: the lock's pid still runs on this host.
        deployed.record_previous_run(socket.gethostname())
        workflow = deployed.recovery(
            "up", "--stack", STACK, "--", "--skip-preview", **_workflow_run(42)
        )
        assert workflow.returncode != 0
        assert f"pid {lock['pid']} is still running on this host" in workflow.stderr
        assert deployed.locks == [path]
    finally:
        status = held.finish()
    assert status == 0, held.log.read_text()
    assert deployed.locks == []
    assert deployed.resources() == before
