"""Client shards: the settings of a shard stack and of the stack that holds their CA, and what
that stack exports for them (the shards themselves run under the real engine, in
tests/engine/test_client_shards_engine.py: a StackReference needs a backend)."""

from __future__ import annotations

from typing import Any

import pulumi
import pytest
from cryptography.hazmat.primitives import serialization

from components.program.settings import parse_settings, parse_shard_settings
from support.mock_runtime import MockRuntime
from support.stack_configs import minimal_config


def _problems(parse: Any, config: dict[str, Any]) -> list[str]:
    with pytest.raises(pulumi.RunError) as raised:
        parse(config)
    return str(raised.value).splitlines()[1:]


def _shard(**pki: Any) -> dict[str, Any]:
    return {"issuerStack": "organization/mtls-ingress/prod", "pki": {"clients": [], **pki}}


def test_a_shard_takes_its_clients_and_the_stack_that_signs_them() -> None:
    settings = parse_shard_settings(_shard(clients=[{"name": "carol"}, {"name": "dave"}]))
    assert settings.issuer_stack == "organization/mtls-ingress/prod"
    assert [client.name for client in settings.pki.clients] == ["carol", "dave"]
    assert settings.up_interval_days == 1


@pytest.mark.parametrize("name", ["prod", "mtls-ingress/prod", "acme/mtls-ingress/prod.eu-1"])
def test_issuer_stack_takes_every_form_of_stack_name(name: str) -> None:
    assert parse_shard_settings(_shard() | {"issuerStack": name}).issuer_stack == name


def test_a_shard_names_every_key_it_does_not_hold_in_one_message() -> None:
    config = _shard(clients=[{"name": "carol"}, {"name": "carol"}], crl={"validityDays": 7})
    config |= {"issuerStack": "a/b/c/d", "host": "app.example.com"}
    assert _problems(parse_shard_settings, config) == [
        "  - host: unknown key; the keys allowed here are issuerStack, pki, upIntervalDays",
        "  - issuerStack: must be a stack name, [organization/][project/]stack, such as "
        'organization/mtls-ingress/prod; got "a/b/c/d"',
        "  - pki.crl: unknown key; the keys allowed here are keyAlgorithm, clients, clientBundles",
        '  - pki.clients[1].name: repeats "carol"; client names must be unique',
    ]


def test_a_shard_without_the_stack_that_signs_it_is_refused() -> None:
    assert _problems(parse_shard_settings, {"pki": {"clients": []}}) == [
        "  - issuerStack: is required"
    ]


def test_a_shard_warns_of_a_renewal_window_that_one_missed_run_lets_pass() -> None:
    settings = parse_shard_settings(
        _shard(clients=[{"name": "carol", "validityDays": 2, "renewBeforeDays": 1}])
    )
    (warning,) = settings.schedule_warnings()
    assert warning.startswith("pki.clients[0].renewBeforeDays: a window of 1 day(s)")


def test_client_shards_need_a_client_ca_of_their_own() -> None:
    config = minimal_config()
    config["pki"]["clientShards"] = ["fleet-a"]
    problems = _problems(parse_settings, config)
    assert problems == [
        "  - pki.clientShards: needs pki.clientCa: client shards sign with it, never with the "
        "server CA"
    ]


def test_client_shards_are_named_once_and_stop_a_rotation_of_their_ca() -> None:
    config = minimal_config()
    config["pki"]["clientCa"] = {
        "commonName": "Clients CA",
        "rotation": {"phase": "introduce", "next": {"commonName": "Clients CA 2"}},
    }
    config["pki"]["clientShards"] = ["fleet-a", "fleet-a"]
    assert '  - pki.clientShards[1]: repeats "fleet-a"' in _problems(parse_settings, config)
    config["pki"]["clientShards"] = ["fleet-a"]
    assert _problems(parse_settings, config) == [
        "  - pki.clientCa.rotation: cannot be rotated while pki.clientShards is set: the shards "
        "sign with the CA this stack exports"
    ]


def test_the_ca_stack_exports_its_issuer_with_the_key_a_secret() -> None:
    config = minimal_config()
    config["pki"]["clientCa"] = {"commonName": "Clients CA"}
    config["pki"]["clientShards"] = []
    runtime = MockRuntime()
    try:
        exports = runtime.run_program(config)
        issuer = runtime.resolve(exports["clientIssuer"])
        assert runtime.is_secret(exports["clientIssuer"])
        stack = runtime.program_globals["stack"]
        assert issuer["certificate"] == runtime.resolve(stack.client_ca.certificate_pem)
        assert issuer["trustBundle"] == runtime.resolve(stack.client_ca.trust_bundle_pem)
        serialization.load_pem_private_key(issuer["privateKey"].encode(), password=None)
        without = minimal_config()
        without["pki"]["clientCa"] = {"commonName": "Clients CA"}
        assert "clientIssuer" not in runtime.run_program(without)
    finally:
        runtime.close()


def test_client_bundles_can_be_turned_off_for_large_fleets() -> None:
    config = minimal_config()
    config["pki"]["clientBundles"] = False
    runtime = MockRuntime()
    try:
        exports = runtime.run_program(config)
        assert "clientBundles" not in exports
        assert set(runtime.resolve(exports["clientCertificates"])) == {"alice"}
        assert runtime.emulator.of_type("pulumi-python:dynamic/mtls:ClientBundle") == []
        config["pki"]["clientBundles"] = True
        exports = runtime.run_program(config)
        assert set(runtime.resolve(exports["clientBundles"])) == {"alice"}
    finally:
        runtime.close()
