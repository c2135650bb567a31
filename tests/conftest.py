from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.mock_runtime import MockRuntime


@pytest.fixture
def mocks() -> Iterator[MockRuntime]:
    runtime = MockRuntime()
    yield runtime
    runtime.close()
