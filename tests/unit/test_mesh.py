"""The Istio mesh of the stack (`mesh`): istiod's plug-in CA under the server CA's root, STRICT
PeerAuthentications, ISTIO_MUTUAL DestinationRules, sidecar injection labels. Custom resources
are validated against Istio's own CRD schemas (../shared/schemas)."""

from __future__ import annotations

from functools import cache
from typing import Any

import jsonschema
import pulumi
import pytest
import yaml

from support.mock_runtime import PROJECT_DIR, MockRuntime
from support.pki_material import issue_client, load_authority
from support.stack_configs import dev_config
from tests.kubernetes_manifests import SECRET, manifest
from tests.x509_assertions import assert_ca_profile, certificate, certificates, openssl_verify

ISTIO_CRDS = PROJECT_DIR.parent / "shared" / "schemas" / "istio-v1.30.3" / "crds.yaml"
HOST = "payments-api.payments.svc.cluster.local"


def mesh_config() -> dict[str, Any]:
    config = dev_config()
    config["mesh"] = {
        "caCommonName": "Payments Mesh CA",
        "namespaces": ["payments", "billing"],
        "services": [{"host": HOST}],
        "injectSidecars": True,
    }
    return config


def _run(mocks: MockRuntime, config: dict[str, Any]) -> dict[str, Any]:
    return {name: mocks.resolve(value) for name, value in mocks.run_program(config).items()}


def _cacerts(mocks: MockRuntime) -> dict[str, Any]:
    (secret,) = [
        manifest(r)
        for r in mocks.emulator.of_type(SECRET)
        if manifest(r)["metadata"]["name"] == "cacerts"
    ]
    return secret


@cache
def _crd_schema(kind: str, version: str) -> dict[str, Any]:
    for document in yaml.safe_load_all(ISTIO_CRDS.read_text()):
        if document and document["spec"]["names"]["kind"] == kind:
            (served,) = [v for v in document["spec"]["versions"] if v["name"] == version]
            schema: dict[str, Any] = served["schema"]["openAPIV3Schema"]
            return schema
    raise AssertionError(f"no CRD for {kind}")


def _custom_resources(mocks: MockRuntime, kind: str) -> list[dict[str, Any]]:
    """Istio objects of `kind` (pulumi-kubernetes registers a CustomResource under its own
    type, `kubernetes:<group>/<version>:<kind>`)."""
    return [
        manifest(r)
        for r in mocks.emulator.registered
        if r.typ.startswith("kubernetes:") and ".istio.io/" in r.typ and r.typ.endswith(f":{kind}")
    ]


def test_cacerts_holds_the_four_files_istiod_reads(mocks: MockRuntime) -> None:
    outputs = _run(mocks, mesh_config())
    secret = _cacerts(mocks)
    assert secret["metadata"]["namespace"] == "istio-system"
    data = secret["stringData"]
    assert set(data) == {"ca-cert.pem", "ca-key.pem", "cert-chain.pem", "root-cert.pem"}
    assert data["ca-cert.pem"] == outputs["meshCaCertificate"]
    assert data["root-cert.pem"] == outputs["meshRootCertificate"]
    assert [c.subject for c in certificates(data["cert-chain.pem"])] == [
        certificate(data["ca-cert.pem"]).subject,
        certificate(data["root-cert.pem"]).subject,
    ]


def test_cacerts_data_is_registered_as_secret(mocks: MockRuntime) -> None:
    _run(mocks, mesh_config())
    (registration,) = [
        r for r in mocks.emulator.of_type(SECRET) if manifest(r)["metadata"]["name"] == "cacerts"
    ]
    assert "stringData" in registration.secret_inputs


def test_the_mesh_shares_the_root_that_clients_of_the_ingress_trust(mocks: MockRuntime) -> None:
    outputs = _run(mocks, mesh_config())
    assert outputs["meshRootCertificate"] == outputs["serverCaCertificate"]
    data = _cacerts(mocks)["stringData"]
    result = openssl_verify(data["cert-chain.pem"], data["root-cert.pem"], purpose="any")
    assert result.returncode == 0, result.stderr


