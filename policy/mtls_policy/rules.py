"""The checks of the mtls-ingress policy pack, one function per policy.

A resource check takes one resource (its inputs, as the engine is about to send them to the
provider) and the policy's configuration, and returns the violations it finds. A stack check
takes every resource of the stack (their outputs once deployed; during a preview, what the
preview knows). Values a preview cannot know yet raise `UnknownValueError` where a check needs them;
text scans skip them, and the update checks them once they are known."""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from cryptography import x509
from cryptography.exceptions import InvalidSignature

from components.core import pem
from components.core.annotations import PREFIX, UNVERIFIED_MODES
from mtls_policy.values import UNKNOWN, SecretText, UnknownValueError, known, strings

PRIVATE_KEY = "tls:index/privateKey:PrivateKey"
CERTIFICATES = (
    "tls:index/locallySignedCert:LocallySignedCert",
    "tls:index/selfSignedCert:SelfSignedCert",
)
SECRETS = ("kubernetes:core/v1:Secret", "kubernetes:core/v1:SecretPatch")
CONFIG_MAPS = ("kubernetes:core/v1:ConfigMap", "kubernetes:core/v1:ConfigMapPatch")
INGRESSES = (
    "kubernetes:networking.k8s.io/v1:Ingress",
    "kubernetes:networking.k8s.io/v1:IngressPatch",
)
STACK = "pulumi:pulumi:Stack"

DEFAULT_MINIMUM_RSA_BITS = 2048
# pulumi-tls's RSA key size when rsaBits is not set.
DEFAULT_RSA_BITS = 2048
STRONG_CURVES = ("P256", "P384", "P521")
# pulumi-tls's curve when ecdsaCurve is not set, as in terraform-provider-tls.
DEFAULT_CURVE = "P224"
# The longest validity the CA/Browser Forum allowed public TLS certificates until March 2026;
# a private PKI that renews automatically can do with far less.
DEFAULT_MAXIMUM_LEAF_DAYS = 397
DEFAULT_ANNOTATION_PREFIX = PREFIX.rstrip("/")


@dataclass(frozen=True)
class Resource:
    """One resource as a resource check sees it."""

    resource_type: str
    name: str
    props: Mapping[str, Any]
    provider_props: Mapping[str, Any] = field(default_factory=dict)


