"""`kubernetesApi`: users' certificates from the imported cluster CA, their kubeconfigs and
ClusterRoleBindings, under the mocks; and the signing requests with several organizations."""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from typing import Any

import kubernetes_validate
import pulumi
import pytest
import yaml
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from pulumi.output import Unknown

from components.pki.request import RequestProvider, build_request
from components.program.settings import parse_settings
from support.mock_runtime import MockRuntime
from support.pki_material import make_authority
from support.stack_configs import dev_config
from tests.kubernetes_manifests import KUBERNETES_VERSION, manifest

BINDING = "kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding"
CLUSTER_CA = make_authority("kubernetes")


def _config(**overrides: Any) -> dict[str, Any]:
    config = dev_config()
    config["kubernetesApi"] = {
        "server": "https://10.20.30.31:6443",
        "ca": {
            "certificate": CLUSTER_CA.certificate_pem,
            "privateKey": CLUSTER_CA.private_key_pem,
        },
        "users": [
            {
                "name": "alice",
                "groups": ["dev", "system:authenticated-readers"],
                "validityDays": 90,
                "clusterRoles": ["view", "system:aggregate-to-view"],
            },
            {"name": "bob", "groups": ["ops"], "clusterRoles": ["edit"], "revoked": True},
        ],
    } | overrides
    return config


def _run(mocks: MockRuntime, config: dict[str, Any]) -> dict[str, Any]:
    outputs = mocks.run_program(config, secret_keys={"pki", "kubernetesApi"})
    assert mocks.is_secret(outputs["kubeconfigs"])
    return {name: mocks.resolve(output) for name, output in outputs.items()}


def test_each_active_user_gets_a_complete_kubeconfig(mocks: MockRuntime) -> None:
    outputs = _run(mocks, _config())
    assert set(outputs["kubeconfigs"]) == {"alice"}
    config = yaml.safe_load(outputs["kubeconfigs"]["alice"])
    assert config["current-context"] == "alice@10.20.30.31"
    (cluster,) = config["clusters"]
    assert cluster["cluster"]["server"] == "https://10.20.30.31:6443"
    trusted = base64.b64decode(cluster["cluster"]["certificate-authority-data"]).decode()
    assert trusted == CLUSTER_CA.certificate_pem
    (user,) = config["users"]
    certificate = x509.load_pem_x509_certificate(
        base64.b64decode(user["user"]["client-certificate-data"])
    )
    certificate.verify_directly_issued_by(CLUSTER_CA.certificate)
    assert certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "alice"
    organizations = certificate.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)
    assert [o.value for o in organizations] == ["dev", "system:authenticated-readers"]
    key = base64.b64decode(user["user"]["client-key-data"]).decode()
    assert "PRIVATE KEY" in key
    assert set(outputs["kubernetesApiRevokedSerials"]) == {"bob"}


def test_a_binding_per_cluster_role_of_each_active_user(mocks: MockRuntime) -> None:
    _run(mocks, _config())
    bindings = [manifest(r) for r in mocks.emulator.of_type(BINDING)]
    assert sorted(b["roleRef"]["name"] for b in bindings) == ["system:aggregate-to-view", "view"]
    for binding in bindings:
        assert binding["subjects"] == [
            {"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": "alice"}
        ]
        kubernetes_validate.validate(binding, KUBERNETES_VERSION, strict=True)


def test_another_ca_can_verify_the_api_server(mocks: MockRuntime) -> None:
    serving = make_authority("apiserver serving CA")
    outputs = _run(mocks, _config(serverCaCertificate=serving.certificate_pem, clusterName="prod"))
    config = yaml.safe_load(outputs["kubeconfigs"]["alice"])
    assert config["current-context"] == "alice@prod"
    trusted = base64.b64decode(config["clusters"][0]["cluster"]["certificate-authority-data"])
    assert trusted.decode() == serving.certificate_pem


@pytest.mark.parametrize(
    ("edit", "path", "phrase"),
    [
        (lambda api: api.update(server="http://10.0.0.1"), "kubernetesApi.server", "https URL"),
        (
            lambda api: api["users"][0].update(groups=["dev", 3]),
            "kubernetesApi.users[0].groups[1]",
            "string",
        ),
        (
            lambda api: api["users"][1].update(name="alice"),
            "kubernetesApi.users[1].name",
            "repeats",
        ),
        (
            lambda api: api["users"][0].update(clusterRoles=["a/b"]),
            "kubernetesApi.users[0].clusterRoles[0]",
            "ClusterRole name",
        ),
        (lambda api: api["ca"].pop("privateKey"), "kubernetesApi.ca.privateKey", "required"),
    ],
)
def test_bad_kubernetes_api_settings_are_named(edit: Any, path: str, phrase: str) -> None:
    config = _config()
    edit(config["kubernetesApi"])
    with pytest.raises(pulumi.RunError) as raised:
        parse_settings(config, {"pki", "kubernetesApi"})
    lines = [line[4:] for line in str(raised.value).splitlines() if line.startswith("  - ")]
    matching = [line for line in lines if line.startswith(f"{path}: ")]
    assert matching and phrase in matching[0], lines


def test_users_outlasting_the_cluster_ca_are_warned_of() -> None:
    config = _config()
    config["kubernetesApi"]["users"][0]["validityDays"] = 9000
    warnings = parse_settings(config).expiry_warnings(datetime.now(UTC))
    assert len(warnings) == 1
    assert warnings[0].startswith(
        "kubernetesApi.users[0].validityDays: 9000 days outlast the imported kubernetesApi.ca"
    )


def test_a_request_writes_each_organization_as_its_own_attribute_in_order() -> None:
    key = ec.generate_private_key(ec.SECP384R1())
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    ).decode()
    request = build_request(pem, "alice", ["system:masters", "dev", "audit"])
    assert [len(rdn) for rdn in request.subject.rdns] == [1, 1, 1, 1]
    values = [a.value for a in request.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)]
    assert values == ["system:masters", "dev", "audit"]
    assert request.is_signature_valid
    assert isinstance(request.signature_hash_algorithm, hashes.SHA384)


def test_a_request_is_rebuilt_for_a_new_key_or_subject() -> None:
    provider = RequestProvider()
    props = {
        "private_key_pem": CLUSTER_CA.private_key_pem,
        "common_name": "alice",
        "organizations": ["dev", "ops"],
    }
    outs = provider.create(props).outs
    assert outs is not None and "private_key_pem" not in outs
    assert not provider.diff("id", outs, props).changes
    assert provider.diff("id", outs, props | {"organizations": ["ops", "dev"]}).changes
    other = make_authority("other").private_key_pem
    assert provider.diff("id", outs, props | {"private_key_pem": other}).changes
    assert provider.diff("id", outs, props | {"private_key_pem": Unknown()}).changes
    failures = provider.check({}, props | {"organizations": ["dev", 5]}).failures
    assert [f.property for f in failures] == ["organizations"]
