"""The pulumi-tls emulator behaves as terraform-provider-tls does, so that component tests
built on it see the certificates users get."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

import pulumi_tls as tls
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID

from support.mock_runtime import MockRuntime
from support.tls_emulator import LOCALLY_SIGNED_CERT, PRIVATE_KEY
from tests.x509_assertions import certificate, extension


def _ca(name: str = "ca") -> tuple[tls.PrivateKey, tls.SelfSignedCert]:
    key = tls.PrivateKey(f"{name}-key", algorithm="ECDSA", ecdsa_curve="P256")
    cert = tls.SelfSignedCert(
        f"{name}-cert",
        private_key_pem=key.private_key_pem,
        subject=tls.SelfSignedCertSubjectArgs(common_name="Test CA", organization="Tests"),
        validity_period_hours=48,
        allowed_uses=["cert_signing", "crl_signing", "no_such_usage"],
        is_ca_certificate=True,
    )
    return key, cert


def test_private_key_applies_provider_defaults(mocks: MockRuntime) -> None:
    rsa_key, ec_key = mocks.run(
        lambda: (tls.PrivateKey("rsa", algorithm="RSA"), tls.PrivateKey("ec", algorithm="ECDSA"))
    )
    rsa_loaded = serialization.load_pem_private_key(
        mocks.resolve(rsa_key.private_key_pem).encode(), None
    )
    ec_loaded = serialization.load_pem_private_key(
        mocks.resolve(ec_key.private_key_pem).encode(), None
    )
    assert isinstance(rsa_loaded, rsa.RSAPrivateKey) and rsa_loaded.key_size == 2048
    assert isinstance(ec_loaded, ec.EllipticCurvePrivateKey)
    assert ec_loaded.curve.name == "secp224r1"


@pytest.mark.parametrize(
    ("arguments", "header"),
    [
        ({"algorithm": "RSA", "rsa_bits": 2048}, "RSA PRIVATE KEY"),
        ({"algorithm": "ECDSA", "ecdsa_curve": "P256"}, "EC PRIVATE KEY"),
        ({"algorithm": "ED25519"}, "PRIVATE KEY"),
    ],
)
def test_private_key_pem_encoding_follows_key_type(mocks: MockRuntime, arguments, header) -> None:
    key = mocks.run(lambda: tls.PrivateKey("key", **arguments))
    assert mocks.resolve(key.private_key_pem).startswith(f"-----BEGIN {header}-----\n")
    assert mocks.resolve(key.private_key_pem_pkcs8).startswith("-----BEGIN PRIVATE KEY-----\n")
    assert mocks.resolve(key.public_key_pem).startswith("-----BEGIN PUBLIC KEY-----\n")


def test_private_key_outputs_are_secret_and_id_hashes_public_key(mocks: MockRuntime) -> None:
    key = mocks.run(lambda: tls.PrivateKey("key", algorithm="ECDSA", ecdsa_curve="P256"))
    assert mocks.is_secret(key.private_key_pem)
    assert mocks.is_secret(key.private_key_pem_pkcs8)
    assert not mocks.is_secret(key.public_key_pem)
    public = serialization.load_pem_public_key(mocks.resolve(key.public_key_pem).encode())
    der = public.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    # terraform-provider-tls's hashForState trims white space off the DER string first, which
    # matters when the key's last bytes happen to be 0x09, 0x0a, 0x0d or 0x20.
    assert mocks.resolve(key.id) == hashlib.sha1(der.strip()).hexdigest()


def test_self_signed_ca_has_ca_profile_and_no_authority_key_id(mocks: MockRuntime) -> None:
    _, cert_resource = mocks.run(_ca)
    cert = certificate(mocks.resolve(cert_resource.cert_pem))
    constraints = extension(cert, x509.BasicConstraints)
    assert constraints.critical and constraints.value.ca and constraints.value.path_length is None
    usage = extension(cert, x509.KeyUsage)
    assert usage.critical and usage.value.key_cert_sign and usage.value.crl_sign
    assert not usage.value.digital_signature
    # isCaCertificate alone sets the subject key id; unknown usages are ignored, as upstream.
    ski = extension(cert, x509.SubjectKeyIdentifier).value
    assert ski.digest == x509.SubjectKeyIdentifier.from_public_key(cert.public_key()).digest
    with pytest.raises(x509.ExtensionNotFound):
        cert.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier)
    with pytest.raises(x509.ExtensionNotFound):
        cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage)
    cert.verify_directly_issued_by(cert)


def test_certificate_validity_serial_and_id(mocks: MockRuntime) -> None:
    before = datetime.now(UTC).replace(microsecond=0)
    _, cert_resource = mocks.run(_ca)
    cert = certificate(mocks.resolve(cert_resource.cert_pem))
    assert cert.not_valid_before_utc >= before
    assert cert.not_valid_after_utc - cert.not_valid_before_utc == timedelta(hours=48)
    assert mocks.resolve(cert_resource.id) == str(cert.serial_number)
    assert 0 < cert.serial_number < 2**128
    assert mocks.resolve(cert_resource.validity_end_time) == cert.not_valid_after_utc.strftime(
        "%Y-%m-%dT%H:%M:%SZ"
    )


def test_locally_signed_leaf_takes_subject_and_sans_from_request(mocks: MockRuntime) -> None:
    def build():
        ca_key, ca_cert = _ca()
        key = tls.PrivateKey("leaf-key", algorithm="RSA", rsa_bits=2048)
        request = tls.CertRequest(
            "leaf-csr",
            private_key_pem=key.private_key_pem,
            subject=tls.CertRequestSubjectArgs(common_name="leaf.example.com"),
            dns_names=["leaf.example.com"],
            ip_addresses=["10.1.2.3"],
        )
        return ca_cert, tls.LocallySignedCert(
            "leaf-cert",
            cert_request_pem=request.cert_request_pem,
            ca_cert_pem=ca_cert.cert_pem,
            ca_private_key_pem=ca_key.private_key_pem,
            validity_period_hours=24,
            allowed_uses=["digital_signature", "key_encipherment", "server_auth"],
        )

    ca_resource, leaf_resource = mocks.run(build)
    ca = certificate(mocks.resolve(ca_resource.cert_pem))
    leaf = certificate(mocks.resolve(leaf_resource.cert_pem))
    leaf.verify_directly_issued_by(ca)
    assert leaf.issuer == ca.subject
    assert extension(leaf, x509.BasicConstraints).value.ca is False
    assert list(extension(leaf, x509.ExtendedKeyUsage).value) == [ExtendedKeyUsageOID.SERVER_AUTH]
    names = extension(leaf, x509.SubjectAlternativeName).value
    assert names.get_values_for_type(x509.DNSName) == ["leaf.example.com"]
    assert [str(ip) for ip in names.get_values_for_type(x509.IPAddress)] == ["10.1.2.3"]
    # Go's x509 copies the issuer's subject key id into every certificate it signs.
    aki = extension(leaf, x509.AuthorityKeyIdentifier).value.key_identifier
    assert aki == extension(ca, x509.SubjectKeyIdentifier).value.digest
    # Without setSubjectKeyId a leaf carries no subject key id.
    with pytest.raises(x509.ExtensionNotFound):
        leaf.extensions.get_extension_for_class(x509.SubjectKeyIdentifier)


def test_serials_are_random_per_certificate(mocks: MockRuntime) -> None:
    certs = mocks.run(lambda: [_ca(f"ca{i}")[1] for i in range(3)])
    serials = {certificate(mocks.resolve(c.cert_pem)).serial_number for c in certs}
    assert len(serials) == 3


def test_integer_inputs_arrive_as_floats_and_are_handled(mocks: MockRuntime) -> None:
    mocks.run(_ca)
    registration = mocks.emulator.of_type("tls:index/selfSignedCert:SelfSignedCert")[0]
    assert isinstance(registration.inputs["validityPeriodHours"], float)


def test_ready_for_renewal_inside_early_renewal_window(mocks: MockRuntime) -> None:
    def build():
        ca_key, ca_cert = _ca()
        key = tls.PrivateKey("leaf-key", algorithm="ECDSA", ecdsa_curve="P256")
        request = tls.CertRequest(
            "leaf-csr",
            private_key_pem=key.private_key_pem,
            subject=tls.CertRequestSubjectArgs(common_name="c"),
        )
        return [
            tls.LocallySignedCert(
                f"leaf-{hours}",
                cert_request_pem=request.cert_request_pem,
                ca_cert_pem=ca_cert.cert_pem,
                ca_private_key_pem=ca_key.private_key_pem,
                validity_period_hours=24,
                early_renewal_hours=hours,
                allowed_uses=["client_auth"],
            )
            for hours in (1, 24)
        ]

    not_due, due = mocks.run(build)
    assert mocks.resolve(not_due.ready_for_renewal) is False
    assert mocks.resolve(due.ready_for_renewal) is True


def test_ca_private_key_reaches_the_signer_as_a_secret(mocks: MockRuntime) -> None:
    def build():
        ca_key, ca_cert = _ca()
        key = tls.PrivateKey("leaf-key", algorithm="ECDSA", ecdsa_curve="P256")
        request = tls.CertRequest("leaf-csr", private_key_pem=key.private_key_pem)
        return tls.LocallySignedCert(
            "leaf",
            cert_request_pem=request.cert_request_pem,
            ca_cert_pem=ca_cert.cert_pem,
            ca_private_key_pem=ca_key.private_key_pem,
            validity_period_hours=1,
            allowed_uses=[],
        )

    mocks.run(build)
    (signer,) = mocks.emulator.of_type(LOCALLY_SIGNED_CERT)
    assert "caPrivateKeyPem" in signer.secret_inputs
    assert len(mocks.emulator.of_type(PRIVATE_KEY)) == 2
