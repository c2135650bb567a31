"""Python policy packs under the real engine: `pulumi preview --policy-pack` starts the pack
through the language host's RunPlugin (toolchain/language-host), in a virtualenv of its own,
and the policies see the stack's resources and decide the preview's outcome."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from localkube.engine import Engine, new_engine, project_program
from support.stack_configs import minimal_config
from tests.engine.conftest import policy_pack

PACK = Path(__file__).with_name("key_report_pack")


@pytest.fixture(scope="module")
def pack(tmp_path_factory: pytest.TempPathFactory, policy_virtualenv: Path) -> Path:
    return policy_pack(PACK, tmp_path_factory.mktemp("policy") / "pack", policy_virtualenv)


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Engine:
    root = tmp_path_factory.mktemp("policed")
    config = minimal_config()
    config["pki"]["keyAlgorithm"] = "RSA_2048"
    program = project_program(
        root,
        config,
        stack="policed",
        provider_config={"kubernetes:renderYamlToDirectory": str(root / "rendered")},
    )
    return new_engine(root, program, "policed")


def test_a_python_policy_pack_sees_every_key_of_a_new_stack(engine: Engine, pack: Path) -> None:
    preview = engine.run("preview", "--policy-pack", str(pack))
    reported = set(re.findall(r"key (\S+): (\w+ [\w ]+?)\n", preview.stdout))
    assert reported == {
        ("mtls-ingress-server-ca-key", "RSA 2048 bits"),
        ("mtls-ingress-server-key", "RSA 2048 bits"),
        ("mtls-ingress-client-alice-key", "RSA 2048 bits"),
    }, preview.stdout


def test_a_mandatory_policy_stops_the_update(engine: Engine, pack: Path, tmp_path: Path) -> None:
    levels = tmp_path / "levels.json"
    levels.write_text(json.dumps({"key-algorithms": "mandatory"}))
    arguments = ["--policy-pack", str(pack), "--policy-pack-config", str(levels)]
    failed = engine.run("up", "--yes", "--skip-preview", *arguments, check=False)
    assert failed.returncode != 0
    assert "[mandatory]  key-algorithms" in failed.stdout
    assert "key mtls-ingress-server-ca-key: RSA 2048 bits" in failed.stdout
    assert "tls:index/privateKey:PrivateKey" not in engine.run("stack", "export").stdout
