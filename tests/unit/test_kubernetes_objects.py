"""What the stack declares in Kubernetes for each backend mode and verify-client value."""

from __future__ import annotations

import logging
import re
from typing import Any

import kubernetes_validate
import pulumi
import pytest

from components.kubernetes.controller_config import HARDENED_TLS_SETTINGS
from support.mock_runtime import MockRuntime
from support.stack_configs import dev_config
from tests.kubernetes_manifests import (
    CONFIG_MAP_PATCH,
    KUBERNETES_VERSION,
    SECRET,
    ingress_annotations,
    kubernetes_registrations,
    name_of,
    secrets_by_role,
    the_ingress,
)
from tests.layered_pki import declare_layered
from tests.x509_assertions import (
    assert_client_profile,
    certificates,
    verify_server_chain,
)

P = "nginx.ingress.kubernetes.io/"


def _config(protocol: str = "HTTP", **ingress: Any) -> dict[str, Any]:
    config = dev_config()
    config["ingress"]["backend"]["protocol"] = protocol
    if protocol == "PASSTHROUGH":
        for key in ("passCertificateToUpstream", "matchCn"):
            config["ingress"].pop(key)
    config["ingress"].update(ingress)
    return config


def _run(mocks: MockRuntime, config: dict[str, Any]) -> dict[str, Any]:
    outputs = mocks.run_program(config)
    return {name: mocks.resolve(output) for name, output in outputs.items()}


def test_http_mode_declares_tls_and_client_ca_secrets(mocks: MockRuntime) -> None:
    outputs = _run(mocks, _config("HTTP"))
    secrets = secrets_by_role(mocks.emulator)
    assert set(secrets) == {"server-tls", "client-ca-bundle"}
    tls = secrets["server-tls"]
    assert tls["type"] == "kubernetes.io/tls"
    assert set(tls["stringData"]) == {"tls.crt", "tls.key"}
    assert tls["stringData"]["tls.crt"] == outputs["serverCertificateChain"]
    assert "PRIVATE KEY" in tls["stringData"]["tls.key"]
    client_ca = secrets["client-ca-bundle"]
    assert client_ca["type"] == "Opaque"
    assert client_ca["stringData"] == {
        "ca.crt": outputs["clientCaBundle"],
        "ca.crl": outputs["clientCrl"],
    }


def test_secret_data_is_registered_as_secret(mocks: MockRuntime) -> None:
    mocks.run_program(_config("HTTP"))
    for registration in mocks.emulator.of_type(SECRET):
        assert "stringData" in registration.secret_inputs, registration.name


def test_http_mode_ingress_carries_the_auth_tls_annotations(mocks: MockRuntime) -> None:
    outputs = _run(mocks, _config("HTTP"))
    secrets = secrets_by_role(mocks.emulator)
    ingress = the_ingress(mocks.emulator)
    assert ingress["metadata"]["name"] == "payments-api"
    assert ingress["metadata"]["namespace"] == "payments"
    assert ingress_annotations(ingress) == {
        P + "auth-tls-secret": name_of(secrets["client-ca-bundle"]),
        P + "auth-tls-verify-client": "on",
        P + "auth-tls-verify-depth": "1",
        P + "auth-tls-pass-certificate-to-upstream": "true",
        P + "auth-tls-match-cn": "CN=(checkout|reporting\\.payments\\.example\\.com)",
    }
    spec = ingress["spec"]
    assert spec["ingressClassName"] == "nginx"
    assert spec["tls"] == [
        {
            "hosts": ["api.payments.example.com"],
            "secretName": secrets["server-tls"]["metadata"]["name"],
        }
    ]
    (rule,) = spec["rules"]
    assert rule["host"] == "api.payments.example.com"
    assert rule["http"]["paths"] == [
        {
            "path": "/",
            "pathType": "Prefix",
            "backend": {"service": {"name": "payments-api", "port": {"number": 8080}}},
        }
    ]
    assert outputs["ingressUrl"] == "https://api.payments.example.com/"


@pytest.mark.parametrize("mode", ["on", "optional", "optional_no_ca", "off"])
def test_each_verify_client_value_reaches_the_annotation(
    mocks: MockRuntime, caplog: pytest.LogCaptureFixture, mode: str
) -> None:
    config = _config("HTTP", verifyClient=mode)
    if mode == "off":
        config["ingress"].pop("passCertificateToUpstream")
        config["ingress"].pop("matchCn")
    with caplog.at_level(logging.WARNING):
        mocks.run_program(config)
    annotations = ingress_annotations(the_ingress(mocks.emulator))
    assert annotations[P + "auth-tls-verify-client"] == mode
    warnings = [
        r.getMessage() for r in caplog.records if "auth-tls-verify-client is" in r.getMessage()
    ]
    if mode in ("optional", "optional_no_ca"):
        # The dev stack also sets matchCn, which refuses certificate-less requests anyway.
        assert warnings and "auth-tls-match-cn is set" in warnings[0]
    else:
        assert warnings == []


