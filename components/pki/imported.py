"""Certificate authorities that exist outside the stack (a corporate CA, a cluster's kubeadm CA):
reading their PEM and checking that the stack can sign with them.

Each check returns what is wrong in the words a user reads after the field's path, and never
repeats any part of a private key.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TypeVar

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from ..core.pem import labels, may_sign_crls
from .key_algorithm import KeyAlgorithm

# The PEM blocks terraform-provider-tls reads a CA key from (its keyParsers).
PRIVATE_KEY_BLOCKS = ("RSA PRIVATE KEY", "EC PRIVATE KEY", "PRIVATE KEY")

E = TypeVar("E", bound=x509.ExtensionType)
CaKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey
KEY_TYPES = "RSA 2048, 3072 or 4096 bits, or ECDSA P-256 or P-384"


@dataclass(frozen=True)
class ImportedChain:
    """An imported CA certificate and the certificates above it, the CA first, the root last."""

    certificates: tuple[x509.Certificate, ...]

    @property
    def authority(self) -> x509.Certificate:
        return self.certificates[0]

    def pem(self, start: int = 0, stop: int | None = None) -> str:
        """The PEM blocks of `certificates[start:stop]`, in order."""
        return "".join(
            certificate.public_bytes(serialization.Encoding.PEM).decode()
            for certificate in self.certificates[start:stop]
        )

    @property
    def expires_at(self) -> datetime:
        """When the first certificate of the chain expires, and signing with it stops making
        sense."""
        return min(certificate.not_valid_after_utc for certificate in self.certificates)

    def remaining_days(self, now: datetime) -> int:
        """Whole days until the first certificate of the chain expires."""
        return max(0, (self.expires_at - now).days)


def read_chain(pem: str) -> ImportedChain:
    """The certificates of a PEM text, in order.

    Raises:
        ValueError: with what is wrong, when the text holds no certificate or a broken one.
    """
    if "-----BEGIN CERTIFICATE-----" not in pem:
        raise ValueError(
            "must be PEM: the CA certificate, then any certificates above it up to the root "
            "(-----BEGIN CERTIFICATE----- blocks)"
        )
    try:
        return ImportedChain(tuple(x509.load_pem_x509_certificates(pem.encode())))
    except ValueError as error:
        raise ValueError(f"holds a certificate that cannot be read: {error}") from None


def chain_problems(chain: ImportedChain, now: datetime) -> list[str]:
    """What keeps `chain` from being a CA this stack can sign certificates with, that
    verifiers can trust."""
    authority, problems = chain.authority, []
    subject = authority.subject.rfc4514_string()
    constraints = _extension(authority, x509.BasicConstraints)
    if constraints is None or not constraints.ca:
        problems.append(f"must be a CA certificate (basicConstraints CA:TRUE); {subject} is not")
    if KeyAlgorithm.of_public_key(authority.public_key()) is None:
        problems.append(f"{subject} has a key of another type than {KEY_TYPES}")
    if _extension(authority, x509.SubjectKeyIdentifier) is None:
        problems.append(
            f"{subject} has no subjectKeyIdentifier, which RFC 5280 requires of a CA: the "
            "certificates it signs would lack the authorityKeyIdentifier verifiers look up"
        )
    usage = _extension(authority, x509.KeyUsage)
    if usage is not None and not usage.key_cert_sign:
        problems.append(f"{subject} may not sign certificates (keyUsage lacks keyCertSign)")
    for certificate in chain.certificates:
        name = certificate.subject.rfc4514_string()
        if certificate.not_valid_after_utc <= now:
            problems.append(f"{name} expired on {certificate.not_valid_after_utc:%Y-%m-%d}")
        elif certificate.not_valid_before_utc > now:
            problems.append(f"{name} is not valid before {certificate.not_valid_before_utc}")
    for index, (lower, upper) in enumerate(itertools.pairwise(chain.certificates)):
        if not issued_by(lower, upper):
            problems.append(
                f"certificate {index + 2} did not sign certificate {index + 1}: list the CA "
                "first, then each certificate above it up to the root"
            )
    root = chain.certificates[-1]
    if not issued_by(root, root):
        problems.append(
            f"ends with {root.subject.rfc4514_string()}, which is not self-signed: append the "
            "certificates above it up to the root, which verifiers trust"
        )
    return problems


def crl_signing_problems(chain: ImportedChain) -> list[str]:
    """Whether the chain's CA may sign revocation lists, as a CA that signs clients must."""
    if may_sign_crls(chain.authority):
        return []
    return [
        f"{chain.authority.subject.rfc4514_string()} may not sign revocation lists (keyUsage "
        "lacks cRLSign), and the CA that signs clients signs their CRL (ca.crl)"
    ]


def read_private_key(pem: str) -> CaKey:
    """The unencrypted private key of a PEM text, in a block pulumi-tls can sign with and of
    a type this project issues (`KeyAlgorithm`).

    Raises:
        ValueError: with what is wrong, naming no part of the key.
    """
    blocks = labels(pem)
    allowed = ", ".join(PRIVATE_KEY_BLOCKS)
    if len(blocks) != 1 or blocks[0] not in PRIVATE_KEY_BLOCKS:
        found = f"a block of type {blocks[0]}" if len(blocks) == 1 else f"{len(blocks)} PEM blocks"
        raise ValueError(f"must be one unencrypted PEM private key ({allowed}); got {found}")
    try:
        key = serialization.load_pem_private_key(pem.encode(), password=None)
    except (ValueError, TypeError):
        raise ValueError(
            f"must be one unencrypted PEM private key ({allowed}) that can be read"
        ) from None
    if not isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey) or (
        KeyAlgorithm.of_public_key(key.public_key()) is None
    ):
        raise ValueError(f"must be a key of type {KEY_TYPES}")
    return key


def key_problems(key: CaKey, chain: ImportedChain) -> list[str]:
    """Whether `key` is the private key of the chain's CA certificate, and of a key type the
    project issues."""
    ours = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    theirs = chain.authority.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    if ours == theirs:
        return []
    subject = chain.authority.subject.rfc4514_string()
    return [f"does not belong to the certificate: its public key is not {subject}'s"]


def import_problems(
    certificate_pem: str, private_key_pem: str, now: datetime | None = None
) -> dict[str, list[str]]:
    """Every problem of an imported CA, by the field it is in (`certificate`, `private_key`)."""
    now = now or datetime.now(UTC)
    problems: dict[str, list[str]] = {"certificate": [], "private_key": []}
    chain = key = None
    try:
        chain = read_chain(certificate_pem)
        problems["certificate"] += chain_problems(chain, now)
    except ValueError as error:
        problems["certificate"].append(str(error))
    try:
        key = read_private_key(private_key_pem)
    except ValueError as error:
        problems["private_key"].append(str(error))
    if chain is not None and key is not None:
        problems["private_key"] += key_problems(key, chain)
    return {field: found for field, found in problems.items() if found}


def _extension(certificate: x509.Certificate, kind: type[E]) -> E | None:
    try:
        return certificate.extensions.get_extension_for_class(kind).value
    except x509.ExtensionNotFound:
        return None


def issued_by(certificate: x509.Certificate, issuer: x509.Certificate) -> bool:
    """Whether `issuer` signed `certificate` (names, key type and signature)."""
    try:
        certificate.verify_directly_issued_by(issuer)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True
