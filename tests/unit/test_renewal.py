"""The renewal schedule: when `pulumi up` replaces a leaf's key and certificate."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from pulumi.output import Unknown
from pulumi.runtime.rpc import UNKNOWN

from components.pki import CertificateAuthority, ClientCertificate, ServerCertificate
from components.pki.renewal import RenewalProvider
from support.mock_runtime import MockRuntime
from tests.fixed_clock import FixedClock

START = datetime(2026, 3, 1, tzinfo=UTC)
RENEWAL = "pulumi-python:dynamic/mtls:RenewalSchedule"


def _props(validity: float = 90, renew_before: float = 30) -> dict[str, float]:
    return {"validity_days": validity, "renew_before_days": renew_before}


def test_create_starts_generation_one_due_renew_before_days_ahead_of_expiry() -> None:
    outs = RenewalProvider(FixedClock(START)).create(_props()).outs
    assert outs["generation"] == 1
    assert outs["issued_at"] == "2026-03-01T00:00:00Z"
    assert outs["renew_at"] == "2026-04-30T00:00:00Z"


def test_before_renew_at_nothing_changes() -> None:
    clock = FixedClock(START)
    provider = RenewalProvider(clock)
    outs = provider.create(_props()).outs
    clock.now = START + timedelta(days=60) - timedelta(seconds=1)
    assert provider.diff("r", outs, _props()).changes is False


def test_at_renew_at_the_generation_moves_and_the_window_restarts() -> None:
    clock = FixedClock(START)
    provider = RenewalProvider(clock)
    outs = provider.create(_props()).outs
    clock.now = START + timedelta(days=60)
    assert provider.diff("r", outs, _props()).changes is True
    renewed = provider.update("r", outs, _props()).outs
    assert renewed["generation"] == 2
    assert renewed["renew_at"] == "2026-06-29T00:00:00Z"
    assert provider.diff("r", renewed, _props()).changes is False


def test_changed_lifetime_renews() -> None:
    provider = RenewalProvider(FixedClock(START))
    outs = provider.create(_props()).outs
    assert provider.diff("r", outs, _props(validity=30, renew_before=10)).changes is True


def test_generation_arriving_as_a_float_still_increments() -> None:
    provider = RenewalProvider(FixedClock(START))
    outs = provider.create(_props()).outs | {"generation": 4.0}
    assert provider.update("r", outs, _props()).outs["generation"] == 5


def test_a_paused_schedule_never_moves_and_resumed_renews_when_due() -> None:
    clock = FixedClock(START)
    provider = RenewalProvider(clock)
    outs = provider.create(_props()).outs
    paused = _props() | {"paused": True}
    assert provider.diff("r", outs, paused).changes is False  # nothing to show in a preview
    clock.now = START + timedelta(days=400)
    assert provider.diff("r", outs, paused).changes is False
    assert provider.diff("r", outs, paused | {"validity_days": 30}).changes is False
    assert provider.diff("r", outs, _props()).changes  # resumed long after its window


@pytest.mark.parametrize("unknown", [UNKNOWN, Unknown()], ids=["sentinel", "object"])
def test_unknown_lifetime_during_preview_is_a_change(unknown: object) -> None:
    provider = RenewalProvider(FixedClock(START))
    outs = provider.create(_props()).outs
    news = {"validity_days": unknown, "renew_before_days": 30}
    assert provider.check({}, news).failures == []
    assert provider.diff("r", outs, news).changes


@pytest.mark.parametrize(("validity", "renew_before"), [(30, 30), (30, 0), (30.5, 7)])
def test_check_rejects_a_window_outside_the_lifetime(validity: float, renew_before: float) -> None:
    result = RenewalProvider(FixedClock(START)).check({}, _props(validity, renew_before))
    assert [failure.property for failure in result.failures] == ["renew_before_days"]


def test_every_leaf_key_is_replaced_by_its_schedule(mocks: MockRuntime) -> None:
    def build() -> None:
        ca = CertificateAuthority("ca", {"common_name": "CA"})
        ServerCertificate(
            "server",
            {"issuer": ca.as_issuer(), "dns_names": ["a.example.com"], "validity_days": 90},
        )
        ClientCertificate(
            "alice",
            {
                "issuer": ca.as_issuer(),
                "common_name": "alice",
                "validity_days": 20,
                "renew_before_days": 5,
            },
        )

    mocks.run(build)
    schedules = {
        r.name: (r.inputs["validity_days"], r.inputs["renew_before_days"])
        for r in mocks.emulator.of_type(RENEWAL)
    }
    assert schedules == {"server-renewal": (90, 30), "alice-renewal": (20, 5)}
    # The schedule's generation is the keys' replacement trigger; a CA key has none.
    assert mocks.monitor.replacement_triggers == {"server-key": 1, "alice-key": 1}


def test_leaf_components_expose_when_they_renew(mocks: MockRuntime) -> None:
    def build() -> ServerCertificate:
        ca = CertificateAuthority("ca", {"common_name": "CA"})
        return ServerCertificate(
            "server", {"issuer": ca.as_issuer(), "dns_names": ["a.example.com"]}
        )

    server = mocks.run(build)
    renew_at = datetime.fromisoformat(mocks.resolve(server.renew_at))
    expires_at = datetime.fromisoformat(mocks.resolve(server.expires_at))
    assert abs((expires_at - renew_at) - timedelta(days=30)) < timedelta(seconds=5)
