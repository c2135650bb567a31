"""One place to collect input problems and report them together.

Every input surface (stack settings, each component's arguments) gathers all of its problems
before failing, so a user fixes a configuration in one round trip instead of one error per
`pulumi preview`.
"""

from __future__ import annotations

from collections.abc import Callable

import pulumi


class Problems:
    """Collects `field path: message` lines and raises them as one `pulumi.RunError`."""

    def __init__(self, subject: str) -> None:
        self._subject = subject
        self._lines: list[str] = []

    def add(self, path: str, message: str) -> None:
        """Records one problem with the field at `path` (e.g. `pki.clients[1].validityDays`)."""
        self._lines.append(f"{path}: {message}")

    def check_text(self, path: str, value: object, check: Callable[[str], str | None]) -> None:
        """Records a problem unless `value` is a string that `check` accepts.

        `check` returns None for an acceptable value, else what an acceptable one looks like.
        """
        expected = check(value) if isinstance(value, str) else "a string"
        if expected is not None:
            self.add(path, f"must be {expected}, got {value!r}")

    def __len__(self) -> int:
        return len(self._lines)

    @property
    def lines(self) -> tuple[str, ...]:
        return tuple(self._lines)

    def raise_if_any(self) -> None:
        """Raises `pulumi.RunError` listing every problem, or returns when there are none.

        RunError is what the Pulumi Python runtime reports as a plain message, without a stack
        trace, which is what a configuration mistake deserves.
        """
        if not self._lines:
            return
        count = len(self._lines)
        noun = "problem" if count == 1 else "problems"
        body = "\n".join(f"  - {line}" for line in self._lines)
        raise pulumi.RunError(f"{self._subject}: {count} {noun}:\n{body}")
