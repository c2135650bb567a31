"""Runs that die as they die in real life, on every state backend the project supports (a
folder, an S3-compatible object store, PostgreSQL), against the local API server: `pulumi up`
SIGKILLed with its whole process group (a lost CI runner) while a new stack is created, while a
revocation rewrites the client CA Secret and while a renewal replaces the server's key, and two
`pulumi up` of one stack at once.

After each fault the stack is recovered exactly as README "When a run is interrupted" says, and
then: the recovery converges, a second preview is clean, no object is left in the cluster that
the state does not hold (not even from a kill the moment the first Secret reached the API
server, when the state holds its create as pending), the CA keys are the ones from before, and
a revoked client's serial is listed.

The tests of one backend run in order on one stack, as an operator's runs would."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
from cryptography import x509

from localkube.backends import BACKEND_KINDS, BackendKind, StateBackend
from localkube.cluster import ApiClient, LocalCluster
from localkube.engine import Engine, new_engine
from localkube.faults import (
    LOCAL,
    added,
    assert_converged,
    ca_keys,
    kill_session,
    local_program,
    modified,
    pending_operations,
    recover,
    repair,
    start_up,
    stored_ca_keys,
    unlock,
    up_killed_at,
)
from localkube.objects import install_backend, read_secret
from tests.engine.conftest import backend_for

BACKEND = LOCAL["mtls-ingress:ingress"]["backend"]
CLIENTS = [client["name"] for client in LOCAL["mtls-ingress:pki"]["clients"]]
LOCKED = "the stack is currently locked"
UNREADABLE = "failed to load checkpoint"
SECRET = "kubernetes:core/v1:Secret"


def _faketime(days: int) -> list[str]:
    return [shutil.which("faketime") or "faketime", "-f", f"+{days}d"]


@dataclass
class Story:
    """One stack's life on one backend, carried from test to test."""

    kind: BackendKind
    engine: Engine
    client: ApiClient
    namespace: str
    keys: dict[str, str] = field(default_factory=dict)

    def revoke(self, client: str) -> None:
        index = CLIENTS.index(client)
        self.engine.run(
            "config", "set", "--path", f"mtls-ingress:pki.clients[{index}].revoked", "true"
        )

    def revoked_serials_listed(self) -> dict[str, bool]:
        """Per revoked client: whether the deployed client CA Secret's CRL lists its serial."""
        outputs = self.engine.outputs()
        secret = read_secret(self.client, self.namespace, outputs["secretNames"]["clientCa"])
        listed = {
            entry.serial_number
            for crl in re.findall(
                r"-----BEGIN X509 CRL-----.*?-----END X509 CRL-----",
                secret["stringData"]["ca.crl"],
                re.DOTALL,
            )
            for entry in x509.load_pem_x509_crl(crl.encode())
        }
        return {
            name: int(serial) in listed for name, serial in outputs["revokedClientSerials"].items()
        }


@pytest.fixture(scope="module", params=BACKEND_KINDS)
def story(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    cluster: LocalCluster,
    state_backends: dict[BackendKind, StateBackend],
) -> Iterator[Story]:
    kind: BackendKind = request.param
    root = tmp_path_factory.mktemp(f"interrupted-{kind}")
    namespace = f"interrupted-{kind}"
    stack = f"interrupted-{kind}"
    client = cluster.client()
    install_backend(client, namespace, BACKEND["service"], int(BACKEND["port"]))
    engine = new_engine(
        root,
        local_program(root, stack, namespace),
        stack,
        backend=backend_for(state_backends, kind, root),
        KUBECONFIG=str(cluster.kubeconfig),
    )
    yield Story(kind, engine, client, namespace)
    engine.run("cancel", "--yes", check=False)
    engine.run("destroy", "--yes", "--skip-preview", check=False)
    engine.run("stack", "rm", "--yes", "--force", check=False)


