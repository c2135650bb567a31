"""The mesh under the real engine: Istio's CRDs (../shared/schemas) installed into the local API
server, the stack with `mesh` deployed there, its custom resources accepted, a clean second
preview."""

from __future__ import annotations

import urllib.error
from collections.abc import Iterator

import pytest
import yaml

from localkube.cluster import ApiClient, LocalCluster
from localkube.engine import Engine
from localkube.objects import ensure, install_backend, install_crds, read_secret
from support.stack_configs import dev_config
from tests.engine.conftest import deployed
from tests.engine.test_stack_engine import BACKEND
from tests.unit.test_mesh import ISTIO_CRDS
from tests.x509_assertions import openssl_verify

NAMESPACE = "payments-mesh"
HOST = f"{BACKEND['service']}.{NAMESPACE}.svc.cluster.local"
MESH_KINDS = ("PeerAuthentication", "DestinationRule")


def install_istio_crds(client: ApiClient) -> None:
    """The CRDs of the kinds the stack declares, as Istio publishes them, and the namespaces."""
    install_crds(
        client,
        [
            document
            for document in yaml.safe_load_all(ISTIO_CRDS.read_text())
            if document and document["spec"]["names"]["kind"] in MESH_KINDS
        ],
    )
    for namespace in ("istio-system", "billing"):
        namespace_object = {
            "apiVersion": "v1",
            "kind": "Namespace",
            "metadata": {"name": namespace},
        }
        ensure(client, "/api/v1/namespaces", namespace_object)


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory, cluster: LocalCluster) -> Iterator[Engine]:
    client = cluster.client()
    install_istio_crds(client)
    install_backend(client, NAMESPACE, BACKEND["service"], BACKEND["port"])
    document = dev_config() | {
        "namespace": NAMESPACE,
        "mesh": {
            "caCommonName": "Payments Mesh CA",
            "namespaces": [NAMESPACE, "billing"],
            "services": [{"host": HOST}],
            "injectSidecars": True,
        },
    }
    with deployed(tmp_path_factory.mktemp("mesh"), cluster, document, preview=True) as engine:
        yield engine


def test_the_api_server_accepted_the_istio_resources(stack: Engine, cluster: LocalCluster) -> None:
    client = cluster.client()
    for namespace in (NAMESPACE, "billing"):
        policy = client.get(
            f"/apis/security.istio.io/v1/namespaces/{namespace}/peerauthentications/default"
        )
        assert policy["spec"] == {"mtls": {"mode": "STRICT"}}
        labels = client.get(f"/api/v1/namespaces/{namespace}")["metadata"]["labels"]
        assert labels["istio-injection"] == "enabled"
    rule = client.get(
        f"/apis/networking.istio.io/v1/namespaces/{NAMESPACE}/destinationrules/"
        f"{BACKEND['service']}-mtls"
    )
    assert rule["spec"]["trafficPolicy"]["tls"]["mode"] == "ISTIO_MUTUAL"


def test_cacerts_chains_to_the_root_of_the_ingress(stack: Engine, cluster: LocalCluster) -> None:
    data = read_secret(cluster.client(), "istio-system", "cacerts")["stringData"]
    outputs = stack.outputs()
    assert data["root-cert.pem"] == outputs["serverCaCertificate"] == outputs["meshRootCertificate"]
    result = openssl_verify(data["cert-chain.pem"], data["root-cert.pem"], purpose="any")
    assert result.returncode == 0, result.stderr


def test_a_second_preview_shows_no_changes(stack: Engine) -> None:
    stack.run("preview", "--expect-no-changes")


def test_destroy_removes_the_mesh_objects_but_not_the_namespaces(
    stack: Engine, cluster: LocalCluster
) -> None:
    stack.run("destroy", "--yes", "--skip-preview")
    client = cluster.client()
    with pytest.raises(urllib.error.HTTPError) as missing:
        client.get("/api/v1/namespaces/istio-system/secrets/cacerts")
    assert missing.value.code == 404
    assert client.get("/api/v1/namespaces/billing")["metadata"]["name"] == "billing"
