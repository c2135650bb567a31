"""A certificate signing request whose subject carries several organizations.

`tls.CertRequest` writes a single O attribute, but a Kubernetes user's groups are the O values
of its certificate, one per group. This dynamic resource builds the request with `cryptography`
instead, each organization its own attribute in the order given, and signs it with the
pulumi-tls private key; `tls.LocallySignedCert` still signs the certificate.

The request is rebuilt (updated in place, so its id stays) when the subject or the key changes;
the key itself never enters the resource's outputs, only its public key's fingerprint does.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from typing import Any

import pulumi
import pulumi.dynamic
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID
from pulumi.dynamic import CheckFailure, CheckResult, CreateResult, DiffResult, UpdateResult

from .dynamic_values import DynamicResource, is_unknown

SUBJECT = ("common_name", "organizations")


class RequestProvider(pulumi.dynamic.ResourceProvider):
    """Builds and signs the request of one key."""

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        failures = []
        common_name, organizations = news.get("common_name"), news.get("organizations")
        if not is_unknown(common_name) and (not isinstance(common_name, str) or not common_name):
            failures.append(CheckFailure("common_name", "must be a non-empty string"))
        if not is_unknown(organizations) and (
            not isinstance(organizations, list)
            or not all(isinstance(o, str) and o for o in organizations)
        ):
            failures.append(CheckFailure("organizations", "must be a list of non-empty strings"))
        return CheckResult(news, failures)

    def create(self, props: dict[str, Any]) -> CreateResult:
        return CreateResult(id_=f"csr-{secrets.token_hex(8)}", outs=_request(props))

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        key = news.get("private_key_pem")
        if is_unknown(key) or any(is_unknown(news.get(field)) for field in SUBJECT):
            return DiffResult(changes=True, replaces=[], delete_before_replace=False)
        changed = (
            news.get("common_name") != olds.get("common_name")
            or list(news.get("organizations") or []) != list(olds.get("organizations") or [])
            or _fingerprint(_load_key(str(key))) != olds.get("public_key_fingerprint")
        )
        return DiffResult(changes=changed, replaces=[], delete_before_replace=False)

    def update(self, _id: str, _olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        return UpdateResult(outs=_request(news))


def build_request(
    private_key_pem: str, common_name: str, organizations: Sequence[str]
) -> x509.CertificateSigningRequest:
    """A request for `common_name` with each of `organizations` as its own O, in order."""
    key = _load_key(private_key_pem)
    subject = x509.Name(
        [x509.RelativeDistinguishedName([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])]
        + [
            x509.RelativeDistinguishedName(
                [x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization)]
            )
            for organization in organizations
        ]
    )
    algorithm: hashes.SHA256 | hashes.SHA384 = hashes.SHA256()
    if isinstance(key, ec.EllipticCurvePrivateKey) and key.curve.key_size > 256:
        algorithm = hashes.SHA384()
    return x509.CertificateSigningRequestBuilder().subject_name(subject).sign(key, algorithm)


def _request(props: dict[str, Any]) -> dict[str, Any]:
    key_pem, common_name = str(props["private_key_pem"]), str(props["common_name"])
    organizations = [str(organization) for organization in props.get("organizations") or []]
    request = build_request(key_pem, common_name, organizations)
    return {
        "common_name": common_name,
        "organizations": organizations,
        "public_key_fingerprint": _fingerprint(_load_key(key_pem)),
        "cert_request_pem": request.public_bytes(serialization.Encoding.PEM).decode(),
    }


def _load_key(pem: str) -> rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey:
    key = serialization.load_pem_private_key(pem.encode(), password=None)
    assert isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey), type(key)
    return key


def _fingerprint(key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey) -> str:
    public = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return hashlib.sha256(public).hexdigest()


class CertificateRequest(DynamicResource, module="mtls", name="CertificateRequest"):
    """A signing request with several subject organizations, signed by `private_key_pem`."""

    def __init__(
        self,
        name: str,
        *,
        private_key_pem: pulumi.Input[str],
        common_name: str,
        organizations: Sequence[str],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        inputs = {
            "private_key_pem": pulumi.Output.secret(private_key_pem),
            "common_name": common_name,
            "organizations": list(organizations),
        }
        super().__init__(RequestProvider(), name, inputs, opts)

    cert_request_pem: pulumi.Output[str]
    """The request, PEM."""
    public_key_fingerprint: pulumi.Output[str]
    """SHA-256 of the key's SubjectPublicKeyInfo, hex: how a diff sees a new key."""
