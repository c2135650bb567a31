"""The provider plugins that toolchain/build.sh builds serve what the pinned Python SDKs send.

The tls plugin is assembled here from terraform-provider-tls and the Terraform bridge (the
published pulumi-tls provider module is not served); its generated schema must describe the
resources, functions and properties of the pulumi-tls SDK in requirements.txt, or the SDK
would send inputs the plugin does not know."""

from __future__ import annotations

import inspect
import json
import re
import subprocess
from typing import Any

import grpc
import pulumi_tls
import pytest
from google.protobuf import empty_pb2
from pulumi.runtime.proto import provider_pb2_grpc

from localkube.engine import toolchain_bin
from support.mock_runtime import PROJECT_DIR


def _pin(package: str) -> str:
    for line in (PROJECT_DIR / "requirements.txt").read_text().splitlines():
        if line.startswith(f"{package}=="):
            return line.split("==", 1)[1].strip()
    raise AssertionError(f"{package} is not pinned")


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)([A-Z])", r"_\1", name).lower()


@pytest.fixture(scope="module")
def tls_schema() -> dict[str, Any]:
    schema: dict[str, Any] = json.loads(
        (toolchain_bin().parent / "plugins" / "tls-schema.json").read_text()
    )
    return schema


def test_tls_schema_is_of_the_pinned_version(tls_schema: dict[str, Any]) -> None:
    assert tls_schema["name"] == "tls"
    assert tls_schema["version"] == _pin("pulumi-tls")


def test_tls_schema_has_every_resource_of_the_sdk_with_its_properties(
    tls_schema: dict[str, Any],
) -> None:
    resources = tls_schema["resources"]
    assert set(resources) == {
        "tls:index/certRequest:CertRequest",
        "tls:index/locallySignedCert:LocallySignedCert",
        "tls:index/privateKey:PrivateKey",
        "tls:index/selfSignedCert:SelfSignedCert",
    }
    for token, spec in resources.items():
        sdk_class = getattr(pulumi_tls, token.rsplit(":", 1)[1])
        parameters = set(inspect.signature(sdk_class._internal_init).parameters)
        sdk_inputs = parameters - {"__self__", "resource_name", "opts", "__props__"}
        assert {_snake(name) for name in spec.get("inputProperties", {})} == sdk_inputs, token
        sdk_outputs = {
            name for name, value in vars(sdk_class).items() if isinstance(value, property)
        }
        assert {_snake(name) for name in spec["properties"]} == sdk_outputs, token


def test_tls_schema_has_the_functions_of_the_sdk(tls_schema: dict[str, Any]) -> None:
    functions = {
        _snake(token.rsplit(":", 1)[1])
        for token in tls_schema["functions"]
        if token.startswith("tls:index/")
    }
    assert functions == {"get_certificate", "get_public_key"}
    for function in functions:
        assert callable(getattr(pulumi_tls, function))


@pytest.mark.parametrize(
    ("plugin", "package"),
    [("pulumi-resource-tls", "pulumi-tls"), ("pulumi-resource-kubernetes", "pulumi-kubernetes")],
)
def test_plugin_reports_the_version_of_its_sdk(plugin: str, package: str) -> None:
    """The version the engine compares with the SDK's (GetPluginInfo): a mismatch makes it
    warn on every run, or look for another plugin."""
    # The first argument is the engine's address; GetPluginInfo never calls it.
    process = subprocess.Popen(
        [str(toolchain_bin().parent / "plugins" / plugin), "127.0.0.1:1"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert process.stdout is not None
        port = int(process.stdout.readline())
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            stub = provider_pb2_grpc.ResourceProviderStub(channel)
            info = stub.GetPluginInfo(empty_pb2.Empty(), timeout=30)
        assert info.version == _pin(package)
    finally:
        process.kill()
        process.wait(timeout=10)
