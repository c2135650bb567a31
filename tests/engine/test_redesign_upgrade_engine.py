"""Upgrading a deployed stack across the split of the package into the components
(components/pki, components/kubernetes, components/core) and the stack program
(components/program): the `dev` stack deployed by the program of the commit before the split,
then previewed, revoked and destroyed by this checkout.

Nothing the engine recorded depends on where a module lives except the dynamic providers, which
the state holds pickled with their module paths: they load from the old state, the preview
shows no changes, and a revocation and `pulumi destroy` then work."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator

import pytest

from components.core import pem
from localkube.cluster import LocalCluster
from localkube.engine import Engine
from localkube.objects import install_backend
from support.mock_runtime import PROJECT_DIR
from support.stack_configs import dev_config
from tests.engine.conftest import deployed
from tests.engine.test_upgrade_engine import _checkout as program_files

# The last commit with the components and the stack program in one package.
BEFORE_THE_SPLIT = "dd0cf10"
NAMESPACE = "split"


@pytest.fixture(scope="module")
def deployed_before(
    tmp_path_factory: pytest.TempPathFactory, cluster: LocalCluster
) -> Iterator[Engine]:
    root = tmp_path_factory.mktemp("split")
    old = program_files(BEFORE_THE_SPLIT, root / "old")
    document = dev_config() | {"namespace": NAMESPACE}
    backend = document["ingress"]["backend"]
    install_backend(cluster.client(), NAMESPACE, backend["service"], int(backend["port"]))
    # The old program, and the dynamic providers it pickles, come from the old checkout.
    with deployed(root, cluster, document, up=False, PYTHONPATH=str(old)) as engine:
        shutil.copy(old / "__main__.py", engine.program / "__main__.py")
        engine.run("up", "--yes", "--skip-preview")
        # The upgrade: this checkout's program and components.
        shutil.copy(PROJECT_DIR / "__main__.py", engine.program / "__main__.py")
        engine.environment["PYTHONPATH"] = str(PROJECT_DIR)
        yield engine


def test_after_the_split_the_deployed_stack_previews_no_changes(deployed_before: Engine) -> None:
    deployed_before.run("preview", "--expect-no-changes")


def test_after_the_split_a_revocation_and_a_destroy_succeed(deployed_before: Engine) -> None:
    engine = deployed_before
    serial = engine.outputs()["clientCertificates"]["checkout"]["serialNumber"]
    engine.run("config", "set", "--path", "mtls-ingress:pki.clients[0].revoked", "true")
    engine.run("up", "--yes", "--skip-preview")
    revoked = engine.outputs()["revokedClientSerials"]
    assert revoked["checkout"] == serial
    listed = {
        entry.serial_number for crl in pem.crls(engine.outputs()["clientCrl"]) for entry in crl
    }
    assert int(serial) in listed
    engine.run("preview", "--expect-no-changes")
    engine.run("destroy", "--yes", "--skip-preview")
    assert engine.outputs() == {}
    assert json.loads(engine.run("stack", "export").stdout)["deployment"].get("resources", []) == []
