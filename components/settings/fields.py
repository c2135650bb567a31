"""Typed reads of a decoded config document, each problem recorded under its field path.

A `Section` wraps one JSON object of the stack config. Every read either returns a value of
the promised type or records a problem and returns a fallback, so one pass over the whole
document reports every mistake at once.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Mapping
from enum import Enum
from typing import Any, TypeVar

from components.validation import Problems

E = TypeVar("E", bound=Enum)

# A check returns None when the value is acceptable, else what an acceptable value looks like.
Check = Callable[[str], "str | None"]


def show(value: object) -> str:
    """Renders a config value the way the user wrote it in YAML or JSON."""
    if isinstance(value, Mapping):
        return "an object"
    if isinstance(value, list | tuple):
        return "a list"
    return json.dumps(value)


def join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def parse_integer(value: object) -> int | None:
    """An integer from YAML/JSON: a whole number, or a string of digits; never a boolean."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value.strip())
    return None


class Section:
    """One object of the config document, at `path`, with a closed set of keys."""

    def __init__(self, problems: Problems, path: str, raw: object, keys: Collection[str]) -> None:
        self.problems = problems
        self.path = path
        self.values: Mapping[str, Any] = {}
        if raw is None:
            return
        if not isinstance(raw, Mapping):
            self.problems.add(
                path, f"must be an object with the keys {', '.join(keys)}; got {show(raw)}"
            )
            return
        self.values = raw
        for key in raw:
            if key not in keys:
                self.problems.add(
                    join(path, str(key)),
                    f"unknown key; the keys allowed here are {', '.join(keys)}",
                )

    def path_of(self, key: str) -> str:
        return join(self.path, key)

    def has(self, key: str) -> bool:
        return self.values.get(key) is not None

    def fail(self, key: str, message: str) -> None:
        self.problems.add(self.path_of(key), message)

    def section(self, key: str, keys: Collection[str]) -> Section:
        return Section(self.problems, self.path_of(key), self.values.get(key), keys)

    def text(
        self,
        key: str,
        *,
        default: str | None = None,
        required: bool = False,
        check: Check | None = None,
    ) -> str | None:
        value = self.values.get(key)
        if value is None:
            if required:
                self.fail(key, "is required")
            return default
        if not isinstance(value, str) or not value:
            self.fail(key, f"must be a non-empty string; got {show(value)}")
            return default
        if check is not None and (expected := check(value)) is not None:
            self.fail(key, f"must be {expected}; got {show(value)}")
            return default
        return value

    def integer(
        self, key: str, *, default: int, minimum: int = 1, maximum: int | None = None
    ) -> int:
        value = self.values.get(key)
        if value is None:
            return default
        number = parse_integer(value)
        in_range = (
            number is not None and number >= minimum and (maximum is None or number <= maximum)
        )
        if number is None or not in_range:
            if maximum is not None:
                expected = f"an integer from {minimum} to {maximum}"
            elif minimum == 1:
                expected = "a positive integer"
            else:
                expected = f"an integer of at least {minimum}"
            self.fail(key, f"must be {expected}, got {show(value)}")
            return default
        assert number is not None
        return number

    def boolean(self, key: str, *, default: bool) -> bool:
        value = self.values.get(key)
        if value is None:
            return default
        if isinstance(value, bool):
            return value
        # `pulumi config set --path a.b true` stores the string "true".
        if isinstance(value, str) and value in ("true", "false"):
            return value == "true"
        self.fail(key, f"must be true or false, got {show(value)}")
        return default

    def choice(self, key: str, choices: type[E], default: E) -> E:
        value = self.values.get(key)
        if value is None:
            return default
        for member in choices:
            if member.value == value:
                return member
        allowed = " | ".join(str(member.value) for member in choices)
        self.fail(key, f"must be one of {allowed}, got {show(value)}")
        return default

    def text_list(
        self,
        key: str,
        *,
        default: tuple[str, ...] = (),
        check: Check | None = None,
        non_empty: bool = False,
    ) -> tuple[str, ...]:
        value = self.values.get(key)
        if value is None:
            return default
        if not isinstance(value, list):
            self.fail(key, f"must be a list of strings, got {show(value)}")
            return default
        if non_empty and not value:
            self.fail(key, "must not be empty")
            return default
        items: list[str] = []
        for index, item in enumerate(value):
            item_path = f"{self.path_of(key)}[{index}]"
            if not isinstance(item, str) or not item:
                self.problems.add(item_path, f"must be a non-empty string, got {show(item)}")
            elif check is not None and (expected := check(item)) is not None:
                self.problems.add(item_path, f"must be {expected}; got {show(item)}")
            elif item in items:
                self.problems.add(item_path, f"repeats {show(item)}")
            else:
                items.append(item)
        return tuple(items)

    def items(self, key: str) -> list[tuple[str, object]]:
        """The elements of a list field, each with its own path (`pki.clients[1]`)."""
        value = self.values.get(key)
        if value is None:
            return []
        if not isinstance(value, list):
            self.fail(key, f"must be a list, got {show(value)}")
            return []
        return [(f"{self.path_of(key)}[{index}]", item) for index, item in enumerate(value)]
