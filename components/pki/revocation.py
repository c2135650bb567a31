"""RevocationList: the state-tracked CRL of one certificate authority."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NotRequired, TypedDict

import pulumi
import pulumi.dynamic

from ..core.validation import Problems
from .crl import REASONS, CrlProvider
from .dynamic_values import DynamicResource
from .issuer import Issuer, check_issuer, check_lifetime
from .leaf import pem_bundle
from .lifetimes import crl_lifetime


class RevokedEntry(TypedDict):
    """One revoked certificate."""

    serial_number: pulumi.Input[str]
    """Serial number, decimal (as `ClientCertificate.serial_number` gives it)."""
    reason: NotRequired[str]
    """RFC 5280 reason code name: unspecified (default), keyCompromise, cACompromise,
    affiliationChanged, superseded, cessationOfOperation, certificateHold,
    privilegeWithdrawn or aACompromise."""


class RevocationListArgs(TypedDict):
    """Arguments of `RevocationList`."""

    issuer: Issuer
    """The authority whose certificates the list revokes, and which signs it."""
    revoked: Sequence[RevokedEntry] | pulumi.Output[Sequence[RevokedEntry]]
    """The revoked certificates (may be empty: an empty CRL is what nginx needs to accept
    every valid client when CRL checking is on)."""
    validity_days: NotRequired[int]
    """Days from issue to `next_update`; default 30."""
    refresh_before_days: NotRequired[int]
    """Re-issue when `pulumi up` runs this close to `next_update`; default 7, or a day less
    than a lifetime of a week or less (components.pki.lifetimes)."""


class _SignedCrl(DynamicResource, module="mtls", name="SignedCrl"):
    def __init__(
        self, name: str, props: dict[str, Any], opts: pulumi.ResourceOptions | None
    ) -> None:
        super().__init__(CrlProvider(), name, props, opts)

    crl_pem: pulumi.Output[str]
    crl_number: pulumi.Output[float]
    this_update: pulumi.Output[str]
    next_update: pulumi.Output[str]
    revocation_dates: pulumi.Output[dict[str, str]]


class RevocationList(pulumi.ComponentResource):
    """A CRL (RFC 5280) for one CA, re-issued by `pulumi up` only when it has to be.

    The next `pulumi up` re-issues the list when the revoked entries change, when the list
    is inside its refresh window, or when its validity settings change; otherwise `pulumi
    preview` shows no change. Every re-issue increments `crl_number`; a new issuing CA
    replaces the list and starts again at 1. Each entry keeps the revocation date of the
    update that first listed it.

    nginx rejects every client once `next_update` has passed, and only a run inside the
    refresh window re-issues the list: `pulumi up` must run at least once in every
    `refresh_before_days` window, and every half window to survive one failed run.
    """

    crl_pem: pulumi.Output[str]
    """The signed CRL, PEM."""
    crl_number: pulumi.Output[int]
    """The CRL number (strictly increasing for one issuer)."""
    this_update: pulumi.Output[str]
    """When this list was issued, RFC 3339."""
    next_update: pulumi.Output[str]
    """When this list expires, RFC 3339."""

    def __init__(
        self, name: str, args: RevocationListArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        _validate(name, args)
        super().__init__("mtls:index:RevocationList", name, {}, opts)
        issuer = args["issuer"]
        validity_days, refresh_before_days = crl_lifetime(args)
        signed = _SignedCrl(
            f"{name}-crl",
            {
                "issuer_certificate_pem": issuer["certificate_pem"],
                "issuer_private_key_pem": pulumi.Output.secret(issuer["private_key_pem"]),
                "revoked": _entries(name, args["revoked"]),
                "validity_days": validity_days,
                "refresh_before_days": refresh_before_days,
            },
            pulumi.ResourceOptions(parent=self),
        )
        self.crl_pem = signed.crl_pem
        self.crl_number = signed.crl_number.apply(int)
        self.this_update = signed.this_update
        self.next_update = signed.next_update
        self.register_outputs(
            {
                "crl_pem": self.crl_pem,
                "crl_number": self.crl_number,
                "this_update": self.this_update,
                "next_update": self.next_update,
            }
        )


def crl_bundle(lists: Sequence[RevocationList]) -> pulumi.Output[str]:
    """The CRLs of every CA in a client chain, concatenated: what `ca.crl` must hold.

    nginx's `ssl_crl` turns on OpenSSL's CRL_CHECK_ALL, which wants a CRL for every CA in
    the chain, not only the one that signed the client.
    """
    return pem_bundle(*(crl.crl_pem for crl in lists))


def _entries(
    name: str, revoked: Sequence[RevokedEntry] | pulumi.Output[Sequence[RevokedEntry]]
) -> pulumi.Input[list[dict[str, pulumi.Input[str]]]]:
    """The entries as the signing provider takes them; a list only known once deployed
    (read from other stacks) is checked when it is."""

    def listed(entries: Sequence[RevokedEntry]) -> list[dict[str, pulumi.Input[str]]]:
        return [
            {"serial_number": entry["serial_number"], "reason": entry.get("reason", "unspecified")}
            for entry in entries
        ]

    if not isinstance(revoked, pulumi.Output):
        return listed(revoked)

    def checked(entries: Sequence[RevokedEntry]) -> list[dict[str, pulumi.Input[str]]]:
        problems = Problems(f"invalid arguments for RevocationList {name!r}")
        _check_entries(problems, entries)
        problems.raise_if_any()
        return listed(entries)

    return revoked.apply(checked)


def _validate(name: str, args: RevocationListArgs) -> None:
    problems = Problems(f"invalid arguments for RevocationList {name!r}")
    check_issuer(problems, args.get("issuer"))
    check_lifetime(problems, *crl_lifetime(args), window_field="refresh_before_days")
    revoked = args.get("revoked", [])
    if not isinstance(revoked, pulumi.Output):
        _check_entries(problems, revoked)
    problems.raise_if_any()


def _check_entries(problems: Problems, entries: Sequence[RevokedEntry]) -> None:
    for index, entry in enumerate(entries):
        reason = entry.get("reason", "unspecified")
        if reason not in REASONS:
            problems.add(
                f"revoked[{index}].reason", f"must be one of {' | '.join(REASONS)}, got {reason!r}"
            )
        serial = entry.get("serial_number")
        if isinstance(serial, str) and not serial.isdigit():
            problems.add(
                f"revoked[{index}].serial_number",
                f"must be a decimal serial number, got {serial!r}",
            )
