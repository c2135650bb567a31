"""The components in a stack whose Kubernetes provider replaces Secrets on every data change
(no `enableSecretMutable`, the provider's default): the Ingress must never reference a Secret
that does not exist, not even for a moment of an update.

Events of the API server's watches are ordered by resourceVersion, which this single etcd
assigns from one increasing revision."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
import yaml

from localkube.cluster import LocalCluster
from localkube.objects import install_backend
from tests.engine.conftest import Engine, new_engine, project_program
from tests.engine.live import assert_ingress_never_names_a_missing_secret, watching
from tests.engine.test_stack_engine import BACKEND
from tests.mock_runtime import PROJECT_DIR

NAMESPACE = "payments-replacing"


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory, cluster: LocalCluster) -> Iterator[Engine]:
    root = tmp_path_factory.mktemp("replacing")
    manifest = yaml.safe_load((PROJECT_DIR / "Pulumi.yaml").read_text())
    del manifest["config"]["kubernetes:enableSecretMutable"]
    program = project_program(root, manifest=manifest)
    install_backend(cluster.client(), NAMESPACE, BACKEND["service"], BACKEND["port"])
    engine = new_engine(root, program, "dev", KUBECONFIG=str(cluster.kubeconfig))
    engine.run("config", "set", "mtls-ingress:namespace", NAMESPACE)
    engine.run("up", "--yes", "--skip-preview")
    yield engine
    engine.run("destroy", "--yes", "--skip-preview", check=False)


def test_a_revocation_switches_the_ingress_to_a_new_secret_before_the_old_one_goes(
    stack: Engine, cluster: LocalCluster
) -> None:
    client = cluster.client()
    before = json.loads(stack.run("stack", "output", "secretNames", "--json").stdout)
    stack.run("config", "set", "--path", "mtls-ingress:pki.clients[0].revoked", "true")
    with (
        watching(client, f"/api/v1/namespaces/{NAMESPACE}/secrets") as secrets,
        watching(
            client, f"/apis/networking.k8s.io/v1/namespaces/{NAMESPACE}/ingresses"
        ) as ingresses,
    ):
        stack.run("up", "--yes", "--skip-preview")
    after = json.loads(stack.run("stack", "output", "secretNames", "--json").stdout)

    # Without enableSecretMutable the provider replaced the client CA Secret...
    assert after["clientCa"] != before["clientCa"]
    assert after["serverTls"] == before["serverTls"]
    assert (before["clientCa"], "DELETED") in {(n, t) for t, n, _, _ in secrets.objects}
    # ...and at no point did the Ingress name a Secret that was not there.
    referenced = assert_ingress_never_names_a_missing_secret(
        secrets, ingresses, {before["clientCa"], before["serverTls"]}
    )
    assert referenced == {after["clientCa"], after["serverTls"]}