def test_the_mesh_ca_may_sign_workload_certificates(mocks: MockRuntime) -> None:
    _run(mocks, mesh_config())
    data = _cacerts(mocks)["stringData"]
    assert_ca_profile(certificate(data["ca-cert.pem"]))
    mesh_ca = load_authority(data["ca-cert.pem"], data["ca-key.pem"])
    workload, _key = issue_client(mesh_ca.certificate, mesh_ca.key, "payments-api")
    chain = workload + data["ca-cert.pem"]
    result = openssl_verify(chain, data["root-cert.pem"], purpose="sslclient")
    assert result.returncode == 0, result.stderr


def test_each_mesh_namespace_gets_a_strict_peer_authentication(mocks: MockRuntime) -> None:
    _run(mocks, mesh_config())
    resources = _custom_resources(mocks, "PeerAuthentication")
    assert sorted(r["metadata"]["namespace"] for r in resources) == ["billing", "payments"]
    for resource in resources:
        assert resource["apiVersion"] == "security.istio.io/v1"
        assert resource["metadata"]["name"] == "default"
        assert resource["spec"] == {"mtls": {"mode": "STRICT"}}


def test_each_service_gets_an_istio_mutual_destination_rule(mocks: MockRuntime) -> None:
    _run(mocks, mesh_config())
    (rule,) = _custom_resources(mocks, "DestinationRule")
    assert rule["apiVersion"] == "networking.istio.io/v1"
    assert rule["metadata"] == {
        "name": "payments-api-mtls",
        "namespace": "payments",
        "labels": rule["metadata"]["labels"],
        "annotations": {"pulumi.com/patchForce": "true"},
    }
    assert rule["spec"] == {"host": HOST, "trafficPolicy": {"tls": {"mode": "ISTIO_MUTUAL"}}}


@pytest.mark.parametrize("kind", ["PeerAuthentication", "DestinationRule"])
def test_custom_resources_match_istios_crd_schemas(mocks: MockRuntime, kind: str) -> None:
    _run(mocks, mesh_config())
    for resource in _custom_resources(mocks, kind):
        version = resource["apiVersion"].split("/")[1]
        body = {key: value for key, value in resource.items() if key != "metadata"}
        jsonschema.validate(body, _crd_schema(kind, version))


def test_sidecar_injection_labels_namespaces_only_when_asked(mocks: MockRuntime) -> None:
    _run(mocks, mesh_config())
    patches = [manifest(r) for r in mocks.emulator.of_type("kubernetes:core/v1:NamespacePatch")]
    assert sorted(p["metadata"]["name"] for p in patches) == ["billing", "payments"]
    assert all(p["metadata"]["labels"] == {"istio-injection": "enabled"} for p in patches)
    mocks.emulator.registered.clear()
    config = mesh_config()
    config["mesh"]["injectSidecars"] = False
    _run(mocks, config)
    assert mocks.emulator.of_type("kubernetes:core/v1:NamespacePatch") == []


def test_without_mesh_there_is_no_mesh_output_or_object(mocks: MockRuntime) -> None:
    outputs = _run(mocks, dev_config())
    assert "meshCaCertificate" not in outputs
    assert [r.typ for r in mocks.emulator.registered if ".istio.io/" in r.typ] == []
    assert [r for r in mocks.emulator.registered if r.typ == "mtls:index:IstioMesh"] == []


@pytest.mark.parametrize(
    ("mesh", "message"),
    [
        (
            {"caCommonName": "Mesh CA", "services": [{"host": "payments-api"}]},
            "mesh.services[0].host: must be <service>.<namespace>.svc[.cluster.local]; got "
            '"payments-api"',
        ),
        (
            {"caCommonName": "Mesh CA", "caValidityDays": 5000},
            "mesh.caValidityDays: must not exceed pki.serverCa.validityDays (3650), got 5000",
        ),
        ({"namespaces": ["payments"]}, "mesh.caCommonName: is required"),
    ],
)
def test_bad_mesh_settings_fail_before_anything_is_created(
    mocks: MockRuntime, mesh: dict[str, Any], message: str
) -> None:
    config = dev_config()
    config["mesh"] = mesh
    with pytest.raises(pulumi.RunError) as raised:
        mocks.run_program(config)
    assert message in str(raised.value)
    assert mocks.emulator.registered == []
