"""Revocation in the stack: what the CRL lists, who signs it, where it goes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pulumi
import pytest
from cryptography import x509

from components.pki import CertificateAuthority, RevocationList, crl_bundle
from support.mock_runtime import MockRuntime
from support.stack_configs import dev_config, minimal_config
from tests.x509_assertions import certificate


def _crls(pem: str) -> list[x509.CertificateRevocationList]:
    marker = "-----BEGIN X509 CRL-----"
    return [x509.load_pem_x509_crl((marker + part).encode()) for part in pem.split(marker)[1:]]


def _listed(crl: x509.CertificateRevocationList) -> dict[int, str]:
    reasons = {}
    for entry in crl:
        try:
            reason = entry.extensions.get_extension_for_class(x509.CRLReason).value.reason.value
        except x509.ExtensionNotFound:
            reason = "unspecified"
        reasons[entry.serial_number] = reason
    return reasons


def test_dev_stack_crl_lists_revoked_clients_and_external_serials(mocks: MockRuntime) -> None:
    outputs = {k: mocks.resolve(v) for k, v in mocks.run_program(dev_config()).items()}
    (crl,) = _crls(outputs["clientCrl"])
    revoked_client = int(outputs["revokedClientSerials"]["legacy-batch"])
    assert _listed(crl) == {
        revoked_client: "superseded",
        0x5E2D1C0B9A8F7E6D5C4B3A2918070605: "unspecified",
        0xABCDEF0123456789: "keyCompromise",
    }
    client_ca = certificate(outputs["clientCaBundle"])
    assert crl.issuer == client_ca.subject
    assert crl.is_signature_valid(client_ca.public_key())
    assert crl.next_update_utc - crl.last_update_utc == timedelta(days=30)
    assert outputs["clientCrlNextUpdate"] == crl.next_update_utc.strftime("%Y-%m-%dT%H:%M:%SZ")
    for active in outputs["clientCertificates"].values():
        assert int(active["serialNumber"]) not in _listed(crl)


def test_stack_without_revocations_still_publishes_an_empty_crl(mocks: MockRuntime) -> None:
    outputs = {k: mocks.resolve(v) for k, v in mocks.run_program(minimal_config()).items()}
    (crl,) = _crls(outputs["clientCrl"])
    assert list(crl) == []
    # Simple setup: the server CA signs the clients, so it signs their CRL too.
    assert crl.is_signature_valid(certificate(outputs["serverCaCertificate"]).public_key())


def test_crl_uses_the_configured_lifetime(mocks: MockRuntime) -> None:
    config = minimal_config()
    config["pki"]["crl"] = {"validityDays": 7, "refreshBeforeDays": 2}
    outputs = mocks.run_program(config)
    (crl,) = _crls(mocks.resolve(outputs["clientCrl"]))
    assert crl.next_update_utc - crl.last_update_utc == timedelta(days=7)


def test_crl_bundle_concatenates_one_list_per_authority(mocks: MockRuntime) -> None:
    def build():
        root = CertificateAuthority("root", {"common_name": "Root"})
        issuing = CertificateAuthority(
            "issuing", {"common_name": "Issuing", "issuer": root.as_issuer()}
        )
        lists = [
            RevocationList(
                "issuing-revocations",
                {"issuer": issuing.as_issuer(), "revoked": [{"serial_number": "99"}]},
            ),
            RevocationList("root-revocations", {"issuer": root.as_issuer(), "revoked": []}),
        ]
        return crl_bundle(lists), root, issuing

    bundle, root, issuing = mocks.run(build)
    crls = _crls(mocks.resolve(bundle))
    assert [crl.issuer for crl in crls] == [
        certificate(mocks.resolve(issuing.certificate_pem)).subject,
        certificate(mocks.resolve(root.certificate_pem)).subject,
    ]
    assert [_listed(crl) for crl in crls] == [{99: "unspecified"}, {}]


def test_crl_uses_the_emulated_clock() -> None:
    moment = datetime(2030, 6, 1, tzinfo=UTC)
    runtime = MockRuntime(now=lambda: moment)
    try:
        outputs = runtime.run_program(minimal_config())
        (crl,) = _crls(runtime.resolve(outputs["clientCrl"]))
        assert crl.last_update_utc == moment
    finally:
        runtime.close()


@pytest.mark.parametrize(
    ("arguments", "field"),
    [
        ({"validity_days": 7, "refresh_before_days": 7}, "refresh_before_days"),
        ({"revoked": [{"serial_number": "0x10"}]}, "revoked[0].serial_number"),
        ({"revoked": [{"serial_number": "10", "reason": "lost"}]}, "revoked[0].reason"),
    ],
)
def test_invalid_revocation_list_arguments(mocks: MockRuntime, arguments, field) -> None:
    def build():
        ca = CertificateAuthority("ca", {"common_name": "CA"})
        with pytest.raises(
            pulumi.RunError, match=rf"  - {field.replace('[', '.').replace(']', '.')}: "
        ):
            RevocationList("crl", {"issuer": ca.as_issuer(), "revoked": [], **arguments})

    mocks.run(build)
    assert not [r for r in mocks.emulator.registered if r.typ.startswith("pulumi-python:dynamic")]
