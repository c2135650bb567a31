"""Many dynamic resources in one program: the SDK's pickler patches must not pile up."""

from __future__ import annotations

import pickle
from collections.abc import Iterator
from typing import Any

import pytest
from pulumi.dynamic.dynamic import serialize_provider

from components.compat import undo_nested_pickler_patches
from components.pki.renewal import RenewalProvider


def _wrapping_depth() -> int:
    method: Any = pickle._Pickler._batch_setitems  # type: ignore[attr-defined]
    depth = 0
    while method.__qualname__ != "_Pickler._batch_setitems":
        method = next(c.cell_contents for c in method.__closure__ if callable(c.cell_contents))
        depth += 1
    return depth


@pytest.fixture(autouse=True)
def pristine_pickler() -> Iterator[None]:
    undo_nested_pickler_patches()
    yield
    undo_nested_pickler_patches()


def test_the_sdk_nests_one_wrapper_per_dynamic_resource() -> None:
    for _ in range(3):
        serialize_provider(RenewalProvider())
    assert _wrapping_depth() == 3


def test_undoing_before_each_registration_keeps_one_wrapper() -> None:
    for _ in range(1_100):
        undo_nested_pickler_patches()
        serialize_provider(RenewalProvider())
    assert _wrapping_depth() == 1


def test_without_undoing_a_thousand_dynamic_resources_overflow() -> None:
    with pytest.raises(RecursionError):
        for _ in range(1_100):
            serialize_provider(RenewalProvider())
