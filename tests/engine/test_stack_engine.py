"""The whole program, `Pulumi.dev.yaml` as committed, under the real engine with the real
pulumi-tls and pulumi-kubernetes plugins, deployed to a local API server.

The tests run in order on one stack, as an operator would: preview a new stack, up, a clean
second preview, the deployed Secrets serving mTLS on nginx, a revocation, renewals at later
dates, a conflict with another field manager, destroy."""

from __future__ import annotations

import shutil
import subprocess
import urllib.error
from collections.abc import Iterator
from typing import Any

import pytest
import yaml
from cryptography import x509

from localkube.cluster import LocalCluster
from localkube.engine import Engine, exported_state
from localkube.objects import (
    CHART_CONFIG,
    CONTROLLER_CONFIG_MAP,
    CONTROLLER_NAMESPACE,
    install_backend,
    read_secret,
)
from localkube.state import key_pair
from support.mock_runtime import PROJECT_DIR
from tests.conformance.site import serve
from tests.engine.conftest import deployed
from tests.engine.live import (
    SECRET,
    changed_resources,
    live_declared,
    preview_steps,
    watching_secrets,
)

CRL = "pulumi-python:dynamic/mtls:SignedCrl"
RENEWAL = "pulumi-python:dynamic/mtls:RenewalSchedule"
BUNDLE = "pulumi-python:dynamic/mtls:ClientBundle"
DEV = yaml.safe_load((PROJECT_DIR / "Pulumi.dev.yaml").read_text())["config"]
NAMESPACE = DEV["mtls-ingress:namespace"]
BACKEND = DEV["mtls-ingress:ingress"]["backend"]
INGRESS = BACKEND["service"]  # ingress.name defaults to the backend service


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory, cluster: LocalCluster) -> Iterator[Engine]:
    """A new `dev` stack of the project's program, pointed at the local API server."""
    install_backend(cluster.client(), NAMESPACE, BACKEND["service"], BACKEND["port"])
    with deployed(tmp_path_factory.mktemp("stack"), cluster, up=False) as engine:
        yield engine


def _crl_serials(secret: dict[str, Any]) -> set[int]:
    crl = x509.load_pem_x509_crl(secret["stringData"]["ca.crl"].encode())
    return {entry.serial_number for entry in crl}


def test_a_new_stack_previews(stack: Engine) -> None:
    # The revoked client's serial is unknown until its certificate exists.
    completed = stack.run("preview", "--diff")
    assert "must be a decimal serial" not in completed.stdout + completed.stderr


def test_the_engine_finds_plugins_of_the_sdks_versions(stack: Engine) -> None:
    # A plugin whose version differs from its SDK's makes the engine warn on every run.
    completed = stack.run("preview")
    assert "warning" not in (completed.stdout + completed.stderr).lower(), completed.stdout


def test_up_deploys_the_stack(stack: Engine, cluster: LocalCluster) -> None:
    stack.run("up", "--yes", "--skip-preview")
    names = stack.outputs(show_secrets=True)["secretNames"]
    client = cluster.client()
    tls = read_secret(client, NAMESPACE, names["serverTls"])
    assert tls["type"] == "kubernetes.io/tls"
    ingress = client.get(f"/apis/networking.k8s.io/v1/namespaces/{NAMESPACE}/ingresses/{INGRESS}")
    assert ingress["spec"]["tls"][0]["secretName"] == names["serverTls"]
    annotations = ingress["metadata"]["annotations"]
    assert annotations["nginx.ingress.kubernetes.io/auth-tls-secret"] == (
        f"{NAMESPACE}/{names['clientCa']}"
    )


def test_a_second_preview_shows_no_changes(stack: Engine) -> None:
    stack.run("preview", "--expect-no-changes")


def test_the_state_holds_no_plaintext_private_key(stack: Engine) -> None:
    assert "PRIVATE KEY" not in stack.run("stack", "export").stdout


def test_the_deployed_secrets_enforce_mtls_on_nginx(stack: Engine, cluster: LocalCluster) -> None:
    declared = live_declared(cluster.client(), stack, NAMESPACE, INGRESS)
    with serve(declared) as site:
        assert site.get(None).status == 400
        for client in declared.outputs["clientCertificates"]:
            assert site.get(declared.client(client)).status == 200, client
        for client, credentials in declared.revoked_clients.items():
            assert site.get(credentials).status == 400, client


