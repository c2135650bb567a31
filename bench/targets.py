"""The targets bench/results.md checks the measurements of bench.tables against, as rows of
(target, measured, met)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bench.handshakes import Rate
from bench.tables import DEFAULT, EngineKey

Target = tuple[str, str, bool]


def handshake_targets(rates: dict[str, Rate]) -> list[Target]:
    """The default chain at least 5x the RSA-4096 chain, and mTLS costing at most 25% of the
    rate without client auth: per nginx worker CPU second and end to end."""
    default, rsa4096 = rates[f"{DEFAULT} mtls"], rates["RSA_4096 mtls"]
    plain = rates[f"{DEFAULT} plain"]
    targets: list[Target] = []
    for label, metric in (
        ("per worker CPU second", "per_worker_cpu_second"),
        ("end to end", "end_to_end"),
    ):
        ours, rsa, without = (getattr(rate, metric) for rate in (default, rsa4096, plain))
        targets += [
            (
                f"default chain >= 5x the RSA-4096 chain ({label})",
                f"{ours / rsa:.1f}x",
                ours >= 5 * rsa,
            ),
            (
                f"mTLS costs <= 25% of the rate without client auth ({label})",
                f"{100 * (1 - ours / without):.0f}%",
                ours >= 0.75 * without,
            ),
        ]
    return targets


def evaluation_and_crl_targets(
    evaluations: dict[int, dict[str, Any]], crl_timings: dict[int, float]
) -> list[Target]:
    """1,000 clients evaluated under the mocks in < 20 s; a 100,000-entry CRL issued in < 2 s."""
    return [
        (
            "1,000 clients evaluate under the mocks in < 20 s",
            f"{evaluations[1000]['seconds']:.1f} s",
            evaluations[1000]["seconds"] < 20,
        ),
        (
            "100,000-entry CRL issued in < 2 s",
            f"{crl_timings[100_000]:.2f} s",
            crl_timings[100_000] < 2,
        ),
    ]


def engine_targets(engine: dict[EngineKey, dict[str, Any]]) -> list[Target]:
    """The scaling targets: default `up` of 300 clients at most 4.5x that of 100 (linear is
    3x), and a no-change preview of 1,000 clients under 45 s."""

    def ratio(label: str, shards: tuple[int, int]) -> Target:
        small, large = engine[(100, False, shards[0])], engine[(300, False, shards[1])]
        if small["up_seconds"] is None or large["up_seconds"] is None:
            return (label, "not measured (up stopped)", False)
        value = large["up_seconds"] / small["up_seconds"]
        return (label, f"{value:.1f}x", value <= 4.5)

    def preview(label: str, key: EngineKey, field: str) -> Target:
        seconds = engine[key][field]
        if seconds is None:
            return (label, "not reached (up stopped)", False)
        return (label, f"{seconds:.0f} s", seconds < 45)

    return [
        ratio("one stack: default up of 300 clients <= 4.5x that of 100", (0, 0)),
        ratio("shards of 100: default up of 300 clients <= 4.5x that of 100", (1, 3)),
        preview(
            "one stack: no-change preview of 1,000 clients < 45 s",
            (1000, True, 0),
            "preview_seconds",
        ),
        preview(
            "10 shards: no-change previews of 1,000 clients, one after the other, < 45 s",
            (1000, False, 10),
            "preview_seconds",
        ),
        preview(
            "10 shards: the slowest stack's no-change preview (one runner per stack) < 45 s",
            (1000, False, 10),
            "slowest_preview_seconds",
        ),
    ]


def kills_target(kills: Sequence[dict[str, Any]]) -> Target:
    """Every recovery after a random kill converges, leaks no object and keeps the CA keys."""
    rounds = sum(result["rounds"] for result in kills)
    harm = sum(
        result["objects_leaked"]
        + result["ca_keys_changed"]
        + result["rounds"]
        - result["recovered"]
        for result in kills
    )
    return (
        "random kills: every recovery converges, no object leaked, no CA key changed",
        f"{harm} of {rounds} kills did harm",
        harm == 0,
    )
