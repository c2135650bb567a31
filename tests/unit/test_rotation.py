"""CA rotation in phases (`pki.*Ca.rotation`), under the mocks: which CAs exist, which one
issues, what verifiers trust and which revocation lists name whom, in each phase."""

from __future__ import annotations

from typing import Any

import pulumi
import pytest
from cryptography import x509

from components.program.settings import parse_settings
from support.mock_runtime import MockRuntime
from support.stack_configs import dev_config
from tests.x509_assertions import certificates

NEXT_CLIENT_CA = {"commonName": "Payments Client CA 2027", "validityDays": 3650}
NEXT_SERVER_CA = {"commonName": "Payments Server CA 2027"}


def _rotating(side: str, phase: str, next_ca: dict[str, Any]) -> dict[str, Any]:
    config = dev_config()
    config["pki"][side]["rotation"] = {"phase": phase, "next": next_ca}
    return config


def _declared(mocks: MockRuntime, config: dict[str, Any]) -> tuple[dict[str, Any], Any]:
    exports = mocks.run_program(config)
    outputs = {name: mocks.resolve(value) for name, value in exports.items()}
    return outputs, mocks.program_globals["stack"]


def _names(mocks: MockRuntime) -> set[str]:
    return {registration.name for registration in mocks.emulator.registered}


def _subjects(pem: str) -> list[str]:
    return [c.subject.rfc4514_string() for c in certificates(pem)]


def _issuer(pem: str) -> str:
    return certificates(pem)[0].issuer.rfc4514_string()


def _crl_issuers_and_serials(pem: str) -> dict[str, set[int]]:
    blocks = [b for b in pem.split("-----END X509 CRL-----") if "BEGIN X509 CRL" in b]
    crls = [x509.load_pem_x509_crl((b + "-----END X509 CRL-----\n").encode()) for b in blocks]
    return {crl.issuer.rfc4514_string(): {entry.serial_number for entry in crl} for crl in crls}


def test_introduce_trusts_the_next_client_ca_while_the_current_one_issues(
    mocks: MockRuntime,
) -> None:
    outputs, stack = _declared(mocks, _rotating("clientCa", "introduce", NEXT_CLIENT_CA))
    assert "mtls-ingress-client-ca-next-cert" in _names(mocks)
    assert "mtls-ingress-client-checkout-next-cert" not in _names(mocks)
    assert _subjects(outputs["clientCaBundle"]) == [
        "CN=Payments Client CA,O=Example Corp",
        "CN=Payments Client CA 2027",
    ]
    assert _issuer(outputs["clientCertificates"]["checkout"]["chain"]) == (
        "CN=Payments Client CA,O=Example Corp"
    )
    assert set(_crl_issuers_and_serials(outputs["clientCrl"])) == {
        "CN=Payments Client CA,O=Example Corp",
        "CN=Payments Client CA 2027",
    }
    assert stack.objects.ingress is not None


def test_issue_hands_out_certificates_of_the_next_ca_and_keeps_the_current_ones(
    mocks: MockRuntime,
) -> None:
    outputs, stack = _declared(mocks, _rotating("clientCa", "issue", NEXT_CLIENT_CA))
    names = _names(mocks)
    assert {"mtls-ingress-client-checkout-cert", "mtls-ingress-client-checkout-next-cert"} <= names
    assert "mtls-ingress-client-checkout-next-pkcs12" in names
    assert "mtls-ingress-client-checkout-pkcs12" not in names
    for client in outputs["clientCertificates"].values():
        assert _issuer(client["chain"]) == "CN=Payments Client CA 2027"
    assert len(_subjects(outputs["clientCaBundle"])) == 2
    # The revoked client is listed by both CAs, with the serial each one issued it.
    lists = _crl_issuers_and_serials(outputs["clientCrl"])
    old = int(mocks.resolve(stack.retiring_clients["legacy-batch"].serial_number))
    new = int(outputs["revokedClientSerials"]["legacy-batch"])
    assert old in lists["CN=Payments Client CA,O=Example Corp"]
    assert new in lists["CN=Payments Client CA 2027"]
    assert old != new


def test_retire_leaves_only_the_next_ca(mocks: MockRuntime) -> None:
    outputs, _ = _declared(mocks, _rotating("clientCa", "retire", NEXT_CLIENT_CA))
    names = _names(mocks)
    assert not any(
        name.startswith(("mtls-ingress-client-ca-cert", "mtls-ingress-client-checkout-cert"))
        for name in names
    )
    assert _subjects(outputs["clientCaBundle"]) == ["CN=Payments Client CA 2027"]
    assert set(_crl_issuers_and_serials(outputs["clientCrl"])) == {"CN=Payments Client CA 2027"}


@pytest.mark.parametrize(
    ("phase", "roots", "server_issuer"),
    [
        ("introduce", 2, "CN=Payments Server CA,O=Example Corp"),
        ("issue", 2, "CN=Payments Server CA 2027"),
        ("retire", 1, "CN=Payments Server CA 2027"),
    ],
)
def test_the_server_side_rotates_its_root_in_the_same_phases(
    mocks: MockRuntime, phase: str, roots: int, server_issuer: str
) -> None:
    outputs, _ = _declared(mocks, _rotating("serverCa", phase, NEXT_SERVER_CA))
    assert len(certificates(outputs["serverCaCertificate"])) == roots
    assert _issuer(outputs["serverCertificateChain"]) == server_issuer
    # The client side is not rotating.
    assert _subjects(outputs["clientCaBundle"]) == ["CN=Payments Client CA,O=Example Corp"]


@pytest.mark.parametrize(
    ("edit", "path", "phrase"),
    [
        (
            lambda pki: pki["clientCa"].update(intermediate={"commonName": "Issuing"}),
            "pki.clientCa.rotation",
            "intermediate",
        ),
        (
            lambda pki: pki["clientCa"]["rotation"]["next"].update(validityDays=100),
            "pki.clients[0].validityDays",
            "rotation.next.validityDays",
        ),
        (
            lambda pki: pki["clientCa"]["rotation"].update(phase="swap"),
            "pki.clientCa.rotation.phase",
            "introduce | issue | retire",
        ),
    ],
)
def test_bad_rotations_are_named(edit: Any, path: str, phrase: str) -> None:
    config = _rotating("clientCa", "issue", dict(NEXT_CLIENT_CA))
    edit(config["pki"])
    with pytest.raises(pulumi.RunError) as raised:
        parse_settings(config)
    lines = [line[4:] for line in str(raised.value).splitlines() if line.startswith("  - ")]
    matching = [line for line in lines if line.startswith(f"{path}: ")]
    assert matching and phrase in matching[0], lines


def test_the_server_ca_does_not_rotate_under_a_mesh() -> None:
    config = _rotating("serverCa", "introduce", NEXT_SERVER_CA)
    config["mesh"] = {"caCommonName": "Mesh CA"}
    with pytest.raises(pulumi.RunError) as raised:
        parse_settings(config)
    assert "pki.serverCa.rotation: cannot rotate the server CA while mesh is set" in str(
        raised.value
    )
