"""The real Pulumi engine: the CLI and language host built by toolchain/build.sh, a local
file backend and a throwaway PULUMI_HOME under the test's temporary directory."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.mock_runtime import PROJECT_DIR

# For local state only: it encrypts the stack's secrets in the test's own file backend.
LOCAL_PASSPHRASE = "mtls-ingress-local-only"


def toolchain_bin() -> Path:
    completed = subprocess.run(
        ["bash", str(PROJECT_DIR / "toolchain" / "build.sh"), "--print"],
        capture_output=True,
        text=True,
        check=False,
    )
    if completed.returncode != 0:
        if os.environ.get("MTLS_SKIP_ENGINE_TESTS") == "1":
            pytest.skip("MTLS_SKIP_ENGINE_TESTS=1 and the engine toolchain is not built")
        pytest.fail("the engine toolchain is not built: run `make toolchain` (make test does)")
    return Path(completed.stdout.strip())


@dataclass
class Engine:
    program: Path
    environment: dict[str, str]

    def run(self, *arguments: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        completed = subprocess.run(
            ["pulumi", "--non-interactive", *arguments],
            cwd=self.program,
            env=self.environment,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        if check and completed.returncode != 0:
            raise AssertionError(
                f"pulumi {' '.join(arguments)} exited {completed.returncode}:\n"
                f"{completed.stdout}\n{completed.stderr}"
            )
        return completed

    def outputs(self) -> dict[str, Any]:
        result: dict[str, Any] = json.loads(self.run("stack", "output", "--json").stdout)
        return result


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    bin_directory = toolchain_bin()
    root = tmp_path_factory.mktemp("engine")
    program = root / "program"
    shutil.copytree(Path(__file__).with_name("revocation_program"), program)
    manifest = program / "Pulumi.yaml"
    manifest.write_text(manifest.read_text().replace("VIRTUALENV", str(PROJECT_DIR / ".venv")))
    (root / "state").mkdir()
    environment = {
        **os.environ,
        "PATH": f"{bin_directory}{os.pathsep}{os.environ['PATH']}",
        "PULUMI_HOME": str(root / "home"),
        "PULUMI_BACKEND_URL": f"file://{root / 'state'}",
        "PULUMI_CONFIG_PASSPHRASE": LOCAL_PASSPHRASE,
        "PULUMI_SKIP_UPDATE_CHECK": "true",
        "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true",
        # The program lives outside the project; the components come from the checkout, both
        # in the program and in the dynamic provider process that unpickles RevocationList.
        "PYTHONPATH": str(PROJECT_DIR),
    }
    engine = Engine(program, environment)
    engine.run("stack", "init", "test")
    yield engine
    engine.run("destroy", "--yes", "--skip-preview", check=False)
    engine.run("stack", "rm", "--yes", "--force", check=False)
