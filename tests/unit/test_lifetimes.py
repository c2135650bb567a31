"""The components and the stack config give what the user leaves out the same lifetime and the
same renewal window: a certificate declared with `ClientCertificate(validity_days=30)` is the
one a stack file's `validityDays: 30` declares."""

from __future__ import annotations

from typing import Any

import pulumi
import pytest

from components.pki import (
    CertificateAuthority,
    ClientCertificate,
    RevocationList,
    ServerCertificate,
)
from components.program.settings import parse_settings
from support.mock_runtime import MockRuntime
from support.stack_configs import minimal_config

LOCALLY_SIGNED = "tls:index/locallySignedCert:LocallySignedCert"
HOST = "app.example.com"


def _library(mocks: MockRuntime, validity_days: int | None) -> dict[str, tuple[int, int]]:
    """(validity hours, renewal hours) of each certificate the components declare, given
    `validity_days` or nothing."""
    lifetime = {} if validity_days is None else {"validity_days": validity_days}

    def declare() -> None:
        root = CertificateAuthority("root", {"common_name": "Root CA"})
        ServerCertificate("server", {"issuer": root.as_issuer(), "dns_names": [HOST], **lifetime})
        ClientCertificate("alice", {"issuer": root.as_issuer(), "common_name": "alice", **lifetime})

    mocks.run(declare)
    return {
        registration.name.removesuffix("-cert"): (
            registration.inputs["validityPeriodHours"],
            registration.inputs["earlyRenewalHours"],
        )
        for registration in mocks.emulator.of_type(LOCALLY_SIGNED)
    }


def _config(validity_days: int | None) -> dict[str, tuple[int, int]]:
    """The same, as the stack config's settings give them."""
    config: dict[str, Any] = minimal_config()
    if validity_days is not None:
        config["pki"]["server"] = {"validityDays": validity_days}
        config["pki"]["clients"][0]["validityDays"] = validity_days
    pki = parse_settings(config).pki
    return {
        role: (settings.validity_days * 24, settings.renew_before_days * 24)
        for role, settings in (("server", pki.server), ("alice", pki.clients[0]))
    }


@pytest.mark.parametrize("validity_days", [None, 30, 45, 59, 60, 365, 2])
def test_library_and_config_give_the_same_lifetime_and_renewal_window(
    mocks: MockRuntime, validity_days: int | None
) -> None:
    assert _library(mocks, validity_days) == _config(validity_days)


def test_a_day_long_certificate_is_refused_by_both(mocks: MockRuntime) -> None:
    # No whole-day renewal window fits inside it.
    with pytest.raises(pulumi.RunError, match="renew_before_days"):
        _library(mocks, 1)
    with pytest.raises(pulumi.RunError, match="renewBeforeDays"):
        _config(1)


def test_a_30_day_client_certificate_renews_15_days_before_it_expires(mocks: MockRuntime) -> None:
    assert _library(mocks, 30)["alice"] == (30 * 24, 15 * 24)


@pytest.mark.parametrize("validity_days", [None, 3, 7, 8, 30])
def test_library_and_config_give_a_crl_the_same_refresh_window(
    mocks: MockRuntime, validity_days: int | None
) -> None:
    lifetime = {} if validity_days is None else {"validity_days": validity_days}

    def declare() -> RevocationList:
        root = CertificateAuthority("root", {"common_name": "Root CA"})
        return RevocationList("crl", {"issuer": root.as_issuer(), "revoked": [], **lifetime})

    mocks.run(declare)
    (registration,) = [r for r in mocks.emulator.registered if r.name == "crl-crl"]
    config = minimal_config()
    if validity_days is not None:
        config["pki"]["crl"] = {"validityDays": validity_days}
    crl = parse_settings(config).pki.crl
    assert (registration.inputs["validity_days"], registration.inputs["refresh_before_days"]) == (
        crl.validity_days,
        crl.refresh_before_days,
    )
