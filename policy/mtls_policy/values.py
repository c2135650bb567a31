"""Property values as the policies see them.

The engine sends a policy pack every property with its secrecy and its unknowns (values a
preview cannot know yet), in the Pulumi wire format. The pulumi-policy SDK drops the secrecy
(pulumi/pulumi-policy#241), so `mark` rewrites the wire form before the SDK reads it: every
string inside a secret becomes a `SecretText`, and every unknown becomes `UNKNOWN`, which the
rules handle themselves (`known`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

# Pulumi's wire format (sdk/go/common/resource/properties.go): the key that marks a special
# object, the signature of a secret, and the placeholders of unknown values by type.
SIGNATURE_KEY = "4dabf18193072939515e22adb298388d"
SECRET_SIGNATURE = "1b47061264138c4ac30d75fd1eb44270"
UNKNOWN_PLACEHOLDERS = frozenset(
    {
        "1c4a061d-8072-4f0a-a4cb-0ff528b18fe7",  # boolean
        "3eeb2bf0-c639-47a8-9e75-3b44932eb421",  # number
        "04da6b54-80e4-46f7-96ec-b56ff0331ba9",  # string
        "6a19a0b0-7e62-4c92-b797-7f8e31da9cc2",  # array
        "030794c1-ac77-496b-92df-f27374a8bd58",  # asset
        "e48ece36-62e2-4504-bad9-02848725956a",  # archive
        "dd056dcd-154b-4c76-9bd3-c8f88648b5ff",  # object
    }
)


class SecretText(str):
    """A string that the stack holds as a Pulumi secret (or that lies inside one)."""

    __slots__ = ()


class _Unknown:
    """A value that a preview cannot know yet (it comes from a resource not yet created)."""

    _instance: _Unknown | None = None

    def __new__(cls) -> _Unknown:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "UNKNOWN"


UNKNOWN = _Unknown()


class UnknownValueError(Exception):
    """A rule needs a value that is not known during this preview."""

    def __init__(self, path: Sequence[str | int]) -> None:
        self.path = [str(part) for part in path]
        super().__init__(f".{'.'.join(self.path)} can't be known during preview")


def mark(wire: Any, inside_secret: bool = False) -> Any:
    """The wire-format value `wire` with its secret strings as `SecretText` and its unknowns
    as `UNKNOWN`; secret envelopes stay, for the SDK to unwrap."""
    if isinstance(wire, str):
        if wire in UNKNOWN_PLACEHOLDERS:
            return UNKNOWN
        return SecretText(wire) if inside_secret else wire
    if isinstance(wire, list):
        return [mark(item, inside_secret) for item in wire]
    if isinstance(wire, dict):
        secret = wire.get(SIGNATURE_KEY) == SECRET_SIGNATURE
        return {
            key: value if key == SIGNATURE_KEY else mark(value, inside_secret or secret)
            for key, value in wire.items()
        }
    return wire


def known(value: Any, *path: str | int) -> Any:
    """The value at `path` inside `value`; `None` where a key or index is missing. Raises
    `UnknownValueError` when the value, or a container on the way, is not known yet."""
    walked: list[str | int] = []
    for part in path:
        if value is UNKNOWN:
            raise UnknownValueError(walked)
        walked.append(part)
        if isinstance(part, int):
            value = value[part] if isinstance(value, Sequence) and part < len(value) else None
        else:
            value = value.get(part) if hasattr(value, "get") else None
        if value is None:
            return None
    if value is UNKNOWN:
        raise UnknownValueError(walked)
    return value


def strings(
    value: Any, path: tuple[str | int, ...] = ()
) -> list[tuple[tuple[str | int, ...], str]]:
    """Every known string inside `value`, with its path."""
    if isinstance(value, str):
        return [(path, value)]
    if hasattr(value, "items"):
        return [found for key, item in value.items() for found in strings(item, (*path, key))]
    if isinstance(value, Sequence):
        return [
            found for index, item in enumerate(value) for found in strings(item, (*path, index))
        ]
    return []
