"""Off ingress-nginx onto Gateway API under the real engine: the Gateway API and Envoy Gateway
CRDs (../shared/schemas, CEL rules included) installed into the local API server, the dev
stack deployed with ingress-nginx, migrated with one setting, then switched to an HTTPS backend;
every custom resource accepted, and each second preview clean."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import yaml

from localkube.cluster import ApiClient, LocalCluster
from localkube.engine import Engine
from localkube.objects import install_backend, install_crds
from support.stack_configs import dev_config
from tests.engine.conftest import deployed
from tests.engine.test_stack_engine import BACKEND
from tests.unit.test_gateway import CRD_FILES, SCHEMAS

NAMESPACE = "payments-gateway"


def install_gateway_crds(client: ApiClient) -> None:
    """The Gateway API and Envoy Gateway CRDs, as their projects publish them."""
    install_crds(
        client,
        [
            document
            for path in sorted({SCHEMAS / file for file in CRD_FILES.values()})
            for document in yaml.safe_load_all(path.read_text())
            if document and document.get("kind") == "CustomResourceDefinition"
        ],
    )


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory, cluster: LocalCluster) -> Iterator[Engine]:
    client = cluster.client()
    install_gateway_crds(client)
    install_backend(client, NAMESPACE, BACKEND["service"], BACKEND["port"])
    document = dev_config() | {"namespace": NAMESPACE}
    document["ingress"].pop("matchCn")  # Gateway API cannot express it
    with deployed(tmp_path_factory.mktemp("gateway"), cluster, document) as engine:
        yield engine


def _steps(engine: Engine) -> list[tuple[str, str]]:
    preview: dict[str, Any] = json.loads(engine.run("preview", "--json").stdout)
    return sorted(
        (step["op"], step["urn"].rsplit("::", 2)[1].split("$")[-1])
        for step in preview["steps"]
        if step["op"] != "same"
    )


def test_one_setting_moves_the_stack_from_the_ingress_to_a_gateway(stack: Engine) -> None:
    secrets_before = stack.outputs()["secretNames"]
    stack.run("config", "set", "mtls-ingress:enforcer", "gateway-api")
    stack.run("config", "set", "--path", "mtls-ingress:gateway.className", "eg")
    stack.run("config", "set", "--path", "mtls-ingress:gateway.implementation", "envoy-gateway")
    assert _steps(stack) == [
        ("create", "kubernetes:core/v1:ConfigMap"),
        ("create", "kubernetes:gateway.envoyproxy.io/v1alpha1:ClientTrafficPolicy"),
        ("create", "kubernetes:gateway.networking.k8s.io/v1:Gateway"),
        ("create", "kubernetes:gateway.networking.k8s.io/v1:HTTPRoute"),
        ("create", "mtls:index:MtlsGateway"),
        # The ingress-nginx controller's ConfigMap is no longer the stack's to patch.
        ("delete", "kubernetes:core/v1:ConfigMapPatch"),
        ("delete", "kubernetes:networking.k8s.io/v1:Ingress"),
        ("delete", "mtls:index:ControllerConfig"),
        ("delete", "mtls:index:MtlsIngress"),
    ]
    stack.run("up", "--yes", "--skip-preview")
    assert stack.outputs()["secretNames"] == secrets_before
    stack.run("preview", "--expect-no-changes")


def test_the_api_server_accepted_the_gateway_objects(stack: Engine, cluster: LocalCluster) -> None:
    client = cluster.client()
    name = BACKEND["service"]
    gateway = client.get(
        f"/apis/gateway.networking.k8s.io/v1/namespaces/{NAMESPACE}/gateways/{name}"
    )
    validation = gateway["spec"]["tls"]["frontend"]["default"]["validation"]
    assert validation["mode"] == "AllowValidOnly"
    route = client.get(
        f"/apis/gateway.networking.k8s.io/v1/namespaces/{NAMESPACE}/httproutes/{name}"
    )
    assert route["spec"]["hostnames"] == ["api.payments.example.com"]
    policy = client.get(
        f"/apis/gateway.envoyproxy.io/v1alpha1/namespaces/{NAMESPACE}/clienttrafficpolicies/{name}"
    )
    (crl,) = policy["spec"]["tls"]["clientValidation"]["crl"]["refs"]
    assert crl["name"] == stack.outputs()["secretNames"]["clientCa"]


def test_an_https_backend_adds_a_backend_tls_policy(stack: Engine, cluster: LocalCluster) -> None:
    stack.run("config", "set", "--path", "mtls-ingress:ingress.backend.protocol", "HTTPS")
    stack.run("up", "--yes", "--skip-preview")
    stack.run("preview", "--expect-no-changes")
    policy = cluster.client().get(
        f"/apis/gateway.networking.k8s.io/v1/namespaces/{NAMESPACE}/backendtlspolicies/"
        f"{BACKEND['service']}"
    )
    assert policy["spec"]["validation"]["hostname"] == f"{BACKEND['service']}.{NAMESPACE}.svc"
