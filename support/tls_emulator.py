"""pulumi-tls emulated with `cryptography`, for `pulumi.runtime.set_mocks`.

Faithful to terraform-provider-tls (which pulumi-tls wraps), so that unit tests see the
certificates the real provider would produce:

- `PrivateKey`: provider defaults rsaBits 2048 and ecdsaCurve P224 (the mock engine applies no
  schema defaults); private keys PEM-encoded as PKCS#1 (RSA), SEC1 (ECDSA), PKCS#8 (ED25519),
  public keys as PKIX; id = hex SHA-1 of the DER public key.
- Certificates: random 128-bit serial (id = its decimal string), NotBefore = now,
  NotAfter = now + validityPeriodHours; BasicConstraints always present and critical
  (CA:TRUE only with isCaCertificate); KeyUsage (critical) and ExtendedKeyUsage from
  allowedUses, unknown names ignored as the provider does; SubjectKeyId (SHA-1 over the key
  as Go's x509 marshals it) when isCaCertificate or setSubjectKeyId; AuthorityKeyId copied from
  the issuer's SubjectKeyId (Go's x509.CreateCertificate does it for every non-self-issued
  certificate, and for self-signed ones only with setAuthorityKeyId); pathLenConstraint only
  for maxPathLength > 0 (Go reads 0 as unset); SANs and subject taken from the request.
- Outputs under the provider's property names; private key PEMs returned as secrets, since the
  mock monitor ignores `additional_secret_outputs`.

Every registered resource is recorded in `registered`, components included.
"""

from __future__ import annotations

import base64
import hashlib
import ipaddress
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import dill  # type: ignore[import-untyped]
import pulumi
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from pulumi.runtime import rpc

PRIVATE_KEY = "tls:index/privateKey:PrivateKey"
SELF_SIGNED_CERT = "tls:index/selfSignedCert:SelfSignedCert"
CERT_REQUEST = "tls:index/certRequest:CertRequest"
LOCALLY_SIGNED_CERT = "tls:index/locallySignedCert:LocallySignedCert"
DYNAMIC_RESOURCE = "pulumi-python:dynamic"
KUBERNETES = "kubernetes:"

_CURVES: dict[str, Callable[[], ec.EllipticCurve]] = {
    "P224": ec.SECP224R1,
    "P256": ec.SECP256R1,
    "P384": ec.SECP384R1,
    "P521": ec.SECP521R1,
}

_KEY_USAGE_FLAGS = (
    "digital_signature",
    "content_commitment",
    "key_encipherment",
    "data_encipherment",
    "key_agreement",
    "cert_signing",
    "crl_signing",
    "encipher_only",
    "decipher_only",
)
_KEY_USAGE_ARGUMENTS = {
    "cert_signing": "key_cert_sign",
    "crl_signing": "crl_sign",
}
_EXTENDED_KEY_USAGES = {
    "any_extended": ExtendedKeyUsageOID.ANY_EXTENDED_KEY_USAGE,
    "server_auth": ExtendedKeyUsageOID.SERVER_AUTH,
    "client_auth": ExtendedKeyUsageOID.CLIENT_AUTH,
    "code_signing": ExtendedKeyUsageOID.CODE_SIGNING,
    "email_protection": ExtendedKeyUsageOID.EMAIL_PROTECTION,
    "ipsec_end_system": x509.ObjectIdentifier("1.3.6.1.5.5.7.3.5"),
    "ipsec_tunnel": x509.ObjectIdentifier("1.3.6.1.5.5.7.3.6"),
    "ipsec_user": x509.ObjectIdentifier("1.3.6.1.5.5.7.3.7"),
    "timestamping": ExtendedKeyUsageOID.TIME_STAMPING,
    "ocsp_signing": ExtendedKeyUsageOID.OCSP_SIGNING,
    "microsoft_server_gated_crypto": x509.ObjectIdentifier("1.3.6.1.4.1.311.10.3.3"),
    "netscape_server_gated_crypto": x509.ObjectIdentifier("2.16.840.1.113730.4.1"),
    "microsoft_commercial_code_signing": x509.ObjectIdentifier("1.3.6.1.4.1.311.2.1.22"),
    "microsoft_kernel_code_signing": x509.ObjectIdentifier("1.3.6.1.4.1.311.61.1.1"),
}
_SUBJECT_ATTRIBUTES = (
    ("country", NameOID.COUNTRY_NAME),
    ("province", NameOID.STATE_OR_PROVINCE_NAME),
    ("locality", NameOID.LOCALITY_NAME),
    ("postalCode", NameOID.POSTAL_CODE),
    ("organization", NameOID.ORGANIZATION_NAME),
    ("organizationalUnit", NameOID.ORGANIZATIONAL_UNIT_NAME),
    ("commonName", NameOID.COMMON_NAME),
    ("serialNumber", NameOID.SERIAL_NUMBER),
    ("emailAddress", NameOID.EMAIL_ADDRESS),
)

PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey


@dataclass
class Registration:
    typ: str
    name: str
    inputs: dict[str, Any]
    state: dict[str, Any]
    custom: bool | None
    secret_inputs: frozenset[str]


@dataclass
class TlsEmulator(pulumi.runtime.Mocks):
    """Mocks whose pulumi-tls resources are real keys and certificates."""

    now: Callable[[], datetime] = lambda: datetime.now(UTC)
    registered: list[Registration] = field(default_factory=list)

    def new_resource(
        self, args: pulumi.runtime.MockResourceArgs
    ) -> tuple[str | None, dict[str, Any]]:
        secret_inputs = frozenset(key for key, value in args.inputs.items() if _is_secret(value))
        inputs = {key: _reveal(value) for key, value in args.inputs.items()}
        handlers = {
            PRIVATE_KEY: self._private_key,
            SELF_SIGNED_CERT: self._self_signed_cert,
            CERT_REQUEST: self._cert_request,
            LOCALLY_SIGNED_CERT: self._locally_signed_cert,
        }
        handler = handlers.get(args.typ)
        if args.typ.startswith(DYNAMIC_RESOURCE):
            resource_id, state = self._dynamic_resource(inputs)
        elif args.typ.startswith(KUBERNETES):
            resource_id, state = (
                f"{args.name}-id",
                _kubernetes_autonamed(args.typ, args.name, inputs),
            )
        elif handler is None:
            resource_id, state = f"{args.name}-id", inputs
        else:
            resource_id, state = handler(inputs)
        self.registered.append(
            Registration(args.typ, args.name, inputs, state, args.custom, secret_inputs)
        )
        return resource_id, state

    def call(
        self, args: pulumi.runtime.MockCallArgs
    ) -> tuple[dict[str, Any], list[tuple[str, str]] | None]:
        raise NotImplementedError(f"no emulation of the function {args.token}")

    def of_type(self, typ: str) -> list[Registration]:
        return [registration for registration in self.registered if registration.typ == typ]

    # -- Python dynamic providers ----------------------------------------------------------

    def _dynamic_resource(self, inputs: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        """Runs the pickled provider the way `python -m pulumi.dynamic` does: check, create."""
        provider = dill.loads(base64.b64decode(inputs["__provider"]))
        if hasattr(provider, "clock"):
            provider.clock = self.now
        props = {key: value for key, value in inputs.items() if key != "__provider"}
        checked = provider.check({}, props)
        if checked.failures:
            raise ValueError("; ".join(f"{f.property}: {f.reason}" for f in checked.failures))
        result = provider.create(checked.inputs)
        return result.id, {**(result.outs or {}), "__provider": inputs["__provider"]}

    # -- tls.PrivateKey ---------------------------------------------------------------------

    def _private_key(self, inputs: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        algorithm = inputs["algorithm"]
        inputs.setdefault("rsaBits", 2048)
        inputs.setdefault("ecdsaCurve", "P224")
        key: PrivateKey
        if algorithm == "RSA":
            key = rsa.generate_private_key(public_exponent=65537, key_size=int(inputs["rsaBits"]))
            private_format = serialization.PrivateFormat.TraditionalOpenSSL
        elif algorithm == "ECDSA":
            key = ec.generate_private_key(_CURVES[inputs["ecdsaCurve"]]())
            private_format = serialization.PrivateFormat.TraditionalOpenSSL
        elif algorithm == "ED25519":
            key = ed25519.Ed25519PrivateKey.generate()
            private_format = serialization.PrivateFormat.PKCS8
        else:
            raise ValueError(f"Key Algorithm {algorithm!r} is not supported")
        public_der = key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        state = {
            **inputs,
            "privateKeyPem": _secret(_private_pem(key, private_format)),
            "privateKeyPemPkcs8": _secret(_private_pem(key, serialization.PrivateFormat.PKCS8)),
            "privateKeyOpenssh": _secret(_openssh_private(key)),
            "publicKeyPem": key.public_key()
            .public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
            .decode(),
            "publicKeyOpenssh": _openssh_public(key),
            "publicKeyFingerprintMd5": "",
            "publicKeyFingerprintSha256": "",
        }
        return hashlib.sha1(public_der.strip()).hexdigest(), state

    # -- tls.CertRequest --------------------------------------------------------------------

    def _cert_request(self, inputs: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        key = _load_private_key(inputs["privateKeyPem"])
        builder = x509.CertificateSigningRequestBuilder().subject_name(
            _subject(inputs.get("subject"))
        )
        names = _alternative_names(inputs)
        if names:
            builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
        request = builder.sign(key, _signature_hash(key))
        der = request.public_bytes(serialization.Encoding.DER)
        state = {
            **inputs,
            "certRequestPem": request.public_bytes(serialization.Encoding.PEM).decode(),
            "keyAlgorithm": _algorithm_name(key),
        }
        return hashlib.sha1(der).hexdigest(), state

    # -- tls.SelfSignedCert -----------------------------------------------------------------

    def _self_signed_cert(self, inputs: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        key = _load_private_key(inputs["privateKeyPem"])
        subject = _subject(inputs.get("subject"))
        subject_key_id = _subject_key_id(key.public_key())
        sets_ski = bool(inputs.get("isCaCertificate")) or bool(inputs.get("setSubjectKeyId"))
        authority_key_id = subject_key_id if inputs.get("setAuthorityKeyId") else None
        certificate = self._sign(
            inputs,
            subject=subject,
            issuer=subject,
            public_key=key.public_key(),
            signing_key=key,
            names=_alternative_names(inputs),
            subject_key_id=subject_key_id if sets_ski else None,
            authority_key_id=authority_key_id,
        )
        return self._certificate_state(inputs, certificate, key_algorithm=_algorithm_name(key))

    # -- tls.LocallySignedCert --------------------------------------------------------------

    def _locally_signed_cert(self, inputs: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        request = x509.load_pem_x509_csr(inputs["certRequestPem"].encode())
        ca_key = _load_private_key(inputs["caPrivateKeyPem"])
        ca_certificate = x509.load_pem_x509_certificate(inputs["caCertPem"].encode())
        sets_ski = bool(inputs.get("isCaCertificate")) or bool(inputs.get("setSubjectKeyId"))
        try:
            names = list(
                request.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
            )
        except x509.ExtensionNotFound:
            names = []
        certificate = self._sign(
            inputs,
            subject=request.subject,
            issuer=ca_certificate.subject,
            public_key=request.public_key(),
            signing_key=ca_key,
            names=names,
            subject_key_id=_subject_key_id(request.public_key()) if sets_ski else None,
            authority_key_id=_extension_value(ca_certificate, x509.SubjectKeyIdentifier),
        )
        return self._certificate_state(
            inputs, certificate, ca_key_algorithm=_algorithm_name(ca_key)
        )

    # -- shared -----------------------------------------------------------------------------

    def _sign(
        self,
        inputs: dict[str, Any],
        *,
        subject: x509.Name,
        issuer: x509.Name,
        public_key: Any,
        signing_key: PrivateKey,
        names: list[x509.GeneralName],
        subject_key_id: bytes | None,
        authority_key_id: bytes | None,
    ) -> x509.Certificate:
        not_before = self.now().replace(microsecond=0)
        # Integers cross the mock monitor as floats.
        not_after = not_before + timedelta(hours=int(inputs["validityPeriodHours"]))
        is_ca = bool(inputs.get("isCaCertificate"))
        max_path_length = inputs.get("maxPathLength")
        path_length = (
            int(max_path_length) if is_ca and max_path_length and max_path_length > 0 else None
        )
        builder = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(issuer)
            .public_key(public_key)
            .serial_number(secrets.randbelow(2**128))
            .not_valid_before(not_before)
            .not_valid_after(not_after)
            .add_extension(x509.BasicConstraints(ca=is_ca, path_length=path_length), critical=True)
        )
        uses = [str(use) for use in inputs.get("allowedUses") or []]
        flags = {flag: flag in uses for flag in _KEY_USAGE_FLAGS}
        if any(flags.values()):
            builder = builder.add_extension(
                x509.KeyUsage(**{_KEY_USAGE_ARGUMENTS.get(k, k): v for k, v in flags.items()}),
                critical=True,
            )
        extended = [_EXTENDED_KEY_USAGES[use] for use in uses if use in _EXTENDED_KEY_USAGES]
        if extended:
            builder = builder.add_extension(x509.ExtendedKeyUsage(extended), critical=False)
        if names:
            builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
        if subject_key_id is not None:
            builder = builder.add_extension(
                x509.SubjectKeyIdentifier(subject_key_id), critical=False
            )
        if authority_key_id is not None and (issuer != subject or inputs.get("setAuthorityKeyId")):
            builder = builder.add_extension(
                x509.AuthorityKeyIdentifier(authority_key_id, None, None), critical=False
            )
        return builder.sign(signing_key, _signature_hash(signing_key))

    def _certificate_state(
        self, inputs: dict[str, Any], certificate: x509.Certificate, **extra: str
    ) -> tuple[str, dict[str, Any]]:
        early_renewal = timedelta(hours=int(inputs.get("earlyRenewalHours") or 0))
        state = {
            **inputs,
            **extra,
            "certPem": certificate.public_bytes(serialization.Encoding.PEM).decode(),
            "validityStartTime": _rfc3339(certificate.not_valid_before_utc),
            "validityEndTime": _rfc3339(certificate.not_valid_after_utc),
            "readyForRenewal": certificate.not_valid_after_utc - early_renewal <= self.now(),
        }
        return str(certificate.serial_number), state


def _secret(value: str) -> dict[str, str]:
    """A value the mock monitor returns to the program as a secret."""
    return {rpc._special_sig_key: rpc._special_secret_sig, "value": value}


def _is_secret(value: object) -> bool:
    return isinstance(value, dict) and value.get(rpc._special_sig_key) == rpc._special_secret_sig


def _reveal(value: Any) -> Any:
    """The plain value of an input, secret markers removed at any depth."""
    if _is_secret(value):
        return _reveal(value["value"])
    if isinstance(value, dict):
        return {key: _reveal(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_reveal(item) for item in value]
    return value


def _private_pem(key: PrivateKey, private_format: serialization.PrivateFormat) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM, private_format, serialization.NoEncryption()
    ).decode()


def _openssh_private(key: PrivateKey) -> str:
    if isinstance(key, ec.EllipticCurvePrivateKey) and key.curve.name == "secp224r1":
        return ""  # OpenSSH has no P-224; the provider leaves the attribute empty.
    return _private_pem(key, serialization.PrivateFormat.OpenSSH)


def _openssh_public(key: PrivateKey) -> str:
    if isinstance(key, ec.EllipticCurvePrivateKey) and key.curve.name == "secp224r1":
        return ""
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
        .decode()
        + "\n"
    )


def _load_private_key(pem: str) -> PrivateKey:
    key = serialization.load_pem_private_key(pem.encode(), password=None)
    assert isinstance(
        key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey
    )
    return key


def _algorithm_name(key: PrivateKey) -> str:
    if isinstance(key, rsa.RSAPrivateKey):
        return "RSA"
    if isinstance(key, ec.EllipticCurvePrivateKey):
        return "ECDSA"
    return "ED25519"


def _signature_hash(key: PrivateKey) -> hashes.SHA256 | hashes.SHA384 | hashes.SHA512 | None:
    """Go's x509 signature algorithm choice: SHA-256, SHA-384 for P-384, SHA-512 for P-521."""
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return None
    if isinstance(key, ec.EllipticCurvePrivateKey):
        if key.curve.name == "secp384r1":
            return hashes.SHA384()
        if key.curve.name == "secp521r1":
            return hashes.SHA512()
    return hashes.SHA256()


def _subject(subject: dict[str, Any] | None) -> x509.Name:
    if not subject:
        return x509.Name([])
    attributes = []
    for key, oid in _SUBJECT_ATTRIBUTES:
        if subject.get(key):
            attributes.append(x509.NameAttribute(oid, str(subject[key])))
    for street in subject.get("streetAddresses") or []:
        attributes.append(x509.NameAttribute(NameOID.STREET_ADDRESS, street))
    return x509.Name(attributes)


def _alternative_names(inputs: dict[str, Any]) -> list[x509.GeneralName]:
    names: list[x509.GeneralName] = [x509.DNSName(name) for name in inputs.get("dnsNames") or []]
    names += [x509.IPAddress(ipaddress.ip_address(ip)) for ip in inputs.get("ipAddresses") or []]
    names += [x509.UniformResourceIdentifier(uri) for uri in inputs.get("uris") or []]
    return names


def _subject_key_id(public_key: Any) -> bytes:
    """SHA-1 of the key as terraform-provider-tls's generateSubjectKeyID marshals it.

    RSA: the ASN.1 RSAPublicKey; ECDSA: the uncompressed point; which for both is exactly the
    subjectPublicKey BIT STRING content, i.e. RFC 5280 section 4.2.1.2 method (1).
    """
    return x509.SubjectKeyIdentifier.from_public_key(public_key).digest


def _extension_value(
    certificate: x509.Certificate, kind: type[x509.SubjectKeyIdentifier]
) -> bytes | None:
    try:
        return certificate.extensions.get_extension_for_class(kind).value.digest
    except x509.ExtensionNotFound:
        return None


def _rfc3339(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _kubernetes_autonamed(typ: str, name: str, inputs: dict[str, Any]) -> dict[str, Any]:
    """pulumi-kubernetes's autonaming: an object without `metadata.name` (and not a Patch)
    is named after its resource, `<resource name>-<8 hex digits>`, and annotated
    `pulumi.com/autonamed` (provider/pkg/metadata/naming.go)."""
    metadata = inputs.get("metadata")
    if typ.endswith("Patch") or not isinstance(metadata, dict) or metadata.get("name"):
        return inputs
    annotations = {**metadata.get("annotations", {}), "pulumi.com/autonamed": "true"}
    named = {**metadata, "name": f"{name}-{secrets.token_hex(4)}", "annotations": annotations}
    return {**inputs, "metadata": named}
