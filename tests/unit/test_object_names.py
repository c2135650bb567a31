"""The names of the objects the components create are the same on every attempt of a run, so
that a run killed after the API server created an object adopts it on the next attempt instead
of orphaning it (components.kubernetes.ownership); a Secret that the provider replaces gets a
new name, so that the replacement exists before the old one goes."""

from __future__ import annotations

from typing import Any

import pulumi
import pytest

from components.kubernetes import CaSecret
from components.kubernetes.ownership import OWNED
from support.mock_runtime import MockRuntime
from support.pki_material import make_authority
from support.stack_configs import dev_config
from tests.kubernetes_manifests import kubernetes_registrations, manifest, secrets_by_role

PATCHES = ("Patch",)


def _secret_names(config: dict[str, Any]) -> dict[str, str]:
    """The Secrets' names of one run of the program, in a runtime of its own."""
    mocks = MockRuntime()
    try:
        mocks.run_program(config)
        return {
            role: secret["metadata"]["name"]
            for role, secret in secrets_by_role(mocks.emulator).items()
        }
    finally:
        mocks.close()


def _revoked(config: dict[str, Any]) -> dict[str, Any]:
    config["pki"]["clients"][0]["revoked"] = True
    return config


def _ca_secret_name(bundle: str, crl: str | None, stack: str = "dev") -> str:
    mocks = MockRuntime()
    try:
        secret = mocks.run(
            lambda: CaSecret(
                "payments-client-ca",
                {"namespace": "payments", "ca_bundle_pem": bundle, "crl_pem": crl},
            ),
            stack=stack,
        )
        return mocks.resolve(secret.secret_name)
    finally:
        mocks.close()


@pytest.fixture(scope="module")
def bundle() -> str:
    return make_authority("Names Test CA").certificate_pem


def test_a_secret_has_the_same_name_on_every_attempt_with_the_same_contents(bundle: str) -> None:
    first = _ca_secret_name(bundle, None)
    assert first == _ca_secret_name(bundle, None)
    assert first.startswith("payments-client-ca-secret-")


def test_a_secret_replaced_for_new_contents_gets_a_new_name(bundle: str) -> None:
    other = make_authority("Another Names Test CA").certificate_pem
    assert _ca_secret_name(bundle, None) != _ca_secret_name(bundle + other, None)


def test_the_same_component_in_another_stack_names_its_secret_apart(bundle: str) -> None:
    assert _ca_secret_name(bundle, None, "dev") != _ca_secret_name(bundle, None, "prod")


def test_with_secrets_updated_in_place_the_names_survive_new_keys_and_a_revocation(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Each run issues new keys and certificates: only the stack and the components name them.
    monkeypatch.setenv("PULUMI_K8S_ENABLE_SECRET_MUTABLE", "true")
    assert _secret_names(dev_config()) == _secret_names(_revoked(dev_config()))


def test_without_in_place_updates_new_contents_rename_the_secrets() -> None:
    first, second = _secret_names(dev_config()), _secret_names(dev_config())
    assert first.keys() == second.keys()
    assert all(first[role] != second[role] for role in first)


def test_every_object_the_stack_owns_is_named_and_takes_ownership_of_its_fields(
    mocks: MockRuntime,
) -> None:
    mocks.run_program(dev_config())
    owned = [
        manifest(registration)
        for registration in kubernetes_registrations(mocks.emulator)
        if not registration.typ.endswith(PATCHES)
        and registration.typ != "pulumi:providers:kubernetes"
    ]
    assert owned
    for obj in owned:
        assert obj["metadata"]["name"], obj
        assert obj["metadata"]["annotations"].items() >= OWNED.items(), obj["metadata"]


def test_a_secret_name_of_your_choice_is_kept(bundle: str) -> None:
    mocks = MockRuntime()
    try:
        secret = mocks.run(
            lambda: CaSecret(
                "payments-client-ca",
                {
                    "namespace": "payments",
                    "ca_bundle_pem": bundle,
                    "updated_in_place": True,
                    "secret_name": "payments-client-ca",
                },
            )
        )
        assert mocks.resolve(secret.secret_name) == "payments-client-ca"
        assert mocks.resolve(secret.namespaced_name) == "payments/payments-client-ca"
    finally:
        mocks.close()


def test_a_secret_name_of_your_choice_needs_in_place_updates_and_a_kubernetes_name(
    bundle: str,
) -> None:
    mocks = MockRuntime()
    try:
        with pytest.raises(pulumi.RunError) as raised:
            mocks.run(
                lambda: CaSecret(
                    "payments-client-ca",
                    {"namespace": "payments", "ca_bundle_pem": bundle, "secret_name": "Bad_Name"},
                )
            )
    finally:
        mocks.close()
    message = str(raised.value)
    assert "secret_name: must be a lowercase RFC 1123 subdomain" in message
    assert "secret_name: needs updated_in_place: true" in message
