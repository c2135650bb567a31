"""The Gateway API enforcer (`enforcer: gateway-api`): the same PKI and Secrets, a Gateway whose
HTTPS listener validates client certificates, an HTTPRoute, a BackendTLSPolicy for HTTPS
backends, and Envoy Gateway's ClientTrafficPolicy for what Gateway API cannot express. Custom
resources are validated against the upstream CRD schemas (../shared/schemas)."""

from __future__ import annotations

import logging
from functools import cache
from typing import Any

import jsonschema
import pulumi
import pytest
import yaml

from support.mock_runtime import PROJECT_DIR, MockRuntime
from support.stack_configs import dev_config
from tests.kubernetes_manifests import INGRESS, manifest, secrets_by_role

SCHEMAS = PROJECT_DIR.parent / "shared" / "schemas"
CRD_FILES = {
    "Gateway": "gateway-api-v1.6.1/gateways.yaml",
    "HTTPRoute": "gateway-api-v1.6.1/httproutes.yaml",
    "BackendTLSPolicy": "gateway-api-v1.6.1/backendtlspolicies.yaml",
    "ReferenceGrant": "gateway-api-v1.6.1/referencegrants.yaml",
    "ClientTrafficPolicy": "envoy-gateway-v1.9.0/clienttrafficpolicies.yaml",
}


def gateway_config(protocol: str = "HTTP", implementation: str = "envoy-gateway") -> dict[str, Any]:
    """The dev stack on Gateway API: one setting and a gateway section, without `matchCn`,
    which Gateway API cannot express."""
    config = dev_config()
    config["ingress"].pop("matchCn")
    config["ingress"]["backend"]["protocol"] = protocol
    config["enforcer"] = "gateway-api"
    config["gateway"] = {"className": "eg", "implementation": implementation}
    return config


@cache
def crd_schema(kind: str, version: str) -> dict[str, Any]:
    for document in yaml.safe_load_all((SCHEMAS / CRD_FILES[kind]).read_text()):
        if document and document["spec"]["names"]["kind"] == kind:
            (served,) = [v for v in document["spec"]["versions"] if v["name"] == version]
            schema: dict[str, Any] = served["schema"]["openAPIV3Schema"]
            return schema
    raise AssertionError(kind)


def _declared(mocks: MockRuntime, config: dict[str, Any]) -> dict[str, Any]:
    outputs = {name: mocks.resolve(value) for name, value in mocks.run_program(config).items()}
    objects: dict[str, list[dict[str, Any]]] = {}
    for registration in mocks.emulator.registered:
        if registration.typ.startswith("kubernetes:") and registration.custom:
            objects.setdefault(registration.typ.rsplit(":", 1)[1], []).append(
                manifest(registration)
            )
    return {"outputs": outputs, "objects": objects}


def test_the_gateway_serves_the_tls_secret_and_validates_clients_from_a_config_map(
    mocks: MockRuntime,
) -> None:
    declared = _declared(mocks, gateway_config())
    objects, outputs = declared["objects"], declared["outputs"]
    assert INGRESS.rsplit(":", 1)[1] not in objects
    (gateway,) = objects["Gateway"]
    (listener,) = gateway["spec"]["listeners"]
    assert listener["protocol"] == "HTTPS" and listener["hostname"] == "api.payments.example.com"
    secrets = secrets_by_role(mocks.emulator)
    assert listener["tls"]["certificateRefs"] == [
        {"group": "", "kind": "Secret", "name": secrets["server-tls"]["metadata"]["name"]}
    ]
    validation = gateway["spec"]["tls"]["frontend"]["default"]["validation"]
    assert validation["mode"] == "AllowValidOnly"
    (reference,) = validation["caCertificateRefs"]
    (config_map,) = [c for c in objects["ConfigMap"] if c["metadata"]["name"] == reference["name"]]
    assert reference["kind"] == "ConfigMap"
    assert config_map["data"] == {"ca.crt": outputs["clientCaBundle"]}


def test_the_route_sends_each_path_to_the_backend(mocks: MockRuntime) -> None:
    (route,) = _declared(mocks, gateway_config())["objects"]["HTTPRoute"]
    assert route["spec"]["parentRefs"] == [{"name": "payments-api", "sectionName": "https"}]
    assert route["spec"]["rules"] == [
        {
            "matches": [{"path": {"type": "PathPrefix", "value": "/"}}],
            "backendRefs": [{"name": "payments-api", "port": 8080}],
        }
    ]


def test_envoy_gateway_checks_the_crl_the_stack_keeps_fresh(mocks: MockRuntime) -> None:
    declared = _declared(mocks, gateway_config())
    (policy,) = declared["objects"]["ClientTrafficPolicy"]
    client_ca = secrets_by_role(mocks.emulator)["client-ca-bundle"]
    validation = policy["spec"]["tls"]["clientValidation"]
    assert validation["crl"] == {
        "refs": [{"group": "", "kind": "Secret", "name": client_ca["metadata"]["name"]}]
    }
    assert client_ca["stringData"]["ca.crl"] == declared["outputs"]["clientCrl"]
    # passCertificateToUpstream: Envoy Gateway's X-Forwarded-Client-Cert.
    assert policy["spec"]["headers"]["xForwardedClientCert"]["certDetailsToAdd"] == ["Cert"]


