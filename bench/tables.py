"""The tables of bench/results.md: each runs its measurements (in this process, or one
`python -m bench.<module>` process per row) and returns its Markdown rows with the figures the
targets (bench.targets) read."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

from bench.handshakes import (
    Chain,
    Rate,
    envoy_handshakes_per_second,
    handshakes_per_second,
    issue_chain,
)
from components.pki import KeyAlgorithm
from components.pki.crl import CrlProvider
from localkube.backends import BACKEND_KINDS
from support.pki_material import make_authority

DEFAULT = KeyAlgorithm.ECDSA_P256.value
Key = TypeVar("Key")
Result = dict[str, Any]


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

    chains: dict[str, Chain] = {}
    for algorithm in [a.value for a in KeyAlgorithm]:
        measure(f"{algorithm} mtls", algorithm, True, 0)
        measure(f"{algorithm} plain", algorithm, False, None)
    measure(f"{DEFAULT} mtls no-crl", DEFAULT, True, None)
    measure(f"{DEFAULT} mtls crl-1000", DEFAULT, True, 1_000)
    measure(f"{DEFAULT} mtls crl-100000", DEFAULT, True, 100_000)
    return rows, rates


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


def _json_of(module: str, *arguments: str) -> Result:
    """The JSON a benchmark module prints last: `python -m MODULE ARGUMENTS`."""
    completed = subprocess.run(
        [sys.executable, "-m", module, *arguments], capture_output=True, text=True, check=True
    )
    result: Result = json.loads(completed.stdout.strip().splitlines()[-1])
    return result


def _measured_table(
    module: str,
    columns: Sequence[str],
    runs: Mapping[Key, Sequence[str]],
    row: Callable[[Key, Result], str],
) -> tuple[list[str], dict[Key, Result]]:
    """A Markdown table of `columns`: `python -m MODULE ARGUMENTS` for each run, a process of
    its own each, and the row of each result (printed as it comes: the runs take minutes);
    with the results by the run's key."""
    rows = [f"| {' | '.join(columns)} |", "|" + "---|" * len(columns)]
    results: dict[Key, Result] = {}
    for key, arguments in runs.items():
        results[key] = _json_of(module, *arguments)
        rows.append(row(key, results[key]))
        print(rows[-1], flush=True)
    return rows, results


def _evaluation_row(clients: int, result: Result) -> str:
    return (
        f"| {clients:,} | {result['seconds']:.2f} | "
        f"{1000 * result['seconds'] / clients:.1f} | {result['peak_rss_mib']:.0f} |"
    )


def evaluation_table() -> tuple[list[str], dict[int, Result]]:
    columns = ["clients", "seconds", "ms per client", "peak memory (MiB)"]
    runs = {clients: [str(clients)] for clients in (10, 100, 1000)}
    return _measured_table("bench.evaluate", columns, runs, _evaluation_row)


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


def _up_seconds(result: Result) -> str:
    return _seconds(result["up_seconds"], f"> {ENGINE_UP_LIMIT_SECONDS} (stopped)")


def _engine_row(key: EngineKey, result: Result) -> str:
    clients, skip_checkpoints, shards = key
    previewed = result["preview_seconds"] is not None
    preview_peak = f"{result['preview_peak_mib']:,.0f}" if previewed else "-"
    stacks = "1" if not shards else f"1 + {shards} shard{'s' if shards > 1 else ''}"
    return (
        f"| {clients:,} | {stacks} | {result['resources']:,} | "
        f"{'skipped' if skip_checkpoints else 'default'} | "
        f"{_up_seconds(result)} | "
        f"{result['up_peak_mib']:,.0f} | {_seconds(result['preview_seconds'])} | "
        f"{_seconds(result['slowest_preview_seconds'])} | "
        f"{preview_peak} | "
        f"{_seconds(result['revoke_seconds'])} | "
        f"{result['state_mib']:.1f} |"
    )


ENGINE_COLUMNS = [
    "clients",
    "stacks",
    "resources",
    "checkpoints",
    "up (s)",
    "up peak (MiB)",
    "no-change preview, all stacks (s)",
    "slowest stack's preview (s)",
    "preview peak (MiB)",
    "revoke one client (s)",
    "state (MiB)",
]


def engine_table() -> tuple[list[str], dict[EngineKey, Result]]:
    runs: dict[EngineKey, list[str]] = {}
    for clients, skip_checkpoints, shards in ENGINE_RUNS:
        flags = ["--limit", str(ENGINE_UP_LIMIT_SECONDS), "--shards", str(shards)]
        if skip_checkpoints:
            flags.append("--skip-checkpoints")
        runs[(clients, skip_checkpoints, shards)] = [str(clients), *flags]
    return _measured_table("bench.engine", ENGINE_COLUMNS, runs, _engine_row)


# A stack of this size under the default settings: every backend is written at least once per
# resource the `up` creates.
BACKEND_CLIENTS = 100
BACKEND_NAMES = {
    "file": "local folder (`file://`)",
    "s3": "S3-compatible, versitygw (`s3://`)",
    "postgres": "PostgreSQL (`postgres://`)",
}


def _backend_row(kind: str, result: Result) -> str:
    return (
        f"| {BACKEND_NAMES[kind]} | {result['resources']:,} | {_up_seconds(result)} | "
        f"{_seconds(result['preview_seconds'])} | {result['state_mib']:.1f} |"
    )


def backend_table() -> tuple[list[str], dict[str, Result]]:
    columns = [
        "state backend",
        "resources",
        "up of a new stack (s)",
        "no-change preview (s)",
        "state (MiB)",
    ]
    runs = {
        kind: [str(BACKEND_CLIENTS), "--limit", str(ENGINE_UP_LIMIT_SECONDS), "--backend", kind]
        for kind in BACKEND_KINDS
    }
    return _measured_table("bench.engine", columns, runs, _backend_row)


KILL_ROUNDS = 10


def _kills_row(kind: str, result: Result) -> str:
    return (
        f"| {BACKEND_NAMES[kind]} | {result['rounds']} | {result['left_creates_pending']} | "
        f"{result['left_unreadable']} ({result['repaired']}) | {result['recovered']} | "
        f"{result['objects_leaked']} | {result['ca_keys_changed']} |"
    )


def kills_table() -> tuple[list[str], list[Result]]:
    columns = [
        "state backend",
        "kills",
        "creates left pending",
        "states left unreadable (repaired)",
        "recovered",
        "objects leaked",
        "CA keys changed",
    ]
    runs = {kind: ["--rounds", str(KILL_ROUNDS), "--backend", kind] for kind in BACKEND_KINDS}
    rows, results = _measured_table("bench.kills", columns, runs, _kills_row)
    return rows, list(results.values())


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
