"""Stack config (the `mtls-ingress:*` keys) to `StackSettings`, in one validation pass."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

from components.settings.model import StackSettings
from components.validation import Problems


def parse_settings(config: Mapping[str, Any]) -> StackSettings:
    """Validates the project's stack config and returns it typed, with defaults applied.

    Args:
        config: every `mtls-ingress:` key of the stack, namespace stripped, values decoded
            from JSON (`{"host": "...", "pki": {...}}`).

    Raises:
        pulumi.RunError: naming every offending field path and what it accepts.
    """
    try:
        return StackSettings.model_validate(config)
    except ValidationError as error:
        invalid = error
    problems = Problems("invalid mtls-ingress stack configuration")
    for line in invalid.errors():
        problems.add(config_path(line["loc"]), line["msg"])
    problems.raise_if_any()
    raise invalid  # not reached: a ValidationError names at least one problem


def config_path(loc: tuple[str | int, ...]) -> str:
    """The path of a field as the README writes it: `pki.clients[1].validityDays`."""
    path = ""
    for step in loc:
        if isinstance(step, int):
            path += f"[{step}]"
        else:
            path += f".{step}" if path else step
    return path
