"""A state-tracked renewal schedule that makes `pulumi up` replace a key and its certificate.

pulumi-tls's `early_renewal_hours` is meant to replace a certificate once it is inside its
renewal window, but Pulumi has long failed to act on it (pulumi/pulumi-tls#39), and even where
it does, the private key would be kept. So each leaf gets a schedule of its own: a dynamic
resource whose `generation` increases when a `pulumi up` runs at or after `renew_at`, and
whose generation is the private key's `replacement_trigger`. A new key means a new request
and a new certificate; the Secrets holding them are updated in place.

A paused schedule (a revoked certificate's) never moves: a renewed certificate would carry a
new serial, and the revocation list, which names the current serial, would stop naming the
certificate its holder still has.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from typing import Any

import pulumi
import pulumi.dynamic
from pulumi.dynamic import CheckFailure, CheckResult, CreateResult, DiffResult, UpdateResult

from .dynamic_values import (
    ClockedProvider,
    DynamicResource,
    is_unknown,
    rfc3339,
    whole_number,
    window_fits,
)

INPUTS = ("validity_days", "renew_before_days")


class RenewalProvider(ClockedProvider):
    """Keeps `generation` and `renew_at` for one certificate."""

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        failures = []
        if not window_fits(news.get("validity_days"), news.get("renew_before_days")):
            failures.append(
                CheckFailure("renew_before_days", "validity_days > renew_before_days > 0 must hold")
            )
        return CheckResult(news, failures)

    def create(self, props: dict[str, Any]) -> CreateResult:
        return CreateResult(
            id_=f"renewal-{secrets.token_hex(8)}", outs=self._schedule(props, generation=1)
        )

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        if _paused(news):
            # No change at all, so pausing shows nothing in a preview: an updated schedule's
            # generation would be unknown there, and the key would show as replaced.
            return DiffResult(changes=False, replaces=[], delete_before_replace=False)
        if any(is_unknown(news.get(key)) for key in INPUTS):
            return DiffResult(changes=True, replaces=[])
        changed = any(whole_number(news[key]) != whole_number(olds.get(key)) for key in INPUTS)
        due = self.clock() >= datetime.fromisoformat(str(olds["renew_at"]))
        return DiffResult(changes=changed or due, replaces=[], delete_before_replace=False)

    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        return UpdateResult(
            outs=self._schedule(news, generation=whole_number(olds["generation"]) + 1)
        )

    def _schedule(self, props: dict[str, Any], *, generation: int) -> dict[str, Any]:
        now = self.clock().replace(microsecond=0)
        lifetime = timedelta(days=whole_number(props["validity_days"]))
        renew_before = timedelta(days=whole_number(props["renew_before_days"]))
        return {
            **{key: props[key] for key in INPUTS},
            "generation": generation,
            "issued_at": rfc3339(now),
            "renew_at": rfc3339(now + lifetime - renew_before),
        }


def _paused(props: dict[str, Any]) -> bool:
    return props.get("paused") is True


class RenewalSchedule(DynamicResource, module="mtls", name="RenewalSchedule"):
    """The schedule of one certificate; its `generation` replaces the key when it changes."""

    def __init__(
        self,
        name: str,
        *,
        validity_days: int,
        renew_before_days: int,
        paused: bool = False,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        inputs = {
            "validity_days": validity_days,
            "renew_before_days": renew_before_days,
            "paused": paused,
        }
        super().__init__(RenewalProvider(), name, inputs, opts)

    generation: pulumi.Output[float]
    """1 at first, one more at every update: a renewal, or a change of the lifetime."""
    issued_at: pulumi.Output[str]
    """When the current generation began, RFC 3339."""
    renew_at: pulumi.Output[str]
    """When a `pulumi up` starts the next generation, RFC 3339."""
