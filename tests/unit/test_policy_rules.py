"""The policy pack's checks (policy/mtls_policy) on passing and failing resources, as the
pulumi-policy SDK hands them over: inputs for resource policies, every resource's outputs for
stack policies, secrets marked and unknowns in place. tests/engine/test_policy_pack_engine.py
runs the same checks inside the pack under the real engine."""

from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from hypothesis import given
from hypothesis import strategies as st
from mtls_policy import rules
from mtls_policy.values import (
    SECRET_SIGNATURE,
    SIGNATURE_KEY,
    UNKNOWN,
    SecretText,
    UnknownValueError,
    known,
    mark,
)

from components.core.pem import holds_private_key
from components.pki.crl import build_crl
from support.pki_material import Authority, make_authority, signed_certificate

NOW = datetime(2026, 11, 27, tzinfo=UTC)
AUTHORITY = make_authority("Payments Client Root CA")
OTHER = make_authority("Payments Client Issuing CA")
KEY_PEM = AUTHORITY.private_key_pem
UNKNOWN_STRING = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def crl_of(
    authority: Any,
    *,
    next_update: datetime = NOW + timedelta(days=7),
    this_update: datetime | None = None,
) -> str:
    return build_crl(
        issuer_certificate_pem=authority.certificate_pem,
        issuer_private_key_pem=authority.private_key_pem,
        entries={},
        crl_number=1,
        this_update=this_update or next_update - timedelta(days=14),
        next_update=next_update,
    )


def resource(resource_type: str, props: Mapping[str, Any], **provider: Any) -> rules.Resource:
    return rules.Resource(resource_type, "subject", props, provider)


@dataclass
class StackMember:
    resource_type: str
    props: Mapping[str, Any]
    name: str = "member"
    urn: str = "urn:pulumi:test::project::type::member"
    property_dependencies: dict[str, Sequence[Any]] = field(default_factory=dict)


# values: what the SDK hands the checks


def test_secret_strings_keep_their_secrecy_at_any_depth() -> None:
    wire = {
        "plain": "text",
        "sealed": {SIGNATURE_KEY: SECRET_SIGNATURE, "value": {"key": ["a", {"b": "c"}], "n": 2}},
    }
    marked = mark(wire)
    inner = marked["sealed"]["value"]
    assert type(marked["plain"]) is str
    assert all(isinstance(text, SecretText) for text in (inner["key"][0], inner["key"][1]["b"]))
    assert inner["n"] == 2 and marked["sealed"][SIGNATURE_KEY] == SECRET_SIGNATURE


def test_unknowns_become_unknown_and_a_check_that_needs_one_says_where() -> None:
    props = mark({"metadata": {"annotations": UNKNOWN_STRING}, "spec": UNKNOWN_STRING})
    assert props["spec"] is UNKNOWN
    assert known(props, "missing", "deeper") is None
    with pytest.raises(UnknownValueError) as raised:
        known(props, "metadata", "annotations", "x")
    assert raised.value.path == ["metadata", "annotations"]


# material: what counts as a private key


@pytest.mark.parametrize(
    "text",
    [
        KEY_PEM,
        f"prefix {KEY_PEM} suffix",
        b64(KEY_PEM),
        f"users:\n- user:\n    client-key-data: {b64(KEY_PEM)}\n",
        b64("\n" + KEY_PEM),
        b64("Bag Attributes\n    localKeyID: 01\n" + KEY_PEM),
        f"key {b64(KEY_PEM)}",
        "-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIB\n-----END ENCRYPTED PRIVATE KEY-----",
        "-----BEGIN OPENSSH PRIVATE KEY-----\nb3Bl\n-----END OPENSSH PRIVATE KEY-----",
    ],
)
def test_private_keys_are_found_in_clear_and_base64(text: str) -> None:
    assert holds_private_key(text)


