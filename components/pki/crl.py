"""The certificate revocation list provider: signs CRLs and decides when to re-issue them.

pulumi-tls has no CRL resource, so this is a Pulumi dynamic provider. The engine pickles the
provider object with dill into the stack state and runs it in a separate Python process
(`python -m pulumi.dynamic`), so everything here is importable module-level code, and every
value crossing the engine is a string, a float-safe number, a list or a dict.

State kept per list (the resource outputs): the CRL, its `crl_number` (RFC 5280 section 5.2.3:
strictly increasing for one issuer), `this_update`/`next_update`, and the date each serial was
first revoked, which later re-issues repeat instead of moving it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from pulumi.dynamic import CheckFailure, CheckResult, CreateResult, DiffResult, UpdateResult

from ..core.formats import MAX_SERIAL_NUMBER
from .dynamic_values import ClockedProvider, is_unknown, rfc3339, whole_number, window_fits

REASONS: dict[str, x509.ReasonFlags] = {
    flag.value: flag for flag in x509.ReasonFlags if flag is not x509.ReasonFlags.remove_from_crl
}
# Properties that are inputs; everything else in the state is computed here.
INPUTS = ("issuer_certificate_pem", "revoked", "validity_days", "refresh_before_days")


class CrlProvider(ClockedProvider):
    """Issues the CRL of one certificate authority."""

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        failures = [CheckFailure(field, reason) for field, reason in _input_problems(news)]
        return CheckResult(news, failures)

    def create(self, props: dict[str, Any]) -> CreateResult:
        outs = _issue(props, crl_number=1, known_dates={}, now=self.clock())
        fingerprint = outs["issuer_fingerprint"]
        return CreateResult(id_=f"crl-{fingerprint[:16]}", outs=outs)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        issuer = news.get("issuer_certificate_pem")
        if issuer is None or is_unknown(issuer):
            # The issuing CA itself is being created or replaced in this update.
            return DiffResult(changes=True, replaces=["issuer_certificate_pem"])
        if _fingerprint(issuer) != olds.get("issuer_fingerprint"):
            # A new issuer starts a new CRL sequence: replace, so crl_number restarts.
            return DiffResult(changes=True, replaces=["issuer_certificate_pem"])
        if any(is_unknown(news.get(key)) for key in INPUTS) or _contains_unknown(
            news.get("revoked")
        ):
            return DiffResult(changes=True, replaces=[])
        changed = (
            _entries(news.get("revoked")) != _entries(olds.get("revoked"))
            or any(
                whole_number(news.get(key)) != whole_number(olds.get(key))
                for key in ("validity_days", "refresh_before_days")
            )
            or self._refresh_due(olds, news)
        )
        return DiffResult(changes=changed, replaces=[], delete_before_replace=False)

    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        outs = _issue(
            news,
            crl_number=whole_number(olds["crl_number"]) + 1,
            known_dates=dict(olds.get("revocation_dates") or {}),
            now=self.clock(),
        )
        return UpdateResult(outs=outs)

    def _refresh_due(self, olds: Mapping[str, Any], news: Mapping[str, Any]) -> bool:
        next_update = olds.get("next_update")
        if not isinstance(next_update, str):
            return True
        refresh_before = timedelta(days=whole_number(news["refresh_before_days"]))
        return self.clock() >= datetime.fromisoformat(next_update) - refresh_before


def build_crl(
    *,
    issuer_certificate_pem: str,
    issuer_private_key_pem: str,
    entries: Mapping[int, tuple[str, datetime]],
    crl_number: int,
    this_update: datetime,
    next_update: datetime,
) -> str:
    """A PEM CRL signed by the issuer, listing `entries` (serial -> (reason, revocation date))."""
    issuer = x509.load_pem_x509_certificate(issuer_certificate_pem.encode())
    key = serialization.load_pem_private_key(issuer_private_key_pem.encode(), password=None)
    if not isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
        raise ValueError(f"unsupported CA key type {type(key).__name__}")
    revoked = []
    for serial, (reason, revoked_at) in sorted(entries.items()):
        entry = x509.RevokedCertificateBuilder().serial_number(serial).revocation_date(revoked_at)
        if reason != x509.ReasonFlags.unspecified.value:
            # RFC 5280 section 5.3.1: the reasonCode unspecified SHOULD be absent.
            entry = entry.add_extension(x509.CRLReason(REASONS[reason]), critical=False)
        revoked.append(entry.build())
    # The entries go in through the constructor: add_revoked_certificate copies the builder's
    # list on every call, which makes a 100,000-entry list take minutes instead of a second.
    builder = (
        x509.CertificateRevocationListBuilder(revoked_certificates=revoked)
        .issuer_name(issuer.subject)
        .last_update(this_update)
        .next_update(next_update)
        .add_extension(x509.CRLNumber(crl_number), critical=False)
        # RFC 5280 section 5.2.1: conforming CRL issuers MUST include the AKI.
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(key.public_key()), critical=False
        )
    )
    algorithm: hashes.SHA256 | hashes.SHA384 = hashes.SHA256()
    if isinstance(key, ec.EllipticCurvePrivateKey) and key.curve.key_size > 256:
        algorithm = hashes.SHA384()
    return builder.sign(key, algorithm).public_bytes(serialization.Encoding.PEM).decode()


def _issue(
    props: Mapping[str, Any], *, crl_number: int, known_dates: dict[str, str], now: datetime
) -> dict[str, Any]:
    now = now.replace(microsecond=0)
    entries = _entries(props.get("revoked"))
    dates = {serial: known_dates.get(serial, rfc3339(now)) for serial in entries}
    next_update = now + timedelta(days=whole_number(props["validity_days"]))
    crl_pem = build_crl(
        issuer_certificate_pem=props["issuer_certificate_pem"],
        issuer_private_key_pem=props["issuer_private_key_pem"],
        entries={
            int(serial): (reason, datetime.fromisoformat(dates[serial]))
            for serial, reason in entries.items()
        },
        crl_number=crl_number,
        this_update=now,
        next_update=next_update,
    )
    # The issuer's key stays out of the outputs: it is an input only, kept secret there.
    return {
        **{key: props[key] for key in INPUTS if key in props},
        "issuer_fingerprint": _fingerprint(props["issuer_certificate_pem"]),
        "crl_pem": crl_pem,
        "crl_number": crl_number,
        "this_update": rfc3339(now),
        "next_update": rfc3339(next_update),
        "revocation_dates": dates,
    }


def _entries(revoked: object) -> dict[str, str]:
    """Revoked entries as {decimal serial: reason}."""
    if not isinstance(revoked, list):
        return {}
    return {
        str(int(entry["serial_number"])): str(entry.get("reason") or "unspecified")
        for entry in revoked
        if isinstance(entry, Mapping)
    }


def _input_problems(news: Mapping[str, Any]) -> list[tuple[str, str]]:
    problems: list[tuple[str, str]] = []
    if not window_fits(news.get("validity_days"), news.get("refresh_before_days")):
        problems.append(("validity_days", "validity_days > refresh_before_days > 0 must hold"))
    revoked = news.get("revoked")
    if is_unknown(revoked):
        return problems
    if not isinstance(revoked, list):
        return [*problems, ("revoked", "must be a list of {serial_number, reason}")]
    for index, entry in enumerate(revoked):
        if is_unknown(entry):
            continue
        if not isinstance(entry, Mapping):
            problems.append((f"revoked[{index}]", "must be {serial_number, reason}"))
            continue
        serial = entry.get("serial_number")
        if not is_unknown(serial) and not (
            isinstance(serial, str) and serial.isdigit() and 0 < int(serial) <= MAX_SERIAL_NUMBER
        ):
            problems.append(
                (f"revoked[{index}].serial_number", f"must be a decimal serial, got {serial!r}")
            )
        reason = entry.get("reason", "unspecified")
        if not is_unknown(reason) and reason not in REASONS:
            problems.append((f"revoked[{index}].reason", f"must be one of {', '.join(REASONS)}"))
    return problems


def _contains_unknown(revoked: object) -> bool:
    if not isinstance(revoked, list):
        return is_unknown(revoked)
    return any(
        not isinstance(entry, Mapping) or any(is_unknown(value) for value in entry.values())
        for entry in revoked
    )


def _fingerprint(certificate_pem: str) -> str:
    der = x509.load_pem_x509_certificate(certificate_pem.encode()).public_bytes(
        serialization.Encoding.DER
    )
    return hashlib.sha256(der).hexdigest()