def test_a_revocation_updates_the_crl_and_its_secret_in_place(
    stack: Engine, cluster: LocalCluster
) -> None:
    before = stack.outputs(show_secrets=True)
    stack.run("config", "set", "--path", "mtls-ingress:pki.clients[0].revoked", "true")
    steps = preview_steps(stack)
    assert steps == [
        ("delete", BUNDLE, "mtls-ingress-client-checkout-pkcs12"),
        ("update", SECRET, "mtls-ingress-client-ca-bundle-secret"),
        ("update", CRL, "mtls-ingress-client-ca-revocations-crl"),
    ]
    client = cluster.client()
    with watching_secrets(client, NAMESPACE) as watch:
        stack.run("up", "--yes", "--skip-preview")
    assert watch.names("DELETED") == set()
    after = stack.outputs(show_secrets=True)
    assert after["secretNames"] == before["secretNames"]
    revoked_serial = int(after["revokedClientSerials"]["checkout"])
    client_ca = read_secret(client, NAMESPACE, after["secretNames"]["clientCa"])
    assert revoked_serial in _crl_serials(client_ca)
    stack.run("preview", "--expect-no-changes")
    declared = live_declared(client, stack, NAMESPACE, INGRESS)
    with serve(declared) as site:
        assert site.get(declared.revoked_clients["checkout"]).status == 400


def _faketime(days: int) -> list[str]:
    """`pulumi` under Debian's faketime, `days` from now: the Python program and the dynamic
    providers see that date; the engine and the Go plugins read the clock without libc and
    keep the real one (certificates are still issued from today)."""
    return [shutil.which("faketime") or "faketime", "-f", f"+{days}d"]


def _run_at(stack: Engine, days: int, *arguments: str) -> subprocess.CompletedProcess[str]:
    return stack.run(*arguments, wrapper=_faketime(days))


def _serves_at(stack: Engine, cluster: LocalCluster, days: int) -> None:
    """The deployed objects served by nginx `days` from now (on the clock the CRLs were
    issued with): every client gets 200, every revoked client 400."""
    declared = live_declared(cluster.client(), stack, NAMESPACE, INGRESS)
    with serve(declared, wrapper=_faketime(days)) as site:
        for client in declared.outputs["clientCertificates"]:
            assert site.get(declared.client(client)).status == 200, (days, client)
        for client, credentials in declared.revoked_clients.items():
            assert site.get(credentials).status == 400, (days, client)


def test_a_day_later_nothing_changes(stack: Engine) -> None:
    _run_at(stack, 1, "preview", "--expect-no-changes")


def test_inside_the_crl_window_only_the_crl_and_its_secret_are_updated(
    stack: Engine, cluster: LocalCluster
) -> None:
    # The CRL (30 days, re-issued 7 days before) is due after 23 days; no certificate is.
    assert changed_resources(stack, wrapper=_faketime(24)) == [
        ("update", "mtls-ingress-client-ca-bundle-secret"),
        ("update", "mtls-ingress-client-ca-revocations-crl"),
    ]
    with watching_secrets(cluster.client(), NAMESPACE) as watch:
        _run_at(stack, 24, "up", "--yes", "--skip-preview")
    assert watch.names("DELETED") == set()
    _serves_at(stack, cluster, 24)


def test_a_due_client_renewal_replaces_just_its_key_and_certificate(
    stack: Engine, cluster: LocalCluster
) -> None:
    # reporting: 90 days, renewed 14 days before the end, so due after 76 days; the others
    # are not due yet. The CRL (30 days, refreshed 7 days before) is due as well.
    before = key_pair(exported_state(stack), "mtls-ingress-client-reporting")
    assert changed_resources(stack, wrapper=_faketime(80)) == [
        ("replace", "mtls-ingress-client-reporting-cert"),
        ("replace", "mtls-ingress-client-reporting-csr"),
        ("replace", "mtls-ingress-client-reporting-key"),
        ("update", "mtls-ingress-client-ca-bundle-secret"),
        ("update", "mtls-ingress-client-ca-revocations-crl"),
        ("update", "mtls-ingress-client-reporting-pkcs12"),
        ("update", "mtls-ingress-client-reporting-renewal"),
    ]
    with watching_secrets(cluster.client(), NAMESPACE) as watch:
        _run_at(stack, 80, "up", "--yes", "--skip-preview")
    assert watch.names("DELETED") == set()
    after = key_pair(exported_state(stack), "mtls-ingress-client-reporting")
    assert after[0] != before[0] and after[1] != before[1]
    _serves_at(stack, cluster, 80)


