"""The RevocationList dynamic provider under the real Pulumi engine: up, a no-change preview,
a revocation that updates exactly the CRL, no plaintext key in the state, destroy.

The tests run in order on one stack (module-scoped), as an operator would."""

from __future__ import annotations

import json
from typing import Any

import pytest
from cryptography import x509

from localkube.engine import Engine
from support.pki_material import make_authority

CRL_TYPE = "pulumi-python:dynamic/mtls:SignedCrl"
RENEWAL_TYPE = "pulumi-python:dynamic/mtls:RenewalSchedule"


def _crl(engine: Engine) -> x509.CertificateRevocationList:
    return x509.load_pem_x509_crl(engine.outputs()["crlPem"].encode())


@pytest.fixture(scope="module")
def deployed(engine: Engine) -> Engine:
    authority = make_authority("Engine Clients CA")
    engine.run("config", "set", "caCertificate", "--", authority.certificate_pem)
    engine.run("config", "set", "--secret", "caPrivateKey", "--", authority.private_key_pem)
    engine.run("config", "set", "--path", "revoked[0].serialNumber", "4242")
    engine.run("up", "--yes", "--skip-preview")
    return engine


def test_up_issues_the_crl(deployed: Engine) -> None:
    crl = _crl(deployed)
    assert [entry.serial_number for entry in crl] == [4242]
    assert deployed.outputs()["crlNumber"] == 1


def test_second_preview_shows_no_changes(deployed: Engine) -> None:
    deployed.run("preview", "--expect-no-changes")


def test_state_holds_no_plaintext_private_key(deployed: Engine) -> None:
    exported = deployed.run("stack", "export").stdout
    assert "PRIVATE KEY" not in exported
    resources = json.loads(exported)["deployment"]["resources"]
    (crl,) = [r for r in resources if r["type"] == CRL_TYPE]
    assert crl["inputs"]["issuer_private_key_pem"]["4dabf18193072939515e22adb298388d"] == (
        "1b47061264138c4ac30d75fd1eb44270"
    )


def test_revoking_a_serial_updates_exactly_the_crl(deployed: Engine) -> None:
    deployed.run("config", "set", "--path", "revoked[1].serialNumber", "4343")
    deployed.run("config", "set", "--path", "revoked[1].reason", "keyCompromise")
    preview: dict[str, Any] = json.loads(deployed.run("preview", "--json").stdout)
    changed = [
        (step["op"], step["urn"].rsplit("::", 2)[1].split("$")[-1])
        for step in preview["steps"]
        if step["op"] != "same"
    ]
    assert changed == [("update", CRL_TYPE)]


def test_up_reissues_with_the_next_crl_number(deployed: Engine) -> None:
    deployed.run("up", "--yes", "--skip-preview")
    crl = _crl(deployed)
    assert sorted(entry.serial_number for entry in crl) == [4242, 4343]
    assert deployed.outputs()["crlNumber"] == 2
    deployed.run("preview", "--expect-no-changes")


def test_a_new_renewal_generation_replaces_what_it_triggers(deployed: Engine) -> None:
    deployed.run("config", "set", "serverValidityDays", "60")
    preview: dict[str, Any] = json.loads(deployed.run("preview", "--json").stdout)
    changed = sorted(
        (step["op"], step["urn"].rsplit("::", 1)[1])
        for step in preview["steps"]
        if step["op"] not in ("same",)
    )
    assert ("update", "server-renewal") in changed
    assert ("replace", "key-stand-in") in changed
    assert {name for _, name in changed} == {"server-renewal", "key-stand-in"}
    deployed.run("up", "--yes", "--skip-preview")
    assert deployed.outputs()["renewalGeneration"] == 2
    deployed.run("preview", "--expect-no-changes")


def test_destroy_removes_everything(deployed: Engine) -> None:
    deployed.run("destroy", "--yes", "--skip-preview")
    resources = (
        json.loads(deployed.run("stack", "export").stdout)["deployment"].get("resources") or []
    )
    assert [r["type"] for r in resources if r["type"] != "pulumi:pulumi:Stack"] == []
