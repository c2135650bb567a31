"""Client shards under the real engine: the stack that holds the client CA (`pki.clientShards`)
and a shard stack (`issuerStack`) of the same project in one backend, the shard signing with
the CA it reads through a StackReference, and a revocation in the shard reaching the CRL that
nginx enforces once the CA's stack is updated, as README, "Large stacks" describes."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from cryptography import x509

from localkube.engine import Engine, new_engine, project_program
from localkube.nginx import serving
from localkube.objects import with_string_data
from support.stack_configs import minimal_config
from tests.conformance.site import LiveSite
from tests.engine.live import changed_resources, preview_steps, rendered_objects

ISSUER = "organization/mtls-ingress/prod"
SHARD = "organization/mtls-ingress/fleet-a"


@dataclass
class Stacks:
    main: Engine
    shard: Engine
    rendered: Path


def _main_config(shards: list[str]) -> dict[str, Any]:
    config = minimal_config()
    config["pki"]["clientCa"] = {"commonName": "Apps Clients CA"}
    config["pki"]["clientShards"] = shards
    return config


def _shard_config(revoked: bool = False) -> dict[str, Any]:
    clients: list[dict[str, Any]] = [{"name": "carol"}, {"name": "dave", "organizations": ["ops"]}]
    if revoked:
        clients[1] |= {"revoked": True, "revocationReason": "keyCompromise"}
    return {"issuerStack": ISSUER, "pki": {"clients": clients}}


def _write_config(engine: Engine, stack: str, document: dict[str, Any], rendered: Path) -> None:
    config = {f"mtls-ingress:{key}": value for key, value in document.items()}
    if "issuerStack" not in document:
        config["kubernetes:renderYamlToDirectory"] = str(rendered)
    (engine.program / f"Pulumi.{stack}.yaml").write_text(yaml.safe_dump({"config": config}))


@pytest.fixture(scope="module")
def stacks(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stacks]:
    root = tmp_path_factory.mktemp("shards")
    rendered = root / "rendered"
    main = new_engine(
        root,
        project_program(
            root,
            _main_config([]),
            stack="prod",
            provider_config={"kubernetes:renderYamlToDirectory": str(rendered)},
        ),
        "prod",
    )
    # The same project in a directory of its own, so that each has its own selected stack.
    shard_program = root / "shard-program"
    shutil.copytree(main.program, shard_program)
    (shard_program / "Pulumi.prod.yaml").unlink()
    shard = Engine(shard_program, main.environment)
    _write_config(shard, "fleet-a", _shard_config(), rendered)
    shard.run("stack", "init", "fleet-a")
    yield Stacks(main, shard, rendered)
    for engine in (shard, main):
        engine.run("destroy", "--yes", "--skip-preview", check=False)


def _rendered_site(directory: Path) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """The rendered Ingress and its Secrets, as ingress-nginx would read them."""
    documents = rendered_objects(directory)
    (ingress,) = [d for d in documents if d["kind"] == "Ingress"]
    secrets = {
        d["metadata"]["name"]: with_string_data(d) for d in documents if d["kind"] == "Secret"
    }
    return ingress, secrets


def _statuses(stacks: Stacks, clients: dict[str, dict[str, str]]) -> dict[str, int]:
    """The status nginx, serving the rendered objects, gives each client's curl command."""
    main_outputs = stacks.main.outputs(show_secrets=True)
    ingress, secrets = _rendered_site(stacks.rendered)
    statuses = {}
    with (
        tempfile.TemporaryDirectory(prefix="mtls-shards-") as scratch,
        serving(ingress=ingress, secrets=secrets, controller_data={}, directory=Path(scratch)) as (
            site,
            port,
        ),
    ):
        live = LiveSite(Path(scratch), site.host, port, main_outputs["serverCaCertificate"])
        for name, bundle in clients.items():
            statuses[name] = live.get((bundle["chain"], bundle["privateKey"])).status
    return statuses


def test_the_ca_stack_exports_its_issuer_for_shards(stacks: Stacks) -> None:
    stacks.main.run("up", "--yes", "--skip-preview")
    issuer = stacks.main.outputs(show_secrets=True)["clientIssuer"]
    assert set(issuer) == {"certificate", "privateKey", "intermediates", "trustBundle"}
    assert (
        "Apps Clients CA"
        in x509.load_pem_x509_certificate(issuer["certificate"].encode()).subject.rfc4514_string()
    )
    exported = stacks.main.run("stack", "export").stdout
    assert "PRIVATE KEY" not in exported  # the issuer's key is a secret in the state too


def test_a_new_shard_previews_then_deploys_and_previews_clean(stacks: Stacks) -> None:
    steps = preview_steps(stacks.shard)
    created = {(operation, kind) for operation, kind, _ in steps}
    assert ("create", "mtls:index:ClientShard") in created
    assert ("create", "tls:index/locallySignedCert:LocallySignedCert") in created
    stacks.shard.run("up", "--yes", "--skip-preview")
    stacks.shard.run("preview", "--expect-no-changes")
    outputs = stacks.shard.outputs(show_secrets=True)
    assert set(outputs["clientCertificates"]) == {"carol", "dave"}
    assert outputs["clientRevocations"] == []
    assert "PRIVATE KEY" not in stacks.shard.run("stack", "export").stdout


