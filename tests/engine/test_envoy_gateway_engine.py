"""`enforcer: gateway-api` enforced for real: the committed `local` stack, switched to Gateway API
with Envoy Gateway as the implementation, deployed by the real engine to the local API server
(with the Gateway API and Envoy Gateway CRDs of the release the toolchain builds); the Gateway,
its HTTPRoute, the ClientTrafficPolicy, the Secrets and the ConfigMap read back from the API
server and served by Envoy Gateway's own controller and a real Envoy (localkube.envoy_gateway);
every answer below is Envoy's. Twice: with the CAs signing directly, and with an intermediate
under each.

The tests run in order on one stack, as an operator's runs would."""

from __future__ import annotations

import base64
import json
import ssl
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization

from components.check import request
from localkube.cluster import LocalCluster
from localkube.engine import Engine, exported_state, toolchain_bin
from localkube.envoy_gateway import (
    ServedGateway,
    install_envoy_gateway_crds,
    read_gateway,
    serving_gateway,
)
from localkube.faults import LOCAL, local_config
from localkube.objects import install_backend
from localkube.state import key_pair
from support.pki_material import issue_client, load_authority, make_authority
from tests.engine.conftest import deployed

NAMESPACE = "envoy-gateway"
HOST = LOCAL["mtls-ingress:host"]
BACKEND = LOCAL["mtls-ingress:ingress"]["backend"]
URL = f"https://{HOST}/"
REFRESH_TIMEOUT_SECONDS = 60
# What Envoy answers with `verifyClient: optional` (AllowInsecureFallback, and the
# ClientTrafficPolicy's `optional: true`), per client certificate presented.
OPTIONAL_ANSWERS: dict[str, int | str] = {"foreign": "refused", "revoked": "refused", "valid": 200}


@dataclass
class Served:
    engine: Engine
    cluster: LocalCluster
    namespace: str
    directory: Path
    gateway: ServedGateway

    @property
    def port(self) -> int:
        return self.gateway.port

    def files(self, name: str, certificate: str, key: str) -> tuple[Path, Path]:
        certificate_file = self.directory / f"{name}.crt"
        key_file = self.directory / f"{name}.key"
        certificate_file.write_text(certificate)
        key_file.write_text(key)
        return certificate_file, key_file

    def client(self, name: str) -> tuple[Path, Path]:
        """A client's certificate chain and key, from the state (revoked ones too)."""
        certificate, key = key_pair(exported_state(self.engine), f"mtls-ingress-client-{name}")
        return self.files(name, certificate, key)

    def get(self, client: tuple[Path, Path] | None) -> int | str:
        """Envoy's answer to a request: the HTTP status, or "refused" at the handshake."""
        certificate, key = client or (None, None)
        try:
            return request(
                URL,
                ca_file=self.server_ca,
                certificate_file=certificate,
                key_file=key,
                connect_to=("127.0.0.1", self.port),
            ).status
        except ssl.SSLError as error:
            assert not isinstance(error, ssl.SSLCertVerificationError), error
            return "refused"

    @property
    def server_ca(self) -> Path:
        path = self.directory / "server-ca.crt"
        path.write_text(self.engine.outputs()["serverCaCertificate"])
        return path


def local_document(namespace: str, implementation: str = "envoy-gateway") -> dict[str, Any]:
    """The committed local stack's config, switched to Gateway API, in `namespace`."""
    document = local_config()
    return document | {
        "namespace": namespace,
        "enforcer": "gateway-api",
        "gateway": {"className": "envoy-gateway", "implementation": implementation},
    }


@contextmanager
def served_on_envoy(
    root: Path, cluster: LocalCluster, namespace: str, document: dict[str, Any]
) -> Iterator[Served]:
    """The program with `document` deployed to the local API server by the real engine, and
    served by Envoy Gateway and Envoy until the block exits."""
    client = cluster.client()
    install_envoy_gateway_crds(client, toolchain_bin())
    install_backend(client, namespace, BACKEND["service"], int(BACKEND["port"]))
    with deployed(root, cluster, document) as engine:
        objects = read_gateway(client, namespace, BACKEND["service"])
        with serving_gateway(objects, root / "envoy-gateway", toolchain_bin()) as gateway:
            yield Served(engine, cluster, namespace, root, gateway)


@pytest.fixture(scope="module", params=["roots", "intermediates"])
def served(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    cluster: LocalCluster,
) -> Iterator[Served]:
    """The local stack on Envoy; with `intermediates`, each CA signs through an intermediate,
    so that clients present two-level chains and the CRL bundle holds a list per CA."""
    namespace = f"{NAMESPACE}-{request.param}"
    document = local_document(namespace)
    if request.param == "intermediates":
        pki = document["pki"]
        pki["serverCa"]["intermediate"] = {"commonName": "Local Payments Server Issuing CA"}
        pki["clientCa"]["intermediate"] = {"commonName": "Local Payments Client Issuing CA"}
    root = tmp_path_factory.mktemp(f"envoy-gateway-{request.param}")
    with served_on_envoy(root, cluster, namespace, document) as served:
        yield served


def test_a_request_without_a_client_certificate_is_refused(served: Served) -> None:
    assert served.get(None) == "refused"


