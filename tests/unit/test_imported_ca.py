"""Bring your own CA: `pki.serverCa`/`pki.clientCa` and `kubernetesApi.ca` import an existing CA,
checked when the settings are read, and the `CertificateAuthority` component imports one."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pulumi
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from components.pki import CertificateAuthority
from components.program.settings import parse_settings
from support.mock_runtime import MockRuntime
from support.pki_material import make_authority, signed_certificate
from support.stack_configs import dev_config
from tests.x509_assertions import openssl_verify

SECRET_KEYS = {"pki", "kubernetesApi"}


def _pem(certificate: x509.Certificate) -> str:
    return certificate.public_bytes(serialization.Encoding.PEM).decode()


def _key_pem(
    key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey, password: bytes | None = None
) -> str:
    encryption = (
        serialization.BestAvailableEncryption(password)
        if password
        else serialization.NoEncryption()
    )
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption
    ).decode()


def _with_client_ca(certificate: str, private_key: str) -> dict[str, Any]:
    config = dev_config()
    config["pki"]["clientCa"] = {"certificate": certificate, "privateKey": private_key}
    return config


def _problems(config: dict[str, Any], secret_keys: set[str] | None = SECRET_KEYS) -> list[str]:
    with pytest.raises(pulumi.RunError) as raised:
        parse_settings(config, secret_keys)
    message = str(raised.value)
    assert not re.search(r"[A-Za-z0-9+/]{40}", message), "a problem must not quote PEM"
    return [line[4:] for line in message.splitlines() if line.startswith("  - ")]


def test_an_imported_ca_reads_with_its_remaining_lifetime() -> None:
    authority = make_authority("Imported Clients CA")
    settings = parse_settings(
        _with_client_ca(authority.certificate_pem, authority.private_key_pem), SECRET_KEYS
    )
    client_ca = settings.pki.client_ca
    assert client_ca is not None and client_ca.chain is not None
    assert client_ca.chain.authority == authority.certificate
    assert 3648 <= client_ca.chain.remaining_days(datetime.now(UTC)) <= 3650


def test_leaves_outlasting_an_imported_ca_are_warned_of_not_refused() -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    config = _with_client_ca(_pem(signed_certificate("Clients", key, days=100)), _key_pem(key))
    settings = parse_settings(config, SECRET_KEYS)  # the reporting client lives 90 days
    warnings = settings.expiry_warnings(datetime.now(UTC))
    assert [w.split(":", 1)[0] for w in warnings] == ["pki.clients[0].validityDays"]
    assert "180 days outlast the imported pki.clientCa, which expires in" in warnings[0]
    later = settings.expiry_warnings(datetime.now(UTC) + timedelta(days=20))
    assert [w.split(":", 1)[0] for w in later] == [
        "pki.clients[0].validityDays",
        "pki.clients[1].validityDays",
    ]


def test_every_bad_import_is_reported_in_one_message() -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    other = ec.generate_private_key(ec.SECP256R1())
    config = dev_config()
    # Not a CA, for the server CA; a key that is not the certificate's, for the client CA.
    config["pki"]["serverCa"] = {
        "certificate": _pem(signed_certificate("Leaf", key, ca=False)),
        "privateKey": _key_pem(key),
    }
    config["pki"]["clientCa"] = {
        "certificate": _pem(signed_certificate("Clients", key)),
        "privateKey": _key_pem(other),
        "commonName": "Clients",
    }
    config["pki"]["clients"][0]["organizations"] = ["dev", 7]
    problems = _problems(config)
    not_a_ca = "must be a CA certificate (basicConstraints CA:TRUE); CN=Leaf is not"
    assert f"pki.serverCa.certificate: {not_a_ca}" in problems
    assert (
        "pki.clientCa.privateKey: does not belong to the certificate: its public key is not "
        "CN=Clients's"
    ) in problems
    assert (
        "pki.clientCa.commonName: only applies to a CA the stack creates, not to an import"
        in problems
    )
    assert "pki.clients[0].organizations[1]: must be a non-empty string; got 7" in problems


def test_a_plaintext_key_is_refused_with_how_to_set_it() -> None:
    authority = make_authority("Imported Clients CA")
    config = _with_client_ca(authority.certificate_pem, authority.private_key_pem)
    (problem,) = _problems(config, secret_keys={"host"})
    assert problem.startswith("pki.clientCa.privateKey: must be a secret")
    assert "pulumi config set --secret --path pki.clientCa.privateKey < ca.key" in problem
    # Components built from code, not from stack config, are not asked about secrets.
    assert parse_settings(config).pki.client_ca is not None


@pytest.mark.parametrize(
    ("certificate", "private_key", "field", "phrase"),
    [
        ("not a certificate", None, "certificate", "must be PEM"),
        (None, "-----BEGIN ENCRYPTED PRIVATE KEY-----", "privateKey", "ENCRYPTED PRIVATE KEY"),
        (None, "encrypted", "privateKey", "unencrypted PEM private key"),
        ("no crl sign", None, "certificate", "lacks cRLSign"),
        ("expired", None, "certificate", "expired on"),
        ("no key identifier", None, "certificate", "no subjectKeyIdentifier"),
        ("intermediate alone", None, "certificate", "not self-signed"),
        ("rsa 1024", "rsa 1024", "privateKey", "RSA 2048, 3072 or 4096 bits"),
    ],
)
def test_what_an_imported_ca_must_be(
    certificate: str | None, private_key: str | None, field: str, phrase: str
) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    certificates = {
        None: lambda: _pem(signed_certificate("Clients", key)),
        "not a certificate": lambda: "ca.crt",
        "no crl sign": lambda: _pem(signed_certificate("Clients", key, crl_sign=False)),
        "expired": lambda: _pem(signed_certificate("Clients", key, days=-1)),
        "no key identifier": lambda: _pem(signed_certificate("Clients", key, key_identifier=False)),
        "intermediate alone": lambda: _pem(
            signed_certificate("Intermediate", key, issuer=make_authority("Root"))
        ),
    }
    small = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    if certificate == "rsa 1024":
        certificate_pem, key_pem = _pem(signed_certificate("Clients", small)), _key_pem(small)
    else:
        certificate_pem = certificates[certificate]()
        key_pem = {
            None: _key_pem(key),
            "encrypted": _key_pem(key, b"secret"),
            "-----BEGIN ENCRYPTED PRIVATE KEY-----": _key_pem(key, b"secret"),
        }[private_key]
    problems = _problems(_with_client_ca(certificate_pem, key_pem))
    matching = [p for p in problems if p.startswith(f"pki.clientCa.{field}: ")]
    assert matching and phrase in matching[0], problems


def test_a_chain_up_to_the_root_imports_an_intermediate() -> None:
    root = make_authority("Corporate Root")
    key = ec.generate_private_key(ec.SECP256R1())
    intermediate = signed_certificate("Payments Clients", key, issuer=root)
    settings = parse_settings(
        _with_client_ca(_pem(intermediate) + root.certificate_pem, _key_pem(key)), SECRET_KEYS
    )
    assert settings.pki.client_ca is not None and settings.pki.client_ca.chain is not None
    assert len(settings.pki.client_ca.chain.certificates) == 2


def test_an_imported_ca_signs_leaves_that_verify_to_it() -> None:
    root = make_authority("Corporate Root")
    key = ec.generate_private_key(ec.SECP256R1())
    intermediate = signed_certificate("Payments Clients", key, issuer=root)
    config = _with_client_ca(_pem(intermediate) + root.certificate_pem, _key_pem(key))
    runtime = MockRuntime()
    try:
        exports = runtime.run_program(config, secret_keys={"pki"})
        outputs = {k: runtime.resolve(v) for k, v in exports.items()}
        stack = runtime.program_globals["stack"]
        assert runtime.is_secret(stack.client_ca.private_key_pem)
        assert stack.client_ca.depth == 2
        names = {r.name for r in runtime.emulator.registered}
        assert "mtls-ingress-client-checkout-cert" in names
        # Imported: no key or certificate of its own in the stack.
        assert not names & {"mtls-ingress-client-ca-key", "mtls-ingress-client-ca-cert"}
    finally:
        runtime.close()
    assert outputs["clientCaBundle"] == _pem(intermediate) + root.certificate_pem
    for client in outputs["clientCertificates"].values():
        verified = openssl_verify(client["chain"], root.certificate_pem, purpose="sslclient")
        assert verified.returncode == 0, verified.stdout + verified.stderr


def test_the_component_imports_a_ca_and_checks_it() -> None:
    authority = make_authority("Imported")
    with pytest.raises(pulumi.RunError) as raised:
        CertificateAuthority(
            "bad",
            {
                "certificate_pem": authority.certificate_pem,
                "private_key_pem": _key_pem(ec.generate_private_key(ec.SECP256R1())),
                "common_name": "Imported",
            },
        )
    message = str(raised.value)
    assert "common_name: only applies to a CA the stack creates" in message
    assert "private_key_pem: does not belong to the certificate" in message