@pytest.mark.parametrize(
    "text",
    [
        AUTHORITY.certificate_pem,
        b64(AUTHORITY.certificate_pem),
        crl_of(AUTHORITY),
        "",
        'grep -q "-----BEGIN PRIVATE KEY-----" "$file"',
        KEY_PEM.replace("-----END", "-----FINISH"),
    ],
)
def test_certificates_and_crls_are_not_keys(text: str) -> None:
    assert not holds_private_key(text)


ASCII = st.text(alphabet=st.characters(codec="ascii"), max_size=200)


@given(ASCII, ASCII)
def test_a_key_is_found_wherever_it_sits_in_text(before: str, after: str) -> None:
    assert holds_private_key(before + KEY_PEM + after)


@given(ASCII)
def test_text_without_a_key_block_is_never_a_key(text: str) -> None:
    assert not holds_private_key(text.replace("PRIVATE KEY", "PUBLIC KEY"))


# key-strength


@pytest.mark.parametrize(
    ("props", "config", "violation"),
    [
        ({"algorithm": "RSA", "rsaBits": 2048}, {}, None),
        ({"algorithm": "RSA"}, {}, None),
        ({"algorithm": "RSA", "rsaBits": 1024.0}, {}, "RSA of 1024 bits; at least 2048"),
        ({"algorithm": "RSA", "rsaBits": 3072}, {"minimumRsaBits": 4096}, "at least 4096"),
        ({"algorithm": "ECDSA", "ecdsaCurve": "P256"}, {}, None),
        ({"algorithm": "ECDSA", "ecdsaCurve": "P384"}, {}, None),
        ({"algorithm": "ECDSA", "ecdsaCurve": "P224"}, {}, "ECDSA on P224; use one of"),
        ({"algorithm": "ECDSA"}, {}, "P224 (ecdsaCurve is not set)"),
        ({"algorithm": "ED25519"}, {}, None),
    ],
)
def test_key_strength(props: dict[str, Any], config: dict[str, Any], violation: str | None) -> None:
    found = rules.key_strength(resource(rules.PRIVATE_KEY, props), config)
    assert found == [] if violation is None else violation in found[0], found


def test_key_strength_looks_only_at_keys() -> None:
    assert rules.key_strength(resource("tls:index/other:Other", {"rsaBits": 512}), {}) == []


# leaf-validity


@pytest.mark.parametrize(
    ("resource_type", "props", "config", "violation"),
    [
        (rules.CERTIFICATES[0], {"validityPeriodHours": 365 * 24}, {}, None),
        (rules.CERTIFICATES[0], {"validityPeriodHours": 398 * 24}, {}, "valid for 398 days"),
        (rules.CERTIFICATES[1], {"validityPeriodHours": 3650 * 24}, {}, "at most 397 days"),
        (
            rules.CERTIFICATES[0],
            {"validityPeriodHours": 91 * 24},
            {"maximumDays": 90},
            "at most 90",
        ),
        (rules.CERTIFICATES[0], {}, {}, None),
        (
            rules.CERTIFICATES[1],
            {"validityPeriodHours": 3650 * 24, "isCaCertificate": True},
            {},
            None,
        ),
    ],
)
def test_leaf_validity(
    resource_type: str, props: dict[str, Any], config: dict[str, Any], violation: str | None
) -> None:
    found = rules.leaf_validity(resource(resource_type, props), config)
    assert found == [] if violation is None else violation in found[0], found


# ingress-verify-client

PREFIX = "nginx.ingress.kubernetes.io"


def ingress_props(**annotations: Any) -> dict[str, Any]:
    return {"metadata": {"annotations": {f"{PREFIX}/{key}": v for key, v in annotations.items()}}}


@pytest.mark.parametrize(
    ("annotations", "violation"),
    [
        ({"auth-tls-secret": "payments/ca"}, None),
        ({"auth-tls-secret": "payments/ca", "auth-tls-verify-client": "on"}, None),
        ({"auth-tls-secret": "payments/ca", "auth-tls-verify-client": "optional"}, "'optional'"),
        ({"auth-tls-secret": "payments/ca", "auth-tls-verify-client": "optional_no_ca"}, "set it"),
        ({"auth-tls-verify-client": "off"}, None),
    ],
)
def test_ingress_verify_client(annotations: dict[str, str], violation: str | None) -> None:
    found = rules.verify_client_on(resource(rules.INGRESSES[0], ingress_props(**annotations)), {})
    assert found == [] if violation is None else violation in found[0], found


