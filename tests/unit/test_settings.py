"""parse_settings: defaults, accepted spellings, and the problems it reports."""

from __future__ import annotations

import pulumi
import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from components.core import formats
from components.pki import KeyAlgorithm
from components.program.settings import (
    BackendProtocol,
    ControllerManagement,
    RevocationReason,
    VerifyClient,
    parse_settings,
)
from support.stack_configs import dev_config, minimal_config

SERIALS = st.integers(min_value=1, max_value=formats.MAX_SERIAL_NUMBER)


def _problems(config: dict) -> list[str]:
    with pytest.raises(pulumi.RunError) as raised:
        parse_settings(config)
    return [line[4:] for line in str(raised.value).splitlines() if line.startswith("  - ")]


def test_minimal_config_gets_documented_defaults() -> None:
    settings = parse_settings(minimal_config())
    pki = settings.pki
    assert pki.key_algorithm is KeyAlgorithm.ECDSA_P256
    assert pki.server_ca.validity_days == 3650 and pki.client_ca is None
    assert (pki.server.dns_names, pki.server.ip_addresses) == (("app.example.com",), ())
    assert (pki.server.validity_days, pki.server.renew_before_days) == (365, 30)
    (alice,) = pki.clients
    assert (alice.common_name, alice.validity_days, alice.renew_before_days) == ("alice", 180, 30)
    assert not alice.revoked and alice.revocation_reason is RevocationReason.UNSPECIFIED
    assert (pki.crl.validity_days, pki.crl.refresh_before_days) == (30, 7)
    ingress = settings.ingress
    assert (ingress.class_name, ingress.paths, ingress.verify_client) == (
        "nginx",
        ("/",),
        VerifyClient.ON,
    )
    assert ingress.backend.protocol is BackendProtocol.HTTP
    assert not ingress.pass_certificate_to_upstream
    controller = settings.controller
    assert controller.manage is ControllerManagement.PATCH
    assert (controller.namespace, controller.config_map_name) == (
        "ingress-nginx",
        "ingress-nginx-controller",
    )


def test_dev_config_parses_with_separate_client_ca_and_a_revoked_client() -> None:
    settings = parse_settings(dev_config())
    assert settings.pki.clients_have_own_ca
    assert [c.name for c in settings.pki.clients if c.revoked] == ["legacy-batch"]
    assert [s.reason for s in settings.pki.revoked_serials] == [
        RevocationReason.UNSPECIFIED,
        RevocationReason.KEY_COMPROMISE,
    ]


def test_short_lived_client_gets_a_renewal_window_inside_its_lifetime() -> None:
    config = minimal_config()
    config["pki"]["clients"][0]["validityDays"] = 20
    (client,) = parse_settings(config).pki.clients
    assert client.renew_before_days == 10


def test_numbers_written_as_strings_are_accepted() -> None:
    # `pulumi config set --path pki.server.validityDays 90` may store the string "90".
    config = minimal_config()
    config["pki"]["server"] = {"validityDays": "90", "renewBeforeDays": "10"}
    server = parse_settings(config).pki.server
    assert (server.validity_days, server.renew_before_days) == (90, 10)


def test_yaml_boolean_on_is_taken_as_verify_client_on() -> None:
    config = minimal_config()
    config["ingress"]["verifyClient"] = False
    assert parse_settings(config).ingress.verify_client is VerifyClient.OFF


def test_controller_settings_are_stringified_for_the_config_map() -> None:
    config = minimal_config()
    config["controller"] = {
        "settings": {"use-http2": True, "ssl-session-cache-size": 10, "hsts": "true"}
    }
    assert parse_settings(config).controller.settings == (
        ("hsts", "true"),
        ("ssl-session-cache-size", "10"),
        ("use-http2", "true"),
    )


def test_wildcard_dns_name_covers_the_host() -> None:
    config = minimal_config()
    config["pki"]["server"] = {"dnsNames": ["*.example.com"]}
    assert parse_settings(config).pki.server.dns_names == ("*.example.com",)


@pytest.mark.parametrize(
    ("san", "host", "covered"),
    [
        ("app.example.com", "app.example.com", True),
        ("*.example.com", "app.example.com", True),
        ("*.example.com", "example.com", False),
        ("*.example.com", "a.b.example.com", False),
        ("*.example.com", "*.example.com", True),
        ("app.example.com", "api.example.com", False),
    ],
)
def test_covers_follows_rfc_6125_wildcards(san: str, host: str, covered: bool) -> None:
    assert formats.covers(san, host) is covered


