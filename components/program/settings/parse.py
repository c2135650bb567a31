"""Reading a stack's config document into settings, every problem reported at once."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any, TypeVar

import pydantic

from ...core.validation import Problems
from .shards import ClientShardSettings
from .stack import StackSettings
from .values import ConfigObject

Model = TypeVar("Model", bound=ConfigObject)


# Where the config document holds private keys, as README paths.
PRIVATE_KEY_PATHS = (
    ("pki", "serverCa", "privateKey"),
    ("pki", "clientCa", "privateKey"),
    ("kubernetesApi", "ca", "privateKey"),
)


def parse_settings(
    config: Mapping[str, Any], secret_keys: Collection[str] | None = None
) -> StackSettings:
    """Validates the project's stack config and returns it typed, with defaults applied.

    Args:
        config: every `mtls-ingress:` key of the stack, namespace stripped, values decoded
            from JSON (`{"host": "...", "pki": {...}}`).
        secret_keys: the keys of `config` that the stack holds as secrets (one whose value
            has a secret inside, such as `pki` with `pulumi config set --secret --path
            pki.clientCa.privateKey`). Given, a private key in any other key is a problem.

    Raises:
        pulumi.RunError: naming every offending field path and what it accepts.
    """
    problems = Problems("invalid mtls-ingress stack configuration")
    if secret_keys is not None:
        for key_path in PRIVATE_KEY_PATHS:
            if key_path[0] not in secret_keys and _lookup(config, key_path) is not None:
                written = ".".join(key_path)
                problems.add(
                    written,
                    "must be a secret, or the key would be stored in plain text in the stack "
                    f"file: set it with `pulumi config set --secret --path {written} < ca.key`",
                )
    settings = _validated(StackSettings, config, problems)
    problems.raise_if_any()
    return settings


def parse_shard_settings(config: Mapping[str, Any]) -> ClientShardSettings:
    """Validates the stack config of a client shard (one with `issuerStack`).

    Raises:
        pulumi.RunError: naming every offending field path and what it accepts.
    """
    problems = Problems("invalid mtls-ingress client shard configuration")
    settings = _validated(ClientShardSettings, config, problems)
    problems.raise_if_any()
    return settings


def _validated(model: type[Model], config: Mapping[str, Any], problems: Problems) -> Model:
    try:
        return model.model_validate(config)
    except pydantic.ValidationError as error:
        for line in error.errors():
            # The path as the README writes it: `pki.clients[1].validityDays`.
            steps = line["loc"]
            path = "".join(f"[{step}]" if isinstance(step, int) else f".{step}" for step in steps)
            problems.add(path.removeprefix("."), line["msg"])
        problems.raise_if_any()
        raise  # not reached: a ValidationError names at least one problem


def _lookup(document: Mapping[str, Any], path: tuple[str, ...]) -> object:
    value: object = document
    for step in path:
        value = value.get(step) if isinstance(value, Mapping) else None
    return value
