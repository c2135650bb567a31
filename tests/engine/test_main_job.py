"""The README's main command without a cluster: `python -m localkube` (what `make up` runs)
builds what it needs, deploys the `local` stack to a throwaway control plane, serves it with
nginx and ends with the check's verdict."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.engine.conftest import toolchain_bin
from tests.mock_runtime import PROJECT_DIR


def test_the_local_stack_is_deployed_and_enforces_mtls() -> None:
    toolchain_bin()  # fails clearly when the toolchain is not built
    completed = subprocess.run(
        [sys.executable, "-m", "localkube"],
        cwd=PROJECT_DIR,
        env={key: value for key, value in os.environ.items() if key != "KUBECONFIG"},
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    output = completed.stdout + completed.stderr
    assert completed.returncode == 0, output
    assert completed.stdout.rstrip().endswith("mTLS is enforced"), output
    assert "revoked client legacy-batch  rejected  rejected  HTTP 400  ok" in completed.stdout
