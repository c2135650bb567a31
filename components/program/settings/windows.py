"""Renewal and refresh windows: their default, and the checks that they fit the lifetime and
the schedule of `pulumi up` runs."""

from __future__ import annotations

from typing import Any

from pydantic_core import InitErrorDetails

from ...pki import lifetimes
from .values import problem


def renewal_window(fields: dict[str, Any]) -> int:
    """The default `renewBeforeDays` of a certificate, from its `validityDays` read before."""
    return lifetimes.renew_before_days(fields["validity_days"])


def ahead_of_expiry(key: str, days: int, validity_days: int) -> list[InitErrorDetails]:
    """A problem at `key` unless its window of `days` opens before the lifetime ends."""
    message = f"must be less than validityDays ({validity_days}), got {days}"
    return [] if days < validity_days else [problem((key,), message)]


def short_windows(windows: list[tuple[str, int, str]], interval: int) -> list[str]:
    """A warning for each (key, days, what a miss lets happen) window that holds fewer than two
    scheduled runs `interval` days apart."""
    return [
        f"{key}: a window of {days} day(s) holds fewer than two scheduled runs "
        f"{interval} day(s) apart (upIntervalDays): one failed `pulumi up` lets {what}; "
        "widen the window or run more often"
        for key, days, what in windows
        if days < 2 * interval
    ]