def test_client_lifetime_is_checked_against_the_ca_that_signs_it() -> None:
    config = minimal_config()
    config["pki"]["serverCa"]["validityDays"] = 100
    config["pki"]["clients"][0]["validityDays"] = 150
    assert _problems(config) == [
        "pki.server.validityDays: must not exceed the issuing CA's validityDays (100), got 365",
        "pki.clients[0].validityDays: must not exceed the issuing CA's validityDays (100), got 150",
    ]


def test_leaves_are_checked_against_the_intermediate_that_signs_them() -> None:
    config = minimal_config()
    config["pki"]["serverCa"]["intermediate"] = {
        "commonName": "Apps Issuing CA",
        "validityDays": 200,
    }
    config["pki"]["server"] = {"validityDays": 300}
    assert _problems(config) == [
        "pki.server.validityDays: must not exceed the issuing CA's validityDays (200), got 300",
    ]


def test_an_intermediate_must_not_outlive_its_root() -> None:
    config = minimal_config()
    config["pki"]["serverCa"]["validityDays"] = 1000
    config["pki"]["serverCa"]["intermediate"] = {
        "commonName": "Apps Issuing CA",
        "validityDays": 2000,
    }
    assert _problems(config) == [
        "pki.serverCa.intermediate.validityDays: must not exceed the root's validityDays (1000), "
        "got 2000",
    ]


def test_an_intermediate_lives_1825_days_or_as_long_as_a_shorter_lived_root() -> None:
    config = minimal_config()
    config["pki"]["serverCa"]["intermediate"] = {"commonName": "Apps Issuing CA"}
    assert parse_settings(config).pki.server_ca.intermediate_validity_days == 1825
    config["pki"]["serverCa"]["validityDays"] = 800
    assert parse_settings(config).pki.server_ca.intermediate_validity_days == 800
    assert parse_settings(minimal_config()).pki.server_ca.intermediate is None


def test_an_intermediate_needs_a_common_name() -> None:
    config = minimal_config()
    config["pki"]["serverCa"]["intermediate"] = {"organization": "Apps"}
    assert _problems(config) == [
        "pki.serverCa.intermediate.commonName: is required",
    ]


def test_wrong_types_are_reported_not_raised() -> None:
    config = minimal_config()
    config["pki"] = ["not", "an", "object"]
    config["ingress"]["paths"] = "/"
    config["ingress"]["backend"]["port"] = True
    problems = _problems(config)
    assert problems[0].startswith("pki: must be an object with the keys keyAlgorithm, serverCa")
    assert (
        "pki.serverCa: is required: {commonName, organization?, validityDays?, intermediate?} "
        "to create a CA or {certificate, privateKey, intermediate?} to import one" in problems
    )
    assert 'ingress.paths: must be a list of strings, got "/"' in problems
    assert "ingress.backend.port: must be an integer from 1 to 65535, got true" in problems


def test_named_service_port_is_accepted() -> None:
    config = minimal_config()
    config["ingress"]["backend"]["port"] = "https"
    assert parse_settings(config).ingress.backend.port == "https"


@given(SERIALS)
def test_serial_numbers_parse_in_every_documented_spelling(serial: int) -> None:
    hex_digits = f"{serial:x}"
    if len(hex_digits) % 2:
        hex_digits = "0" + hex_digits
    colon_hex = ":".join(hex_digits[i : i + 2] for i in range(0, len(hex_digits), 2))
    spellings = [serial, str(serial), f"0x{serial:x}", f"0X{serial:X}".replace("0X", "0x")]
    if ":" in colon_hex:
        spellings.append(colon_hex)
    for spelling in spellings:
        assert formats.serial_number(spelling) == serial, spelling


@pytest.mark.parametrize(
    "value", [0, -1, 2**159, True, 1.5, "", "12ab", "0x", "1:2:3g", "0x" + "f" * 41]
)
def test_invalid_serial_numbers_are_rejected(value: object) -> None:
    assert formats.serial_number(value) is None


