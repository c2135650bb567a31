"""The real Pulumi engine, driven from Python: the CLI, language host and provider plugins built
by toolchain/build.sh, a throwaway PULUMI_HOME, the stack's state in a backend of
localkube.backends (by default a folder of its own), and the project's program copied into a
folder of its own. The engine tests and the benchmarks run the project this way."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from localkube.backends import StateBackend, file_backend

PROJECT_DIR = Path(__file__).resolve().parent.parent
# For throwaway state only: it encrypts the stack's secrets in a backend of its own.
LOCAL_PASSPHRASE = "mtls-ingress-local-only"


class ToolchainNotBuiltError(RuntimeError):
    """toolchain/build.sh has not built the engine (`make toolchain` does)."""


def toolchain_bin() -> Path:
    """The folder of the built toolchain's programs (pulumi, the plugins, the control plane)."""
    completed = subprocess.run(
        ["bash", str(PROJECT_DIR / "toolchain" / "build.sh"), "--print"],
        capture_output=True,
        text=True,
        check=False,
    )
    if completed.returncode != 0:
        raise ToolchainNotBuiltError(
            "the engine toolchain is not built: run `make toolchain` (make test does)"
        )
    return Path(completed.stdout.strip())


@dataclass
class Engine:
    program: Path
    environment: dict[str, str]

    def run(
        self, *arguments: str, check: bool = True, wrapper: Sequence[str] = ()
    ) -> subprocess.CompletedProcess[str]:
        """`pulumi ARGUMENTS` (run by `wrapper`, such as faketime, when given)."""
        return self.execute(
            [*wrapper, "pulumi", "--non-interactive", *arguments], check=check, timeout=600
        )

    def execute(
        self, command: Sequence[str], *, check: bool = True, timeout: float = 900
    ) -> subprocess.CompletedProcess[str]:
        """`command` in the program's folder with the engine's environment (its `pulumi`, its
        state backend and passphrase)."""
        completed = subprocess.run(
            list(command),
            cwd=self.program,
            env=self.environment,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if check and completed.returncode != 0:
            raise AssertionError(
                f"{' '.join(command)} exited {completed.returncode}:\n"
                f"{completed.stdout}\n{completed.stderr}"
            )
        return completed

    def outputs(self, *, show_secrets: bool = False) -> dict[str, Any]:
        """The stack's outputs; secrets decrypted with `show_secrets`, else "[secret]"."""
        flags = ["--show-secrets"] if show_secrets else []
        result: dict[str, Any] = json.loads(self.run("stack", "output", "--json", *flags).stdout)
        return result


def exported_state(engine: Engine) -> str:
    """`pulumi stack export --show-secrets`: the stack's state, secrets decrypted."""
    return engine.run("stack", "export", "--show-secrets").stdout


def new_engine(
    root: Path,
    program: Path,
    stack: str,
    *,
    backend: StateBackend | None = None,
    **environment: str,
) -> Engine:
    """An engine for `program` (already in `root`), with its own home and stack; its state in
    `backend`, by default a file backend of its own in `root/state`."""
    backend = backend or file_backend(root)
    engine = Engine(
        program,
        {
            **os.environ,
            "PATH": f"{toolchain_bin()}{os.pathsep}{os.environ['PATH']}",
            "PULUMI_HOME": str(root / "home"),
            **backend.cli_environment(),
            "PULUMI_CONFIG_PASSPHRASE": LOCAL_PASSPHRASE,
            "PULUMI_SKIP_UPDATE_CHECK": "true",
            "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true",
            # The program lives outside the project; the components come from the checkout,
            # both in the program and in the dynamic provider processes that unpickle them.
            "PYTHONPATH": str(PROJECT_DIR),
            **environment,
        },
    )
    subprocess.run(
        ["bash", str(PROJECT_DIR / "toolchain" / "install-plugins.sh")],
        env=engine.environment,
        capture_output=True,
        check=True,
    )
    engine.run("stack", "init", stack)
    return engine


def copy_program(source: Path, destination: Path) -> Path:
    """A copy of a Python program whose Pulumi.yaml uses the project's virtualenv."""
    shutil.copytree(source, destination, ignore=shutil.ignore_patterns(".venv", "__pycache__"))
    manifest = destination / "Pulumi.yaml"
    text = manifest.read_text().replace("VIRTUALENV", str(PROJECT_DIR / ".venv"))
    manifest.write_text(text.replace("virtualenv: .venv", f"virtualenv: {PROJECT_DIR / '.venv'}"))
    return destination


def project_program(
    root: Path,
    document: Mapping[str, Any] | None = None,
    *,
    stack: str = "dev",
    provider_config: Mapping[str, Any] | None = None,
    manifest: Mapping[str, Any] | None = None,
) -> Path:
    """The project's program in `root/program`: `__main__.py`, `Pulumi.yaml` (or `manifest`),
    and `Pulumi.<stack>.yaml` as committed, or written from a config `document` (the
    `mtls-ingress:` keys without their prefix) and `provider_config` (full keys)."""
    source = root / "source"
    source.mkdir()
    shutil.copy(PROJECT_DIR / "__main__.py", source / "__main__.py")
    if manifest is None:
        shutil.copy(PROJECT_DIR / "Pulumi.yaml", source / "Pulumi.yaml")
    else:
        (source / "Pulumi.yaml").write_text(yaml.safe_dump(dict(manifest)))
    stack_file = source / f"Pulumi.{stack}.yaml"
    if document is None:
        shutil.copy(PROJECT_DIR / stack_file.name, stack_file)
    else:
        config = {f"mtls-ingress:{key}": value for key, value in document.items()}
        stack_file.write_text(yaml.safe_dump({"config": config | dict(provider_config or {})}))
    return copy_program(source, root / "program")