@pytest.mark.parametrize("mode", ["ON", "", "required"])
def test_values_ingress_nginx_reads_as_on_pass(mode: str) -> None:
    props = ingress_props(**{"auth-tls-secret": "payments/ca", "auth-tls-verify-client": mode})
    assert rules.verify_client_on(resource(rules.INGRESSES[0], props), {}) == []


def test_an_ingress_patch_that_turns_verification_off_fails() -> None:
    patch = resource(rules.INGRESSES[1], ingress_props(**{"auth-tls-verify-client": "off"}))
    assert "is 'off'" in rules.verify_client_on(patch, {})[0]


def test_ingress_verify_client_under_another_annotation_prefix() -> None:
    props = {
        "metadata": {
            "annotations": {"corp/auth-tls-secret": "a/b", "corp/auth-tls-verify-client": "off"}
        }
    }
    ingress = resource(rules.INGRESSES[0], props)
    assert rules.verify_client_on(ingress, {}) == []
    assert (
        "corp/auth-tls-verify-client is 'off'"
        in rules.verify_client_on(ingress, {"annotationPrefix": "corp"})[0]
    )


# ingress-ca-from-stack


def ca_secret(name: Any = "client-ca", data: Any = None) -> StackMember:
    props = {
        "metadata": {"namespace": "payments", "name": name},
        "data": data or {"ca.crt": b64("pem")},
    }
    return StackMember(rules.SECRETS[0], props, name="client-ca")


def ingress(secret: Any, *depends_on: StackMember) -> StackMember:
    return StackMember(
        rules.INGRESSES[0],
        ingress_props(**{"auth-tls-secret": secret}),
        name="api",
        urn="urn:pulumi:test::project::kubernetes:networking.k8s.io/v1:Ingress::api",
        property_dependencies={"metadata": list(depends_on)},
    )


def test_an_ingress_whose_ca_secret_is_in_the_stack_passes() -> None:
    assert rules.ca_secret_in_stack([ca_secret(), ingress("payments/client-ca")], {}) == []


def test_a_patch_of_the_secret_does_not_hide_it() -> None:
    patch = StackMember(
        rules.SECRETS[1], {"metadata": {"namespace": "payments", "name": "client-ca"}}
    )
    members = [patch, ca_secret(), ingress("payments/client-ca")]
    assert rules.ca_secret_in_stack(members, {}) == []


def test_a_ca_secret_in_another_namespace_fails_unless_allowed() -> None:
    api = ingress("payments/client-ca")
    api.props["metadata"]["namespace"] = "shop"
    found = rules.ca_secret_in_stack([ca_secret(), api], {})
    assert len(found) == 1 and "in another namespace than the Ingress (shop)" in found[0].message
    assert (
        rules.ca_secret_in_stack([ca_secret(), api], {"allowCrossNamespaceResources": True}) == []
    )


def test_a_secret_whose_name_a_preview_cannot_know_defers_the_check() -> None:
    unnamed = ca_secret(UNKNOWN)
    assert rules.ca_secret_in_stack([unnamed, ingress("payments/client-ca", unnamed)], {}) == []
    with pytest.raises(UnknownValueError):
        rules.ca_secret_in_stack([unnamed, ingress("payments/client-ca")], {})


def test_during_a_preview_the_secret_is_found_through_the_dependency() -> None:
    secret = ca_secret(UNKNOWN, UNKNOWN)
    assert rules.ca_secret_in_stack([secret, ingress(UNKNOWN, secret)], {}) == []
    found = rules.ca_secret_in_stack([secret, ingress(UNKNOWN)], {})
    assert "is computed from no Secret of this stack" in found[0].message


