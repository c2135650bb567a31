"""The SDK workarounds (components.compat) stay tied to the SDK versions they were checked on."""

from __future__ import annotations

import pytest

from components import compat


@pytest.mark.parametrize("workaround", compat.WORKAROUNDS, ids=lambda w: w.defect[:40])
def test_the_installed_sdk_is_one_each_workaround_was_checked_on(
    workaround: compat.Workaround,
) -> None:
    """An SDK newer than the newest checked may have fixed the defect: check it again (the
    workaround's own tests show whether the defect is still there), then raise `checked` or
    retire the workaround."""
    assert workaround.first <= compat.sdk_version() <= workaround.checked, workaround.defect
    assert workaround.applies()


def test_a_workaround_does_not_apply_to_an_sdk_older_than_its_defect(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(compat, "sdk_version", lambda: (3, 100, 0))
    assert not any(workaround.applies() for workaround in compat.WORKAROUNDS)
