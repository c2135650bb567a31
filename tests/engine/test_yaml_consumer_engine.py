"""The components from another language: examples/yaml-consumer, a Pulumi YAML stack, takes the
component package (provider/) with `pulumi package add`, which creates the provider's
virtualenv, and is deployed by the real engine to the local API server; nginx, configured as
ingress-nginx would be from what it deployed, enforces client certificates."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from localkube.cluster import LocalCluster
from localkube.engine import Engine, new_engine
from localkube.objects import install_backend
from support.mock_runtime import PROJECT_DIR
from support.pki_material import issue_client, make_authority
from tests.conformance.site import serve
from tests.engine.conftest import python_in
from tests.engine.live import served

EXAMPLE = PROJECT_DIR / "examples" / "yaml-consumer"
MANIFEST = yaml.safe_load((EXAMPLE / "Pulumi.yaml").read_text())
NAMESPACE = MANIFEST["config"]["namespace"]["default"]
COMPONENTS = {
    "CertificateAuthority",
    "ServerCertificate",
    "ClientCertificate",
    "TlsSecret",
    "CaSecret",
    "ControllerConfig",
    "MtlsIngress",
    "MtlsGateway",
    "IstioMesh",
}


@pytest.fixture(scope="module")
def checkout(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """What a clone of the repository holds for this: the package, the provider, the example."""
    root = tmp_path_factory.mktemp("yaml") / "checkout"
    ignore = shutil.ignore_patterns("venv", "sdks", "__pycache__", "*.egg-info", "build")
    for folder in ("components", "provider", "examples/yaml-consumer"):
        shutil.copytree(PROJECT_DIR / folder, root / folder, ignore=ignore)
    for name in ("pyproject.toml", "README.md", "requirements.txt"):
        shutil.copy(PROJECT_DIR / name, root / name)
    return root


@pytest.fixture(scope="module")
def yaml_stack(checkout: Path, cluster: LocalCluster) -> Iterator[Engine]:
    """The example without its `packages:` section, which `pulumi package add` writes back."""
    program = checkout / "examples" / "yaml-consumer"
    manifest = program / "Pulumi.yaml"
    manifest.write_text(re.sub(r"\npackages:\n(  .*\n)+", "\n", manifest.read_text()))
    config = MANIFEST["config"]
    install_backend(
        cluster.client(), NAMESPACE, config["service"]["default"], config["port"]["default"]
    )
    engine = new_engine(checkout.parent, program, "demo", KUBECONFIG=str(cluster.kubeconfig))
    del engine.environment["PYTHONPATH"]  # the provider has only its own virtualenv
    engine.run("package", "add", "../../provider")
    yield engine
    engine.run("destroy", "--yes", "--skip-preview", check=False)


def test_package_add_creates_the_provider_and_records_it(yaml_stack: Engine) -> None:
    manifest = yaml.safe_load((yaml_stack.program / "Pulumi.yaml").read_text())
    assert manifest["packages"] == MANIFEST["packages"] == {"mtls": "../../provider"}
    venv = yaml_stack.program.parent.parent / "provider" / "venv"
    found = "import mtls_ingress.provider, importlib.util as u; print(u.find_spec('components'))"
    completed = python_in(venv, found, yaml_stack.environment)
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.strip() == "None"


def test_the_installed_library_loads_without_the_program_dependencies(
    yaml_stack: Engine,
) -> None:
    """The provider's virtualenv is a fresh install of the package: the components import
    without pydantic (which only the stack program uses), and the check command runs under
    its installed name."""
    venv = yaml_stack.program.parent.parent / "provider" / "venv"
    imports = (
        "import importlib.util, sys, mtls_ingress; from mtls_ingress import *; "
        "print(importlib.util.find_spec('pydantic'), 'pydantic' in sys.modules)"
    )
    completed = python_in(venv, imports, yaml_stack.environment)
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.split() == ["None", "False"]
    usage = subprocess.run(
        [str(venv / "bin" / "python"), "-m", "mtls_ingress.check", "--help"],
        capture_output=True,
        text=True,
        env=yaml_stack.environment,
    )
    assert usage.returncode == 0, usage.stderr
    assert usage.stdout.startswith("usage: python -m mtls_ingress.check")


@pytest.fixture(scope="module")
def schema(yaml_stack: Engine) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(
        yaml_stack.run("package", "get-schema", "../../provider").stdout
    )
    return document


def test_the_schema_names_every_component_with_typed_described_properties(
    schema: dict[str, Any],
) -> None:
    assert schema["name"] == "mtls" and schema["version"] == "0.1.0"
    assert set(schema["resources"]) == {f"mtls:index:{name}" for name in COMPONENTS}
    for token, resource in schema["resources"].items():
        assert resource["isComponent"] is True
        assert resource["description"] and "\n    " not in resource["description"], token
        for kind in ("inputProperties", "properties"):
            for name, prop in resource[kind].items():
                assert prop.get("type") or prop.get("$ref"), (token, name)
                # Described, and dedented, whether declared on the class or on a base class.
                assert prop.get("description"), (token, kind, name)
                assert "\n    " not in prop["description"], (token, kind, name)
    authority = schema["resources"]["mtls:index:CertificateAuthority"]
    assert "requiredInputs" not in authority  # a new CA, or an imported one
    assert authority["inputProperties"]["issuer"]["$ref"] == "#/types/mtls:index:Issuer"
    assert authority["properties"]["depth"]["type"] == "integer"
    client = schema["resources"]["mtls:index:ClientCertificate"]
    assert sorted(client["requiredInputs"]) == ["commonName", "issuer"]
    assert client["inputProperties"]["organizations"]["items"]["type"] == "string"
    ingress = schema["resources"]["mtls:index:MtlsIngress"]
    assert sorted(ingress["requiredInputs"]) == [
        "host",
        "ingressName",
        "namespace",
        "port",
        "service",
    ]
    assert ingress["inputProperties"]["port"]["type"] == "integer"
    issuer = schema["types"]["mtls:index:Issuer"]
    assert sorted(issuer["required"]) == [
        "certificatePem",
        "intermediatesPem",
        "privateKeyPem",
        "trustBundlePem",
    ]
    assert issuer["properties"]["depth"]["plain"] is True


def test_the_yaml_stack_previews_deploys_and_previews_clean(yaml_stack: Engine) -> None:
    preview = yaml_stack.run("preview")
    assert "mtls:index:MtlsIngress" in preview.stdout and "warning" not in preview.stdout
    yaml_stack.run("up", "--yes", "--skip-preview")
    assert yaml_stack.outputs()["aliceKey"] == "[secret]"
    assert "PRIVATE KEY" not in yaml_stack.run("stack", "export").stdout
    yaml_stack.run("preview", "--expect-no-changes")


def test_the_ingress_it_deployed_enforces_client_certificates(
    yaml_stack: Engine, cluster: LocalCluster
) -> None:
    outputs = yaml_stack.outputs(show_secrets=True)
    declared = served(
        cluster.client(),
        NAMESPACE,
        "demo",
        {
            "serverCaCertificate": outputs["trustBundle"],
            "clientCertificates": {"alice": {"chain": outputs["aliceChain"]}},
            "clientPrivateKeys": {"alice": outputs["aliceKey"]},
        },
    )
    stranger = make_authority("Somebody Else's CA")
    with serve(declared) as site:
        assert site.get(None).status == 400
        assert site.get(declared.client("alice")).status == 200
        assert site.get(issue_client(stranger.certificate, stranger.key, "alice")).status == 400


def test_another_resources_output_where_a_number_must_be_known_is_refused(
    yaml_stack: Engine,
) -> None:
    manifest = yaml_stack.program / "Pulumi.yaml"
    committed = manifest.read_text()
    manifest.write_text(committed.replace("depth: 1", "depth: ${root.depth}"))
    try:
        preview = yaml_stack.run("preview", check=False)
    finally:
        manifest.write_text(committed)
    assert preview.returncode != 0
    assert (
        "issuer.depth must be a number known before the deployment (a literal or plain stack "
        "config), not another resource's output or a secret"
    ) in preview.stdout + preview.stderr
