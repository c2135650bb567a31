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
import os
import platform
import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.handshakes import Rate
from bench.tables import (
    BACKEND_CLIENTS,
    KILL_ROUNDS,
    EngineKey,
    backend_table,
    crl_table,
    data_plane_table,
    engine_table,
    evaluation_table,
    handshake_table,
    kills_table,
)
from bench.targets import (
    Target,
    engine_targets,
    evaluation_and_crl_targets,
    handshake_targets,
    kills_target,
)

RESULTS = Path(__file__).with_name("results.md")


def cpu_ticks() -> tuple[int, int, int]:
    """(steal, I/O wait, total) CPU ticks of the machine so far, from /proc/stat."""
    fields = [int(value) for value in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
    return fields[7], fields[4], sum(fields)


def memory_gib() -> float:
    """The machine's memory, GiB, from /proc/meminfo."""
    kib = Path("/proc/meminfo").read_text().split("\n")[0].split()[1]
    return int(kib) / 2**20


@dataclass
class Measurements:
    """The rows of every table, the figures the targets read, and the share of the machine's
    CPU time the hypervisor took (steal) or spent waiting for the disk during the run."""

    handshake_rows: list[str]
    rates: dict[str, Rate]
    data_plane_rows: list[str]
    evaluation_rows: list[str]
    evaluations: dict[int, dict[str, Any]]
    crl_rows: list[str]
    crl_timings: dict[int, float]
    engine_rows: list[str]
    engine: dict[EngineKey, dict[str, Any]]
    backend_rows: list[str]
    kill_rows: list[str]
    kills: list[dict[str, Any]]
    stolen_percent: float = 0.0
    waited_percent: float = 0.0


def measure_all(seconds: int) -> Measurements:
    """Every table, in the order of results.md, with handshake runs of `seconds`."""
    steal_before, wait_before, total_before = cpu_ticks()
    handshake_rows, rates = handshake_table(seconds)
    data_plane_rows = data_plane_table(seconds)
    evaluation_rows, evaluations = evaluation_table()
    crl_rows, crl_timings = crl_table()
    engine_rows, engine = engine_table()
    backend_rows, _ = backend_table()
    kill_rows, kills = kills_table()
    steal_after, wait_after, total_after = cpu_ticks()
    elapsed_ticks = max(1, total_after - total_before)
    return Measurements(
        handshake_rows,
        rates,
        data_plane_rows,
        evaluation_rows,
        evaluations,
        crl_rows,
        crl_timings,
        engine_rows,
        engine,
        backend_rows,
        kill_rows,
        kills,
        stolen_percent=100 * (steal_after - steal_before) / elapsed_ticks,
        waited_percent=100 * (wait_after - wait_before) / elapsed_ticks,
    )


def targets(measured: Measurements) -> list[Target]:
    return [
        *handshake_targets(measured.rates),
        *evaluation_and_crl_targets(measured.evaluations, measured.crl_timings),
        *engine_targets(measured.engine),
        kills_target(measured.kills),
    ]


def _machine(measured: Measurements, seconds: int) -> str:
    """The paragraph under the title: when, on what, with which nginx and OpenSSL, and how
    much the machine was disturbed."""
    nginx = subprocess.run(["nginx", "-v"], capture_output=True, text=True).stderr.strip()
    openssl = subprocess.run(["openssl", "version"], capture_output=True, text=True).stdout.strip()
    return (
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {platform.machine()}, "
        f"{os.cpu_count()} cores, {memory_gib():.0f} GiB memory, "
        f"Python {platform.python_version()}, {nginx}, "
        f"{openssl}; handshake runs of {seconds} s, one nginx worker, one client. "
        f"CPU time taken by the hypervisor during the run (steal): "
        f"{measured.stolen_percent:.0f}%, idle waiting "
        f"for the disk (I/O wait): {measured.waited_percent:.0f}%; figures from runs with a high "
        "steal are low and noisy, and the engine's vary by up to half from one run to the next "
        "on a virtual machine: compare rows of one run."
    )


def report(measured: Measurements, seconds: int) -> str:
    """bench/results.md: the machine, each table under its heading, and the targets."""
    sections = [
        ("mTLS handshakes", measured.handshake_rows),
        (
            "nginx and Envoy side by side (TLS 1.2 full handshakes, no request, one client)",
            measured.data_plane_rows,
        ),
        ("Program evaluation under the mocks", measured.evaluation_rows),
        ("CRL issue (the RevocationList provider's create)", measured.crl_rows),
        ("The real engine (render-to-directory mode, local file backend)", measured.engine_rows),
        (
            f"State backends (the real engine, render-to-directory mode, {BACKEND_CLIENTS} "
            "clients, default checkpoints)",
            measured.backend_rows,
        ),
        (
            f"Lost runners at random moments ({KILL_ROUNDS} new `local` stacks per backend, "
            "each `pulumi up` killed at a random moment of its run, then recovered)",
            measured.kill_rows,
        ),
        (
            "Targets",
            [
                "| target | measured | met |",
                "|---|---|---|",
                *[
                    f"| {name} | {value} | {'yes' if met else 'no'} |"
                    for name, value, met in targets(measured)
                ],
            ],
        ),
    ]
    lines = ["# Benchmark results", "", _machine(measured, seconds), ""]
    for heading, rows in sections:
        lines += [f"## {heading}", "", *rows, ""]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=8, help="duration of each handshake run")
    arguments = parser.parse_args()
    text = report(measure_all(arguments.seconds), arguments.seconds)
    RESULTS.write_text(text)
    print(text)


if __name__ == "__main__":
    main()