def test_optional_verification_warns_that_the_backend_must_check(
    mocks: MockRuntime, caplog: pytest.LogCaptureFixture
) -> None:
    config = _config("HTTP", verifyClient="optional")
    del config["ingress"]["matchCn"]
    with caplog.at_level(logging.WARNING):
        mocks.run_program(config)
    assert any("ssl-client-verify header" in r.getMessage() for r in caplog.records)


def test_error_page_annotation(mocks: MockRuntime) -> None:
    mocks.run_program(_config("HTTP", errorPage="https://errors.example.com/mtls"))
    annotations = ingress_annotations(the_ingress(mocks.emulator))
    assert annotations[P + "auth-tls-error-page"] == "https://errors.example.com/mtls"


def test_passthrough_mode_leaves_tls_to_the_backend(
    mocks: MockRuntime, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING):
        outputs = _run(mocks, _config("PASSTHROUGH"))
    ingress = the_ingress(mocks.emulator)
    assert ingress_annotations(ingress) == {P + "ssl-passthrough": "true"}
    assert "tls" not in ingress["spec"]
    secrets = secrets_by_role(mocks.emulator)
    assert set(secrets) == {"backend-tls"}
    data = secrets["backend-tls"]["stringData"]
    assert set(data) == {"tls.crt", "tls.key", "ca.crt", "ca.crl"}
    assert data["tls.crt"] == outputs["serverCertificateChain"]
    assert data["ca.crt"] == outputs["clientCaBundle"]
    assert data["ca.crl"] == outputs["clientCrl"]
    assert any("--enable-ssl-passthrough" in r.getMessage() for r in caplog.records)


def test_https_mode_re_encrypts_to_a_verified_backend(mocks: MockRuntime) -> None:
    outputs = _run(mocks, _config("HTTPS"))
    secrets = secrets_by_role(mocks.emulator)
    annotations = ingress_annotations(the_ingress(mocks.emulator))
    assert {k: v for k, v in annotations.items() if "auth-tls" not in k} == {
        P + "backend-protocol": "HTTPS",
        P + "proxy-ssl-secret": name_of(secrets["upstream-tls"]),
        P + "proxy-ssl-verify": "on",
        P + "proxy-ssl-verify-depth": "1",
        P + "proxy-ssl-name": "payments-api.payments.svc",
        P + "proxy-ssl-server-name": "on",
        P + "proxy-ssl-protocols": "TLSv1.2 TLSv1.3",
    }
    assert set(secrets) == {"server-tls", "client-ca-bundle", "backend-tls", "upstream-tls"}
    backend = secrets["backend-tls"]["stringData"]
    assert set(backend) == {"tls.crt", "tls.key"}
    verify_server_chain(
        backend["tls.crt"], outputs["serverCaCertificate"], "payments-api.payments.svc"
    )
    upstream = secrets["upstream-tls"]
    assert upstream["type"] == "Opaque"
    assert upstream["stringData"] == {"ca.crt": outputs["serverCaCertificate"]}


def test_https_mode_with_a_client_certificate_for_the_backend(mocks: MockRuntime) -> None:
    config = _config("HTTPS")
    config["ingress"]["backend"]["clientCertificate"] = True
    outputs = _run(mocks, config)
    secrets = secrets_by_role(mocks.emulator)
    upstream = secrets["upstream-tls"]
    assert upstream["type"] == "kubernetes.io/tls"
    assert set(upstream["stringData"]) == {"tls.crt", "tls.key", "ca.crt"}
    nginx_identity = certificates(upstream["stringData"]["tls.crt"])[0]
    assert_client_profile(
        nginx_identity, common_name_="ingress-nginx.ingress-nginx", organization=None
    )
    # The backend verifies nginx against the server CA.
    assert secrets["backend-tls"]["stringData"]["ca.crt"] == outputs["serverCaCertificate"]


