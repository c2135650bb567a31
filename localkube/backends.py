"""Self-managed Pulumi state backends on this machine: a folder, an S3-compatible object store
(versitygw serving a folder) or a PostgreSQL server, each started on 127.0.0.1 and stopped when
its `with` block ends.

They are what platform teams run instead of Pulumi Cloud (`pulumi login s3://...`,
`pulumi login postgres://...`), as throwaway servers: fixed credentials, no TLS, trust
authentication. `python -m localkube --backend KIND` and the engine tests keep their state in
them.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, get_args

from localkube.processes import free_port, stop_process

BackendKind = Literal["file", "s3", "postgres"]
BACKEND_KINDS: tuple[BackendKind, ...] = get_args(BackendKind)

READY_TIMEOUT_SECONDS = 60
S3_BUCKET = "pulumi-state"
S3_REGION = "us-east-1"
# Throwaway credentials of a gateway that listens on 127.0.0.1 only and serves a temporary folder.
S3_ACCESS_KEY = "mtls-ingress-local"
S3_SECRET_KEY = "mtls-ingress-local-secret"
S3_HEALTH_PATH = "/health"
POSTGRES_USER = "postgres"
POSTGRES_DATABASE = "pulumi"
POSTGRES_ROOT = Path("/usr/lib/postgresql")


@dataclass(frozen=True)
class StateBackend:
    """Where the pulumi CLI keeps a stack's state."""

    kind: BackendKind
    """Which kind of self-managed backend this is."""
    url: str
    """What `pulumi login` and `PULUMI_BACKEND_URL` take."""
    directory: Path
    """The backend's folder: the state (file), the object store's buckets (s3) or the server's
    log (postgres, whose data folder is removed when it stops)."""
    environment: dict[str, str] = field(default_factory=dict)
    """More environment the pulumi CLI needs for `url` (the object store's credentials)."""

    def cli_environment(self) -> dict[str, str]:
        """`environment` with `PULUMI_BACKEND_URL` set to `url`."""
        return {**self.environment, "PULUMI_BACKEND_URL": self.url}


def file_backend(directory: Path) -> StateBackend:
    """State in `directory/state` (created); no server."""
    state = directory / "state"
    state.mkdir(parents=True, exist_ok=True)
    return StateBackend("file", f"file://{state}", directory)


@contextmanager
def state_backend(
    kind: BackendKind, directory: Path, bin_directory: Path
) -> Iterator[StateBackend]:
    """A backend of `kind` whose files and logs go to `directory`, with its server (versitygw
    from `bin_directory`, or Debian's PostgreSQL) running until the block ends, however it
    ends."""
    directory.mkdir(parents=True, exist_ok=True)
    if kind == "file":
        yield file_backend(directory)
    elif kind == "s3":
        with _versitygw(directory, bin_directory) as backend:
            yield backend
    elif kind == "postgres":
        with _postgres(directory) as backend:
            yield backend
    else:
        raise ValueError(f"unknown state backend {kind!r}: one of {', '.join(BACKEND_KINDS)}")


@contextmanager
def _versitygw(directory: Path, bin_directory: Path) -> Iterator[StateBackend]:
    """versitygw's posix backend serving `directory/s3`: each subfolder is a bucket."""
    root = directory / "s3"
    (root / S3_BUCKET).mkdir(parents=True, exist_ok=True)
    port = free_port()
    log_path = directory / "versitygw.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [
                str(bin_directory / "versitygw"),
                "--port",
                f"127.0.0.1:{port}",
                "--health",
                S3_HEALTH_PATH,
                "posix",
                str(root),
            ],
            env={
                **os.environ,
                "ROOT_ACCESS_KEY": S3_ACCESS_KEY,
                "ROOT_SECRET_KEY": S3_SECRET_KEY,
            },
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            cwd=directory,
            start_new_session=True,
        )
    try:
        _wait_for_health(f"http://127.0.0.1:{port}{S3_HEALTH_PATH}", process, log_path)
        yield StateBackend(
            "s3",
            f"s3://{S3_BUCKET}?endpoint=http://127.0.0.1:{port}"
            f"&s3ForcePathStyle=true&region={S3_REGION}",
            directory,
            {
                "AWS_ACCESS_KEY_ID": S3_ACCESS_KEY,
                "AWS_SECRET_ACCESS_KEY": S3_SECRET_KEY,
                "AWS_REGION": S3_REGION,
                # Static credentials are set: nothing should ask an instance metadata service.
                "AWS_EC2_METADATA_DISABLED": "true",
            },
        )
    finally:
        stop_process(process)


def _wait_for_health(url: str, process: subprocess.Popen[bytes], log_path: Path) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_SECONDS
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        if process.poll() is not None:
            raise RuntimeError(f"versitygw exited {process.returncode}: {_tail(log_path)}")
        if time.monotonic() > deadline:
            raise TimeoutError(f"versitygw did not answer on {url}: {_tail(log_path)}")
        time.sleep(0.2)