def test_a_new_stack_killed_at_three_points_converges_and_leaves_nothing_behind(
    story: Story,
) -> None:
    engine = story.engine
    # 1. Half-way through the PKI, once the first leaf is signed: nothing in the cluster yet.
    kill = up_killed_at(
        engine, story.client, story.namespace, at_output=r"LocallySignedCert \S+ created"
    )
    assert kill.event is not None and kill.event[0] == "output", kill.output
    # A kill during a checkpoint write can leave the state unreadable until it is repaired;
    # then the stack stays locked until the dead run's lock is removed.
    refused = engine.run("up", "--yes", "--skip-preview", check=False)
    if UNREADABLE in refused.stderr:
        assert "repaired" in repair(engine)
        refused = engine.run("up", "--yes", "--skip-preview", check=False)
    assert refused.returncode != 0 and LOCKED in refused.stdout + refused.stderr
    keys = stored_ca_keys(engine)
    assert keys, "the killed run had stored no CA"
    unlock(engine)

    # 2. The moment the first Secret reaches the API server: the engine never heard back, so
    # the state holds its create as pending, and the next run drops it.
    kill = up_killed_at(engine, story.client, story.namespace, added("Secret"))
    assert kill.event is not None and kill.event[1] == "Secret", kill.output
    repair(engine)
    assert ("creating", SECRET) in pending_operations(engine)
    unlock(engine)

    # 3. The moment the Ingress reaches the API server, in the next attempt.
    kill = up_killed_at(engine, story.client, story.namespace, added("Ingress"))
    assert kill.event is not None and kill.event[1] == "Ingress", kill.output

    recovered = recover(engine)
    assert "settled the pending create of" in recovered.stdout, recovered.stdout
    assert_converged(engine, story.client, story.namespace)
    story.keys = ca_keys(engine)
    assert {name: story.keys[name] for name in keys} == keys


def test_a_revocation_killed_while_it_rewrites_the_client_ca_secret_is_listed_after_recovery(
    story: Story,
) -> None:
    story.revoke("reporting")
    kill = up_killed_at(story.engine, story.client, story.namespace, modified("Secret"))
    assert kill.event is not None, kill.output

    recover(story.engine)
    assert_converged(story.engine, story.client, story.namespace)
    assert story.revoked_serials_listed() == {"legacy-batch": True, "reporting": True}
    assert ca_keys(story.engine) == story.keys


def test_a_renewal_killed_while_it_rewrites_the_tls_secret_recovers_with_the_same_cas(
    story: Story,
) -> None:
    # 24 days on, the server certificate (30 days, renewed 7 before) and the CRLs are due. The
    # Python program and dynamic providers run later (faketime); the Go engine keeps real time.
    later = _faketime(24)
    served_before = story.engine.outputs()["serverCertificateChain"]
    server_tls = story.engine.outputs()["secretNames"]["serverTls"]
    kill = up_killed_at(
        story.engine, story.client, story.namespace, modified("Secret", server_tls), wrapper=later
    )
    assert kill.event is not None, kill.output

    recover(story.engine, wrapper=later)
    story.engine.run("preview", "--expect-no-changes", wrapper=later)
    assert pending_operations(story.engine) == []
    assert story.engine.outputs()["serverCertificateChain"] != served_before
    assert (
        read_secret(story.client, story.namespace, server_tls)["stringData"]["tls.crt"]
        == (story.engine.outputs()["serverCertificateChain"])
    )
    assert ca_keys(story.engine) == story.keys


def test_of_two_runs_at_once_one_runs_and_the_other_is_refused_with_nothing_lost(
    story: Story,
) -> None:
    story.revoke("checkout")
    first = start_up(story.engine)
    assert first.stdout is not None
    # The second starts once the first holds the lock (it prints the update's header then).
    header = [first.stdout.readline() for _ in range(2)]
    second = start_up(story.engine)
    try:
        second_output, _ = second.communicate(timeout=300)
        first_output = "".join(header) + first.communicate(timeout=300)[0]
    finally:
        for process in (first, second):
            if process.poll() is None:
                kill_session(process)
    assert first.returncode == 0, first_output
    assert second.returncode != 0 and LOCKED in second_output, second_output

    # The refused run took no lock and wrote nothing: there is nothing to recover.
    assert_converged(story.engine, story.client, story.namespace)
    assert story.revoked_serials_listed() == {
        "legacy-batch": True,
        "reporting": True,
        "checkout": True,
    }
    assert ca_keys(story.engine) == story.keys
