"""The migration the README promises, with both data planes really serving: the local stack on
ingress-nginx, served by nginx from what the API server holds; the one-setting switch to Gateway
API; then the same clients through Envoy Gateway and Envoy: the valid ones get 200, the revoked
one is still refused, and a revocation made after the switch is enforced by Envoy.

The tests run in order on one stack, as an operator's runs would."""

from __future__ import annotations

import ssl
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from components.check import request
from localkube.cluster import LocalCluster
from localkube.engine import Engine, exported_state, toolchain_bin
from localkube.envoy_gateway import (
    install_envoy_gateway_crds,
    read_gateway,
    serving_gateway,
)
from localkube.faults import LOCAL, local_config
from localkube.nginx import serving
from localkube.objects import install_backend, read_served
from localkube.state import key_pair
from tests.engine.conftest import deployed

NAMESPACE = "migrating"
BACKEND = LOCAL["mtls-ingress:ingress"]["backend"]
URL = f"https://{LOCAL['mtls-ingress:host']}/"
REFRESH_TIMEOUT_SECONDS = 60


@dataclass
class Migrating:
    engine: Engine
    cluster: LocalCluster
    directory: Path
    answers: dict[str, dict[str, int | str]] = field(default_factory=dict)

    def client(self, name: str) -> tuple[Path, Path]:
        certificate, key = key_pair(exported_state(self.engine), f"mtls-ingress-client-{name}")
        certificate_file = self.directory / f"{name}.crt"
        key_file = self.directory / f"{name}.key"
        certificate_file.write_text(certificate)
        key_file.write_text(key)
        return certificate_file, key_file

    def get(self, port: int, client: str | None) -> int | str:
        """The answer on 127.0.0.1:`port`: the HTTP status, or "refused" at the handshake."""
        server_ca = self.directory / "server-ca.crt"
        server_ca.write_text(self.engine.outputs()["serverCaCertificate"])
        certificate, key = self.client(client) if client else (None, None)
        try:
            return request(
                URL,
                ca_file=server_ca,
                certificate_file=certificate,
                key_file=key,
                connect_to=("127.0.0.1", port),
            ).status
        except ssl.SSLError as error:
            assert not isinstance(error, ssl.SSLCertVerificationError), error
            return "refused"

    def matrix(self, port: int) -> dict[str, int | str]:
        return {name: self.get(port, name) for name in ("checkout", "reporting", "legacy-batch")}


@pytest.fixture(scope="module")
def migrating(
    tmp_path_factory: pytest.TempPathFactory, cluster: LocalCluster
) -> Iterator[Migrating]:
    root = tmp_path_factory.mktemp("migrating")
    client = cluster.client()
    install_envoy_gateway_crds(client, toolchain_bin())
    install_backend(client, NAMESPACE, BACKEND["service"], int(BACKEND["port"]))
    document = local_config()
    document["namespace"] = NAMESPACE
    with deployed(root, cluster, document) as engine:
        yield Migrating(engine, cluster, root)


def test_on_ingress_nginx_nginx_serves_the_clients(migrating: Migrating) -> None:
    ingress, secrets, controller = read_served(
        migrating.cluster.client(), NAMESPACE, BACKEND["service"]
    )
    nginx = migrating.directory / "nginx"
    nginx.mkdir()
    with serving(ingress=ingress, secrets=secrets, controller_data=controller, directory=nginx) as (
        _site,
        port,
    ):
        assert migrating.matrix(port) == {"checkout": 200, "reporting": 200, "legacy-batch": 400}


def test_after_the_switch_envoy_serves_the_same_clients_and_a_later_revocation(
    migrating: Migrating,
) -> None:
    engine = migrating.engine
    engine.run("config", "set", "mtls-ingress:enforcer", "gateway-api")
    engine.run("config", "set", "--path", "mtls-ingress:gateway.className", "envoy-gateway")
    engine.run("config", "set", "--path", "mtls-ingress:gateway.implementation", "envoy-gateway")
    engine.run("up", "--yes", "--skip-preview")
    engine.run("preview", "--expect-no-changes")

    client = migrating.cluster.client()
    folder = migrating.directory / "envoy-gateway"
    objects = read_gateway(client, NAMESPACE, BACKEND["service"])
    with serving_gateway(objects, folder, toolchain_bin()) as gateway:
        port = gateway.port
        assert migrating.matrix(port) == {
            "checkout": 200,
            "reporting": 200,
            "legacy-batch": "refused",
        }
        engine.run("config", "set", "--path", "mtls-ingress:pki.clients[1].revoked", "true")
        engine.run("up", "--yes", "--skip-preview")
        gateway.refresh(read_gateway(client, NAMESPACE, BACKEND["service"]))
        deadline = time.monotonic() + REFRESH_TIMEOUT_SECONDS
        while migrating.get(port, "reporting") != "refused":
            assert time.monotonic() < deadline, "Envoy still accepts the client revoked later"
            time.sleep(1)
        assert migrating.get(port, "checkout") == 200