@pytest.mark.parametrize(
    ("members", "annotation", "violation"),
    [
        ([], "payments/client-ca", "which is not a Secret of this stack"),
        ([ca_secret("other")], "payments/client-ca", "which is not a Secret of this stack"),
        ([ca_secret()], "client-ca", "ingress-nginx needs <namespace>/<name>"),
        ([ca_secret(data={"tls.crt": b64("pem")})], "payments/client-ca", "holds no ca.crt"),
    ],
)
def test_an_ingress_whose_ca_secret_is_elsewhere_fails(
    members: list[StackMember], annotation: str, violation: str
) -> None:
    found = rules.ca_secret_in_stack([*members, ingress(annotation)], {})
    assert len(found) == 1 and violation in found[0].message
    assert found[0].urn.endswith("Ingress::api")


# client-ca-crl


def crl_secret(crt: str, crl: str | None, *, encoded: bool = False) -> rules.Resource:
    entries = {"ca.crt": crt, **({"ca.crl": crl} if crl is not None else {})}
    if encoded:
        return resource(rules.SECRETS[0], {"data": {k: b64(v) for k, v in entries.items()}})
    return resource(rules.SECRETS[0], {"stringData": entries})


BUNDLE = AUTHORITY.certificate_pem + OTHER.certificate_pem


@pytest.mark.parametrize("encoded", [False, True])
def test_a_current_crl_for_every_ca_passes(encoded: bool) -> None:
    secret = crl_secret(BUNDLE, crl_of(AUTHORITY) + crl_of(OTHER), encoded=encoded)
    assert rules.client_ca_crl(secret, {}, now=NOW) == []


def test_without_revocation_there_is_nothing_to_check() -> None:
    assert rules.client_ca_crl(crl_secret(BUNDLE, None), {}, now=NOW) == []


def test_a_ca_without_a_crl_fails() -> None:
    found = rules.client_ca_crl(crl_secret(BUNDLE, crl_of(AUTHORITY)), {}, now=NOW)
    assert len(found) == 1 and "no CRL of CN=Payments Client Issuing CA" in found[0]


def test_an_expired_crl_fails() -> None:
    secret = crl_secret(
        BUNDLE, crl_of(AUTHORITY) + crl_of(OTHER, next_update=NOW - timedelta(hours=1))
    )
    found = rules.client_ca_crl(secret, {}, now=NOW)
    assert len(found) == 1 and "the CRL of CN=Payments Client Issuing CA expired at" in found[0]


def test_a_crl_signed_by_another_key_fails() -> None:
    impostor = make_authority("Payments Client Root CA")
    secret = crl_secret(AUTHORITY.certificate_pem, crl_of(impostor))
    found = rules.client_ca_crl(secret, {}, now=NOW)
    assert len(found) == 1 and "is not signed by that CA's key" in found[0]


def test_a_crl_that_is_not_pem_fails() -> None:
    found = rules.client_ca_crl(crl_secret(BUNDLE, "not a crl"), {}, now=NOW)
    assert "does not begin with a PEM X509 CRL block" in found[0]


def test_a_crl_not_yet_valid_fails() -> None:
    early = crl_of(
        AUTHORITY, this_update=NOW + timedelta(hours=2), next_update=NOW + timedelta(days=7)
    )
    found = rules.client_ca_crl(crl_secret(AUTHORITY.certificate_pem, early), {}, now=NOW)
    assert len(found) == 1 and "is valid only from" in found[0]


def test_a_ca_that_may_not_sign_crls_fails() -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    authority = Authority(signed_certificate("Payments Signing-Only CA", key, crl_sign=False), key)
    secret = crl_secret(authority.certificate_pem, crl_of(authority))
    found = rules.client_ca_crl(secret, {}, now=NOW)
    assert len(found) == 1 and "may not sign CRLs (keyUsage lacks cRLSign)" in found[0]


