"""A Secret whose name its user chose (`secret_name`), under the real engine against the local
API server: created under that name, rewritten in place when its contents change (a watch sees
no deletion), and a clean second preview."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from localkube.cluster import LocalCluster
from localkube.engine import Engine, copy_program, new_engine
from localkube.objects import read_secret
from tests.engine.live import watching_secrets

NAMESPACE = "named-secret"


@pytest.fixture(scope="module")
def deployed(tmp_path_factory: pytest.TempPathFactory, cluster: LocalCluster) -> Iterator[Engine]:
    root = tmp_path_factory.mktemp("named-secret")
    program = copy_program(Path(__file__).with_name("named_secret_program"), root / "program")
    cluster.client().create(
        "/api/v1/namespaces",
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NAMESPACE}},
    )
    engine = new_engine(root, program, "test", KUBECONFIG=str(cluster.kubeconfig))
    engine.run("config", "set", "namespace", NAMESPACE)
    engine.run("config", "set", "authorities", "1")
    engine.run("up", "--yes", "--skip-preview")
    yield engine
    engine.run("destroy", "--yes", "--skip-preview", check=False)


def test_the_secret_has_the_name_its_user_chose(deployed: Engine, cluster: LocalCluster) -> None:
    assert deployed.outputs()["secretName"] == "team-client-ca"
    secret = read_secret(cluster.client(), NAMESPACE, "team-client-ca")
    assert secret["stringData"]["ca.crt"].count("BEGIN CERTIFICATE") == 1


def test_new_contents_rewrite_the_secret_in_place_under_its_name(
    deployed: Engine, cluster: LocalCluster
) -> None:
    deployed.run("config", "set", "authorities", "2")
    with watching_secrets(cluster.client(), NAMESPACE) as secrets:
        deployed.run("up", "--yes", "--skip-preview")
    assert secrets.names("DELETED") == set()
    assert secrets.names("MODIFIED") == {"team-client-ca"}
    secret = read_secret(cluster.client(), NAMESPACE, "team-client-ca")
    assert secret["stringData"]["ca.crt"].count("BEGIN CERTIFICATE") == 2
    deployed.run("preview", "--expect-no-changes")
