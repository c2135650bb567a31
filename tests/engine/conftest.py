"""The real Pulumi engine (localkube.engine: the CLI, language host and provider plugins built
by toolchain/build.sh, a local file backend or, with `state_backends`, an S3 or PostgreSQL one,
and a throwaway PULUMI_HOME under the test's temporary directory); a local Kubernetes control
plane (localkube) to deploy to; and `deployed`, the project's program deployed to it."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Iterator, Mapping
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import pytest

from localkube.backends import (
    BACKEND_KINDS,
    BackendKind,
    StateBackend,
    file_backend,
    state_backend,
)
from localkube.cluster import LocalCluster
from localkube.engine import (
    PROJECT_DIR,
    Engine,
    copy_program,
    new_engine,
    project_program,
    toolchain_bin,
)
from localkube.objects import cluster_with_ingress_nginx


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


@contextmanager
def deployed(
    root: Path,
    cluster: LocalCluster,
    document: Mapping[str, Any] | None = None,
    *,
    stack: str = "dev",
    manifest: Mapping[str, Any] | None = None,
    preview: bool = False,
    up: bool = True,
    **environment: str,
) -> Iterator[Engine]:
    """The project's program in `root` (`project_program`: with the config `document`, or the
    committed `Pulumi.<stack>.yaml`) as a new stack pointed at the local API server: previewed
    first with `preview`, deployed with `up` (without it, the test runs its own first preview or
    update), and destroyed when the block exits. `environment` is added to the engine's."""
    program = project_program(root, document, stack=stack, manifest=manifest)
    engine = new_engine(root, program, stack, KUBECONFIG=str(cluster.kubeconfig), **environment)
    try:
        if preview:
            engine.run("preview")
        if up:
            engine.run("up", "--yes", "--skip-preview")
        yield engine
    finally:
        engine.run("destroy", "--yes", "--skip-preview", check=False)


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
