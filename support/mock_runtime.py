"""Runs Pulumi programs and components under `set_mocks`, with pulumi-tls emulated.

Each `MockRuntime` owns a fresh event loop and a fresh root stack: the Pulumi runtime keeps
both in process-wide state, and work left pending by one test would otherwise run, or fail,
inside the next.
"""

from __future__ import annotations

import asyncio
import json
import os
import runpy
from collections.abc import Callable, Collection, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

import pulumi
from google.protobuf import json_format  # type: ignore[import-untyped]
from pulumi.runtime import settings as runtime_settings
from pulumi.runtime.mocks import MockMonitor
from pulumi.runtime.stack import Stack, run_pulumi_func

from support.tls_emulator import TlsEmulator

PROJECT_DIR = Path(__file__).resolve().parents[1]
PROJECT_NAME = "mtls-ingress"

T = TypeVar("T")


class MockRuntime:
    def __init__(
        self, *, now: Callable[[], datetime] | None = None, emulator: TlsEmulator | None = None
    ) -> None:
        self.loop = asyncio.new_event_loop()
        self.loop.set_exception_handler(_quiet_about_expected_errors)
        asyncio.set_event_loop(self.loop)
        self.emulator = emulator or (TlsEmulator() if now is None else TlsEmulator(now=now))
        self.monitor = RecordingMonitor(self.emulator)
        self.program_globals: dict[str, Any] = {}

    def close(self) -> None:
        """Finishes or cancels whatever the run left pending, then closes the loop."""
        pending = asyncio.all_tasks(self.loop)
        for task in pending:
            task.cancel()
        self.loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        runtime_settings.SETTINGS.outputs.clear()
        self.loop.close()
        asyncio.set_event_loop(None)

    def run(
        self,
        build: Callable[[], T],
        *,
        config: Mapping[str, object] | None = None,
        stack: str = "dev",
        preview: bool = False,
        secret_keys: Collection[str] = (),
    ) -> T:
        """Runs `build` as a Pulumi program and waits for every registration to finish;
        `secret_keys` are the keys of `config` that the stack holds as secrets."""
        runtime_settings.ROOT.set(None)
        previous = os.environ.get("PULUMI_CONFIG")
        values = {
            f"{PROJECT_NAME}:{key}": value if isinstance(value, str) else json.dumps(value)
            for key, value in (config or {}).items()
        }
        os.environ["PULUMI_CONFIG"] = json.dumps(values)
        # As the language host does: the config, and which of its keys are secrets.
        pulumi.runtime.set_all_config(values, [f"{PROJECT_NAME}:{key}" for key in secret_keys])
        try:
            # Outputs created under a previous runtime belong to a closed event loop; the
            # runtime would wait on them forever (as `pulumi.runtime.test` also clears them).
            runtime_settings.SETTINGS.outputs.clear()
            pulumi.runtime.set_mocks(
                self.emulator,
                project=PROJECT_NAME,
                stack=stack,
                preview=preview,
                monitor=self.monitor,
            )
            runtime_settings.SETTINGS.rpc_manager.clear()
            result: list[T] = []
            self.loop.run_until_complete(run_pulumi_func(lambda: result.append(build())))
            return result[0]
        finally:
            if previous is None:
                os.environ.pop("PULUMI_CONFIG", None)
            else:
                os.environ["PULUMI_CONFIG"] = previous

    def run_program(
        self, config: Mapping[str, object], **options: Any
    ) -> dict[str, pulumi.Output[Any]]:
        """Runs the project's `__main__.py` with `config` and returns its stack exports."""
        main = PROJECT_DIR / "__main__.py"
        self.program_globals = self.run(
            lambda: runpy.run_path(str(main), run_name="__main__"), config=config, **options
        )
        root = runtime_settings.get_root_resource()
        assert isinstance(root, Stack)
        outputs: dict[str, Any] = root.outputs
        return {name: pulumi.Output.from_input(value) for name, value in outputs.items()}

    def resolve(self, value: pulumi.Input[T]) -> T:
        """The value of an Output (None while unknown, as in a preview)."""
        return self.loop.run_until_complete(pulumi.Output.from_input(value).future())  # type: ignore[return-value]

    def is_secret(self, value: pulumi.Input[Any]) -> bool:
        return self.loop.run_until_complete(pulumi.Output.from_input(value).is_secret())


class RecordingMonitor(MockMonitor):
    """The mock monitor, also keeping what the emulator is not shown: each resource's
    `replacement_trigger`, by resource name."""

    def __init__(self, mocks: TlsEmulator) -> None:
        super().__init__(mocks)
        self.replacement_triggers: dict[str, Any] = {}

    def RegisterResource(self, request: Any) -> Any:  # noqa: N802 (gRPC method name)
        if request.HasField("replacement_trigger"):
            self.replacement_triggers[request.name] = json_format.MessageToDict(
                request.replacement_trigger
            )
        try:
            return super().RegisterResource(request)  # type: ignore[no-untyped-call]
        finally:
            _close_thread_event_loop()


def _close_thread_event_loop() -> None:
    """Closes the event loop the mock monitor opened on this executor thread.

    MockMonitor.RegisterResource gives its worker thread an event loop and never closes it;
    left to the garbage collector at interpreter exit, such a loop can fail in `__del__`
    ("Invalid file descriptor: -1"), which pytest reports as an unraisable exception.
    """
    try:
        loop = asyncio.get_event_loop()
    except RuntimeError:
        return
    asyncio.set_event_loop(None)
    loop.close()


def _quiet_about_expected_errors(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
    """Drops asyncio's "exception was never retrieved" report for a RunError: a test that
    expects one gets it through the run, and Pulumi's Output futures keep their own copy."""
    if isinstance(context.get("exception"), pulumi.RunError):
        return
    loop.default_exception_handler(context)