def test_an_empty_crl_is_no_revocation() -> None:
    # ingress-nginx sets ssl_crl only for a non-empty ca.crl.
    assert rules.client_ca_crl(crl_secret(BUNDLE, "  \n"), {}, now=NOW) == []


def test_a_secret_patch_may_refresh_the_crl_alone() -> None:
    patch = resource(rules.SECRETS[1], {"stringData": {"ca.crl": crl_of(AUTHORITY)}})
    assert rules.client_ca_crl(patch, {}, now=NOW) == []


def test_a_crl_whose_data_a_preview_cannot_know_is_checked_by_the_update() -> None:
    secret = resource(rules.SECRETS[0], {"stringData": {"ca.crt": UNKNOWN, "ca.crl": UNKNOWN}})
    with pytest.raises(UnknownValueError):
        rules.client_ca_crl(secret, {}, now=NOW)


# no-private-key-in-config-map


@pytest.mark.parametrize(
    ("props", "violation"),
    [
        ({"data": {"ssl-protocols": "TLSv1.3", "ca.crt": AUTHORITY.certificate_pem}}, None),
        ({"data": {"tls.key": KEY_PEM}}, "data.tls.key holds a private key"),
        ({"binaryData": {"key.pem": b64(KEY_PEM)}}, "binaryData.key.pem holds a private key"),
        ({"data": {"pending": UNKNOWN}}, None),
        ({"binaryData": {"blob": "not base64!"}}, None),
        ({"binaryData": {"blob": "é"}}, None),
    ],
)
def test_no_private_key_in_a_config_map(props: dict[str, Any], violation: str | None) -> None:
    for resource_type in rules.CONFIG_MAPS:
        found = rules.no_private_key_in_config_map(resource(resource_type, props), {})
        assert found == [] if violation is None else violation in found[0], found


# private-keys-are-secret


def test_keys_in_secret_outputs_and_properties_pass() -> None:
    members = [
        StackMember(rules.STACK, {"issuer": {"privateKey": SecretText(KEY_PEM)}, "ca": "pem"}),
        StackMember(rules.PRIVATE_KEY, {"privateKeyPem": SecretText(KEY_PEM), "publicKeyPem": "x"}),
    ]
    assert rules.private_keys_are_secret(members, {}) == []


def test_a_plain_stack_output_with_a_key_fails() -> None:
    found = rules.private_keys_are_secret(
        [StackMember(rules.STACK, {"issuer": {"privateKey": KEY_PEM}})], {}
    )
    assert len(found) == 1 and found[0].message.startswith("stack output issuer.privateKey holds")


def test_a_plain_resource_property_with_a_key_fails() -> None:
    kubeconfig = f"client-key-data: {b64(KEY_PEM)}"
    member = StackMember("pulumi-python:dynamic:Resource", {"kubeconfig": kubeconfig}, name="alice")
    found = rules.private_keys_are_secret([member], {})
    assert (
        len(found) == 1
        and "alice: kubeconfig holds a private key in plain text" in found[0].message
    )


# no-private-key-in-rendered-manifest


def test_a_rendered_secret_with_a_key_fails() -> None:
    secret = resource(
        rules.SECRETS[0],
        {"stringData": {"tls.key": SecretText(KEY_PEM)}},
        renderYamlToDirectory="out",
    )
    found = rules.no_private_key_in_rendered_manifest(secret, {})
    assert (
        len(found) == 1
        and "stringData.tls.key holds a private key" in found[0]
        and "to out" in found[0]
    )


def test_an_applied_secret_or_a_rendered_object_without_keys_passes() -> None:
    applied = resource(rules.SECRETS[0], {"stringData": {"tls.key": SecretText(KEY_PEM)}})
    rendered = resource(
        rules.SECRETS[0], {"stringData": {"ca.crt": "pem"}}, renderYamlToDirectory="out"
    )
    assert rules.no_private_key_in_rendered_manifest(applied, {}) == []
    assert rules.no_private_key_in_rendered_manifest(rendered, {}) == []
