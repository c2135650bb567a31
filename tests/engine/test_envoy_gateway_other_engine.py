"""`gateway.implementation: other` served by Envoy Gateway: the stack declares only what Gateway
API itself defines (the Gateway's frontend validation against the client CA ConfigMap, the
HTTPRoute), no ClientTrafficPolicy; Envoy enforces that much. Gateway API has no CRL, so the
settings refuse revocations with this implementation (see the unit tests): the local stack runs
here without its revoked client."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from localkube.cluster import LocalCluster
from support.pki_material import issue_client, make_authority
from tests.engine.test_envoy_gateway_engine import Served, local_document, served_on_envoy

NAMESPACE = "envoy-gateway-other"


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory, cluster: LocalCluster) -> Iterator[Served]:
    document = local_document(NAMESPACE, implementation="other")
    document["pki"]["clients"] = [
        client for client in document["pki"]["clients"] if not client.get("revoked")
    ]
    # Forwarding the client certificate needs Envoy Gateway's policy too.
    document["ingress"]["passCertificateToUpstream"] = False
    root = tmp_path_factory.mktemp("envoy-gateway-other")
    with served_on_envoy(root, cluster, NAMESPACE, document) as served:
        yield served


def test_no_client_traffic_policy_is_declared(served: Served, cluster: LocalCluster) -> None:
    policies = cluster.client().get(
        f"/apis/gateway.envoyproxy.io/v1alpha1/namespaces/{NAMESPACE}/clienttrafficpolicies"
    )
    assert policies["items"] == []


def test_a_request_without_a_client_certificate_is_refused(served: Served) -> None:
    assert served.get(None) == "refused"


@pytest.mark.parametrize("name", ["checkout", "reporting"])
def test_each_valid_client_reaches_the_backend(served: Served, name: str) -> None:
    assert served.get(served.client(name)) == 200


def test_a_client_of_a_foreign_ca_is_refused(served: Served) -> None:
    foreign = make_authority("Foreign Clients CA")
    certificate, key = issue_client(foreign.certificate, foreign.key, "checkout")
    assert served.get(served.files("foreign", certificate, key)) == "refused"
