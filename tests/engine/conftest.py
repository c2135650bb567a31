"""The real Pulumi engine: the CLI, language host and provider plugins built by
toolchain/build.sh, a local file backend (or, with `state_backends`, an S3 or PostgreSQL one)
and a throwaway PULUMI_HOME under the test's temporary directory; and a local Kubernetes control
plane (localkube) to deploy to."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator, Mapping, Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from localkube.backends import (
    BACKEND_KINDS,
    BackendKind,
    StateBackend,
    file_backend,
    state_backend,
)
from localkube.cluster import LocalCluster
from localkube.objects import cluster_with_ingress_nginx
from tests.mock_runtime import PROJECT_DIR

# For test state only: it encrypts the stack's secrets in the test's own backend.
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


def virtualenv(directory: Path, *requirements: str) -> Path:
    """A virtualenv in `directory` with `requirements` (pip install arguments) installed."""
    subprocess.run([sys.executable, "-m", "venv", str(directory)], check=True)
    install = [str(directory / "bin" / "pip"), "install", "--quiet", *requirements]
    subprocess.run(install, check=True, timeout=900)
    return directory


def python_in(
    venv: Path, code: str, environment: Mapping[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """`python -c code` with the interpreter of `venv`, run in that folder, so that only what
    the virtualenv installed (and `environment`'s PYTHONPATH) can be imported."""
    return subprocess.run(
        [str(venv / "bin" / "python"), "-c", code],
        cwd=venv,
        env=None if environment is None else dict(environment),
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.fixture(scope="session")
def policy_virtualenv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A virtualenv with the policy pack's requirements (policy/requirements.txt)."""
    root = tmp_path_factory.mktemp("policy-venv")
    return virtualenv(root / "venv", "-r", str(PROJECT_DIR / "policy" / "requirements.txt"))


def policy_pack(source: Path, destination: Path, venv: Path) -> Path:
    """A copy of the policy pack in `source` whose virtualenv (`venv` in its directory) is
    `venv`."""
    shutil.copytree(source, destination, ignore=shutil.ignore_patterns("venv", "__pycache__"))
    (destination / "venv").symlink_to(venv)
    return destination


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


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    root = tmp_path_factory.mktemp("engine")
    program = copy_program(Path(__file__).with_name("revocation_program"), root / "program")
    engine = new_engine(root, program, "test")
    yield engine
    engine.run("destroy", "--yes", "--skip-preview", check=False)
    engine.run("stack", "rm", "--yes", "--force", check=False)


@pytest.fixture(scope="session")
def state_backends(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[dict[BackendKind, StateBackend]]:
    """One backend of each kind for the session: a folder, versitygw and PostgreSQL on
    127.0.0.1. Stacks of different tests share the servers, so each test names its stacks (or
    its project) apart; `backend_for` gives a test a file backend of its own instead."""
    root = tmp_path_factory.mktemp("state-backends")
    bin_directory = toolchain_bin()
    with ExitStack() as servers:
        yield {
            kind: servers.enter_context(state_backend(kind, root / kind, bin_directory))
            for kind in BACKEND_KINDS
        }


def backend_for(
    state_backends: Mapping[BackendKind, StateBackend], kind: BackendKind, root: Path
) -> StateBackend:
    """The backend a test keeps its stacks in: a folder of its own under `root` for `file`,
    else the session's server of `kind`."""
    return file_backend(root) if kind == "file" else state_backends[kind]


@pytest.fixture(scope="session")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCluster]:
    """etcd, kube-apiserver and kube-controller-manager on 127.0.0.1, with what the
    ingress-nginx chart creates and a writer of Ingress load-balancer status."""
    with cluster_with_ingress_nginx(toolchain_bin(), tmp_path_factory.mktemp("cluster")) as local:
        yield local
