"""ClientCertificate: one client identity, its key and the chain it presents."""

from __future__ import annotations

from collections.abc import Sequence
from typing import NotRequired, TypedDict

import pulumi

from ..core import formats
from ..core.validation import Problems
from . import lifetimes
from .issuer import (
    CLIENT_KEY_USAGES,
    Issuer,
    check_issuer,
    check_leaf_options,
    check_subject,
)
from .key_algorithm import KeyAlgorithm
from .leaf import IssuedCertificate


class ClientCertificateArgs(TypedDict):
    """Arguments of `ClientCertificate`."""

    issuer: Issuer
    """The authority that signs the certificate (`CertificateAuthority.as_issuer()`)."""
    common_name: str
    """The client's identity: the subject CN that upstreams read from `ssl-client-subject-dn`
    and that `auth-tls-match-cn` matches."""
    organization: NotRequired[str | None]
    """The client's group, written as the subject O."""
    organizations: NotRequired[Sequence[str]]
    """The client's groups, instead of `organization`: each written as its own subject O, in
    order, in the signing request (Kubernetes reads them as the user's groups)."""
    validity_days: NotRequired[int]
    """Lifetime in days; default 180."""
    renew_before_days: NotRequired[int]
    """Days before expiry from which `pulumi up` renews the certificate; default 30, or half
    a lifetime shorter than 60 days (components.pki.lifetimes)."""
    key_algorithm: NotRequired[str]
    """One of RSA_2048, RSA_3072, RSA_4096, ECDSA_P256, ECDSA_P384; default ECDSA_P256."""
    revoked: NotRequired[bool]
    """The certificate is revoked: it is never renewed again, so that the serial a revocation
    list names stays that of the certificate its holder has."""


class ClientCertificate(IssuedCertificate):
    """A TLS client certificate: key, request and a certificate signed by `issuer`.

    Profile: CA:FALSE, KeyUsage digitalSignature, ExtendedKeyUsage clientAuth only, so the
    certificate cannot be used to impersonate a server.
    """

    def __init__(
        self,
        name: str,
        args: ClientCertificateArgs,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        key_algorithm = _validate(name, args)
        super().__init__("mtls:index:ClientCertificate", name, {}, opts)
        self._issue(
            name,
            args,
            lifetimes.CLIENT_VALIDITY_DAYS,
            key_algorithm,
            common_name=args["common_name"],
            organizations=_organizations(args),
            allowed_uses=CLIENT_KEY_USAGES,
            renewal_paused=args.get("revoked", False),
        )


def _organizations(args: ClientCertificateArgs) -> list[str]:
    single = args.get("organization")
    return [single] if single else list(args.get("organizations", ()))


def _validate(name: str, args: ClientCertificateArgs) -> KeyAlgorithm:
    problems = Problems(f"invalid arguments for ClientCertificate {name!r}")
    check_issuer(problems, args.get("issuer"))
    check_subject(problems, args.get("common_name"), args.get("organization"))
    organizations = args.get("organizations", ())
    if args.get("organization") and organizations:
        problems.add("organizations", "give organization or organizations, not both")
    if isinstance(organizations, str) or not isinstance(organizations, Sequence):
        problems.add("organizations", f"must be a list of strings, got {organizations!r}")
    else:
        for index, organization in enumerate(organizations):
            if (
                not isinstance(organization, str)
                or not organization
                or formats.organization(organization)
            ):
                problems.add(
                    f"organizations[{index}]",
                    f"must be a non-empty string of at most 64 characters, got {organization!r}",
                )
        if len(set(organizations)) != len(organizations):
            problems.add("organizations", f"must not repeat a value, got {list(organizations)}")
    return check_leaf_options(problems, args, lifetimes.CLIENT_VALIDITY_DAYS)
