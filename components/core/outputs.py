"""Helpers for outputs that gather the values of several resources."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TypeVar

import pulumi

T = TypeVar("T")


def by_name(outputs: Mapping[str, pulumi.Output[T]]) -> pulumi.Output[dict[str, T]]:
    """One Output holding a map of names to the values of `outputs`."""
    names = list(outputs)
    return pulumi.Output.all(*outputs.values()).apply(
        lambda values: dict(zip(names, values, strict=True))
    )
