"""Successive `pulumi up` runs under the mocks: the emulator keeps each resource's state from one
run to the next and applies the engine's rules to it, on one clock that the test moves.

- a pulumi-tls resource is replaced when any of its inputs changes (pulumi-tls forces a new
  resource on every input) or when its `replacement_trigger` changes; otherwise it keeps its
  state;
- a dynamic resource is diffed by its own provider: no change keeps the state, a change is an
  update (or a replacement, when the provider says so);
- everything else takes its inputs as its state.

Certificates are signed at the emulator's clock, and the dynamic providers read the same clock,
so that validity is judged on one consistent clock (unlike `faketime` around the real engine,
whose Go plugins keep the real time).
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import dill
import pulumi

from support.mock_runtime import MockRuntime, RecordingMonitor
from support.tls_emulator import DYNAMIC_RESOURCE, KUBERNETES, TlsEmulator, _reveal


@dataclass
class Kept:
    resource_id: str
    inputs: dict[str, Any]
    state: dict[str, Any]


@dataclass
class StatefulEmulator(TlsEmulator):
    """The emulator with a state that outlives one run (see the module docstring)."""

    kept: dict[tuple[str, str], Kept] = field(default_factory=dict)
    triggers: dict[str, Any] = field(default_factory=dict)
    monitor: RecordingMonitor | None = None
    changed: list[tuple[str, str]] = field(default_factory=list)

    def new_resource(
        self, args: pulumi.runtime.MockResourceArgs
    ) -> tuple[str | None, dict[str, Any]]:
        key = (args.typ, args.name)
        inputs = {name: _reveal(value) for name, value in args.inputs.items()}
        previous = self.kept.get(key)
        trigger = self.monitor.replacement_triggers.get(args.name) if self.monitor else None
        if previous is not None and not args.typ.startswith(KUBERNETES):
            if args.typ.startswith(DYNAMIC_RESOURCE):
                resource_id, state, operation = self._dynamic_step(previous, inputs)
                if operation == "replace":
                    resource_id, state = super().new_resource(args)
            elif inputs == previous.inputs and trigger == self.triggers.get(args.name):
                resource_id, state, operation = previous.resource_id, previous.state, "same"
            else:
                (resource_id, state), operation = super().new_resource(args), "replace"
            if operation != "same":
                self.changed.append((operation, args.name))
        else:
            resource_id, state = super().new_resource(args)
        assert resource_id is not None
        self.kept[key] = Kept(resource_id, inputs, state)
        self.triggers[args.name] = trigger
        return resource_id, state

    def _dynamic_step(
        self, previous: Kept, inputs: dict[str, Any]
    ) -> tuple[str, dict[str, Any], str]:
        provider = dill.loads(base64.b64decode(inputs["__provider"]))
        if hasattr(provider, "clock"):
            provider.clock = self.now
        news = {name: value for name, value in inputs.items() if name != "__provider"}
        olds = {name: value for name, value in previous.state.items() if name != "__provider"}
        diff = provider.diff(previous.resource_id, olds, news)
        if not diff.changes:
            return previous.resource_id, previous.state, "same"
        if diff.replaces:
            return previous.resource_id, previous.state, "replace"
        outs = provider.update(previous.resource_id, olds, news).outs or {}
        return previous.resource_id, {**outs, "__provider": inputs["__provider"]}, "update"


@dataclass
class ScheduledRuns:
    """Runs the project's program again and again, as a scheduled `pulumi up` would."""

    config: dict[str, Any]
    now: datetime
    emulator: StatefulEmulator = field(init=False)

    def __post_init__(self) -> None:
        self.emulator = StatefulEmulator(now=lambda: self.now)

    def up(self) -> dict[str, Any]:
        """One run at `now`: the stack outputs, resolved."""
        runtime = MockRuntime(emulator=self.emulator)
        self.emulator.monitor = runtime.monitor
        self.emulator.registered.clear()
        self.emulator.changed.clear()
        try:
            exports = runtime.run_program(self.config, secret_keys=())
            return {name: runtime.resolve(value) for name, value in exports.items()}
        finally:
            runtime.close()