def test_shard_certificates_chain_to_the_ca_of_the_stack_it_names(stacks: Stacks) -> None:
    issuer = stacks.main.outputs(show_secrets=True)["clientIssuer"]
    shard = stacks.shard.outputs(show_secrets=True)
    with tempfile.TemporaryDirectory() as scratch:
        ca = Path(scratch) / "ca.crt"
        ca.write_text(issuer["trustBundle"])
        for name, summary in shard["clientCertificates"].items():
            leaf = Path(scratch) / f"{name}.crt"
            leaf.write_text(summary["certificate"])
            verify = ["openssl", "verify", "-x509_strict", "-purpose", "sslclient"]
            result = subprocess.run(
                [*verify, "-CAfile", str(ca), str(leaf)], capture_output=True, text=True
            )
            assert result.returncode == 0, result.stderr
    assert "https://app.example.com/" in shard["clientBundles"]["carol"]["curl"]


def test_listing_the_shard_changes_nothing_until_it_revokes(stacks: Stacks) -> None:
    _write_config(stacks.main, "prod", _main_config([SHARD]), stacks.rendered)
    stacks.main.run("preview", "--expect-no-changes")
    stacks.main.run("up", "--yes", "--skip-preview")
    shard_bundles = stacks.shard.outputs(show_secrets=True)["clientBundles"]
    main_bundles = stacks.main.outputs(show_secrets=True)["clientBundles"]
    statuses = _statuses(stacks, {**shard_bundles, **main_bundles})
    assert statuses == {"carol": 200, "dave": 200, "alice": 200}


def test_a_shard_revocation_reaches_the_crl_on_the_ca_stacks_next_up(stacks: Stacks) -> None:
    before = stacks.shard.outputs(show_secrets=True)
    dave = before["clientBundles"]["dave"]
    _write_config(stacks.shard, "fleet-a", _shard_config(revoked=True), stacks.rendered)
    # In the shard: the bundle leaves; the certificate stays, so its serial stays listable.
    assert changed_resources(stacks.shard) == [
        ("delete", "mtls-ingress-client-dave-pkcs12"),
    ]
    stacks.shard.run("up", "--yes", "--skip-preview")
    serial = before["clientCertificates"]["dave"]["serialNumber"]
    assert stacks.shard.outputs(show_secrets=True)["clientRevocations"] == [
        {"serialNumber": serial, "reason": "keyCompromise"}
    ]
    # The CA's stack re-issues its CRL, and the Secret nginx reads takes it.
    assert changed_resources(stacks.main) == [
        ("update", "mtls-ingress-client-ca-bundle-secret"),
        ("update", "mtls-ingress-client-ca-revocations-crl"),
    ]
    stacks.main.run("up", "--yes", "--skip-preview")
    stacks.main.run("preview", "--expect-no-changes")
    crl = x509.load_pem_x509_crl(stacks.main.outputs(show_secrets=True)["clientCrl"].encode())
    assert [entry.serial_number for entry in crl] == [int(serial)]
    statuses = _statuses(
        stacks,
        {"dave": dave, "carol": stacks.shard.outputs(show_secrets=True)["clientBundles"]["carol"]},
    )
    assert statuses == {"dave": 400, "carol": 200}


def test_a_shard_refuses_keys_of_the_ca_stack_at_preview(stacks: Stacks) -> None:
    document = _shard_config() | {"host": "app.example.com"}
    document["pki"] = document["pki"] | {"clientCa": {"commonName": "Another CA"}}
    _write_config(stacks.shard, "fleet-a", document, stacks.rendered)
    try:
        failed = stacks.shard.run("preview", check=False)
    finally:
        _write_config(stacks.shard, "fleet-a", _shard_config(revoked=True), stacks.rendered)
    assert failed.returncode != 0
    assert "invalid mtls-ingress client shard configuration: 2 problems" in failed.stdout
    assert "host: unknown key" in failed.stdout
    assert "pki.clientCa: unknown key" in failed.stdout
    assert "Traceback" not in failed.stdout + failed.stderr


def test_turning_bundles_off_deletes_only_the_pkcs12_files(stacks: Stacks) -> None:
    document = _shard_config(revoked=True)
    document["pki"]["clientBundles"] = False
    _write_config(stacks.shard, "fleet-a", document, stacks.rendered)
    assert changed_resources(stacks.shard) == [("delete", "mtls-ingress-client-carol-pkcs12")]
    stacks.shard.run("up", "--yes", "--skip-preview")
    outputs = stacks.shard.outputs(show_secrets=True)
    assert "clientBundles" not in outputs
    assert set(outputs["clientCertificates"]) == {"carol"}
    stacks.shard.run("preview", "--expect-no-changes")