def test_an_https_backend_gets_a_backend_tls_policy(mocks: MockRuntime) -> None:
    declared = _declared(mocks, gateway_config("HTTPS"))
    (policy,) = declared["objects"]["BackendTLSPolicy"]
    assert policy["spec"]["targetRefs"] == [
        {"group": "", "kind": "Service", "name": "payments-api"}
    ]
    assert policy["spec"]["validation"]["hostname"] == "payments-api.payments.svc"
    (reference,) = policy["spec"]["validation"]["caCertificateRefs"]
    (config_map,) = [
        c for c in declared["objects"]["ConfigMap"] if c["metadata"]["name"] == reference["name"]
    ]
    assert "BEGIN CERTIFICATE" in config_map["data"]["ca.crt"]


@pytest.mark.parametrize("protocol", ["HTTP", "HTTPS"])
def test_every_custom_resource_matches_its_crd_schema(mocks: MockRuntime, protocol: str) -> None:
    config = gateway_config(protocol)
    config["gateway"]["namespace"] = "gateways"  # adds the ReferenceGrant
    objects = _declared(mocks, config)["objects"]
    kinds = [kind for kind in CRD_FILES if kind in objects]
    assert set(kinds) >= {"Gateway", "HTTPRoute", "ReferenceGrant", "ClientTrafficPolicy"}
    for kind in kinds:
        for resource in objects[kind]:
            version = resource["apiVersion"].split("/")[1]
            body = {key: value for key, value in resource.items() if key != "metadata"}
            jsonschema.validate(body, crd_schema(kind, version))


def test_optional_verification_falls_back_insecurely_with_a_warning(
    mocks: MockRuntime, caplog: pytest.LogCaptureFixture
) -> None:
    config = gateway_config()
    config["ingress"]["verifyClient"] = "optional"
    with caplog.at_level(logging.WARNING):
        (gateway,) = _declared(mocks, config)["objects"]["Gateway"]
    validation = gateway["spec"]["tls"]["frontend"]["default"]["validation"]
    assert validation["mode"] == "AllowInsecureFallback"
    assert any("AllowInsecureFallback" in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda c: (
                c["ingress"].pop("passCertificateToUpstream"),
                c["ingress"]["backend"].update(protocol="PASSTHROUGH"),
            ),
            "ingress.backend.protocol: PASSTHROUGH is not supported with enforcer gateway-api",
        ),
        (
            lambda c: c["ingress"].update(matchCn="CN=checkout"),
            "ingress.matchCn: Gateway API cannot match the client certificate's subject",
        ),
        (
            lambda c: c["ingress"].update(errorPage="https://errors.example.com/"),
            "ingress.errorPage: Gateway API has no error page",
        ),
        (
            lambda c: c["gateway"].update(implementation="other"),
            "pki.clients[2].revoked: Gateway API has no CRL",
        ),
        (
            lambda c: c["gateway"].update(implementation="other"),
            "pki.revokedSerials: Gateway API has no CRL",
        ),
        (
            lambda c: c["gateway"].update(implementation="other"),
            "ingress.passCertificateToUpstream: Gateway API cannot forward the client certificate",
        ),
        (lambda c: c.pop("gateway"), "gateway: is required with enforcer gateway-api"),
        (lambda c: c.update(enforcer="ingress-nginx"), "gateway: only applies with enforcer"),
        (
            lambda c: c["ingress"]["backend"].update(port="http"),
            "ingress.backend.port: must be a port number",
        ),
    ],
)
def test_what_gateway_api_cannot_express_fails_before_anything_is_created(
    mocks: MockRuntime, change: Any, message: str
) -> None:
    config = gateway_config()
    change(config)
    with pytest.raises(pulumi.RunError) as raised:
        mocks.run_program(config)
    assert message in str(raised.value)
    assert mocks.emulator.registered == []


def test_a_gateway_stack_leaves_the_ingress_nginx_controller_alone_and_says_so(
    mocks: MockRuntime, caplog: pytest.LogCaptureFixture
) -> None:
    # dev_config sets `controller` (manage: patch): a Gateway API stack declares no patch of
    # ingress-nginx's ConfigMap, which a cluster with only Envoy Gateway does not have.
    with caplog.at_level(logging.WARNING):
        objects = _declared(mocks, gateway_config())["objects"]
    assert "ConfigMapPatch" not in objects
    assert any("`enforcer: gateway-api` does not use" in r.getMessage() for r in caplog.records)


def test_a_gateway_stack_without_a_controller_section_warns_of_nothing_about_it(
    mocks: MockRuntime, caplog: pytest.LogCaptureFixture
) -> None:
    config = gateway_config()
    del config["controller"]
    with caplog.at_level(logging.WARNING):
        objects = _declared(mocks, config)["objects"]
    assert "ConfigMapPatch" not in objects
    assert not any("controller:" in r.getMessage() for r in caplog.records)
