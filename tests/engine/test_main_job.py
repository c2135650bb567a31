"""The README's main command without a cluster: `python -m localkube` (what `make up` runs)
builds what it needs, deploys the `local` stack to a throwaway control plane, serves it with
nginx and ends with the check's verdict; with `--backend`, its state is kept in an object store
or in PostgreSQL instead of a folder; `make up ENFORCER=gateway-api` serves the stack switched to
Gateway API through Envoy Gateway and Envoy."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from localkube.engine import toolchain_bin
from support.mock_runtime import PROJECT_DIR


def _localkube(*arguments: str) -> subprocess.CompletedProcess[str]:
    toolchain_bin()  # fails clearly when the toolchain is not built
    return subprocess.run(
        [sys.executable, "-m", "localkube", *arguments],
        cwd=PROJECT_DIR,
        env={key: value for key, value in os.environ.items() if key != "KUBECONFIG"},
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )


def test_the_local_stack_is_deployed_and_enforces_mtls() -> None:
    completed = _localkube()
    output = completed.stdout + completed.stderr
    assert completed.returncode == 0, output
    assert completed.stdout.rstrip().endswith("mTLS is enforced"), output
    assert "revoked client legacy-batch  rejected  rejected  HTTP 400  ok" in completed.stdout
    assert "state in the file backend file://" in completed.stdout


@pytest.mark.parametrize(
    ("backend", "url"),
    [("s3", "s3://pulumi-state?endpoint=http://127.0.0.1:"), ("postgres", "postgres://")],
)
def test_the_local_stack_keeps_its_state_in_a_server(backend: str, url: str) -> None:
    completed = _localkube("--backend", backend)
    output = completed.stdout + completed.stderr
    assert completed.returncode == 0, output
    assert f"state in the {backend} backend {url}" in completed.stdout, output
    assert completed.stdout.rstrip().endswith("mTLS is enforced"), output


def test_the_gateway_variant_is_served_by_envoy_gateway_and_envoy() -> None:
    # Its API server has Envoy Gateway's CRDs and no ingress-nginx: the stack deploys there.
    toolchain_bin()
    completed = subprocess.run(
        ["make", "up", "ENFORCER=gateway-api"],
        cwd=PROJECT_DIR,
        # As from a shell: no cluster configured, and not inside another make (`make test`).
        env={
            key: value
            for key, value in os.environ.items()
            if key not in ("KUBECONFIG", "STACK", "MAKEFLAGS", "MAKELEVEL", "MFLAGS")
        },
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    output = completed.stdout + completed.stderr
    assert completed.returncode == 0, output
    assert "serving the deployed Gateway with Envoy Gateway and Envoy on 127.0.0.1:" in output
    assert completed.stdout.rstrip().endswith("mTLS is enforced"), output
    assert "valid client checkout        accepted  accepted  HTTP 200" in completed.stdout
    assert "revoked client legacy-batch  rejected  rejected  TLS handshake refused" in output
