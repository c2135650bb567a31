"""Shared assertions over the X.509 profiles this project promises, chain verification by two
independent verifiers (cryptography's and `openssl verify`), and PKCS#12 files read by three."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import Encoding, pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from cryptography.x509.verification import Criticality, ExtensionPolicy, PolicyBuilder, Store


def certificates(pem: str) -> list[x509.Certificate]:
    return x509.load_pem_x509_certificates(pem.encode())


def certificate(pem: str) -> x509.Certificate:
    loaded = certificates(pem)
    assert len(loaded) == 1, f"expected one certificate, found {len(loaded)}"
    return loaded[0]


def extension(cert: x509.Certificate, kind: type[x509.ExtensionType]) -> x509.Extension:
    return cert.extensions.get_extension_for_class(kind)


def common_name(cert: x509.Certificate) -> str:
    return str(cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value)


def assert_ca_profile(cert: x509.Certificate) -> None:
    constraints = extension(cert, x509.BasicConstraints)
    assert constraints.critical and constraints.value.ca
    usage = extension(cert, x509.KeyUsage)
    assert usage.critical
    assert usage.value.key_cert_sign and usage.value.crl_sign
    assert not usage.value.digital_signature and not usage.value.key_encipherment
    extension(cert, x509.SubjectKeyIdentifier)
    _assert_no_extension(cert, x509.ExtendedKeyUsage)


def assert_server_profile(
    cert: x509.Certificate, *, dns_names: list[str], ip_addresses: list[str] = ()
) -> None:
    _assert_leaf(cert)
    usage = extension(cert, x509.KeyUsage).value
    assert usage.digital_signature
    assert usage.key_encipherment == isinstance(cert.public_key(), rsa.RSAPublicKey)
    assert list(extension(cert, x509.ExtendedKeyUsage).value) == [ExtendedKeyUsageOID.SERVER_AUTH]
    names = extension(cert, x509.SubjectAlternativeName).value
    assert names.get_values_for_type(x509.DNSName) == dns_names
    assert [str(ip) for ip in names.get_values_for_type(x509.IPAddress)] == list(ip_addresses)


def assert_client_profile(
    cert: x509.Certificate, *, common_name_: str, organization: str | None
) -> None:
    _assert_leaf(cert)
    usage = extension(cert, x509.KeyUsage).value
    assert usage.digital_signature and not usage.key_encipherment
    assert list(extension(cert, x509.ExtendedKeyUsage).value) == [ExtendedKeyUsageOID.CLIENT_AUTH]
    assert common_name(cert) == common_name_
    organizations = [
        a.value for a in cert.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)
    ]
    assert organizations == ([organization] if organization else [])


def assert_issued_by(cert: x509.Certificate, issuer: x509.Certificate) -> None:
    assert cert.issuer == issuer.subject
    cert.verify_directly_issued_by(issuer)
    issuer_ski = extension(issuer, x509.SubjectKeyIdentifier).value.digest
    assert extension(cert, x509.AuthorityKeyIdentifier).value.key_identifier == issuer_ski


def key_size_name(cert: x509.Certificate) -> str:
    key = cert.public_key()
    if isinstance(key, rsa.RSAPublicKey):
        return f"RSA_{key.key_size}"
    assert isinstance(key, ec.EllipticCurvePublicKey)
    return {"secp256r1": "ECDSA_P256", "secp384r1": "ECDSA_P384"}[key.curve.name]


def verify_server_chain(chain_pem: str, root_pem: str, host: str) -> None:
    """cryptography's RFC 5280 / CA-B Forum path validation, with host name matching."""
    leaf, *intermediates = certificates(chain_pem)
    verifier = (
        PolicyBuilder()
        .store(Store(certificates(root_pem)))
        .time(datetime.now(UTC))
        .build_server_verifier(x509.DNSName(host))
    )
    verifier.verify(leaf, intermediates)


