"""The CRL dynamic provider, driven directly with an injected clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from cryptography import x509
from hypothesis import given, settings
from hypothesis import strategies as st
from pulumi.output import Unknown
from pulumi.runtime.rpc import UNKNOWN

from components.pki.crl import CrlProvider
from support.pki_material import Authority, make_authority
from tests.fixed_clock import FixedClock

START = datetime(2026, 1, 1, tzinfo=UTC)
PROPERTY_AUTHORITY = make_authority("Property CA")


@pytest.fixture(scope="module")
def authority() -> Authority:
    return make_authority("Clients CA")


def _props(authority: Authority, revoked: dict[int, str], **overrides: Any) -> dict[str, Any]:
    return {
        "issuer_certificate_pem": authority.certificate_pem,
        "issuer_private_key_pem": authority.private_key_pem,
        "revoked": [{"serial_number": str(s), "reason": r} for s, r in revoked.items()],
        "validity_days": 30,
        "refresh_before_days": 7,
    } | overrides


def _crl(outs: dict[str, Any]) -> x509.CertificateRevocationList:
    return x509.load_pem_x509_crl(outs["crl_pem"].encode())


def _listed(crl: x509.CertificateRevocationList) -> dict[int, str | None]:
    listed: dict[int, str | None] = {}
    for entry in crl:
        try:
            reason = entry.extensions.get_extension_for_class(x509.CRLReason).value.reason.value
        except x509.ExtensionNotFound:
            reason = None
        listed[entry.serial_number] = reason
    return listed


def test_create_signs_a_crl_listing_exactly_the_revoked_serials(authority: Authority) -> None:
    provider = CrlProvider(FixedClock(START))
    outs = provider.create(_props(authority, {0xABCDEF: "keyCompromise", 42: "unspecified"})).outs
    crl = _crl(outs)
    assert crl.is_signature_valid(authority.certificate.public_key())
    assert crl.issuer == authority.certificate.subject
    # RFC 5280 section 5.3.1: no reasonCode extension for "unspecified".
    assert _listed(crl) == {0xABCDEF: "keyCompromise", 42: None}
    assert crl.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number == 1
    aki = crl.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value
    ski = authority.certificate.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    assert aki.key_identifier == ski.digest


def test_create_records_issue_and_expiry(authority: Authority) -> None:
    outs = CrlProvider(FixedClock(START)).create(_props(authority, {})).outs
    crl = _crl(outs)
    assert crl.last_update_utc == START and crl.next_update_utc == START + timedelta(days=30)
    assert outs["this_update"] == "2026-01-01T00:00:00Z"
    assert outs["next_update"] == "2026-01-31T00:00:00Z"
    assert outs["crl_number"] == 1
    assert list(crl) == []
    assert "issuer_private_key_pem" not in outs


def test_unchanged_inputs_before_the_refresh_window_are_no_change(authority: Authority) -> None:
    clock = FixedClock(START)
    provider = CrlProvider(clock)
    props = _props(authority, {7: "superseded"})
    outs = provider.create(props).outs
    clock.advance(days=22, hours=23)
    result = provider.diff("crl", outs, props)
    assert result.changes is False and not result.replaces


def test_inside_the_refresh_window_the_crl_is_reissued(authority: Authority) -> None:
    clock = FixedClock(START)
    provider = CrlProvider(clock)
    props = _props(authority, {7: "superseded"})
    outs = provider.create(props).outs
    clock.advance(days=23)
    result = provider.diff("crl", outs, props)
    assert result.changes is True and result.replaces == []
    updated = provider.update("crl", outs, props).outs
    assert updated["crl_number"] == 2
    assert updated["next_update"] == "2026-02-23T00:00:00Z"
    assert provider.diff("crl", updated, props).changes is False


def test_a_new_revoked_entry_is_a_change(authority: Authority) -> None:
    clock = FixedClock(START)
    provider = CrlProvider(clock)
    outs = provider.create(_props(authority, {7: "superseded"})).outs
    clock.advance(hours=1)
    news = _props(authority, {7: "superseded", 8: "keyCompromise"})
    assert provider.diff("crl", outs, news).changes is True
    updated = provider.update("crl", outs, news).outs
    assert _listed(_crl(updated)) == {7: "superseded", 8: "keyCompromise"}


def test_a_changed_reason_is_a_change(authority: Authority) -> None:
    provider = CrlProvider(FixedClock(START))
    outs = provider.create(_props(authority, {7: "superseded"})).outs
    assert provider.diff("crl", outs, _props(authority, {7: "keyCompromise"})).changes is True


def test_changed_validity_settings_are_a_change(authority: Authority) -> None:
    provider = CrlProvider(FixedClock(START))
    outs = provider.create(_props(authority, {})).outs
    assert provider.diff("crl", outs, _props(authority, {}, validity_days=14)).changes is True
    assert provider.diff("crl", outs, _props(authority, {}, refresh_before_days=3)).changes


def test_revocation_dates_never_move(authority: Authority) -> None:
    clock = FixedClock(START)
    provider = CrlProvider(clock)
    outs = provider.create(_props(authority, {7: "superseded"})).outs
    clock.advance(days=3)
    outs = provider.update("crl", outs, _props(authority, {7: "superseded", 8: "unspecified"})).outs
    clock.advance(days=25)
    outs = provider.update("crl", outs, _props(authority, {7: "superseded", 8: "unspecified"})).outs
    dates = {entry.serial_number: entry.revocation_date_utc for entry in _crl(outs)}
    assert dates == {7: START, 8: START + timedelta(days=3)}
    assert outs["crl_number"] == 3


def test_a_new_issuer_replaces_the_list_and_restarts_its_number(authority: Authority) -> None:
    provider = CrlProvider(FixedClock(START))
    outs = provider.create(_props(authority, {})).outs
    outs = provider.update("crl", outs, _props(authority, {5: "unspecified"})).outs
    other = make_authority("New Clients CA")
    result = provider.diff("crl", outs, _props(other, {5: "unspecified"}))
    assert result.changes is True and result.replaces == ["issuer_certificate_pem"]
    replacement = provider.create(_props(other, {5: "unspecified"})).outs
    assert replacement["crl_number"] == 1
    assert _crl(replacement).is_signature_valid(other.certificate.public_key())


# The engine's wire sentinel, and the object the provider host turns it into for check and diff.
UNKNOWNS = pytest.mark.parametrize("unknown", [UNKNOWN, Unknown()], ids=["sentinel", "object"])


@UNKNOWNS
def test_unknown_issuer_during_preview_means_replacement(
    authority: Authority, unknown: object
) -> None:
    provider = CrlProvider(FixedClock(START))
    outs = provider.create(_props(authority, {})).outs
    news = _props(authority, {}, issuer_certificate_pem=unknown)
    assert provider.diff("crl", outs, news).replaces == ["issuer_certificate_pem"]


@UNKNOWNS
def test_unknown_serial_during_preview_is_a_change(authority: Authority, unknown: object) -> None:
    provider = CrlProvider(FixedClock(START))
    outs = provider.create(_props(authority, {})).outs
    news = _props(authority, {}) | {
        "revoked": [{"serial_number": unknown, "reason": "unspecified"}]
    }
    assert provider.diff("crl", outs, news).changes is True


@UNKNOWNS
def test_unknown_serial_during_preview_passes_check(authority: Authority, unknown: object) -> None:
    news = _props(authority, {}) | {
        "revoked": [{"serial_number": unknown, "reason": "superseded"}, unknown]
    }
    assert CrlProvider(FixedClock(START)).check({}, news).failures == []


def test_numbers_that_arrive_as_floats_are_accepted(authority: Authority) -> None:
    provider = CrlProvider(FixedClock(START))
    outs = provider.create(_props(authority, {}, validity_days=30.0, refresh_before_days=7.0)).outs
    outs["crl_number"] = float(outs["crl_number"])
    assert (
        provider.update("crl", outs, _props(authority, {1: "unspecified"})).outs["crl_number"] == 2
    )


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"validity_days": 7, "refresh_before_days": 7}, "validity_days"),
        (
            {"revoked": [{"serial_number": "0x10", "reason": "unspecified"}]},
            "revoked[0].serial_number",
        ),
        ({"revoked": [{"serial_number": "10", "reason": "stolen"}]}, "revoked[0].reason"),
        ({"revoked": "10"}, "revoked"),
    ],
)
def test_check_reports_invalid_inputs(authority: Authority, overrides, field) -> None:
    result = CrlProvider(FixedClock(START)).check({}, _props(authority, {}) | overrides)
    assert [failure.property for failure in result.failures] == [field]


@pytest.mark.parametrize("algorithm", ["RSA_2048", "ECDSA_P384"])
def test_crl_is_signed_with_every_supported_key_type(algorithm: str) -> None:
    authority = make_authority(f"{algorithm} CA", algorithm=algorithm)
    crl = _crl(CrlProvider(FixedClock(START)).create(_props(authority, {1: "unspecified"})).outs)
    assert crl.is_signature_valid(authority.certificate.public_key())


@settings(max_examples=25, deadline=None)
@given(
    st.lists(
        st.dictionaries(
            st.integers(min_value=1, max_value=2**64),
            st.sampled_from(["unspecified", "keyCompromise", "superseded"]),
            max_size=4,
        ),
        min_size=1,
        max_size=5,
    )
)
def test_crl_number_strictly_increases_and_dates_stay(revoked_sets) -> None:
    authority = PROPERTY_AUTHORITY
    clock = FixedClock(START)
    provider = CrlProvider(clock)
    outs = provider.create(_props(authority, revoked_sets[0])).outs
    first_seen = {serial: START for serial in revoked_sets[0]}
    for revoked in revoked_sets[1:]:
        clock.advance(days=1)
        props = _props(authority, revoked)
        if not provider.diff("crl", outs, props).changes:
            continue
        previous = outs["crl_number"]
        outs = provider.update("crl", outs, props).outs
        assert outs["crl_number"] == previous + 1
        first_seen = {s: first_seen.get(s, clock.now) for s in revoked}
        listed = {entry.serial_number: entry.revocation_date_utc for entry in _crl(outs)}
        assert listed == first_seen
