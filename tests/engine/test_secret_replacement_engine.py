"""The components in a stack whose Kubernetes provider replaces Secrets on every data change
(no `enableSecretMutable`, the provider's default): the Ingress must never reference a Secret
that does not exist, not even for a moment of an update.

Events of the API server's watches are ordered by resourceVersion, which this single etcd
assigns from one increasing revision."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import yaml

from localkube.cluster import LocalCluster
from localkube.engine import Engine
from localkube.objects import install_backend
from support.mock_runtime import PROJECT_DIR
from tests.engine.conftest import deployed
from tests.engine.live import (
    assert_ingress_never_names_a_missing_secret,
    secret_names,
    up_watched,
)
from tests.engine.test_stack_engine import BACKEND

NAMESPACE = "payments-replacing"


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory, cluster: LocalCluster) -> Iterator[Engine]:
    manifest = yaml.safe_load((PROJECT_DIR / "Pulumi.yaml").read_text())
    del manifest["config"]["kubernetes:enableSecretMutable"]
    install_backend(cluster.client(), NAMESPACE, BACKEND["service"], BACKEND["port"])
    root = tmp_path_factory.mktemp("replacing")
    with deployed(root, cluster, manifest=manifest, up=False) as engine:
        engine.run("config", "set", "mtls-ingress:namespace", NAMESPACE)
        engine.run("up", "--yes", "--skip-preview")
        yield engine


def test_a_revocation_switches_the_ingress_to_a_new_secret_before_the_old_one_goes(
    stack: Engine, cluster: LocalCluster
) -> None:
    before = secret_names(stack)
    stack.run("config", "set", "--path", "mtls-ingress:pki.clients[0].revoked", "true")
    secrets, ingresses = up_watched(stack, cluster.client(), NAMESPACE)
    after = secret_names(stack)

    # Without enableSecretMutable the provider replaced the client CA Secret...
    assert after["clientCa"] != before["clientCa"]
    assert after["serverTls"] == before["serverTls"]
    assert (before["clientCa"], "DELETED") in {(n, t) for t, n, _, _ in secrets.objects}
    # ...and at no point did the Ingress name a Secret that was not there.
    referenced = assert_ingress_never_names_a_missing_secret(
        secrets, ingresses, {before["clientCa"], before["serverTls"]}
    )
    assert referenced == {after["clientCa"], after["serverTls"]}
