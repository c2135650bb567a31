"""The real program (`__main__.py`) under mocks: exports, chains, secrets, and bad config."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pulumi
import pytest

from support.mock_runtime import MockRuntime
from support.stack_configs import dev_config, minimal_config
from tests.kubernetes_manifests import secrets_by_name
from tests.x509_assertions import (
    assert_client_profile,
    certificate,
    certificates,
    common_name,
    openssl_verify,
    verify_client_chain,
    verify_server_chain,
)

EXPORTS = {
    "ingressUrl",
    "secretNames",
    "clientCrl",
    "clientCrlNextUpdate",
    "serverCaCertificate",
    "clientCaBundle",
    "serverCertificateChain",
    "serverCertificateExpiresAt",
    "serverCertificateRenewAt",
    "clientCertificates",
    "clientPrivateKeys",
    "clientBundles",
    "revokedClientSerials",
}


def _resolved(mocks: MockRuntime, config: dict[str, Any]) -> dict[str, Any]:
    outputs = mocks.run_program(config)
    return {name: mocks.resolve(output) for name, output in outputs.items()}


def test_dev_stack_exports_every_documented_output(mocks: MockRuntime) -> None:
    outputs = _resolved(mocks, dev_config())
    assert set(outputs) == EXPORTS
    assert set(outputs["clientCertificates"]) == {"checkout", "reporting"}
    assert set(outputs["clientPrivateKeys"]) == {"checkout", "reporting"}
    assert set(outputs["revokedClientSerials"]) == {"legacy-batch"}
    for client in outputs["clientCertificates"].values():
        assert set(client) == {"certificate", "chain", "serialNumber", "expiresAt", "renewAt"}
    assert set(outputs["clientBundles"]) == {"checkout", "reporting"}


def test_secret_names_are_exported_as_generated(mocks: MockRuntime) -> None:
    outputs = _resolved(mocks, dev_config())
    names = outputs["secretNames"]
    assert set(names) == {"serverTls", "clientCa"}
    assert names["serverTls"].startswith("mtls-ingress-server-tls-secret-")
    assert names["clientCa"].startswith("mtls-ingress-client-ca-bundle-secret-")
    declared = {secret["metadata"]["name"] for secret in secrets_by_name(mocks.emulator).values()}
    assert declared == set(names.values())


def test_dev_stack_server_chain_verifies_for_its_host(mocks: MockRuntime) -> None:
    outputs = _resolved(mocks, dev_config())
    chain, root = outputs["serverCertificateChain"], outputs["serverCaCertificate"]
    verify_server_chain(chain, root, dev_config()["host"])
    result = openssl_verify(chain, root, purpose="sslserver")
    assert result.returncode == 0, result.stderr


def test_dev_stack_clients_verify_against_the_client_ca_only(mocks: MockRuntime) -> None:
    outputs = _resolved(mocks, dev_config())
    client_ca = outputs["clientCaBundle"]
    assert certificates(client_ca) != certificates(outputs["serverCaCertificate"])
    for name, client in outputs["clientCertificates"].items():
        verify_client_chain(client["chain"], client_ca)
        assert openssl_verify(client["chain"], client_ca, purpose="sslclient").returncode == 0
        # Separate CAs: the server CA must not vouch for clients.
        foreign = openssl_verify(
            client["chain"], outputs["serverCaCertificate"], purpose="sslclient"
        )
        assert foreign.returncode != 0, name


def test_dev_stack_client_subjects(mocks: MockRuntime) -> None:
    outputs = _resolved(mocks, dev_config())
    checkout = certificate(outputs["clientCertificates"]["checkout"]["certificate"])
    reporting = certificate(outputs["clientCertificates"]["reporting"]["certificate"])
    assert_client_profile(checkout, common_name_="checkout", organization="payments-writers")
    assert_client_profile(
        reporting, common_name_="reporting.payments.example.com", organization="payments-readers"
    )
    assert (reporting.not_valid_after_utc - reporting.not_valid_before_utc).days == 90


def test_revoked_client_keeps_its_serial_but_not_its_key(mocks: MockRuntime) -> None:
    outputs = _resolved(mocks, dev_config())
    serial = outputs["revokedClientSerials"]["legacy-batch"]
    issued = [
        certificate(r.state["certPem"]).serial_number
        for r in mocks.emulator.of_type("tls:index/locallySignedCert:LocallySignedCert")
        if r.name == "mtls-ingress-client-legacy-batch-cert"
    ]
    assert issued == [int(serial)]
    assert "legacy-batch" not in outputs["clientPrivateKeys"]


def test_simple_setup_signs_clients_with_the_server_ca(mocks: MockRuntime) -> None:
    outputs = _resolved(mocks, minimal_config())
    assert outputs["clientCaBundle"] == outputs["serverCaCertificate"]
    alice = outputs["clientCertificates"]["alice"]
    verify_client_chain(alice["chain"], outputs["serverCaCertificate"])
    assert common_name(certificate(alice["certificate"])) == "alice"
    assert outputs["revokedClientSerials"] == {}
    authorities = mocks.emulator.of_type("mtls:index:CertificateAuthority")
    assert [a.name for a in authorities] == ["mtls-ingress-server-ca"]


def test_every_output_holding_a_private_key_is_secret(mocks: MockRuntime) -> None:
    outputs = mocks.run_program(dev_config())
    component_outputs = _component_outputs(mocks.program_globals["stack"])
    holding_keys = 0
    for where, output in [*outputs.items(), *component_outputs]:
        if "PRIVATE KEY" in str(mocks.resolve(output)):
            holding_keys += 1
            assert mocks.is_secret(output), f"{where} holds a private key in plaintext"
        elif where in {"serverCaCertificate", "serverCertificateChain", "clientCertificates"}:
            assert not mocks.is_secret(output), f"{where} is needlessly secret"
    # clientPrivateKeys, and per component: 2 CAs, the server and 3 clients.
    assert holding_keys >= 7


def test_preview_registers_the_same_resources(mocks: MockRuntime) -> None:
    mocks.run_program(dev_config(), preview=True)
    types = sorted({r.typ for r in mocks.emulator.registered})
    assert "mtls:index:MtlsIngressStack" in types
    assert "tls:index/locallySignedCert:LocallySignedCert" in types


def _set(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    """A config edit: sets `a.b[1].c` to `value` (None deletes it)."""

    def edit(config: dict[str, Any]) -> None:
        *parents, leaf = _steps(path)
        node: Any = config
        for step in parents:
            node = node[step]
        if value is None:
            del node[leaf]
        else:
            node[leaf] = value

    return edit


def _steps(path: str) -> list[str | int]:
    steps: list[str | int] = []
    for part in path.split("."):
        name, _, rest = part.partition("[")
        steps.append(name)
        if rest:
            steps.append(int(rest.rstrip("]")))
    return steps


BAD_CONFIGS = [
    (_set("namespace", None), "namespace", "is required"),
    (_set("namespace", "Payments"), "namespace", "RFC 1123 label"),
    (_set("host", "not a host"), "host", "DNS name"),
    (_set("pki.keyAlgorithm", "DSA_1024"), "pki.keyAlgorithm", "RSA_2048 | RSA_3072"),
    (_set("pki.serverCa", None), "pki.serverCa", "is required"),
    (_set("pki.serverCa.commonName", "x" * 65), "pki.serverCa.commonName", "at most 64"),
    (_set("pki.clientCa.validityDays", 0), "pki.clientCa.validityDays", "positive integer"),
    (_set("pki.server.dnsNames", ["other.example.com"]), "pki.server.dnsNames", "must cover"),
    (_set("pki.server.ipAddresses", ["300.1.1.1"]), "pki.server.ipAddresses[0]", "IPv4 or IPv6"),
    (
        _set("pki.server.renewBeforeDays", 365),
        "pki.server.renewBeforeDays",
        "less than validityDays",
    ),
    (_set("pki.server.validityDays", 4000), "pki.server.validityDays", "issuing CA's validityDays"),
    (
        _set("pki.clients[1].validityDays", -5),
        "pki.clients[1].validityDays",
        "must be a positive integer, got -5",
    ),
    (_set("pki.clients[1].name", "checkout"), "pki.clients[1].name", "unique"),
    (_set("pki.clients[0].name", "Check_Out"), "pki.clients[0].name", "RFC 1123 label"),
    (
        _set("pki.clients[2].revocationReason", "stolen"),
        "pki.clients[2].revocationReason",
        "keyCompromise",
    ),
    (
        _set("pki.clients[0].revocationReason", "superseded"),
        "pki.clients[0].revocationReason",
        "revoked: true",
    ),
    (
        _set("pki.clients[0].organizations", ["dev", 5]),
        "pki.clients[0].organizations[1]",
        "must be a non-empty string",
    ),
    (_set("pki.clients[0].revoked", "yes"), "pki.clients[0].revoked", "true or false"),
    (_set("pki.clients[0].validityDay", 30), "pki.clients[0].validityDay", "unknown key"),
    (_set("pki.revokedSerials[0]", "-12"), "pki.revokedSerials[0]", "serial number"),
    (
        _set("pki.revokedSerials[1].serialNumber", "zz"),
        "pki.revokedSerials[1].serialNumber",
        "serial number",
    ),
    (_set("pki.crl.refreshBeforeDays", 30), "pki.crl.refreshBeforeDays", "less than validityDays"),
    (
        _set("ingress.verifyClient", "required"),
        "ingress.verifyClient",
        "on | optional | optional_no_ca | off",
    ),
    (_set("ingress.backend.port", 70000), "ingress.backend.port", "from 1 to 65535"),
    (
        _set("ingress.backend.protocol", "GRPC"),
        "ingress.backend.protocol",
        "HTTP | HTTPS | PASSTHROUGH",
    ),
    (_set("ingress.backend", None), "ingress.backend", "is required"),
    (_set("ingress.matchCn", "alice"), "ingress.matchCn", "starting with 'CN='"),
    (_set("ingress.errorPage", "javascript:alert(1)"), "ingress.errorPage", "auth-tls-error-page"),
    (_set("ingress.paths", ["api"]), "ingress.paths[0]", "starting with '/'"),
    (_set("ingress.backend.protocol", "PASSTHROUGH"), "ingress.matchCn", "PASSTHROUGH"),
    (_set("controller.manage", "replace"), "controller.manage", "patch | none"),
    (
        _set("controller.settings", {"ssl-protocols": ["TLSv1.3"]}),
        "controller.settings.ssl-protocols",
        "string, number or boolean",
    ),
    (_set("ingres", {}), "ingres", "unknown key"),
    (
        _set("controller.settings", {"enable-ssl-passthrough": "true"}),
        "controller.settings.enable-ssl-passthrough",
        "command-line flag --enable-ssl-passthrough",
    ),
    (
        _set("controller.settings", {"ssl-passthrough": "true"}),
        "controller.settings.ssl-passthrough",
        "is an Ingress annotation",
    ),
    (_set("ingress.backend.tlsName", "web.svc"), "ingress.backend.tlsName", "protocol HTTPS"),
    (_set("ingress.name", "Payments_API"), "ingress.name", "RFC 1123 label"),
]


@pytest.mark.parametrize(
    ("edit", "path", "phrase"),
    BAD_CONFIGS,
    ids=[f"{path}-{index}" for index, (_, path, _) in enumerate(BAD_CONFIGS)],
)
def test_bad_config_fails_with_one_error_naming_the_field(
    mocks: MockRuntime, edit: Callable[[dict[str, Any]], None], path: str, phrase: str
) -> None:
    config = dev_config()
    edit(config)
    with pytest.raises(pulumi.RunError) as raised:
        mocks.run_program(config)
    lines = [line for line in str(raised.value).splitlines() if line.startswith("  - ")]
    matching = [line for line in lines if line.startswith(f"  - {path}: ")]
    assert matching, str(raised.value)
    assert phrase in matching[0], matching[0]
    assert mocks.emulator.registered == [], "nothing may be registered when settings are invalid"


def test_every_problem_is_reported_in_one_error(mocks: MockRuntime) -> None:
    config = dev_config()
    paths = {
        "host",
        "pki.keyAlgorithm",
        "pki.clientCa.validityDays",
        "pki.server.ipAddresses[0]",
        "pki.clients[1].validityDays",
        "pki.clients[0].organizations[1]",
        "pki.crl.refreshBeforeDays",
        "ingress.backend.port",
        "controller.manage",
    }
    independent = [case for case in BAD_CONFIGS if case[1] in paths]
    assert len(independent) == len(paths)
    for edit, _, _ in independent:
        edit(config)
    with pytest.raises(pulumi.RunError) as raised:
        mocks.run_program(config)
    message = str(raised.value)
    assert message.startswith("invalid mtls-ingress stack configuration: ")
    for _, path, _ in independent:
        assert f"  - {path}: " in message, path


def _component_outputs(root: pulumi.ComponentResource) -> list[tuple[str, pulumi.Output[Any]]]:
    """Every Output attribute of every component reachable from the stack's program."""
    found: list[tuple[str, pulumi.Output[Any]]] = []
    seen: set[int] = set()

    def visit(component: pulumi.ComponentResource, where: str) -> None:
        if id(component) in seen:
            return
        seen.add(id(component))
        for name, value in vars(component).items():
            if name.startswith("_"):
                continue
            if isinstance(value, pulumi.Output):
                found.append((f"{where}.{name}", value))
            elif isinstance(value, pulumi.ComponentResource):
                visit(value, f"{where}.{name}")
            elif isinstance(value, dict):
                for key, item in value.items():
                    if isinstance(item, pulumi.ComponentResource):
                        visit(item, f"{where}.{name}[{key}]")

    visit(root, type(root).__name__)
    assert found, "no component outputs found"
    return found