def verify_client_chain(chain_pem: str, root_pem: str) -> None:
    """cryptography's client path validation, with its web-PKI end-entity rules except one:
    the subjectAltName it demands of clients is optional here, as it is for nginx and
    OpenSSL, which identify an mTLS client by its subject DN."""
    leaf, *intermediates = certificates(chain_pem)
    leaf_policy = ExtensionPolicy.webpki_defaults_ee().may_be_present(
        x509.SubjectAlternativeName, Criticality.AGNOSTIC, None
    )
    verifier = (
        PolicyBuilder()
        .store(Store(certificates(root_pem)))
        .time(datetime.now(UTC))
        .extension_policies(ca_policy=ExtensionPolicy.webpki_defaults_ca(), ee_policy=leaf_policy)
        .build_client_verifier()
    )
    verifier.verify(leaf, intermediates)


def openssl_verify(
    chain_pem: str, root_pem: str, *, purpose: str
) -> subprocess.CompletedProcess[str]:
    """`openssl verify -purpose sslserver|sslclient` of a leaf-first chain against a root."""
    leaf, *intermediates = certificates(chain_pem)
    with tempfile.TemporaryDirectory() as directory:
        folder = Path(directory)
        (folder / "root.pem").write_text(root_pem)
        (folder / "leaf.pem").write_bytes(leaf.public_bytes(Encoding.PEM))
        (folder / "untrusted.pem").write_bytes(
            b"".join(c.public_bytes(Encoding.PEM) for c in intermediates)
        )
        command = ["openssl", "verify", "-x509_strict", "-purpose", purpose, "-CAfile", "root.pem"]
        if intermediates:
            command += ["-untrusted", "untrusted.pem"]
        return subprocess.run(
            [*command, "leaf.pem"], cwd=folder, capture_output=True, text=True, check=False
        )


def assert_pkcs12_opens(data: bytes, password: str, alias: str) -> None:
    """A PKCS#12 file opens with `password` in cryptography, `openssl pkcs12` (PBES2 with
    AES-256-CBC, an HMAC-SHA256 MAC) and Java's keytool, holding a key entry named `alias`."""
    loaded = pkcs12.load_pkcs12(data, password.encode())
    assert loaded.cert is not None and loaded.key is not None
    assert loaded.cert.friendly_name == alias.encode()
    assert loaded.cert.certificate.public_key() == loaded.key.public_key()
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / f"{alias}.p12"
        path.write_bytes(data)
        opened = ["-in", str(path), "-passin", f"pass:{password}"]
        openssl = subprocess.run(
            ["openssl", "pkcs12", *opened, "-info", "-noout"],
            capture_output=True,
            text=True,
            check=False,
        )
        assert openssl.returncode == 0, openssl.stderr
        assert "PBES2, PBKDF2, AES-256-CBC" in openssl.stderr, openssl.stderr
        assert "MAC: sha256" in openssl.stderr, openssl.stderr
        store = ["-keystore", str(path), "-storetype", "PKCS12", "-storepass", password]
        keytool = subprocess.run(
            [shutil.which("keytool") or "keytool", "-list", *store],
            capture_output=True,
            text=True,
            check=False,
        )
        assert keytool.returncode == 0, keytool.stdout + keytool.stderr
        assert f"{alias}, " in keytool.stdout and "PrivateKeyEntry" in keytool.stdout


def _assert_leaf(cert: x509.Certificate) -> None:
    constraints = extension(cert, x509.BasicConstraints)
    assert constraints.critical and not constraints.value.ca
    assert extension(cert, x509.KeyUsage).critical
    assert not extension(cert, x509.KeyUsage).value.key_cert_sign
    extension(cert, x509.SubjectKeyIdentifier)
    extension(cert, x509.AuthorityKeyIdentifier)


def _assert_no_extension(cert: x509.Certificate, kind: type[x509.ExtensionType]) -> None:
    try:
        cert.extensions.get_extension_for_class(kind)
    except x509.ExtensionNotFound:
        return
    raise AssertionError(f"unexpected {kind.__name__} extension")
