"""Self-managed state backends under the real engine: a stack of the RevocationList program is
created, deployed and previewed again with its state in a folder, in an S3-compatible object
store (versitygw) and in PostgreSQL, each served on 127.0.0.1 by localkube.backends."""

from __future__ import annotations

import base64
import json
import socket
import subprocess
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from localkube.backends import (
    BACKEND_KINDS,
    S3_BUCKET,
    BackendKind,
    StateBackend,
    postgres_bin_directory,
    state_backend,
)
from localkube.engine import Engine, copy_program, new_engine, toolchain_bin
from support.pki_material import make_authority
from tests.engine.conftest import backend_for

PROGRAM = Path(__file__).with_name("revocation_program")
PROJECT = "mtls-ingress-revocation"
CRL_TYPE = "pulumi-python:dynamic/mtls:SignedCrl"
RENEWAL_TYPE = "pulumi-python:dynamic/mtls:RenewalSchedule"


@dataclass
class Deployment:
    engine: Engine
    backend: StateBackend


@pytest.fixture(scope="module", params=BACKEND_KINDS)
def deployed(
    request: pytest.FixtureRequest,
    state_backends: dict[BackendKind, StateBackend],
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Deployment]:
    """A stack named for its backend's kind, deployed with `pulumi up` (preview included)."""
    kind: BackendKind = request.param
    root = tmp_path_factory.mktemp(f"backend-{kind}")
    backend = backend_for(state_backends, kind, root)
    program = copy_program(PROGRAM, root / "program")
    engine = new_engine(root, program, f"state-in-{kind}", backend=backend)
    authority = make_authority("Backend Clients CA")
    engine.run("config", "set", "caCertificate", "--", authority.certificate_pem)
    engine.run("config", "set", "--secret", "caPrivateKey", "--", authority.private_key_pem)
    engine.run("config", "set", "--path", "revoked[0].serialNumber", "4242")
    engine.run("up", "--yes")
    yield Deployment(engine, backend)
    engine.run("destroy", "--yes", "--skip-preview", check=False)
    engine.run("stack", "rm", "--yes", "--force", check=False)


def test_the_export_shows_the_deployed_resources(deployed: Deployment) -> None:
    engine = deployed.engine
    resources = json.loads(engine.run("stack", "export").stdout)["deployment"]["resources"]
    types = sorted(resource["type"] for resource in resources)
    assert types.count(CRL_TYPE) == 1
    assert types.count(RENEWAL_TYPE) == 2


def test_second_preview_shows_no_changes(deployed: Deployment) -> None:
    engine = deployed.engine
    engine.run("preview", "--expect-no-changes")


def test_the_state_is_kept_by_the_backend(deployed: Deployment) -> None:
    backend = deployed.backend
    key = f".pulumi/stacks/{PROJECT}/state-in-{backend.kind}.json"
    if backend.kind == "postgres":
        stored = _postgres_blob(backend, key)
    else:
        folder = backend.directory / ("state" if backend.kind == "file" else f"s3/{S3_BUCKET}")
        stored = (folder / key).read_bytes()
    checkpoint = json.loads(stored)["checkpoint"]
    assert checkpoint["stack"] == f"organization/{PROJECT}/state-in-{backend.kind}"
    types = [resource["type"] for resource in checkpoint["latest"]["resources"]]
    assert CRL_TYPE in types


def test_pulumi_login_to_the_url_finds_the_stack(deployed: Deployment, tmp_path: Path) -> None:
    """What an operator does: `pulumi login URL` (the credentials in the environment), then
    the stack is listed."""
    engine, backend = deployed.engine, deployed.backend
    environment = {
        **{key: value for key, value in engine.environment.items() if key != "PULUMI_BACKEND_URL"},
        "PULUMI_HOME": str(tmp_path / "home"),
    }
    operator = Engine(engine.program, environment)
    operator.run("login", backend.url)
    assert backend.url in operator.run("whoami", "--verbose").stdout
    stacks = json.loads(operator.run("stack", "ls", "--json").stdout)
    assert f"state-in-{backend.kind}" in [stack["name"] for stack in stacks]


@pytest.mark.parametrize("kind", ["s3", "postgres"])
def test_the_server_is_stopped_when_the_block_raises(kind: BackendKind, tmp_path: Path) -> None:
    with pytest.raises(KeyError), state_backend(kind, tmp_path, toolchain_bin()) as backend:
        port = _port(backend)
        data = Path(_psql(backend, "SHOW data_directory")) if kind == "postgres" else None
        raise KeyError("the body failed")
    with pytest.raises(ConnectionRefusedError), socket.create_connection(("127.0.0.1", port)):
        pass
    if data is not None:
        assert not data.parent.exists()
        assert "database system is shut down" in (tmp_path / "postgres.log").read_text()


def _postgres_blob(backend: StateBackend, key: str) -> bytes:
    """The file `key` of the backend's table (one row per file, its content base64-encoded in
    JSON), under the key prefix the CLI takes from the URL's path: the database's name."""
    database = urllib.parse.urlsplit(backend.url).path.strip("/")
    row = _psql(backend, f"SELECT data FROM pulumi_state WHERE key = '{database}/{key}'")
    return base64.b64decode(json.loads(row)["data"])


def _psql(backend: StateBackend, query: str) -> str:
    completed = subprocess.run(
        [
            str(postgres_bin_directory() / "psql"),
            backend.url,
            "--no-align",
            "--tuples-only",
            f"--command={query}",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    return completed.stdout.strip()


def _port(backend: StateBackend) -> int:
    address = urllib.parse.urlsplit(backend.url)
    if backend.kind == "s3":
        (endpoint,) = urllib.parse.parse_qs(address.query)["endpoint"]
        address = urllib.parse.urlsplit(endpoint)
    assert address.port is not None
    return address.port
