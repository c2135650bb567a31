"""The examples users copy follow the rules they sit next to: the verify depth is derived from
the client chain (verify_depth_for), never typed by hand."""

from __future__ import annotations

import re
import sys
from typing import Any

import pytest
import yaml

import components
from components import verify_depth_for
from support.mock_runtime import PROJECT_DIR, MockRuntime
from tests.kubernetes_manifests import the_ingress

YAML_CONSUMER = PROJECT_DIR / "examples" / "yaml-consumer" / "Pulumi.yaml"


def _depth(resources: dict[str, Any], name: str) -> int:
    """The depth of a CertificateAuthority of a Pulumi YAML program: 1 for a root."""
    issuer = resources[name]["properties"].get("issuer")
    if issuer is None:
        return 1
    (parent,) = set(re.findall(r"\$\{(\w+)\.", str(issuer)))
    assert issuer["depth"] == _depth(resources, parent), "issuer.depth is the issuer's depth"
    return _depth(resources, parent) + 1


def test_the_yaml_example_derives_the_verify_depth_from_the_client_ca() -> None:
    resources = yaml.safe_load(YAML_CONSUMER.read_text())["resources"]
    client_auth = resources["ingress"]["properties"]["clientAuth"]
    (ca_secret,) = re.findall(r"\$\{(\w+)\.", client_auth["secret"])
    (client_ca,) = re.findall(r"\$\{(\w+)\.", resources[ca_secret]["properties"]["caBundlePem"])
    assert client_auth["verifyDepth"] == verify_depth_for(_depth(resources, client_ca))


def _readme_component_example() -> str:
    readme = (PROJECT_DIR / "README.md").read_text()
    (block,) = [
        block
        for block in re.findall(r"```python\n(.*?)```", readme, re.DOTALL)
        if "from mtls_ingress import" in block and "MtlsIngress(" in block
    ]
    return block


def test_the_readme_component_example_runs_and_derives_the_verify_depth(
    mocks: MockRuntime, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Installed, the components are the package mtls_ingress; in the checkout, `components`.
    monkeypatch.setitem(sys.modules, "mtls_ingress", components)
    code = compile(_readme_component_example(), "README.md", "exec")
    mocks.run(lambda: exec(code, {}))
    annotations = the_ingress(mocks.emulator)["metadata"]["annotations"]
    # A root and one issuing CA above the clients: one intermediate to verify.
    assert annotations["nginx.ingress.kubernetes.io/auth-tls-verify-depth"] == "1"
