"""The GitOps mode of the README: with `kubernetes:renderYamlToDirectory`, `pulumi up` writes the
Kubernetes objects as YAML files instead of sending them to a cluster."""

from __future__ import annotations

from pathlib import Path

import pytest

from localkube.engine import Engine, new_engine, project_program
from tests.engine.live import rendered_objects


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> tuple[Engine, Path]:
    root = tmp_path_factory.mktemp("render")
    engine = new_engine(root, project_program(root), "dev")
    directory = root / "rendered"
    engine.run("config", "set", "kubernetes:renderYamlToDirectory", str(directory))
    engine.run("up", "--yes", "--skip-preview")
    return engine, directory


def test_up_renders_the_secrets_and_the_ingress(rendered: tuple[Engine, Path]) -> None:
    engine, directory = rendered
    objects = rendered_objects(directory)
    kinds = sorted(document["kind"] for document in objects)
    assert kinds.count("Secret") == 2
    assert "Ingress" in kinds
    names = engine.outputs()["secretNames"]
    secrets = {d["metadata"]["name"]: d for d in objects if d["kind"] == "Secret"}
    assert set(secrets) == set(names.values())
    assert secrets[names["serverTls"]]["type"] == "kubernetes.io/tls"
    (ingress,) = [d for d in objects if d["kind"] == "Ingress"]
    assert ingress["spec"]["tls"][0]["secretName"] == names["serverTls"]
    annotations = ingress["metadata"]["annotations"]
    assert annotations["nginx.ingress.kubernetes.io/auth-tls-secret"].endswith(names["clientCa"])


def test_a_second_preview_of_a_rendered_stack_is_clean(rendered: tuple[Engine, Path]) -> None:
    engine, _ = rendered
    engine.run("preview", "--expect-no-changes")
