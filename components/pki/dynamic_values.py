"""Time and number handling shared by this project's dynamic providers.

Values reach a dynamic provider through the engine as protobuf Structs: numbers arrive as
floats, times travel as RFC 3339 strings, and "now" must be injectable for tests.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

import pulumi
import pulumi.dynamic
from pulumi.dynamic import ResourceProvider
from pulumi.output import Unknown
from pulumi.runtime.rpc import UNKNOWN

from ..compat import undo_nested_pickler_patches


def utc_now() -> datetime:
    return datetime.now(UTC)


def rfc3339(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def is_unknown(value: object) -> bool:
    """Whether a value is not known yet (during a preview, an output of a resource that the
    same update creates or replaces).

    The provider host hands `check` and `diff` such values as `pulumi.output.Unknown` objects
    (it deserializes with keep_unknowns); elsewhere they travel as the `UNKNOWN` sentinel
    string. Both mean the same.
    """
    return isinstance(value, Unknown) or value == UNKNOWN


def whole_number(value: object) -> int:
    """A number that crossed the engine (possibly as a float); it is whole here."""
    assert isinstance(value, int | float), value
    return int(value)


def window_fits(lifetime_days: object, window_days: object) -> bool:
    """Whether a window before the end of a lifetime, both in whole days, satisfies
    lifetime > window > 0. Values not known yet (during a preview) pass."""
    if is_unknown(lifetime_days) or is_unknown(window_days):
        return True
    return (
        _is_whole(lifetime_days) and _is_whole(window_days) and 0 < window_days < lifetime_days  # type: ignore[operator]
    )


def _is_whole(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and value == int(value)


class ClockedProvider(ResourceProvider):
    """A dynamic provider that reads the time from `clock` (tests inject a fixed one).

    The clock is pickled with the provider, by reference: keep it a module-level function.
    """

    def __init__(self, clock: Callable[[], datetime] | None = None) -> None:
        super().__init__()
        self.clock: Callable[[], datetime] = clock or utc_now


class DynamicResource(pulumi.dynamic.Resource):
    """A dynamic resource of this project: its `inputs`, and the outputs its provider computes.

    A subclass declares those outputs as annotated attributes, after its `__init__` as in
    Pulumi's generated SDKs; each annotated name is registered as an output, in that order,
    which makes it readable as an attribute.
    """

    def __init__(
        self,
        provider: ResourceProvider,
        name: str,
        inputs: Mapping[str, Any],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        undo_nested_pickler_patches()
        outputs = dict.fromkeys(inspect.get_annotations(type(self)))
        super().__init__(provider, name, {**inputs, **outputs}, opts)
