"""Certificate authorities made directly with cryptography, for the tests and benchmarks of code
that only sees PEM (the CRL provider, nginx configurations, Envoy)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

from localkube.cluster import self_signed_ca


@dataclass(frozen=True)
class Authority:
    certificate: x509.Certificate
    key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey

    @property
    def certificate_pem(self) -> str:
        return self.certificate.public_bytes(serialization.Encoding.PEM).decode()

    @property
    def private_key_pem(self) -> str:
        return self.key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption(),
        ).decode()


def make_authority(common_name: str, *, algorithm: str = "ECDSA_P256") -> Authority:
    key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey
    if algorithm.startswith("RSA_"):
        key = rsa.generate_private_key(public_exponent=65537, key_size=int(algorithm[4:]))
    else:
        curve = {"ECDSA_P256": ec.SECP256R1(), "ECDSA_P384": ec.SECP384R1()}[algorithm]
        key = ec.generate_private_key(curve)
    not_before = datetime.now(UTC) - timedelta(minutes=1)
    certificate = self_signed_ca(common_name, key, not_before=not_before, days=3650)
    return Authority(certificate, key)


def issue_client(
    issuer_certificate: x509.Certificate,
    issuer_key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey,
    common_name: str,
    *,
    not_before: datetime | None = None,
    not_after: datetime | None = None,
    extended_usages: list[x509.ObjectIdentifier] | None = None,
) -> tuple[str, str]:
    """A client certificate (PEM) and key (PEM) signed by `issuer`, with the given lifetime
    and extended key usages (clientAuth unless told otherwise)."""
    from cryptography.x509.oid import ExtendedKeyUsageOID

    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.now(UTC)
    usages = extended_usages or [ExtendedKeyUsageOID.CLIENT_AUTH]
    issuer_ski = issuer_certificate.extensions.get_extension_for_class(x509.SubjectKeyIdentifier)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)]))
        .issuer_name(issuer_certificate.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before or now - timedelta(minutes=1))
        .not_valid_after(not_after or now + timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage(usages), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(issuer_ski.value),
            critical=False,
        )
        .sign(issuer_key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    ).decode()
    return certificate.public_bytes(serialization.Encoding.PEM).decode(), key_pem


def load_authority(certificate_pem: str, private_key_pem: str) -> Authority:
    key = serialization.load_pem_private_key(private_key_pem.encode(), password=None)
    assert isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey)
    return Authority(x509.load_pem_x509_certificate(certificate_pem.encode()), key)


def signed_certificate(
    common_name: str,
    key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey,
    *,
    issuer: Authority | None = None,
    ca: bool = True,
    crl_sign: bool = True,
    days: int = 365,
    key_identifier: bool = True,
) -> x509.Certificate:
    """A certificate of `key` for `common_name`, signed by `issuer` (self-signed without
    one): a CA, or a leaf with `ca=False`; `crl_sign=False` leaves cRLSign out of a CA's
    keyUsage, `key_identifier=False` its subject key identifier."""
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = datetime.now(UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(issuer.certificate.subject if issuer else name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=2))
        .not_valid_after(now + timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=not ca,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=ca,
                crl_sign=ca and crl_sign,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
    )
    if key_identifier:
        identifier = x509.SubjectKeyIdentifier.from_public_key(key.public_key())
        builder = builder.add_extension(identifier, critical=False)
    if issuer is not None:
        authority = x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer.key.public_key())
        builder = builder.add_extension(authority, critical=False)
    return builder.sign(issuer.key if issuer else key, hashes.SHA256())
