"""CertificateAuthority: a root CA, or an intermediate CA signed by another authority."""

from __future__ import annotations

from typing import NotRequired, TypedDict

import pulumi
import pulumi_tls as tls

from ..core.validation import Problems
from . import imported, lifetimes
from .dynamic_values import rfc3339
from .issuer import (
    CA_KEY_USAGES,
    HOURS_PER_DAY,
    Issuer,
    check_issuer,
    check_lifetime,
    check_subject,
    key_algorithm_or_raise,
)
from .key_algorithm import KeyAlgorithm
from .leaf import chain, pem_bundle, sign_new_key

# Arguments that describe a CA to create, which an imported CA takes from its certificate.
CREATION_ARGUMENTS = (
    "common_name",
    "organization",
    "validity_days",
    "max_path_length",
    "issuer",
    "key_algorithm",
)


class CertificateAuthorityArgs(TypedDict):
    """Arguments of `CertificateAuthority`."""

    common_name: NotRequired[str]
    """Subject common name of a CA the stack creates, e.g. "Example Clients CA"."""
    organization: NotRequired[str | None]
    """Subject organization (O)."""
    validity_days: NotRequired[int]
    """Lifetime of the CA certificate in days; default 3650 (ten years)."""
    key_algorithm: NotRequired[str]
    """One of RSA_2048, RSA_3072, RSA_4096, ECDSA_P256, ECDSA_P384; default ECDSA_P256."""
    max_path_length: NotRequired[int | None]
    """Most intermediate CAs allowed below this one (pathLenConstraint); unset means no
    limit. At least 1: pulumi-tls cannot write 0, which Go's x509 reads as "unset"."""
    issuer: NotRequired[Issuer | None]
    """The parent authority; when given, this is an intermediate CA signed by it, else a
    self-signed root."""
    certificate_pem: NotRequired[str]
    """Imports an existing CA instead of creating one: its certificate, PEM, followed by any
    certificates above it up to the self-signed root. Given with `private_key_pem` and without
    `common_name`; the stack creates nothing for it and never replaces it."""
    private_key_pem: NotRequired[pulumi.Input[str]]
    """The imported CA's private key, unencrypted PEM (keep it a secret: read it with
    `pulumi.Config.require_secret`)."""


