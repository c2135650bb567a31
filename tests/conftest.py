from __future__ import annotations

import os
from collections.abc import Generator, Iterator

# hypothesis is imported here, at collection, not first by its pytest plugin's terminal
# summary: CPython 3.11.7 can fail to compile a module imported that late (gh-106905).
import hypothesis  # noqa: F401
import pytest

from localkube.engine import ToolchainNotBuiltError
from support.mock_runtime import MockRuntime


@pytest.fixture
def mocks() -> Iterator[MockRuntime]:
    runtime = MockRuntime()
    yield runtime
    runtime.close()


def _without_the_toolchain() -> Generator[None, object, object]:
    """A test (or a fixture of it) that needs the engine toolchain when it is not built: skipped
    with MTLS_SKIP_ENGINE_TESTS=1, else failed with what to run."""
    try:
        return (yield)
    except ToolchainNotBuiltError as missing:
        if os.environ.get("MTLS_SKIP_ENGINE_TESTS") == "1":
            pytest.skip("MTLS_SKIP_ENGINE_TESTS=1 and the engine toolchain is not built")
        raise pytest.fail.Exception(str(missing), pytrace=False) from None


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item: pytest.Item) -> Generator[None, object, object]:
    return (yield from _without_the_toolchain())


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, object, object]:
    return (yield from _without_the_toolchain())
