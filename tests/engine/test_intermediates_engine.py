"""Intermediate CAs from the stack config under the real engine: the dev stack with an
intermediate below each root, deployed to the local API server and served by nginx."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from localkube.cluster import LocalCluster
from localkube.engine import Engine
from localkube.objects import install_backend
from tests.conformance.site import serve
from tests.conformance.test_intermediate_conformance import layered_config
from tests.engine.conftest import deployed
from tests.engine.live import changed_resources, live_declared
from tests.engine.test_stack_engine import BACKEND, INGRESS

NAMESPACE = "payments-layered"


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory, cluster: LocalCluster) -> Iterator[Engine]:
    install_backend(cluster.client(), NAMESPACE, BACKEND["service"], BACKEND["port"])
    document = layered_config() | {"namespace": NAMESPACE}
    with deployed(tmp_path_factory.mktemp("layered"), cluster, document, preview=True) as engine:
        yield engine


def test_a_second_preview_shows_no_changes(stack: Engine) -> None:
    stack.run("preview", "--expect-no-changes")


def test_the_deployed_two_level_chains_enforce_mtls_on_nginx(
    stack: Engine, cluster: LocalCluster
) -> None:
    declared = live_declared(cluster.client(), stack, NAMESPACE, INGRESS)
    with serve(declared) as site:
        assert site.get(None).status == 400
        for client in declared.outputs["clientCertificates"]:
            assert site.get(declared.client(client)).status == 200, client
        assert site.get(declared.revoked_clients["legacy-batch"]).status == 400


def test_a_revocation_updates_the_intermediates_crl_and_the_secret(stack: Engine) -> None:
    stack.run("config", "set", "--path", "mtls-ingress:pki.clients[0].revoked", "true")
    assert changed_resources(stack) == [
        ("delete", "mtls-ingress-client-checkout-pkcs12"),
        ("update", "mtls-ingress-client-ca-bundle-secret"),
        ("update", "mtls-ingress-client-ca-revocations-crl"),
    ]
