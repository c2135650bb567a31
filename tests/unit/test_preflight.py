"""Preflight checks stop key material that ingress-nginx would accept and then fail on."""

from __future__ import annotations

import re
from typing import Any

import pulumi
import pytest

from components.core import formats
from components.kubernetes import CaSecret, TlsSecret
from components.kubernetes.preflight import check_ca_bundle, check_server_tls
from components.pki import CertificateAuthority, ClientCertificate, ServerCertificate
from support.mock_runtime import MockRuntime

HOST = "app.example.com"


@pytest.fixture
def material(mocks: MockRuntime) -> dict[str, str]:
    def build() -> dict[str, Any]:
        ca = CertificateAuthority("ca", {"common_name": "CA"})
        other_ca = CertificateAuthority("other-ca", {"common_name": "Other CA"})
        issuing = CertificateAuthority(
            "issuing", {"common_name": "Issuing", "issuer": ca.as_issuer()}
        )
        server = ServerCertificate("server", {"issuer": issuing.as_issuer(), "dns_names": [HOST]})
        other = ServerCertificate("other", {"issuer": ca.as_issuer(), "dns_names": [HOST]})
        client = ClientCertificate("client", {"issuer": ca.as_issuer(), "common_name": "c"})
        return {
            "ca": ca.certificate_pem,
            "other_ca": other_ca.certificate_pem,
            "issuing": issuing.certificate_pem,
            "chain": server.chain_pem,
            "leaf": server.certificate_pem,
            "key": server.private_key_pem,
            "other_key": other.private_key_pem,
            "client_chain": client.chain_pem,
            "client_key": client.private_key_pem,
        }

    outputs = mocks.run(build)
    return {name: mocks.resolve(output) for name, output in outputs.items()}


def _check(*, chain: str, key: str, trust: str, hosts: list[str]) -> None:
    check_server_tls(
        "ns/tls", chain_pem=chain, private_key_pem=key, trust_bundle_pem=trust, hosts=hosts
    )


def _problems(error: pytest.ExceptionInfo[pulumi.RunError]) -> list[str]:
    return [line[4:] for line in str(error.value).splitlines() if line.startswith("  - ")]


def test_a_good_pair_passes(material: dict[str, str]) -> None:
    _check(chain=material["chain"], key=material["key"], trust=material["ca"], hosts=[HOST])


def test_certificate_must_cover_every_ingress_host(material: dict[str, str]) -> None:
    with pytest.raises(pulumi.RunError) as raised:
        _check(
            chain=material["chain"],
            key=material["key"],
            trust=material["ca"],
            hosts=[HOST, "api.example.com"],
        )
    assert _problems(raised) == [
        "tls.crt: the certificate does not cover the Ingress host 'api.example.com' "
        "(its names: app.example.com)"
    ]


def test_chain_must_verify_to_the_trusted_ca(material: dict[str, str]) -> None:
    with pytest.raises(pulumi.RunError, match="which is not a trusted CA"):
        _check(
            chain=material["chain"], key=material["key"], trust=material["other_ca"], hosts=[HOST]
        )


def test_chain_without_its_intermediate_does_not_verify(material: dict[str, str]) -> None:
    with pytest.raises(pulumi.RunError, match="CN=Issuing, which is not a trusted CA"):
        _check(chain=material["leaf"], key=material["key"], trust=material["ca"], hosts=[HOST])


def test_chain_in_the_wrong_order_is_reported(material: dict[str, str]) -> None:
    with pytest.raises(pulumi.RunError, match="the chain must run from the leaf up"):
        _check(
            chain=material["issuing"] + material["leaf"],
            key=material["key"],
            trust=material["ca"],
            hosts=[],
        )


def test_key_must_match_the_certificate(material: dict[str, str]) -> None:
    with pytest.raises(pulumi.RunError) as raised:
        _check(
            chain=material["chain"], key=material["other_key"], trust=material["ca"], hosts=[HOST]
        )
    assert _problems(raised) == ["tls.key: does not belong to the certificate in tls.crt"]


def test_certificate_without_san_cannot_serve_a_host(material: dict[str, str]) -> None:
    with pytest.raises(pulumi.RunError, match="has no subjectAltName"):
        _check(
            chain=material["client_chain"],
            key=material["client_key"],
            trust=material["ca"],
            hosts=[HOST],
        )


def test_problems_are_reported_together(material: dict[str, str]) -> None:
    with pytest.raises(pulumi.RunError) as raised:
        _check(
            chain=material["chain"],
            key="not a key",
            trust=material["other_ca"],
            hosts=["api.example.com"],
        )
    assert str(raised.value).startswith("preflight check of Secret ns/tls failed: 3 problems")


def test_empty_client_ca_bundle_is_rejected() -> None:
    with pytest.raises(pulumi.RunError, match=r"ca\.crt: holds no PEM certificate"):
        check_ca_bundle("ns/client-ca", bundle_pem="")


def test_client_ca_bundle_must_hold_ca_certificates(material: dict[str, str]) -> None:
    with pytest.raises(pulumi.RunError, match=r"ca.crt\[0\]: CN=app.example.com is not a CA"):
        check_ca_bundle("ns/client-ca", bundle_pem=material["leaf"])


def test_tls_secret_refuses_a_mismatched_key(mocks: MockRuntime, material: dict[str, str]) -> None:
    with pytest.raises(pulumi.RunError, match="does not belong to the certificate"):
        mocks.run(
            lambda: TlsSecret(
                "tls",
                {
                    "namespace": "apps",
                    "certificate_chain_pem": material["chain"],
                    "private_key_pem": material["other_key"],
                    "trust_bundle_pem": material["ca"],
                    "hosts": [HOST],
                },
            )
        )
    assert mocks.emulator.of_type("kubernetes:core/v1:Secret") == []


def test_ca_secret_refuses_an_empty_bundle(mocks: MockRuntime) -> None:
    with pytest.raises(pulumi.RunError, match="holds no PEM certificate"):
        mocks.run(lambda: CaSecret("ca", {"namespace": "apps", "ca_bundle_pem": ""}))
    assert mocks.emulator.of_type("kubernetes:core/v1:Secret") == []


def test_secrets_of_components_named_in_camel_case_get_valid_object_names(
    mocks: MockRuntime, material: dict[str, str]
) -> None:
    # Pulumi generates the Secret's name from its resource name; the API server accepts only
    # lower-case DNS names, as YAML stacks that name components `serverTls` find out.
    mocks.run(lambda: CaSecret("clientCa", {"namespace": "apps", "ca_bundle_pem": material["ca"]}))
    mocks.run(lambda: CaSecret("client_ca", {"namespace": "apps", "ca_bundle_pem": material["ca"]}))
    mocks.run(lambda: CaSecret("client-ca", {"namespace": "apps", "ca_bundle_pem": material["ca"]}))
    mocks.run(
        lambda: TlsSecret(
            "server_Tls",
            {
                "namespace": "apps",
                "certificate_chain_pem": material["chain"],
                "private_key_pem": material["key"],
                "trust_bundle_pem": material["ca"],
                "hosts": [HOST],
            },
        )
    )
    names = [secret.name for secret in mocks.emulator.of_type("kubernetes:core/v1:Secret")]
    assert all(formats.dns_subdomain(name) is None for name in names), names
    # Apart although Kubernetes would read them alike; a name that suits it is kept as it is.
    assert len(set(names)) == 4 and names[2] == "client-ca-secret"
    assert re.fullmatch(r"server-tls-[0-9a-f]{6}-secret", names[3])