@pytest.mark.parametrize("name", ["checkout", "reporting"])
def test_each_valid_client_reaches_the_backend(served: Served, name: str) -> None:
    assert served.get(served.client(name)) == 200


def test_the_revoked_client_is_refused_through_the_crl_of_the_client_traffic_policy(
    served: Served,
) -> None:
    assert served.get(served.client("legacy-batch")) == "refused"


def test_a_client_of_a_foreign_ca_is_refused(served: Served) -> None:
    foreign = make_authority("Foreign Clients CA")
    certificate, key = issue_client(foreign.certificate, foreign.key, "checkout")
    assert served.get(served.files("foreign", certificate, key)) == "refused"


def test_the_backend_receives_the_client_certificate(served: Served) -> None:
    # passCertificateToUpstream: Envoy sets x-forwarded-client-cert with the certificate.
    certificate, key = served.client("checkout")
    response = request(
        URL,
        ca_file=served.server_ca,
        certificate_file=certificate,
        key_file=key,
        connect_to=("127.0.0.1", served.port),
    )
    headers = json.loads(response.body)
    forwarded = headers["x-forwarded-client-cert"]
    assert "Cert=" in forwarded
    serial = served.engine.outputs()["clientCertificates"]["checkout"]["serialNumber"]
    assert f"{int(serial):x}" in _forwarded_serial_hex(forwarded)


def _forwarded_serial_hex(forwarded: str) -> str:
    """The serial of the certificate in an x-forwarded-client-cert header (URL-encoded PEM)."""
    pem = unquote(forwarded.split("Cert=", 1)[1].split(";", 1)[0].strip('"'))
    return f"{x509.load_pem_x509_certificate(pem.encode()).serial_number:x}"


def test_a_revocation_deployed_later_is_enforced_by_envoy(served: Served) -> None:
    served.engine.run("config", "set", "--path", "mtls-ingress:pki.clients[1].revoked", "true")
    served.engine.run("up", "--yes", "--skip-preview")
    served.gateway.refresh(
        read_gateway(served.cluster.client(), served.namespace, BACKEND["service"])
    )
    reporting = served.client("reporting")
    deadline = time.monotonic() + REFRESH_TIMEOUT_SECONDS
    while served.get(reporting) != "refused":
        assert time.monotonic() < deadline, "Envoy still accepts the revoked client"
        time.sleep(1)
    assert served.get(served.client("checkout")) == 200


def _served_with(served: Served, change: Callable[[dict[str, Any]], None]) -> None:
    """Gives Envoy Gateway the deployed objects, each changed by `change`."""
    objects = read_gateway(served.cluster.client(), served.namespace, BACKEND["service"])
    for obj in objects:
        change(obj)
    served.gateway.refresh(objects)


def _until(served: Served, client: tuple[Path, Path] | None, answer: int | str) -> None:
    deadline = time.monotonic() + REFRESH_TIMEOUT_SECONDS
    while (got := served.get(client)) != answer:
        assert time.monotonic() < deadline, f"Envoy still answers {got}, not {answer}"
        time.sleep(1)


def test_with_an_expired_crl_no_request_reaches_the_backend(served: Served) -> None:
    # Envoy Gateway refuses the ClientTrafficPolicy ("CRL is expired") and answers every
    # route with 500: valid and revoked clients alike get no further than Envoy.
    exported = exported_state(served.engine)
    ca_certificate, ca_key = key_pair(exported, "mtls-ingress-client-ca")
    issuer = load_authority(ca_certificate, ca_key)
    now = datetime.now(UTC)
    expired = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(issuer.certificate.subject)
        .last_update(now - timedelta(days=31))
        .next_update(now - timedelta(days=1))
        .add_extension(x509.CRLNumber(1), critical=False)
        .sign(issuer.key, hashes.SHA256())
        .public_bytes(serialization.Encoding.PEM)
    )

    def with_expired_crl(obj: dict[str, Any]) -> None:
        if obj["kind"] == "Secret" and "ca.crl" in obj.get("data", {}):
            obj["data"]["ca.crl"] = base64.b64encode(expired).decode()

    checkout = served.client("checkout")
    _served_with(served, with_expired_crl)
    _until(served, checkout, 500)
    assert served.get(served.client("legacy-batch")) == 500
    assert served.get(None) == "refused"
    _served_with(served, lambda _obj: None)
    _until(served, checkout, 200)


def test_with_verify_client_optional_envoy_lets_no_certificate_through_and_refuses_bad_ones(
    served: Served,
) -> None:
    served.engine.run("config", "set", "--path", "mtls-ingress:ingress.verifyClient", "optional")
    served.engine.run("up", "--yes", "--skip-preview")
    _served_with(served, lambda _obj: None)
    _until(served, None, 200)
    foreign = make_authority("Another Foreign Clients CA")
    certificate, key = issue_client(foreign.certificate, foreign.key, "checkout")
    observed = {
        "foreign": served.get(served.files("foreign-optional", certificate, key)),
        "revoked": served.get(served.client("legacy-batch")),
        "valid": served.get(served.client("checkout")),
    }
    assert observed == OPTIONAL_ANSWERS
