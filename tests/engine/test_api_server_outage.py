"""The Kubernetes API server goes away in the middle of an update (a control plane upgrade, a
restart) and comes back: the run fails with a message that says the cluster could not be
reached, leaves the stack unlocked, and the next run converges with nothing lost.

The API server of this module is its own: the session's cluster serves the other tests."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from localkube.cluster import LocalCluster
from localkube.engine import Engine, new_engine, toolchain_bin
from localkube.faults import (
    LOCAL,
    assert_converged,
    ca_keys,
    kill_session,
    local_program,
    start_up,
)
from localkube.objects import cluster_with_ingress_nginx, install_backend

BACKEND = LOCAL["mtls-ingress:ingress"]["backend"]
NAMESPACE = "outage"
# The CRL is signed again once the revocation is in the config; the client CA Secret, the next
# step, needs the API server, which goes away meanwhile.
CRL_SIGNING = re.compile(r"SignedCrl \S+ updating")


@dataclass
class Deployed:
    engine: Engine
    cluster: LocalCluster


@pytest.fixture(scope="module")
def deployed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployed]:
    root = tmp_path_factory.mktemp("outage")
    with cluster_with_ingress_nginx(toolchain_bin(), root / "cluster") as cluster:
        install_backend(cluster.client(), NAMESPACE, BACKEND["service"], int(BACKEND["port"]))
        engine = new_engine(
            root,
            local_program(root, "outage", NAMESPACE),
            "outage",
            KUBECONFIG=str(cluster.kubeconfig),
        )
        engine.run("up", "--yes", "--skip-preview")
        yield Deployed(engine, cluster)
        engine.run("destroy", "--yes", "--skip-preview", check=False)


def test_an_update_whose_api_server_goes_away_fails_clearly_and_the_next_run_converges(
    deployed: Deployed,
) -> None:
    engine, cluster = deployed.engine, deployed.cluster
    keys = ca_keys(engine)
    engine.run("config", "set", "--path", "mtls-ingress:pki.clients[1].revoked", "true")

    process = start_up(engine)
    assert process.stdout is not None
    output = []
    stopped = False
    try:
        for line in process.stdout:
            output.append(line)
            if not stopped and CRL_SIGNING.search(line):
                cluster.stop_api_server()
                stopped = True
        process.wait(timeout=600)
    except BaseException:
        kill_session(process)
        raise
    finally:
        if "kube-apiserver" not in cluster.processes:
            cluster.start_api_server()
    text = "".join(output)
    assert stopped, text
    assert process.returncode != 0, text
    # The provider says which server it could not reach, and why.
    assert cluster.server.removeprefix("https://") in text, text
    assert "connection refused" in text, text

    # The failed run released its lock: the next run needs no `pulumi cancel`.
    engine.run("up", "--yes", "--skip-preview")
    client = cluster.client()
    assert_converged(engine, client, NAMESPACE)
    assert ca_keys(engine) == keys
    assert set(engine.outputs()["revokedClientSerials"]) == {"legacy-batch", "reporting"}
