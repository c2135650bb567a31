from __future__ import annotations

from collections.abc import Iterator

# hypothesis is imported here, at collection, not first by its pytest plugin's terminal
# summary: CPython 3.11.7 can fail to compile a module imported that late (gh-106905).
import hypothesis  # noqa: F401
import pytest

from tests.mock_runtime import MockRuntime


@pytest.fixture
def mocks() -> Iterator[MockRuntime]:
    runtime = MockRuntime()
    yield runtime
    runtime.close()
