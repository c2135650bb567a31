"""ServerCertificate: the ingress's TLS certificate, its key and the chain it presents."""

from __future__ import annotations

from collections.abc import Sequence
from typing import NotRequired, TypedDict

import pulumi

from ..core import formats
from ..core.validation import Problems
from . import lifetimes
from .issuer import (
    Issuer,
    check_issuer,
    check_leaf_options,
)
from .key_algorithm import KeyAlgorithm
from .leaf import IssuedCertificate


class ServerCertificateArgs(TypedDict):
    """Arguments of `ServerCertificate`."""

    issuer: Issuer
    """The authority that signs the certificate (`CertificateAuthority.as_issuer()`)."""
    dns_names: Sequence[str]
    """DNS subject alternative names; the first is also the subject common name."""
    ip_addresses: NotRequired[Sequence[str]]
    """IP address subject alternative names."""
    validity_days: NotRequired[int]
    """Lifetime in days; default 365."""
    renew_before_days: NotRequired[int]
    """Days before expiry from which `pulumi up` renews the certificate; default 30, or half
    a lifetime shorter than 60 days (components.pki.lifetimes)."""
    key_algorithm: NotRequired[str]
    """One of RSA_2048, RSA_3072, RSA_4096, ECDSA_P256, ECDSA_P384; default ECDSA_P256."""


class ServerCertificate(IssuedCertificate):
    """A TLS server certificate: key, request and a certificate signed by `issuer`.

    Profile: CA:FALSE, KeyUsage digitalSignature (plus keyEncipherment for RSA keys),
    ExtendedKeyUsage serverAuth, and the names as subjectAltName, which is what clients
    match (RFC 6125; a common name alone has not been honoured by browsers since 2017).
    """

    def __init__(
        self,
        name: str,
        args: ServerCertificateArgs,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        key_algorithm = _validate(name, args)
        super().__init__("mtls:index:ServerCertificate", name, {}, opts)
        dns_names = list(args["dns_names"])
        ip_addresses = list(args.get("ip_addresses", ()))
        self._issue(
            name,
            args,
            lifetimes.SERVER_VALIDITY_DAYS,
            key_algorithm,
            common_name=(dns_names or ip_addresses)[0],
            organizations=(),
            allowed_uses=[*key_algorithm.server_key_usages(), "server_auth"],
            dns_names=dns_names,
            ip_addresses=ip_addresses,
        )


def _validate(name: str, args: ServerCertificateArgs) -> KeyAlgorithm:
    problems = Problems(f"invalid arguments for ServerCertificate {name!r}")
    check_issuer(problems, args.get("issuer"))
    dns_names = args.get("dns_names")
    ip_addresses = args.get("ip_addresses", ())
    for field, values, check in (
        ("dns_names", dns_names, formats.hostname),
        ("ip_addresses", ip_addresses, formats.ip_address),
    ):
        if isinstance(values, str) or not isinstance(values, Sequence):
            problems.add(field, f"must be a list of strings, got {values!r}")
            continue
        for index, value in enumerate(values):
            problems.check_text(f"{field}[{index}]", value, check)
    if not dns_names and not ip_addresses:
        problems.add("dns_names", "must hold at least one name: a server certificate needs a SAN")
    return check_leaf_options(problems, args, lifetimes.SERVER_VALIDITY_DAYS)
