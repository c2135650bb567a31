"""The schedule rule README "Keep the CRL fresh" gives users, checked on successive `pulumi up`
runs under the mocks, on one clock: the CRL is re-issued only by a run inside its refresh window
(`pki.crl.refreshBeforeDays`, 7 days by default, of a 30-day list), so a run must fall in every
window, and a run every half window survives one failed run ("Schedule").

The CRL that nginx serves at any moment is the one the last successful run wrote; once its
nextUpdate has passed, nginx refuses every client."""

from __future__ import annotations

from collections.abc import Collection
from datetime import UTC, datetime, timedelta

from cryptography import x509

from support.stack_configs import minimal_config
from tests.scheduled_runs import ScheduledRuns

START = datetime(2027, 1, 4, 5, 17, tzinfo=UTC)


def _next_update(pem: str) -> datetime:
    marker = "-----END X509 CRL-----"
    blocks = [block + marker for block in pem.split(marker) if "BEGIN X509 CRL" in block]
    crls = [x509.load_pem_x509_crl(block.strip().encode()) for block in blocks]
    updates = [crl.next_update_utc for crl in crls]
    assert all(update is not None for update in updates)
    return min(update for update in updates if update is not None)


def _expired_moments(interval_days: int, runs: int, *, failed: Collection[int] = ()) -> list[int]:
    """The scheduled runs (by index) at which the CRL served, the one the last successful run
    wrote, had expired: runs every `interval_days`, those in `failed` failing."""
    config = minimal_config()
    config["upIntervalDays"] = interval_days
    scheduled = ScheduledRuns(config, START)
    served: datetime | None = None
    expired = []
    for index in range(runs):
        scheduled.now = START + timedelta(days=interval_days * index)
        if served is not None and served <= scheduled.now:
            expired.append(index)
        if index not in failed:
            served = _next_update(scheduled.up()["clientCrl"])
    return expired


def test_a_run_in_every_refresh_window_keeps_the_crl_valid() -> None:
    # Every 7 days, the window's length: each list is re-issued by a run inside its window.
    assert _expired_moments(7, runs=14) == []


def test_a_run_every_half_window_survives_the_failure_of_the_run_that_would_refresh() -> None:
    # Every 3 days: day 24 is the first run inside the first list's window (days 23 to 30);
    # it fails, and the run of day 27 re-issues the list in time.
    assert _expired_moments(3, runs=16, failed={8}) == []


def test_a_run_every_window_does_not_survive_a_failed_run() -> None:
    # Every 7 days: day 28 is the only run inside the first list's window; once it fails, the
    # list (valid to day 30) has expired by day 35. Hence two runs per window ("Schedule").
    assert _expired_moments(7, runs=6, failed={4}) == [5]


def test_runs_less_often_than_the_refresh_window_let_the_crl_expire() -> None:
    # Every 22 days, less than validityDays - refreshBeforeDays (23): day 22 is before the first
    # list's window, so nothing re-issues it, and it has expired (day 30) by the run of day 44.
    assert _expired_moments(22, runs=3) == [2]