class CertificateAuthority(pulumi.ComponentResource):
    """A certificate authority on pulumi-tls: its key and its CA certificate, or an existing
    CA imported from its PEM (`certificate_pem` and `private_key_pem`).

    A created certificate carries the CA profile of RFC 5280 whatever signs it: critical
    BasicConstraints CA:TRUE, KeyUsage keyCertSign and cRLSign, and a subject key identifier
    that the certificates it signs reference as their authority key identifier.
    """

    certificate_pem: pulumi.Output[str]
    """The CA certificate, PEM."""
    private_key_pem: pulumi.Output[str]
    """The CA private key, PEM (secret)."""
    intermediates_pem: pulumi.Output[str]
    """This CA's certificate and the intermediates above it, root excluded: what a leaf it
    signs presents after itself. Empty for a root."""
    trust_bundle_pem: pulumi.Output[str]
    """This CA's certificate and every authority above it, root included: what a verifier of
    the leaves it signs loads (for ingress-nginx, `ca.crt`)."""
    root_certificate_pem: pulumi.Output[str]
    """The root authority's certificate (this one, for a root)."""
    expires_at: pulumi.Output[str]
    """End of the CA certificate's validity, RFC 3339."""
    depth: int
    """Authorities from this one up to the root, both included: 1 for a root."""
    key_algorithm: KeyAlgorithm
    """The key type and size of this authority."""

    def __init__(
        self,
        name: str,
        args: CertificateAuthorityArgs,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        key_algorithm = _validate(name, args)
        super().__init__("mtls:index:CertificateAuthority", name, {}, opts)
        self.key_algorithm = key_algorithm
        if "certificate_pem" in args:
            self._import(name, args["certificate_pem"], args["private_key_pem"])
            return
        issuer = args.get("issuer")
        certificate: tls.SelfSignedCert | tls.LocallySignedCert
        if issuer is None:
            key, certificate = self._create_root(name, args)
        else:
            key, certificate = self._create_intermediate(name, args, issuer)
        self.private_key_pem = pulumi.Output.secret(key.private_key_pem)
        self.expires_at = certificate.validity_end_time
        self._register()

    def _create_root(
        self, name: str, args: CertificateAuthorityArgs
    ) -> tuple[tls.PrivateKey, tls.SelfSignedCert]:
        """`{name}-key` and the self-signed `{name}-cert`; sets the chain attributes."""
        key = tls.PrivateKey(
            f"{name}-key",
            **self.key_algorithm.private_key_parameters(),
            opts=pulumi.ResourceOptions(parent=self),
        )
        certificate = tls.SelfSignedCert(
            f"{name}-cert",
            private_key_pem=key.private_key_pem,
            subject=tls.SelfSignedCertSubjectArgs(
                common_name=args.get("common_name"), organization=args.get("organization")
            ),
            validity_period_hours=_validity_days(args) * HOURS_PER_DAY,
            allowed_uses=CA_KEY_USAGES,
            is_ca_certificate=True,
            set_subject_key_id=True,
            max_path_length=args.get("max_path_length"),
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.certificate_pem = certificate.cert_pem
        self.intermediates_pem = pulumi.Output.from_input("")
        self.trust_bundle_pem = certificate.cert_pem
        self.root_certificate_pem = certificate.cert_pem
        self.depth = 1
        return key, certificate

    def _create_intermediate(
        self, name: str, args: CertificateAuthorityArgs, issuer: Issuer
    ) -> tuple[tls.PrivateKey, tls.LocallySignedCert]:
        """Key, request and certificate signed by `issuer` (leaf.sign_new_key, with the CA
        profile and no renewal); sets the chain attributes."""
        signed = sign_new_key(
            self,
            name,
            issuer=issuer,
            key_algorithm=self.key_algorithm,
            common_name=args.get("common_name", ""),
            organizations=[o for o in [args.get("organization")] if o],
            allowed_uses=CA_KEY_USAGES,
            validity_days=_validity_days(args),
            renew_before_days=None,
            is_ca=True,
            max_path_length=args.get("max_path_length"),
        )
        certificate = signed.certificate
        self.certificate_pem = certificate.cert_pem
        self.intermediates_pem = chain(certificate.cert_pem, issuer)
        self.trust_bundle_pem = pem_bundle(certificate.cert_pem, issuer["trust_bundle_pem"])
        self.root_certificate_pem = pulumi.Output.from_input(issuer["trust_bundle_pem"]).apply(
            _last_certificate
        )
        self.depth = issuer["depth"] + 1
        return signed.key, certificate

    def _import(self, name: str, certificate_pem: str, private_key_pem: pulumi.Input[str]) -> None:
        chain = imported.read_chain(certificate_pem)
        algorithm = KeyAlgorithm.of_public_key(chain.authority.public_key())
        assert algorithm is not None, "checked by _validate"
        self.key_algorithm = algorithm
        self.certificate_pem = pulumi.Output.from_input(chain.pem(0, 1))
        self.intermediates_pem = pulumi.Output.from_input(chain.pem(0, -1))
        self.trust_bundle_pem = pulumi.Output.from_input(chain.pem())
        self.root_certificate_pem = pulumi.Output.from_input(chain.pem(-1))
        self.depth = len(chain.certificates)
        self.private_key_pem = pulumi.Output.secret(private_key_pem).apply(
            lambda pem: _matching_key(name, pem, chain)
        )
        self.expires_at = pulumi.Output.from_input(rfc3339(chain.authority.not_valid_after_utc))
        self._register()

    def _register(self) -> None:
        self.register_outputs(
            {
                "certificate_pem": self.certificate_pem,
                "private_key_pem": self.private_key_pem,
                "intermediates_pem": self.intermediates_pem,
                "trust_bundle_pem": self.trust_bundle_pem,
                "root_certificate_pem": self.root_certificate_pem,
                "expires_at": self.expires_at,
                "depth": self.depth,
                "key_algorithm": self.key_algorithm.value,
            }
        )

    def as_issuer(self) -> Issuer:
        """This authority, as `ServerCertificate`, `ClientCertificate` and intermediate
        `CertificateAuthority` arguments take it."""
        return Issuer(
            certificate_pem=self.certificate_pem,
            private_key_pem=self.private_key_pem,
            intermediates_pem=self.intermediates_pem,
            trust_bundle_pem=self.trust_bundle_pem,
            depth=self.depth,
        )


def _validate(name: str, args: CertificateAuthorityArgs) -> KeyAlgorithm:
    problems = Problems(f"invalid arguments for CertificateAuthority {name!r}")
    if "certificate_pem" in args or "private_key_pem" in args:
        _check_import(problems, args)
    else:
        check_subject(problems, args.get("common_name"), args.get("organization"))
    check_lifetime(problems, _validity_days(args))
    max_path_length = args.get("max_path_length")
    if max_path_length is not None and (
        not isinstance(max_path_length, int)
        or isinstance(max_path_length, bool)
        or max_path_length < 1
    ):
        problems.add(
            "max_path_length",
            "must be a positive integer or unset (pulumi-tls writes no constraint for 0), "
            f"got {max_path_length!r}",
        )
    if args.get("issuer") is not None:
        check_issuer(problems, args.get("issuer"), signs_authorities=True)
    return key_algorithm_or_raise(problems, args)


def _check_import(problems: Problems, args: CertificateAuthorityArgs) -> None:
    """An imported CA: both PEM arguments, and none of those that describe a CA to create."""
    for argument in CREATION_ARGUMENTS:
        if args.get(argument) is not None:
            problems.add(argument, "only applies to a CA the stack creates, not to an import")
    certificate, key = args.get("certificate_pem"), args.get("private_key_pem")
    if not isinstance(certificate, str):
        problems.add("certificate_pem", f"must be a PEM string, got {type(certificate).__name__}")
        return
    if key is None:
        problems.add("private_key_pem", "is required with certificate_pem")
    # A key still to be resolved (an Output, such as a secret config value) is checked once known.
    plain_key = key if isinstance(key, str) else None
    found = imported.import_problems(certificate, plain_key or "")
    for field, messages in found.items():
        if field == "certificate" or plain_key is not None:
            for message in messages:
                problems.add(f"{field}_pem", message)


def _matching_key(name: str, private_key_pem: str, chain: imported.ImportedChain) -> str:
    """The imported key, once known, if it is the imported certificate's."""
    try:
        messages = imported.key_problems(imported.read_private_key(private_key_pem), chain)
    except ValueError as error:
        messages = [str(error)]
    problems = Problems(f"invalid arguments for CertificateAuthority {name!r}")
    for message in messages:
        problems.add("private_key_pem", message)
    problems.raise_if_any()
    return private_key_pem


def _validity_days(args: CertificateAuthorityArgs) -> int:
    return args.get("validity_days", lifetimes.CA_VALIDITY_DAYS)


def _last_certificate(bundle: str) -> str:
    marker = "-----BEGIN CERTIFICATE-----"
    return marker + bundle.rsplit(marker, 1)[-1]
