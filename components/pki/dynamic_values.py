"""Time and number handling shared by this project's dynamic providers.

Values reach a dynamic provider through the engine as protobuf Structs: numbers arrive as
floats, times travel as RFC 3339 strings, and "now" must be injectable for tests.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from pulumi.dynamic import ResourceProvider


def utc_now() -> datetime:
    return datetime.now(UTC)


def rfc3339(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def whole_number(value: object) -> int:
    """A number that crossed the engine (possibly as a float); it is whole here."""
    assert isinstance(value, int | float), value
    return int(value)


def is_whole(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and value == int(value)


class ClockedProvider(ResourceProvider):
    """A dynamic provider that reads the time from `clock` (tests inject a fixed one).

    The clock is pickled with the provider, by reference: keep it a module-level function.
    """

    def __init__(self, clock: Callable[[], datetime] | None = None) -> None:
        super().__init__()
        self.clock: Callable[[], datetime] = clock or utc_now
