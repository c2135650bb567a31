"""Benchmarks: `make bench` (or `python -m bench.run [--seconds N]`).

Prints the tables and writes them to bench/results.md:
1. mTLS handshakes per second on nginx, per key algorithm, with and without client auth, and
   with CRLs of 0, 1,000 and 100,000 entries;
2. program evaluation time and peak memory under the mocks for 10, 100 and 1,000 clients;
3. CRL issue time and size for 1,000, 10,000 and 100,000 revoked serials;
4. under the real engine (render-to-directory mode): `pulumi up` of a new stack, a no-change
   `pulumi preview` and a one-client revocation for 10, 100, 300 and 1,000 clients, in one
   stack with and without checkpoints and in client shards of 100, with peak memory;
5. under the real engine, the same `pulumi up` of a new stack and no-change `pulumi preview` of
   100 clients with the state in each self-managed backend: a local folder, an S3-compatible
   object store (versitygw) and a PostgreSQL server, each started on 127.0.0.1 for its run;
6. full mTLS handshakes per second through nginx and through Envoy (configured by Envoy
   Gateway), ECDSA P-256 and RSA-4096 chains, side by side;
7. lost runners at random moments (bench.kills): on each backend, new `local` stacks whose
   `pulumi up` is killed with every process it started, recovered as the README says; the
   kills that left creates pending or the state unreadable, the recoveries that converged, the
   objects left in the cluster outside the state and the CA keys that changed.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.handshakes import (
    Rate,
    envoy_handshakes_per_second,
    handshakes_per_second,
    issue_chain,
)
from components.pki import KeyAlgorithm
from components.pki.crl import CrlProvider
from localkube.backends import BACKEND_KINDS
from tests.pki_material import make_authority

RESULTS = Path(__file__).with_name("results.md")
DEFAULT = KeyAlgorithm.ECDSA_P256.value


def handshake_table(seconds: int) -> tuple[list[str], dict[str, Rate]]:
    rates: dict[str, Rate] = {}
    rows = [
        "| chain | client auth | CRL entries | handshakes/s (one client, end to end) "
        "| handshakes per nginx worker CPU second |",
        "|---|---|---|---|---|",
    ]

    def measure(label: str, algorithm: str, client_auth: bool, crl: int | None) -> None:
        chain = chains.setdefault(algorithm, issue_chain(algorithm))
        rate = handshakes_per_second(
            chain, client_auth=client_auth, crl_entries=crl, seconds=seconds
        )
        rates[label] = rate
        rows.append(
            f"| {algorithm} | {'yes' if client_auth else 'no'} | "
            f"{'-' if crl is None else f'{crl:,}'} | {rate.end_to_end:,.0f} | "
            f"{rate.per_worker_cpu_second:,.0f} |"
        )

    chains: dict[str, object] = {}
    for algorithm in [a.value for a in KeyAlgorithm]:
        measure(f"{algorithm} mtls", algorithm, True, 0)
        measure(f"{algorithm} plain", algorithm, False, None)
    measure(f"{DEFAULT} mtls no-crl", DEFAULT, True, None)
    measure(f"{DEFAULT} mtls crl-1000", DEFAULT, True, 1_000)
    measure(f"{DEFAULT} mtls crl-100000", DEFAULT, True, 100_000)
    return rows, rates


def _json_of(module: str, *arguments: str) -> dict[str, Any]:
    """The JSON a benchmark module prints last: `python -m MODULE ARGUMENTS`."""
    completed = subprocess.run(
        [sys.executable, "-m", module, *arguments], capture_output=True, text=True, check=True
    )
    result: dict[str, Any] = json.loads(completed.stdout.strip().splitlines()[-1])
    return result


def data_plane_table(seconds: int) -> list[str]:
    """nginx and Envoy side by side, TLS 1.2 handshakes without a request (both verify the
    client certificate before their Finished)."""
    rows = [
        "| chain | nginx handshakes/s | nginx per worker CPU second | Envoy handshakes/s "
        "| Envoy per CPU second (all threads) |",
        "|---|---|---|---|---|",
    ]
    for algorithm in (DEFAULT, KeyAlgorithm.RSA_4096.value):
        chain = issue_chain(algorithm)
        nginx = handshakes_per_second(
            chain, client_auth=True, crl_entries=0, seconds=seconds, handshake_only=True
        )
        envoy = envoy_handshakes_per_second(chain, seconds=seconds)
        rows.append(
            f"| {algorithm} | {nginx.end_to_end:,.0f} | {nginx.per_worker_cpu_second:,.0f} | "
            f"{envoy.end_to_end:,.0f} | {envoy.per_worker_cpu_second:,.0f} |"
        )
        print(rows[-1], flush=True)
    return rows


def evaluation_table() -> tuple[list[str], dict[int, dict[str, float]]]:
    rows = ["| clients | seconds | ms per client | peak memory (MiB) |", "|---|---|---|---|"]
    results: dict[int, dict[str, float]] = {}
    for clients in (10, 100, 1000):
        result = _json_of("bench.evaluate", str(clients))
        results[clients] = result
        rows.append(
            f"| {clients:,} | {result['seconds']:.2f} | "
            f"{1000 * result['seconds'] / clients:.1f} | {result['peak_rss_mib']:.0f} |"
        )
    return rows, results


# (clients, skip checkpoints, shards): one stack with and without checkpoints, and the same
# fleets split into client shards of 100 (see README, "Large stacks").
ENGINE_RUNS = (
    (10, False, 0),
    (100, False, 0),
    (300, False, 0),
    (1000, False, 0),
    (100, True, 0),
    (300, True, 0),
    (1000, True, 0),
    (100, False, 1),
    (300, False, 3),
    (1000, False, 10),
)
# A default up of 1,000 clients in one stack takes far longer than the others; past this
# it is stopped.
ENGINE_UP_LIMIT_SECONDS = 600
EngineKey = tuple[int, bool, int]


def _seconds(value: float | None, limit: str = "-") -> str:
    return limit if value is None else f"{value:.1f}"


def engine_table() -> tuple[list[str], dict[EngineKey, dict[str, Any]]]:
    rows = [
        "| clients | stacks | resources | checkpoints | up (s) | up peak (MiB) "
        "| no-change preview, all stacks (s) | slowest stack's preview (s) | preview peak (MiB) "
        "| revoke one client (s) | state (MiB) |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    results: dict[EngineKey, dict[str, Any]] = {}
    for clients, skip_checkpoints, shards in ENGINE_RUNS:
        flags = ["--limit", str(ENGINE_UP_LIMIT_SECONDS), "--shards", str(shards)]
        if skip_checkpoints:
            flags.append("--skip-checkpoints")
        result = _json_of("bench.engine", str(clients), *flags)
        results[(clients, skip_checkpoints, shards)] = result
        previewed = result["preview_seconds"] is not None
        preview_peak = f"{result['preview_peak_mib']:,.0f}" if previewed else "-"
        stacks = "1" if not shards else f"1 + {shards} shard{'s' if shards > 1 else ''}"
        rows.append(
            f"| {clients:,} | {stacks} | {result['resources']:,} | "
            f"{'skipped' if skip_checkpoints else 'default'} | "
            f"{_seconds(result['up_seconds'], f'> {ENGINE_UP_LIMIT_SECONDS} (stopped)')} | "
            f"{result['up_peak_mib']:,.0f} | {_seconds(result['preview_seconds'])} | "
            f"{_seconds(result['slowest_preview_seconds'])} | "
            f"{preview_peak} | "
            f"{_seconds(result['revoke_seconds'])} | "
            f"{result['state_mib']:.1f} |"
        )
        print(rows[-1], flush=True)
    return rows, results


# A stack of this size under the default settings: every backend is written at least once per
# resource the `up` creates.
BACKEND_CLIENTS = 100
BACKEND_NAMES = {
    "file": "local folder (`file://`)",
    "s3": "S3-compatible, versitygw (`s3://`)",
    "postgres": "PostgreSQL (`postgres://`)",
}


KILL_ROUNDS = 10


def kills_table() -> tuple[list[str], list[dict[str, Any]]]:
    rows = [
        "| state backend | kills | creates left pending | states left unreadable (repaired) "
        "| recovered | objects leaked | CA keys changed |",
        "|---|---|---|---|---|---|---|",
    ]
    results = []
    for kind in BACKEND_KINDS:
        result = _json_of("bench.kills", "--rounds", str(KILL_ROUNDS), "--backend", kind)
        results.append(result)
        rows.append(
            f"| {BACKEND_NAMES[kind]} | {result['rounds']} | {result['left_creates_pending']} | "
            f"{result['left_unreadable']} ({result['repaired']}) | {result['recovered']} | "
            f"{result['objects_leaked']} | {result['ca_keys_changed']} |"
        )
        print(rows[-1], flush=True)
    return rows, results


def backend_table() -> tuple[list[str], dict[str, dict[str, Any]]]:
    rows = [
        "| state backend | resources | up of a new stack (s) | no-change preview (s) "
        "| state (MiB) |",
        "|---|---|---|---|---|",
    ]
    results: dict[str, dict[str, Any]] = {}
    for kind in BACKEND_KINDS:
        flags = ["--limit", str(ENGINE_UP_LIMIT_SECONDS), "--backend", kind]
        result = _json_of("bench.engine", str(BACKEND_CLIENTS), *flags)
        results[kind] = result
        rows.append(
            f"| {BACKEND_NAMES[kind]} | {result['resources']:,} | "
            f"{_seconds(result['up_seconds'], f'> {ENGINE_UP_LIMIT_SECONDS} (stopped)')} | "
            f"{_seconds(result['preview_seconds'])} | {result['state_mib']:.1f} |"
        )
        print(rows[-1], flush=True)
    return rows, results


def engine_targets(engine: dict[EngineKey, dict[str, Any]]) -> list[tuple[str, str, bool]]:
    """The scaling targets: default `up` of 300 clients at most 4.5x that of 100 (linear is
    3x), and a no-change preview of 1,000 clients under 45 s."""

    def ratio(label: str, shards: tuple[int, int]) -> tuple[str, str, bool]:
        small, large = engine[(100, False, shards[0])], engine[(300, False, shards[1])]
        if small["up_seconds"] is None or large["up_seconds"] is None:
            return (label, "not measured (up stopped)", False)
        value = large["up_seconds"] / small["up_seconds"]
        return (label, f"{value:.1f}x", value <= 4.5)

    def preview(label: str, key: EngineKey, field: str) -> tuple[str, str, bool]:
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


def crl_table() -> tuple[list[str], dict[int, float]]:
    authority = make_authority("Bench CRL CA")
    rows = ["| revoked serials | issue time (s) | CRL size (KiB, PEM) |", "|---|---|---|"]
    timings: dict[int, float] = {}
    for count in (1_000, 10_000, 100_000):
        props = {
            "issuer_certificate_pem": authority.certificate_pem,
            "issuer_private_key_pem": authority.private_key_pem,
            "revoked": [
                {"serial_number": str(2**100 + index), "reason": "unspecified"}
                for index in range(count)
            ],
            "validity_days": 30,
            "refresh_before_days": 7,
        }
        started = time.perf_counter()
        outs = CrlProvider().create(props).outs
        timings[count] = time.perf_counter() - started
        rows.append(f"| {count:,} | {timings[count]:.2f} | {len(outs['crl_pem']) / 1024:,.0f} |")
    return rows, timings


def cpu_ticks() -> tuple[int, int, int]:
    """(steal, I/O wait, total) CPU ticks of the machine so far, from /proc/stat."""
    fields = [int(value) for value in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
    return fields[7], fields[4], sum(fields)


def memory_gib() -> float:
    """The machine's memory, GiB, from /proc/meminfo."""
    kib = Path("/proc/meminfo").read_text().split("\n")[0].split()[1]
    return int(kib) / 2**20


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=8, help="duration of each handshake run")
    arguments = parser.parse_args()

    steal_before, wait_before, total_before = cpu_ticks()
    handshake_rows, rates = handshake_table(arguments.seconds)
    data_plane_rows = data_plane_table(arguments.seconds)
    evaluation_rows, evaluations = evaluation_table()
    crl_rows, crl_timings = crl_table()
    engine_rows, engine = engine_table()
    backend_rows, _ = backend_table()
    kill_rows, kills = kills_table()
    steal_after, wait_after, total_after = cpu_ticks()
    elapsed_ticks = max(1, total_after - total_before)
    stolen = 100 * (steal_after - steal_before) / elapsed_ticks
    waited = 100 * (wait_after - wait_before) / elapsed_ticks

    default, rsa4096 = rates[f"{DEFAULT} mtls"], rates["RSA_4096 mtls"]
    plain = rates[f"{DEFAULT} plain"]
    targets = []
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
    targets += [
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
    targets += engine_targets(engine)
    rounds = sum(result["rounds"] for result in kills)
    harm = sum(
        result["objects_leaked"]
        + result["ca_keys_changed"]
        + result["rounds"]
        - result["recovered"]
        for result in kills
    )
    targets.append(
        (
            "random kills: every recovery converges, no object leaked, no CA key changed",
            f"{harm} of {rounds} kills did harm",
            harm == 0,
        )
    )
    nginx = subprocess.run(["nginx", "-v"], capture_output=True, text=True).stderr.strip()
    openssl = subprocess.run(["openssl", "version"], capture_output=True, text=True).stdout.strip()
    lines = [
        "# Benchmark results",
        "",
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {platform.machine()}, "
        f"{os.cpu_count()} cores, {memory_gib():.0f} GiB memory, "
        f"Python {platform.python_version()}, {nginx}, "
        f"{openssl}; handshake runs of {arguments.seconds} s, one nginx worker, one client. "
        f"CPU time taken by the hypervisor during the run (steal): {stolen:.0f}%, idle waiting "
        f"for the disk (I/O wait): {waited:.0f}%; figures from runs with a high steal are low "
        "and noisy, and the engine's vary by up to half from one run to the next on a virtual "
        "machine: compare rows of one run.",
        "",
        "## mTLS handshakes",
        "",
        *handshake_rows,
        "",
        "## nginx and Envoy side by side (TLS 1.2 full handshakes, no request, one client)",
        "",
        *data_plane_rows,
        "",
        "## Program evaluation under the mocks",
        "",
        *evaluation_rows,
        "",
        "## CRL issue (the RevocationList provider's create)",
        "",
        *crl_rows,
        "",
        "## The real engine (render-to-directory mode, local file backend)",
        "",
        *engine_rows,
        "",
        f"## State backends (the real engine, render-to-directory mode, {BACKEND_CLIENTS} "
        "clients, default checkpoints)",
        "",
        *backend_rows,
        "",
        f"## Lost runners at random moments ({KILL_ROUNDS} new `local` stacks per backend, "
        "each `pulumi up` killed at a random moment of its run, then recovered)",
        "",
        *kill_rows,
        "",
        "## Targets",
        "",
        "| target | measured | met |",
        "|---|---|---|",
        *[f"| {name} | {value} | {'yes' if met else 'no'} |" for name, value, met in targets],
        "",
    ]
    report = "\n".join(lines)
    RESULTS.write_text(report)
    print(report)


if __name__ == "__main__":
    main()