def test_controller_config_map_is_patched_with_hardened_defaults(mocks: MockRuntime) -> None:
    mocks.run_program(dev_config())
    (patch,) = mocks.emulator.of_type(CONFIG_MAP_PATCH)
    assert patch.inputs["metadata"] == {
        "name": "ingress-nginx-controller",
        "namespace": "ingress-nginx",
    }
    assert patch.inputs["data"] == {**HARDENED_TLS_SETTINGS, "ssl-session-timeout": "10m"}


def test_controller_settings_override_the_defaults(mocks: MockRuntime) -> None:
    config = dev_config()
    config["controller"]["settings"] = {"ssl-protocols": "TLSv1.3"}
    mocks.run_program(config)
    (patch,) = mocks.emulator.of_type(CONFIG_MAP_PATCH)
    assert patch.inputs["data"]["ssl-protocols"] == "TLSv1.3"


def test_controller_manage_none_leaves_the_config_map_alone(mocks: MockRuntime) -> None:
    config = dev_config()
    config["controller"]["manage"] = "none"
    mocks.run_program(config)
    assert mocks.emulator.of_type(CONFIG_MAP_PATCH) == []


def _depth_for(mocks: MockRuntime, *, intermediates: int) -> str:
    mocks.run(lambda: declare_layered(intermediates))
    return the_ingress(mocks.emulator)["metadata"]["annotations"][P + "auth-tls-verify-depth"]


def test_verify_depth_is_derived_from_a_one_level_client_chain(mocks: MockRuntime) -> None:
    # A root signs the clients: OpenSSL needs depth 0, which ingress-nginx turns into 1.
    assert _depth_for(mocks, intermediates=0) == "1"


def test_verify_depth_is_derived_from_a_two_level_client_chain(mocks: MockRuntime) -> None:
    # One intermediate between the clients and the root.
    assert _depth_for(mocks, intermediates=1) == "1"


def test_verify_depth_is_derived_from_a_three_level_client_chain(mocks: MockRuntime) -> None:
    assert _depth_for(mocks, intermediates=2) == "2"


@pytest.mark.parametrize("protocol", ["HTTP", "HTTPS", "PASSTHROUGH"])
def test_every_manifest_validates_against_the_kubernetes_schema(
    mocks: MockRuntime, protocol: str
) -> None:
    mocks.run_program(_config(protocol))
    registrations = kubernetes_registrations(mocks.emulator)
    assert registrations
    for registration in registrations:
        kubernetes_validate.validate(dict(registration.inputs), KUBERNETES_VERSION, strict=True)


def test_schema_validation_rejects_a_broken_manifest(mocks: MockRuntime) -> None:
    mocks.run_program(_config("HTTP"))
    ingress = the_ingress(mocks.emulator)
    ingress["spec"]["rules"][0]["http"]["paths"][0]["pathType"] = 7
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(ingress, KUBERNETES_VERSION, strict=True)


@pytest.mark.parametrize(
    ("arguments", "field"),
    [
        ({"passthrough": True, "tls_secret_name": "x"}, "tls_secret_name"),
        ({"tls_secret_name": None}, "tls_secret_name"),
        ({"port": 0}, "port"),
        ({"paths": ["no-slash"]}, "paths[0]"),
        ({"client_auth": {"secret": "a/b", "verify_depth": 0}}, "client_auth.verify_depth"),
        (
            {"client_auth": {"secret": "a/b", "verify_depth": 1, "verify_client": "yes"}},
            "client_auth.verify_client",
        ),
        (
            {"client_auth": {"secret": "a/b", "verify_depth": 1, "match_cn": "alice"}},
            "client_auth.match_cn",
        ),
    ],
)
def test_invalid_ingress_arguments(
    mocks: MockRuntime, arguments: dict[str, Any], field: str
) -> None:
    from components.kubernetes import MtlsIngress

    base = {
        "namespace": "apps",
        "ingress_name": "web",
        "host": "app.example.com",
        "service": "web",
        "port": 8080,
        "tls_secret_name": "web-tls",
    }
    with pytest.raises(pulumi.RunError, match=f"  - {re.escape(field)}: "):
        mocks.run(lambda: MtlsIngress("web", {**base, **arguments}))
    assert mocks.emulator.registered == []


def test_invalid_controller_config_arguments(mocks: MockRuntime) -> None:
    from components.kubernetes import ControllerConfig

    with pytest.raises(pulumi.RunError) as raised:
        mocks.run(
            lambda: ControllerConfig(
                "controller", {"manage": "replace", "namespace": "NS", "settings": {"a b": "c"}}
            )
        )
    message = str(raised.value)
    for field in ("manage", "namespace", "settings.a b"):
        assert f"  - {field}: " in message
    assert mocks.emulator.registered == []