def test_a_due_server_renewal_rewrites_the_tls_secret_in_place(
    stack: Engine, cluster: LocalCluster
) -> None:
    # The server certificate (365 days, renewed 30 days before) is due after 335 days; so are
    # the revoked clients' (180 days, 30 before), whose schedules are paused.
    client = cluster.client()
    revoked = stack.outputs(show_secrets=True)["revokedClientSerials"]
    names = stack.outputs(show_secrets=True)["secretNames"]
    old_chain = read_secret(client, NAMESPACE, names["serverTls"])["stringData"]["tls.crt"]
    with watching_secrets(client, NAMESPACE) as watch:
        _run_at(stack, 340, "up", "--yes", "--skip-preview")
    assert watch.names("DELETED") == set()
    assert names["serverTls"] in watch.names("MODIFIED")
    assert stack.outputs(show_secrets=True)["secretNames"] == names
    new_chain = read_secret(client, NAMESPACE, names["serverTls"])["stringData"]["tls.crt"]
    assert new_chain != old_chain
    assert new_chain == stack.outputs(show_secrets=True)["serverCertificateChain"]
    assert stack.outputs(show_secrets=True)["revokedClientSerials"] == revoked
    listed = _crl_serials(read_secret(client, NAMESPACE, names["clientCa"]))
    assert {int(serial) for serial in revoked.values()} <= listed
    # Not served by nginx 340 days on: pulumi-tls (a Go program) signs at the real time, which
    # faketime cannot move, so a client certificate renewed in this run (90 days from today)
    # has expired on that clock. The mocked year of runs (test_a_year_of_scheduled_runs) checks
    # such dates on one clock.


def test_a_key_owned_by_another_field_manager_fails_the_update(
    stack: Engine, cluster: LocalCluster
) -> None:
    path = f"/api/v1/namespaces/{CONTROLLER_NAMESPACE}/configmaps/{CONTROLLER_CONFIG_MAP}"
    client = cluster.client()
    manager = "helm"
    metadata = {"name": CONTROLLER_CONFIG_MAP, "namespace": CONTROLLER_NAMESPACE}
    taken = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": metadata,
        "data": {"ssl-protocols": "TLSv1.3"},
    }
    client.apply(f"{path}?fieldManager={manager}&force=true", taken)
    try:
        completed = stack.run("up", "--yes", "--skip-preview", "--refresh", check=False)
        assert completed.returncode != 0
        output = completed.stdout + completed.stderr
        assert "conflict" in output.lower(), output
        assert "ssl-protocols" in output, output
    finally:
        # The other manager lets go again; the stack's next update takes the key back.
        released = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": metadata}
        client.apply(f"{path}?fieldManager={manager}", released)
    stack.run("up", "--yes", "--skip-preview", "--refresh")


def test_destroy_leaves_the_charts_own_configmap_keys(stack: Engine, cluster: LocalCluster) -> None:
    stack.run("destroy", "--yes", "--skip-preview")
    client = cluster.client()
    data = client.get(
        f"/api/v1/namespaces/{CONTROLLER_NAMESPACE}/configmaps/{CONTROLLER_CONFIG_MAP}"
    ).get("data", {})
    assert data == dict(CHART_CONFIG)
    with pytest.raises(urllib.error.HTTPError) as missing:
        client.get(f"/apis/networking.k8s.io/v1/namespaces/{NAMESPACE}/ingresses/{INGRESS}")
    assert missing.value.code == 404
    secrets = client.get(f"/api/v1/namespaces/{NAMESPACE}/secrets")["items"]
    assert [s["metadata"]["name"] for s in secrets if "mtls-ingress" in s["metadata"]["name"]] == []
