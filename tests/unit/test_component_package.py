"""The component package's preparation of Pulumi's Python component provider host
(components/provider.py), in process: the schema it derives and the inputs it hands the
components. tests/engine/test_yaml_consumer_engine.py runs the package under the real engine."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pulumi
import pytest
from pulumi.errors import InputPropertyError
from pulumi.provider.experimental.analyzer import PropertyDefinition, PropertyType
from pulumi.provider.experimental.component import ComponentProvider

from components.provider import COMPONENTS, PACKAGE, prepare


@pytest.fixture(scope="module")
def provider() -> ComponentProvider:
    prepare()
    prepare()  # a second call changes nothing
    return ComponentProvider(COMPONENTS, PACKAGE, version="0.1.0")


def _authority_inputs(provider: ComponentProvider, inputs: dict[str, Any]) -> dict[str, Any]:
    definition = provider._component_defs["CertificateAuthority"]
    mapped: dict[str, Any] = provider.map_input_properties(
        inputs, definition.inputs, definition.inputs_mapping, "CertificateAuthority", ""
    )
    return mapped


def test_integral_numbers_reach_the_components_as_int(provider: ComponentProvider) -> None:
    issuer = {"certificatePem": "c", "privateKeyPem": "k", "intermediatesPem": "", "depth": 2.0}
    mapped = _authority_inputs(
        provider, {"validityDays": 3650.0, "issuer": {**issuer, "trustBundlePem": "t"}}
    )
    assert mapped["validity_days"] == 3650 and type(mapped["validity_days"]) is int
    assert mapped["issuer"]["depth"] == 2 and type(mapped["issuer"]["depth"]) is int


def test_a_fraction_is_left_for_the_component_to_refuse(provider: ComponentProvider) -> None:
    assert _authority_inputs(provider, {"validityDays": 2.5})["validity_days"] == 2.5


def test_lists_and_maps_of_integers_are_converted(provider: ComponentProvider) -> None:
    integer = PropertyDefinition(type=PropertyType.INTEGER)
    properties = {
        "ports": PropertyDefinition(type=PropertyType.ARRAY, items=integer),
        "limits": PropertyDefinition(type=PropertyType.OBJECT, additional_properties=integer),
    }
    mapped = provider.map_input_properties(
        {"ports": [443.0, 8443.0], "limits": {"a": 1.0}},
        properties,
        {"ports": "ports", "limits": "limits"},
        "Example",
        "",
    )
    assert mapped == {"ports": [443, 8443], "limits": {"a": 1}}
    assert all(type(port) is int for port in mapped["ports"])


def test_an_output_where_a_plain_number_is_needed_is_refused(provider: ComponentProvider) -> None:
    async def map_an_output() -> None:  # outputs need a running event loop
        _authority_inputs(provider, {"validityDays": pulumi.Output.from_input(90.0)})

    with pytest.raises(InputPropertyError, match=r"validityDays must be a number known before"):
        asyncio.run(map_an_output())


def test_outputs_declared_on_a_base_class_are_described(provider: ComponentProvider) -> None:
    schema = json.loads(provider.schema)
    outputs = schema["resources"]["mtls:index:ClientCertificate"]["properties"]
    assert outputs["serialNumber"]["description"]
    assert all("\n    " not in output.get("description", "") for output in outputs.values())
