"""A client's key and certificate as one password-protected PKCS#12 file.

PKCS#12 encryption salts every file anew, so a bundle built in the program would differ on every
run and every preview would show a change. This dynamic resource builds it once and keeps it,
with a password it generates once, in the stack state; a new certificate (a renewal) rebuilds
the file under the same password.

The encryption is what OpenSSL 3 writes by default and what Java's keytool (since 11.0.12 and
17) reads: PBES2 with PBKDF2-HMAC-SHA256 and AES-256-CBC for the key and the certificates, and
an HMAC-SHA256 integrity check.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from typing import Any

import pulumi
import pulumi.dynamic
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from pulumi.dynamic import CreateResult, DiffResult, UpdateResult

from .dynamic_values import DynamicResource, is_unknown

# What the file is made of; a change to any of them rebuilds it.
CONTENT = ("name", "certificate_pem", "intermediates_pem", "private_key_pem")
# OpenSSL 3's default iteration count. The password is 192 random bits, so no number of rounds
# is what keeps it from being guessed; more would only slow a stack with many clients.
PBKDF2_ROUNDS = 2048


class BundleProvider(pulumi.dynamic.ResourceProvider):
    """Keeps one client's PKCS#12 file and its password."""

    def create(self, props: dict[str, Any]) -> CreateResult:
        password = secrets.token_urlsafe(24)
        return CreateResult(id_=f"pkcs12-{secrets.token_hex(8)}", outs=_bundle(props, password))

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        if any(is_unknown(news.get(field)) for field in CONTENT):
            return DiffResult(changes=True, replaces=[], delete_before_replace=False)
        changed = _digest(news) != olds.get("content_digest")
        return DiffResult(changes=changed, replaces=[], delete_before_replace=False)

    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        return UpdateResult(outs=_bundle(news, str(olds["password"])))


def pkcs12_file(
    name: str, certificate_pem: str, intermediates_pem: str, private_key_pem: str, password: str
) -> bytes:
    """The PKCS#12 file of a key, its certificate and the intermediates it presents."""
    key = serialization.load_pem_private_key(private_key_pem.encode(), password=None)
    assert isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey), type(key)
    certificate = x509.load_pem_x509_certificate(certificate_pem.encode())
    intermediates = (
        x509.load_pem_x509_certificates(intermediates_pem.encode())
        if "-----BEGIN CERTIFICATE-----" in intermediates_pem
        else []
    )
    encryption = (
        serialization.PrivateFormat.PKCS12.encryption_builder()
        .kdf_rounds(PBKDF2_ROUNDS)
        .key_cert_algorithm(pkcs12.PBES.PBESv2SHA256AndAES256CBC)
        .hmac_hash(hashes.SHA256())
        .build(password.encode())
    )
    return pkcs12.serialize_key_and_certificates(
        name.encode(), key, certificate, intermediates, encryption
    )


def _bundle(props: dict[str, Any], password: str) -> dict[str, Any]:
    content = {field: str(props.get(field) or "") for field in CONTENT}
    file = pkcs12_file(
        content["name"],
        content["certificate_pem"],
        content["intermediates_pem"],
        content["private_key_pem"],
        password,
    )
    return {
        "name": content["name"],
        "content_digest": _digest(content),
        "pkcs12": base64.b64encode(file).decode(),
        "password": password,
    }


def _digest(props: dict[str, Any]) -> str:
    """A digest of what the file holds, so that a diff sees a new key or certificate."""
    text = "\0".join(str(props.get(field) or "") for field in CONTENT)
    return hashlib.sha256(text.encode()).hexdigest()


class ClientBundle(DynamicResource, module="mtls", name="ClientBundle"):
    """A client's PKCS#12 file (base64) and its password, both secrets."""

    def __init__(
        self,
        name: str,
        *,
        friendly_name: str,
        certificate_pem: pulumi.Input[str],
        intermediates_pem: pulumi.Input[str],
        private_key_pem: pulumi.Input[str],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        inputs = {
            "name": friendly_name,
            "certificate_pem": certificate_pem,
            "intermediates_pem": intermediates_pem,
            "private_key_pem": pulumi.Output.secret(private_key_pem),
        }
        secret = pulumi.ResourceOptions(additional_secret_outputs=["pkcs12", "password"])
        super().__init__(BundleProvider(), name, inputs, pulumi.ResourceOptions.merge(opts, secret))

    content_digest: pulumi.Output[str]
    """A digest of what the file holds (which tells a diff whether to rebuild it)."""
    pkcs12: pulumi.Output[str]
    """The PKCS#12 file, base64."""
    password: pulumi.Output[str]
    """The file's password."""