def test_the_same_serial_in_two_spellings_is_a_duplicate() -> None:
    config = minimal_config()
    config["pki"]["revokedSerials"] = ["255", "0xff"]
    assert _problems(config) == ["pki.revokedSerials[1]: repeats serial number 0xff"]


def test_an_empty_backend_needs_its_service_and_port() -> None:
    config = minimal_config()
    config["ingress"]["backend"] = {}
    assert _problems(config) == [
        "ingress.backend.service: is required",
        "ingress.backend.port: is required",
    ]


def test_a_missing_section_says_what_it_holds() -> None:
    config = minimal_config()
    del config["pki"]
    assert _problems(config) == [
        "pki: is required: {keyAlgorithm?, serverCa, clientCa?, server?, clients?, "
        "clientBundles?, revokedSerials?, crl?, clientShards?}"
    ]


def test_unknown_keys_are_reported_with_every_other_problem() -> None:
    config = minimal_config()
    config["pki"]["clients"][0] |= {"validityDay": 30, "revoked": "yes"}
    assert _problems(config) == [
        "pki.clients[0].validityDay: unknown key; the keys allowed here are name, commonName, "
        "organizations, validityDays, renewBeforeDays, revoked, revocationReason",
        'pki.clients[0].revoked: must be true or false, got "yes"',
    ]


def test_null_is_taken_as_absent() -> None:
    config = minimal_config()
    config["pki"]["clients"][0] |= {"commonName": None, "validityDays": None}
    config["controller"] = None
    settings = parse_settings(config)
    (alice,) = settings.pki.clients
    assert (alice.common_name, alice.validity_days) == ("alice", 180)
    assert settings.controller.namespace == "ingress-nginx"


def test_a_bare_serial_and_a_serial_object_read_alike() -> None:
    config = minimal_config()
    config["pki"]["revokedSerials"] = ["0x10", {"serialNumber": "17", "reason": "superseded"}]
    first, second = parse_settings(config).pki.revoked_serials
    assert (first.serial_number, first.reason) == (16, RevocationReason.UNSPECIFIED)
    assert (second.serial_number, second.reason) == (17, RevocationReason.SUPERSEDED)


def test_https_backend_name_defaults_to_the_service_in_the_namespace() -> None:
    config = minimal_config()
    config["ingress"]["backend"]["protocol"] = "HTTPS"
    backend = parse_settings(config).ingress.backend
    assert backend.tls_name == "web.apps.svc"


def test_settings_cannot_be_changed_once_read() -> None:
    settings = parse_settings(minimal_config())
    with pytest.raises(ValidationError, match="frozen"):
        settings.pki.server.validity_days = 1  # type: ignore[misc]


def test_a_rule_between_keys_is_reported_with_the_other_problems_of_its_object() -> None:
    config = minimal_config()
    config["pki"]["clients"][0] |= {"validityDays": 0, "revocationReason": "superseded"}
    config["ingress"]["backend"] = {"port": 8080, "tlsName": "web.apps.svc"}
    assert _problems(config) == [
        "pki.clients[0].validityDays: must be a positive integer, got 0",
        "pki.clients[0].revocationReason: is only allowed together with revoked: true",
        "ingress.backend.service: is required",
        "ingress.backend.tlsName: only applies with protocol HTTPS (TLS from nginx to the backend)",
    ]


def test_unknown_keys_are_listed_with_the_keys_allowed_in_documented_order() -> None:
    config = minimal_config()
    config["ingress"]["class"] = "nginx"
    assert _problems(config) == [
        "ingress.class: unknown key; the keys allowed here are name, className, paths, backend, "
        "verifyClient, passCertificateToUpstream, errorPage, matchCn"
    ]


def test_windows_shorter_than_two_scheduled_runs_are_warned_of() -> None:
    config = dev_config()
    assert parse_settings(config).schedule_warnings() == []
    config["upIntervalDays"] = 8
    warnings = parse_settings(config).schedule_warnings()
    # The CRL is refreshed 7 days ahead, the reporting client renewed 14 days ahead.
    assert [w.split(":", 1)[0] for w in warnings] == [
        "pki.crl.refreshBeforeDays",
        "pki.clients[1].renewBeforeDays",
    ]
    assert "one failed `pulumi up` lets the CRL expire, which refuses every client" in warnings[0]
