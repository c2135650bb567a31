"""What a certificate authority hands to whatever it signs, and the profile rules they share."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NotRequired, TypedDict

import pulumi
from cryptography import x509

from ..core import formats
from ..core.validation import Problems
from .key_algorithm import KeyAlgorithm, key_algorithm_names
from .lifetimes import certificate_lifetime

HOURS_PER_DAY = 24

# RFC 5280 section 4.2.1.3 / 4.2.1.12 profile per role; never inherited from the issuer.
CA_KEY_USAGES = ["cert_signing", "crl_signing"]
CLIENT_KEY_USAGES = ["digital_signature", "client_auth"]


class Issuer(TypedDict):
    """A certificate authority, as the certificates it signs need it.

    `CertificateAuthority.as_issuer()` builds one; from another language, pass the outputs of
    an authority of your own under these names.
    """

    certificate_pem: pulumi.Input[str]
    """PEM certificate of the issuing authority."""
    private_key_pem: pulumi.Input[str]
    """PEM private key of the issuing authority (kept secret)."""
    intermediates_pem: pulumi.Input[str]
    """The issuing authority's certificate and every intermediate above it, root excluded:
    what a peer sends after its own certificate. Empty when the issuer is a root."""
    trust_bundle_pem: pulumi.Input[str]
    """The issuing authority's certificate and every authority above it, root included."""
    depth: NotRequired[int]
    """Number of authorities from the issuer up to the root, both included (a root: 1).
    Required to sign an intermediate authority; certificates do not use it."""


def serial_number_of(certificate_pem: pulumi.Output[str]) -> pulumi.Output[str]:
    """The decimal serial number of a PEM certificate, as CRLs and `openssl x509` use it."""
    return certificate_pem.apply(
        lambda pem: str(x509.load_pem_x509_certificate(pem.encode()).serial_number)
    )


def check_lifetime(
    problems: Problems,
    validity_days: object,
    renew_before_days: object | None = None,
    *,
    window_field: str = "renew_before_days",
) -> None:
    """Records problems with a validity period and the window before its end in which it is
    renewed (`window_field` names that argument), both given in days."""
    if not _is_positive_int(validity_days):
        problems.add("validity_days", f"must be a positive integer, got {validity_days!r}")
        return
    if renew_before_days is None:
        return
    if not _is_positive_int(renew_before_days):
        problems.add(window_field, f"must be a positive integer, got {renew_before_days!r}")
    elif renew_before_days >= validity_days:  # type: ignore[operator]
        problems.add(
            window_field,
            f"must be less than validity_days ({validity_days}), got {renew_before_days}",
        )


def check_leaf_options(
    problems: Problems, args: Mapping[str, Any], default_validity_days: int
) -> KeyAlgorithm:
    """Checks an end-entity certificate's lifetime and key algorithm, then raises every
    problem recorded so far; returns the key algorithm."""
    check_lifetime(problems, *certificate_lifetime(args, default_validity_days))
    return key_algorithm_or_raise(problems, args)


def key_algorithm_or_raise(problems: Problems, args: Mapping[str, Any]) -> KeyAlgorithm:
    """Checks the key algorithm `args` name (ECDSA P-256 when they name none), then raises
    every problem recorded so far; returns the key algorithm."""
    key_algorithm = check_key_algorithm(
        problems, args.get("key_algorithm", KeyAlgorithm.ECDSA_P256.value)
    )
    problems.raise_if_any()
    return key_algorithm


def check_key_algorithm(problems: Problems, value: object) -> KeyAlgorithm:
    """The `KeyAlgorithm` named by `value`, or ECDSA P-256 after recording a problem."""
    for algorithm in KeyAlgorithm:
        if value in (algorithm, algorithm.value):
            return algorithm
    problems.add(
        "key_algorithm", f"must be one of {' | '.join(key_algorithm_names())}, got {value!r}"
    )
    return KeyAlgorithm.ECDSA_P256


def check_subject(problems: Problems, common_name: object, organization: object) -> None:
    """Records problems with a subject's CN and O (RFC 5280 upper bounds)."""
    if not isinstance(common_name, str) or not common_name:
        problems.add("common_name", f"must be a non-empty string, got {common_name!r}")
    elif (expected := formats.common_name(common_name)) is not None:
        problems.add("common_name", f"must be {expected}")
    if organization is not None and (
        not isinstance(organization, str) or formats.organization(organization) is not None
    ):
        problems.add(
            "organization", f"must be a string of at most 64 characters, got {organization!r}"
        )


def check_issuer(problems: Problems, issuer: object, *, signs_authorities: bool = False) -> None:
    """Records problems with an `Issuer`; one that signs authorities must give its depth."""
    keys = ["certificate_pem", "private_key_pem", "intermediates_pem", "trust_bundle_pem"]
    if signs_authorities:
        keys.append("depth")
    if not isinstance(issuer, dict) or not all(key in issuer for key in keys):
        problems.add(
            "issuer",
            f"must be an Issuer with {', '.join(keys[:-1])} and {keys[-1]} "
            "(CertificateAuthority.as_issuer() builds one)",
        )
    elif "depth" in issuer and not _is_positive_int(issuer["depth"]):
        problems.add("issuer.depth", f"must be a positive integer, got {issuer['depth']!r}")


def _is_positive_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0
