"""What the program declares for a config, served by a real nginx on loopback."""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from components.check import Probe, ProbeResult, Response, request, run_probe
from localkube.nginx import serving
from support.mock_runtime import MockRuntime
from tests.kubernetes_manifests import CONFIG_MAP_PATCH, secrets_by_name, the_ingress


@dataclass(frozen=True)
class Declared:
    """The program's Kubernetes objects and outputs, resolved to plain values."""

    ingress: dict[str, Any]
    secrets: dict[str, dict[str, Any]]
    controller_data: dict[str, str]
    outputs: dict[str, Any]
    client_ca_certificate_pem: str
    client_ca_private_key_pem: str
    revoked_clients: dict[str, tuple[str, str]]
    # (certificate, key) of each CA of the client chain, root first.
    client_authorities: tuple[tuple[str, str], ...] = ()

    def client(self, name: str) -> tuple[str, str]:
        return (
            self.outputs["clientCertificates"][name]["chain"],
            self.outputs["clientPrivateKeys"][name],
        )


def declare(config: Mapping[str, Any]) -> Declared:
    runtime = MockRuntime()
    try:
        outputs = {k: runtime.resolve(v) for k, v in runtime.run_program(config).items()}
        stack = runtime.program_globals["stack"]
        revoked = {
            name: (runtime.resolve(client.chain_pem), runtime.resolve(client.private_key_pem))
            for name, client in stack.clients.items()
            if name in outputs["revokedClientSerials"]
        }
        patches = runtime.emulator.of_type(CONFIG_MAP_PATCH)
        return Declared(
            ingress=the_ingress(runtime.emulator),
            secrets=secrets_by_name(runtime.emulator),
            controller_data=dict(patches[0].inputs["data"]) if patches else {},
            outputs=outputs,
            client_ca_certificate_pem=runtime.resolve(stack.client_ca.certificate_pem),
            client_ca_private_key_pem=runtime.resolve(stack.client_ca.private_key_pem),
            revoked_clients=revoked,
            client_authorities=tuple(
                (runtime.resolve(ca.certificate_pem), runtime.resolve(ca.private_key_pem))
                for ca in stack.client_authorities
            ),
        )
    finally:
        runtime.close()


class LiveSite:
    """nginx serving the declared Ingress on 127.0.0.1, with an echoing upstream."""

    def __init__(self, directory: Path, host: str, port: int, server_ca_pem: str) -> None:
        self.directory = directory
        self.host = host
        self.port = port
        self.url = f"https://{host}:{port}/"
        self.ca_file = self.file("server-ca.crt", server_ca_pem)
        self._files = 0

    def file(self, name: str, content: str) -> Path:
        path = self.directory / name
        path.write_text(content)
        path.chmod(0o600)
        return path

    def credentials(
        self, chain_pem: str, key_pem: str, name: str | None = None
    ) -> tuple[Path, Path]:
        self._files += 1
        stem = name or f"client-{self._files}"
        return self.file(f"{stem}.crt", chain_pem), self.file(f"{stem}.key", key_pem)

    def probe(
        self,
        credentials: tuple[str, str] | None,
        *,
        expect: str = "accepted",
        url: str | None = None,
        error_page: str | None = None,
    ) -> ProbeResult:
        cert, key = self.credentials(*credentials) if credentials else (None, None)
        probe = Probe("probe", expect, cert, key)  # type: ignore[arg-type]
        return run_probe(
            url or self.url,
            probe,
            ca_file=self.ca_file,
            connect_to=("127.0.0.1", self.port),
            error_page=error_page,
        )

    def get(self, credentials: tuple[str, str] | None) -> Response:
        cert, key = self.credentials(*credentials) if credentials else (None, None)
        return request(
            self.url,
            ca_file=self.ca_file,
            certificate_file=cert,
            key_file=key,
            connect_to=("127.0.0.1", self.port),
        )

    @staticmethod
    def upstream_headers(response: Response) -> dict[str, str]:
        headers: dict[str, str] = json.loads(response.body)
        return headers

    @staticmethod
    def forwarded_certificate(response: Response) -> str:
        return unquote(LiveSite.upstream_headers(response)["ssl-client-cert"])


@contextmanager
def serve(
    declared: Declared,
    *,
    annotation_overrides: Mapping[str, str | None] | None = None,
    secret_overrides: Mapping[str, Mapping[str, str]] | None = None,
    wrapper: Sequence[str] = (),
) -> Iterator[LiveSite]:
    with (
        tempfile.TemporaryDirectory(prefix="mtls-nginx-") as scratch,
        serving(
            ingress=declared.ingress,
            secrets=declared.secrets,
            controller_data=declared.controller_data,
            directory=Path(scratch),
            annotation_overrides=annotation_overrides,
            secret_overrides=secret_overrides,
            wrapper=wrapper,
        ) as (site, port),
    ):
        yield LiveSite(Path(scratch), site.host, port, declared.outputs["serverCaCertificate"])
