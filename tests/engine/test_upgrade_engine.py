"""Upgrading a deployed stack across the change that made object names the same on every
attempt of a run (components.kubernetes.ownership): the `local` stack deployed by the program
of the last release whose Secrets had names drawn at random, then updated by this checkout.

The first `pulumi up` after the upgrade replaces each Secret with one under its derived name:
the new Secret exists before the Ingress names it, and the old one goes only after; the
dynamic providers pickled by the old program load from the old state; a second preview is
clean, and a revocation and `pulumi destroy` then work."""

from __future__ import annotations

import io
import shutil
import subprocess
import tarfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from localkube.cluster import LocalCluster
from localkube.engine import Engine, new_engine
from localkube.faults import LOCAL, assert_converged, ca_keys, local_program
from localkube.objects import install_backend
from support.mock_runtime import PROJECT_DIR
from tests.engine.live import (
    assert_ingress_never_names_a_missing_secret,
    changed_resources,
    secret_names,
    up_watched,
    watching_secrets,
)

# The last commit whose components let Pulumi draw the Kubernetes objects' names at random.
RANDOM_NAMES = "a49b24b"
NAMESPACE = "upgraded"
BACKEND = LOCAL["mtls-ingress:ingress"]["backend"]


def _checkout(commit: str, destination: Path) -> Path:
    """The program files of `commit` (components/ and __main__.py) in `destination`."""
    archive = subprocess.run(
        [
            "git",
            "-C",
            str(PROJECT_DIR),
            "archive",
            "--format=tar",
            commit,
            "components",
            "__main__.py",
        ],
        capture_output=True,
        check=True,
    ).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(destination, filter="data")
    return destination


@pytest.fixture(scope="module")
def deployed_before(
    tmp_path_factory: pytest.TempPathFactory, cluster: LocalCluster
) -> Iterator[tuple[Engine, dict[str, str]]]:
    root = tmp_path_factory.mktemp("upgrade")
    old = _checkout(RANDOM_NAMES, root / "old")
    install_backend(cluster.client(), NAMESPACE, BACKEND["service"], int(BACKEND["port"]))
    program = local_program(root, "upgraded", NAMESPACE)
    shutil.copy(old / "__main__.py", program / "__main__.py")
    # The old program, and the dynamic providers it pickles, come from the old checkout.
    engine = new_engine(
        root, program, "upgraded", KUBECONFIG=str(cluster.kubeconfig), PYTHONPATH=str(old)
    )
    engine.run("up", "--yes", "--skip-preview")
    names = secret_names(engine)
    # The upgrade: this checkout's program and components.
    shutil.copy(PROJECT_DIR / "__main__.py", program / "__main__.py")
    engine.environment["PYTHONPATH"] = str(PROJECT_DIR)
    yield engine, names
    engine.run("destroy", "--yes", "--skip-preview", check=False)


def test_the_upgrade_previews_a_replacement_of_each_secret_and_an_update_of_the_ingress(
    deployed_before: tuple[Engine, dict[str, str]],
) -> None:
    engine, _ = deployed_before
    changes = changed_resources(engine)
    assert ("replace", "mtls-ingress-server-tls-secret") in changes
    assert ("replace", "mtls-ingress-client-ca-bundle-secret") in changes
    assert ("update", "mtls-ingress-ingress-ingress") in changes
    # The PKI is untouched: no key, certificate or CRL changes.
    assert {name for _, name in changes} <= {
        "mtls-ingress-server-tls-secret",
        "mtls-ingress-client-ca-bundle-secret",
        "mtls-ingress-ingress-ingress",
    }, changes


def test_the_upgrade_switches_the_ingress_to_the_new_secrets_before_the_old_ones_go(
    deployed_before: tuple[Engine, dict[str, str]], cluster: LocalCluster
) -> None:
    engine, before = deployed_before
    client = cluster.client()
    keys = ca_keys(engine)
    secrets, ingresses = up_watched(engine, client, NAMESPACE)
    after = secret_names(engine)
    assert set(after.values()).isdisjoint(before.values())
    referenced = assert_ingress_never_names_a_missing_secret(
        secrets, ingresses, set(before.values())
    )
    assert referenced == set(after.values())
    assert_converged(engine, client, NAMESPACE)
    assert ca_keys(engine) == keys


def test_after_the_upgrade_a_revocation_rewrites_the_secret_in_place(
    deployed_before: tuple[Engine, dict[str, str]], cluster: LocalCluster
) -> None:
    engine, _ = deployed_before
    names = secret_names(engine)
    engine.run("config", "set", "--path", "mtls-ingress:pki.clients[1].revoked", "true")
    with watching_secrets(cluster.client(), NAMESPACE) as secrets:
        engine.run("up", "--yes", "--skip-preview")
    assert "DELETED" not in {event for event, *_ in secrets.objects}
    assert secret_names(engine) == names
    assert_converged(engine, cluster.client(), NAMESPACE)
    engine.run("destroy", "--yes", "--skip-preview")
    assert engine.outputs() == {}