class StackResource(Protocol):
    """One resource as a stack check sees it (pulumi-policy's PolicyResource has these)."""

    @property
    def resource_type(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def urn(self) -> str: ...
    @property
    def props(self) -> Mapping[str, Any]: ...
    @property
    def property_dependencies(self) -> Mapping[str, Sequence[StackResource]]: ...


@dataclass(frozen=True)
class Violation:
    message: str
    urn: str


def key_strength(resource: Resource, config: Mapping[str, Any]) -> list[str]:
    """Keys are RSA of at least `minimumRsaBits` (2048) bits, ECDSA on P-256 or larger, or
    Ed25519."""
    if resource.resource_type != PRIVATE_KEY:
        return []
    algorithm = known(resource.props, "algorithm")
    if algorithm == "RSA":
        minimum = int(config.get("minimumRsaBits", DEFAULT_MINIMUM_RSA_BITS))
        bits = int(known(resource.props, "rsaBits") or DEFAULT_RSA_BITS)
        if bits < minimum:
            return [
                f"key {resource.name}: RSA of {bits} bits; at least {minimum} bits are required"
            ]
    elif algorithm == "ECDSA":
        chosen = known(resource.props, "ecdsaCurve")
        curve = chosen or DEFAULT_CURVE
        if curve not in STRONG_CURVES:
            unset = "" if chosen else " (ecdsaCurve is not set)"
            allowed = ", ".join(STRONG_CURVES)
            return [f"key {resource.name}: ECDSA on {curve}{unset}; use one of {allowed}"]
    elif algorithm != "ED25519":
        return [f"key {resource.name}: unknown algorithm {algorithm!r}; use RSA, ECDSA or ED25519"]
    return []


def leaf_validity(resource: Resource, config: Mapping[str, Any]) -> list[str]:
    """End-entity certificates are valid for at most `maximumDays` (397) days."""
    if resource.resource_type not in CERTIFICATES or known(resource.props, "isCaCertificate"):
        return []
    maximum = int(config.get("maximumDays", DEFAULT_MAXIMUM_LEAF_DAYS))
    hours = known(resource.props, "validityPeriodHours")
    if hours is not None and int(hours) > maximum * 24:
        days = int(hours) / 24
        return [
            f"certificate {resource.name}: valid for {days:g} days; leaf certificates may be "
            f"valid for at most {maximum} days (renew them instead)"
        ]
    return []


def _annotations(props: Mapping[str, Any]) -> Mapping[str, Any]:
    annotations = known(props, "metadata", "annotations")
    return annotations if annotations is not None else {}


def _prefix(config: Mapping[str, Any]) -> str:
    return str(config.get("annotationPrefix", DEFAULT_ANNOTATION_PREFIX))


def verify_client_on(resource: Resource, config: Mapping[str, Any]) -> list[str]:
    """An Ingress with `auth-tls-secret` has `auth-tls-verify-client` on (its default)."""
    if resource.resource_type not in INGRESSES:
        return []
    prefix = _prefix(config)
    annotations = _annotations(resource.props)
    # A patch may change the mode of an Ingress whose auth-tls-secret it does not repeat.
    patch = resource.resource_type.endswith("Patch")
    if f"{prefix}/auth-tls-secret" not in annotations and not patch:
        return []
    mode = known(annotations, f"{prefix}/auth-tls-verify-client")
    if mode not in UNVERIFIED_MODES:
        return []
    return [
        f"Ingress {resource.name}: {prefix}/auth-tls-verify-client is {mode!r}: requests "
        'without a valid client certificate reach the backend; set it to "on"'
    ]


def secret_entries(props: Mapping[str, Any]) -> dict[str, Any]:
    """A Secret's entries, `data` decoded from base64 and `stringData` as is; unknown
    entries are `UNKNOWN`."""
    entries: dict[str, Any] = {}
    for key, value in (known(props, "data") or {}).items():
        if isinstance(value, str):
            try:
                entries[key] = base64.b64decode(value, validate=True).decode()
            except (binascii.Error, ValueError):
                entries[key] = value
        else:
            entries[key] = value
    string_data = known(props, "stringData")
    entries.update(string_data or {})
    return entries


def ca_secret_in_stack(
    resources: Sequence[StackResource], config: Mapping[str, Any]
) -> list[Violation]:
    """An Ingress's `auth-tls-secret` names a Secret of this stack, in the Ingress's namespace,
    that holds `ca.crt`."""
    prefix = _prefix(config)
    cross_namespace = bool(config.get("allowCrossNamespaceResources", False))
    secrets = [resource for resource in resources if resource.resource_type in SECRETS]
    violations = []
    for ingress in (resource for resource in resources if resource.resource_type in INGRESSES):
        annotation = f"{prefix}/auth-tls-secret"
        annotations = _annotations(ingress.props)
        if annotation not in annotations:
            continue
        value = annotations[annotation]
        depended = [
            resource
            for resource in ingress.property_dependencies.get("metadata", [])
            if resource.resource_type in SECRETS
        ]
        problem = None
        if value is UNKNOWN:
            # A preview of a new stack: the name comes from a Secret not yet created.
            if not depended:
                problem = "is computed from no Secret of this stack"
        elif not re.fullmatch(r"[^/\s]+/[^/\s]+", str(value)):
            problem = f"is {value!r}; ingress-nginx needs <namespace>/<name>"
        else:
            namespace, name = str(value).split("/")
            own_namespace = known(ingress.props, "metadata", "namespace")
            if not cross_namespace and own_namespace not in (None, namespace):
                problem = (
                    f"names {value}, in another namespace than the Ingress ({own_namespace}), "
                    "which ingress-nginx refuses unless allow-cross-namespace-resources is set"
                )
            else:
                problem = _ca_secret_problem(str(value), namespace, name, secrets, depended)
        if problem:
            message = (
                f"Ingress {ingress.name}: {annotation} {problem}: the CA that verifies clients "
                "must come from the stack that issues them, or revoking, renewing and rotating "
                "client certificates does not reach the ingress"
            )
            violations.append(Violation(message, ingress.urn))
    return violations


def _ca_secret_problem(
    value: str,
    namespace: str,
    name: str,
    secrets: Sequence[StackResource],
    depended: Sequence[StackResource],
) -> str | None:
    """What is wrong with the Secret `namespace/name` among the stack's `secrets`, if
    anything; `depended` are the Secrets the Ingress's metadata is computed from."""
    named, unsure = [], []
    for secret in secrets:
        metadata = known(secret.props, "metadata") or {}
        secret_name, secret_namespace = metadata.get("name"), metadata.get("namespace")
        if UNKNOWN in (secret_name, secret_namespace):
            unsure.append(secret)
        # A Secret without a namespace goes where its provider says: any namespace may be it.
        elif secret_name == name and secret_namespace in (None, namespace):
            named.append(secret)
    if not named:
        if any(secret in depended for secret in unsure):
            return None
        if unsure:
            raise UnknownValueError(["metadata", "name"])
        return f"names {value}, which is not a Secret of this stack"
    if not any("ca.crt" in _entries_if_known(secret.props, "ca.crt") for secret in named):
        return f"names {value}, which holds no ca.crt"
    return None


def _entries_if_known(props: Mapping[str, Any], default: str) -> Mapping[str, Any]:
    """A Secret's entries, or `{default: UNKNOWN}` while its data is not known."""
    try:
        return secret_entries(props)
    except UnknownValueError:
        return {default: UNKNOWN}


def _subject(certificate: x509.Certificate) -> str:
    return certificate.subject.rfc4514_string()


def client_ca_crl(
    resource: Resource, config: Mapping[str, Any], now: datetime | None = None
) -> list[str]:
    """A Secret with `ca.crl` has a current CRL, signed by its CA, for every CA in `ca.crt`.

    With `ca.crl`, ingress-nginx sets `ssl_crl`, and nginx then checks every CA of a client's
    chain against a CRL (OpenSSL's CRL_CHECK_ALL): a CA without a CRL, with one that is
    expired or not yet valid, or that may not sign CRLs (keyUsage without cRLSign), makes it
    refuse every client certificate issued under that CA."""
    if resource.resource_type not in SECRETS:
        return []
    entries = secret_entries(resource.props)
    crl = known(entries, "ca.crl")
    if crl is None or not str(crl).strip():  # ingress-nginx ignores an empty ca.crl
        return []
    crt = known(entries, "ca.crt")
    if crt is None:
        # A patch may refresh the CRL of a Secret whose ca.crt it leaves alone.
        patch = resource.resource_type.endswith("Patch")
        return [] if patch else [f"Secret {resource.name}: ca.crl without ca.crt"]
    try:
        authorities = x509.load_pem_x509_certificates(str(crt).encode())
    except ValueError as error:
        return [f"Secret {resource.name}: ca.crt is not a PEM certificate bundle ({error})"]
    if not pem.begins_with(str(crl), pem.CRL):
        return [
            f"Secret {resource.name}: ca.crl does not begin with a PEM X509 CRL block, and "
            "ingress-nginx then refuses the Secret"
        ]
    try:
        lists = pem.crls(str(crl))
    except ValueError as error:
        return [f"Secret {resource.name}: ca.crl is not a PEM CRL bundle ({error})"]
    moment = now or datetime.now(UTC)
    return [
        f"Secret {resource.name}: {problem}: nginx refuses every client certificate under it"
        for authority in authorities
        if (problem := _crl_problem(authority, lists, moment))
    ]


def _crl_problem(
    authority: x509.Certificate, lists: Sequence[x509.CertificateRevocationList], moment: datetime
) -> str | None:
    subject = _subject(authority)
    if not pem.may_sign_crls(authority):
        return f"{subject}, in ca.crt, may not sign CRLs (keyUsage lacks cRLSign)"
    issued = [item for item in lists if item.issuer == authority.subject]
    signed = [item for item in issued if _signed_by(item, authority)]
    if any(_current(item, moment) for item in signed):
        return None
    if not issued:
        return f"ca.crl has no CRL of {subject}, which is in ca.crt"
    if not signed:
        return f"the CRL that names {subject} as its issuer is not signed by that CA's key"
    if all(item.last_update_utc > moment for item in signed):
        start = min(item.last_update_utc for item in signed)
        return f"the CRL of {subject} is valid only from {start:%Y-%m-%d %H:%M} UTC"
    expiry = max(item.next_update_utc or moment for item in signed)
    return f"the CRL of {subject} expired at {expiry:%Y-%m-%d %H:%M} UTC"


def _signed_by(revocations: x509.CertificateRevocationList, authority: x509.Certificate) -> bool:
    try:
        return revocations.is_signature_valid(authority.public_key())  # type: ignore[arg-type]
    except (InvalidSignature, TypeError, ValueError):
        return False


def _current(revocations: x509.CertificateRevocationList, moment: datetime) -> bool:
    next_update = revocations.next_update_utc
    return revocations.last_update_utc <= moment and (next_update is None or next_update > moment)


def _dotted(path: Sequence[str | int]) -> str:
    return ".".join(str(part) for part in path)


def no_private_key_in_config_map(resource: Resource, config: Mapping[str, Any]) -> list[str]:
    """No ConfigMap entry holds a private key."""
    if resource.resource_type not in CONFIG_MAPS:
        return []
    # binaryData is base64, which holds_private_key decodes like any base64 text.
    found = [
        f"{field}.{key}"
        for field in ("data", "binaryData")
        for key, value in (known(resource.props, field) or {}).items()
        if isinstance(value, str) and pem.holds_private_key(value)
    ]
    return [
        f"ConfigMap {resource.name}: {entry} holds a private key: ConfigMaps are readable "
        "by whoever may read the namespace's configuration and are not encrypted at rest; "
        "keep keys in a Secret"
        for entry in found
    ]


def private_keys_are_secret(
    resources: Sequence[StackResource], config: Mapping[str, Any]
) -> list[Violation]:
    """No stack output and no resource property holds a private key outside a Pulumi secret."""
    violations = []
    for resource in resources:
        for path, text in strings(resource.props):
            if isinstance(text, SecretText) or not pem.holds_private_key(text):
                continue
            if resource.resource_type == STACK:
                message = (
                    f"stack output {_dotted(path)} holds a private key in plain text: "
                    "`pulumi stack output` and the state show it to anyone who can read the "
                    "stack; export it with pulumi.Output.secret(...)"
                )
            else:
                message = (
                    f"{resource.resource_type} {resource.name}: {_dotted(path)} holds a private "
                    "key in plain text in the state; make it a secret (pulumi.Output.secret for "
                    "an input, additional_secret_outputs for an output)"
                )
            violations.append(Violation(message, resource.urn))
    return violations


def no_private_key_in_rendered_manifest(resource: Resource, config: Mapping[str, Any]) -> list[str]:
    """No Kubernetes object that is rendered to YAML files holds a private key."""
    if not resource.resource_type.startswith("kubernetes:"):
        return []
    directory = known(resource.provider_props, "renderYamlToDirectory")
    if not directory:
        return []
    return [
        f"{resource.resource_type} {resource.name}: {_dotted(path)} holds a private key, and "
        f"its provider renders it to {directory}, where the key is unencrypted on disk; seal "
        "the Secret (Sealed Secrets, SOPS) or let the cluster issue the key"
        for path, text in strings(resource.props)
        if pem.holds_private_key(text)
    ]