@contextmanager
def _postgres(directory: Path) -> Iterator[StateBackend]:
    """A PostgreSQL cluster of its own: trust authentication, TCP on 127.0.0.1 only and its unix
    socket in its data folder. Its log is copied to `directory/postgres.log` when it stops."""
    bin_directory = postgres_bin_directory()
    # initdb and postgres refuse to run as root. Their folder is one the server's user owns,
    # outside `directory`, which may be private to root (pytest's temporary folders are 0700).
    run_as = _as_postgres_user()
    home = Path(tempfile.mkdtemp(prefix="mtls-ingress-postgres-"))
    if run_as:
        shutil.chown(home, user=POSTGRES_USER)
    server = _PostgresServer(bin_directory, run_as, home, free_port())
    started = False
    try:
        server.initialize()
        started = True
        server.start()
        yield StateBackend(
            "postgres",
            f"postgres://{POSTGRES_USER}@127.0.0.1:{server.port}/{POSTGRES_DATABASE}"
            "?sslmode=disable",
            directory,
        )
    finally:
        try:
            if started:
                server.stop()
            with contextlib.suppress(OSError):
                shutil.copyfile(server.log_path, directory / "postgres.log")
        finally:
            shutil.rmtree(home, ignore_errors=True)


@dataclass(frozen=True)
class _PostgresServer:
    """A PostgreSQL cluster in `home` (its data folder, log and unix socket) that serves TCP on
    127.0.0.1:`port`, its programs run through `run_as` (as the `postgres` user when this
    process is root)."""

    bin_directory: Path
    run_as: list[str]
    home: Path
    port: int

    @property
    def data(self) -> Path:
        return self.home / "data"

    @property
    def log_path(self) -> Path:
        return self.home / "postgres.log"

    def initialize(self) -> None:
        """initdb, then the settings of a throwaway server on 127.0.0.1."""
        _run(
            [
                *self.run_as,
                str(self.bin_directory / "initdb"),
                f"--pgdata={self.data}",
                f"--username={POSTGRES_USER}",
                "--auth=trust",
                "--encoding=UTF8",
                "--locale=C",
                # A throwaway cluster: losing it on a crash of the machine is fine.
                "--no-sync",
            ],
            self.home,
        )
        with (self.data / "postgresql.conf").open("a") as conf:
            conf.write(
                "listen_addresses = '127.0.0.1'\n"
                f"port = {self.port}\n"
                f"unix_socket_directories = '{self.home}'\n"
                "fsync = off\n"
            )

    def start(self) -> None:
        """Starts the server and waits until it accepts connections, then creates the
        database the state is kept in."""
        _run(
            [
                *self.run_as,
                str(self.bin_directory / "pg_ctl"),
                "start",
                f"--pgdata={self.data}",
                f"--log={self.log_path}",
                "--wait",
                f"--timeout={READY_TIMEOUT_SECONDS}",
            ],
            self.home,
        )
        address = ["--host=127.0.0.1", f"--port={self.port}", f"--username={POSTGRES_USER}"]
        _wait_for_postgres(self.bin_directory, address)
        _run([str(self.bin_directory / "createdb"), *address, POSTGRES_DATABASE], self.home)

    def stop(self) -> None:
        """`pg_ctl stop --mode=fast`, waiting for it at most READY_TIMEOUT_SECONDS."""
        stop = [str(self.bin_directory / "pg_ctl"), "stop", f"--pgdata={self.data}", "--mode=fast"]
        subprocess.run(
            [*self.run_as, *stop, "--wait"],
            cwd=self.home,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=READY_TIMEOUT_SECONDS,
            check=False,
        )


def postgres_bin_directory() -> Path:
    """Debian's PostgreSQL programs (`/usr/lib/postgresql/<version>/bin`), the newest version
    installed."""
    found = sorted(
        (path.parent for path in POSTGRES_ROOT.glob("*/bin/initdb")),
        key=lambda path: int(path.parent.name) if path.parent.name.isdigit() else 0,
    )
    if not found:
        raise FileNotFoundError(
            f"no {POSTGRES_ROOT}/<version>/bin/initdb: install Debian's postgresql package"
        )
    return found[-1]


def _as_postgres_user() -> list[str]:
    """The prefix that runs a command as the `postgres` user when this process is root."""
    if os.geteuid() != 0:
        return []
    if shutil.which("runuser") is None:
        raise FileNotFoundError("runuser is needed to run PostgreSQL as its own user")
    return ["runuser", "-u", POSTGRES_USER, "--"]


def _wait_for_postgres(bin_directory: Path, address: list[str]) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_SECONDS
    while True:
        ready = subprocess.run(
            [str(bin_directory / "pg_isready"), *address, "--dbname=postgres"],
            capture_output=True,
            check=False,
        )
        if ready.returncode == 0:
            return
        if time.monotonic() > deadline:
            raise TimeoutError(f"PostgreSQL did not accept connections: {ready.stdout!r}")
        time.sleep(0.2)


def _run(command: list[str], cwd: Path) -> None:
    completed = subprocess.run(
        command, cwd=cwd, stdin=subprocess.DEVNULL, capture_output=True, text=True, check=False
    )
    if completed.returncode != 0:
        raise RuntimeError(
            f"{' '.join(command)} exited {completed.returncode}:\n"
            f"{completed.stdout}{completed.stderr}"
        )


def _tail(path: Path) -> str:
    return path.read_text(errors="replace")[-2000:] if path.exists() else "(no log)"
