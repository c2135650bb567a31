"""Imported CAs, several groups per identity, client bundles and Kubernetes API users, under the
real engine and plugins, against the local API server, whose own CA (`--client-ca-file`) is
the imported `kubernetesApi.ca`.

The tests run in order on one stack: a plaintext key refused at preview, the keys set as
secrets, up, a clean second preview, kubectl with each generated kubeconfig, the bundles
opened by cryptography, OpenSSL and keytool, the ingress served by nginx and called with the
bundle's own curl command, and a user's revocation."""

from __future__ import annotations

import base64
import json
import shlex
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from cryptography import x509
from cryptography.x509.oid import NameOID

from localkube.cluster import LocalCluster
from localkube.engine import Engine, toolchain_bin
from localkube.objects import install_backend
from support.mock_runtime import PROJECT_DIR
from support.pki_material import Authority, issue_client, make_authority
from tests.conformance.site import serve
from tests.engine.conftest import deployed
from tests.engine.live import changed_resources, preview_steps, served
from tests.x509_assertions import assert_pkcs12_opens, openssl_verify

DEV = yaml.safe_load((PROJECT_DIR / "Pulumi.dev.yaml").read_text())["config"]
NAMESPACE = "kubernetes-api-users"
BINDING = "kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding"


@pytest.fixture(scope="module")
def client_ca() -> Authority:
    """The CA that `pki.clientCa` imports: an existing one, made outside the stack."""
    return make_authority("Imported Clients CA")


@pytest.fixture(scope="module")
def stack(
    tmp_path_factory: pytest.TempPathFactory, cluster: LocalCluster, client_ca: Authority
) -> Iterator[Engine]:
    root = tmp_path_factory.mktemp("kubernetes-api")
    document: dict[str, Any] = {key.split(":", 1)[1]: value for key, value in DEV.items()}
    document["namespace"] = NAMESPACE
    pki = document["pki"]
    pki["clientCa"] = {"certificate": client_ca.certificate_pem}
    pki["clients"] = [
        {"name": "checkout", "organizations": ["payments-writers"]},
        {"name": "reporting", "organizations": ["payments-readers", "finance"]},
    ]
    pki["revokedSerials"] = []
    document["ingress"].pop("matchCn")
    # The stack of test_stack_engine owns the controller ConfigMap's keys on the same cluster.
    document["controller"] = {"manage": "none"}
    document["kubernetesApi"] = {
        "server": cluster.server,
        "clusterName": "local",
        "ca": {"certificate": (cluster.directory / "pki" / "ca.crt").read_text()},
        "users": [
            {
                "name": "alice",
                "groups": ["dev", "system:authenticated-readers"],
                "validityDays": 20,
                "renewBeforeDays": 5,
                "clusterRoles": ["view"],
            },
            {"name": "bob", "groups": ["ops"], "validityDays": 20, "clusterRoles": ["edit"]},
        ],
    }
    install_backend(cluster.client(), NAMESPACE, "payments-api", 8080)
    with deployed(root, cluster, document, up=False) as engine:
        yield engine


def _set_key(engine: Engine, path: str, pem: str, *, secret: bool) -> None:
    """`pulumi config set [--secret] --path PATH < key.pem`, as the README tells."""
    flags = ["--secret"] if secret else ["--plaintext"]
    subprocess.run(
        ["pulumi", "--non-interactive", "config", "set", *flags, "--path", f"mtls-ingress:{path}"],
        input=pem,
        cwd=engine.program,
        env=engine.environment,
        capture_output=True,
        text=True,
        check=True,
    )


def _kubectl(kubeconfig: Path, *arguments: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(toolchain_bin() / "kubectl"), f"--kubeconfig={kubeconfig}", *arguments],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def _kubeconfig(directory: Path, name: str, text: str) -> Path:
    path = directory / f"{name}.kubeconfig"
    path.write_text(text)
    path.chmod(0o600)
    return path


def test_a_plaintext_key_fails_the_preview_naming_the_field(
    stack: Engine, cluster: LocalCluster, client_ca: Authority
) -> None:
    cluster_key = (cluster.directory / "pki" / "ca.key").read_text()
    _set_key(stack, "kubernetesApi.ca.privateKey", cluster_key, secret=False)
    _set_key(stack, "pki.clientCa.privateKey", client_ca.private_key_pem, secret=True)
    completed = stack.run("preview", check=False)
    output = completed.stdout + completed.stderr
    assert completed.returncode != 0
    assert "kubernetesApi.ca.privateKey: must be a secret" in output, output
    assert "pulumi config set --secret --path kubernetesApi.ca.privateKey" in output
    assert "pki.clientCa.privateKey" not in output
    assert "Traceback" not in output
    assert "BEGIN" not in output, "the message must not repeat the key"


def test_with_secret_keys_a_new_stack_previews_and_deploys(
    stack: Engine, cluster: LocalCluster
) -> None:
    cluster_key = (cluster.directory / "pki" / "ca.key").read_text()
    _set_key(stack, "kubernetesApi.ca.privateKey", cluster_key, secret=True)
    stack.run("preview", "--diff")
    stack.run("up", "--yes", "--skip-preview")
    stack.run("preview", "--expect-no-changes")


def test_imported_cas_are_not_resources_of_the_stack(stack: Engine) -> None:
    state = json.loads(stack.run("stack", "export").stdout)
    names = {resource["urn"].rsplit("::", 1)[1] for resource in state["deployment"]["resources"]}
    assert "mtls-ingress-client-ca" in names and "mtls-ingress-kubernetes-ca" in names
    assert not any(
        name.startswith(("mtls-ingress-client-ca-key", "mtls-ingress-client-ca-cert"))
        for name in names
    )
    assert not any(name.startswith("mtls-ingress-kubernetes-ca-") for name in names)
    assert "PRIVATE KEY" not in stack.run("stack", "export").stdout


def test_each_kubeconfig_authenticates_its_user_with_its_groups(
    stack: Engine, cluster: LocalCluster, tmp_path: Path
) -> None:
    cluster_ca = (cluster.directory / "pki" / "ca.crt").read_text()
    kubeconfigs = stack.outputs(show_secrets=True)["kubeconfigs"]
    assert set(kubeconfigs) == {"alice", "bob"}
    for name, groups in (("alice", {"dev", "system:authenticated-readers"}), ("bob", {"ops"})):
        config = yaml.safe_load(kubeconfigs[name])
        assert config["current-context"] == f"{name}@local"
        completed = _kubectl(
            _kubeconfig(tmp_path, name, kubeconfigs[name]), "auth", "whoami", "-o", "json"
        )
        assert completed.returncode == 0, completed.stderr
        user = json.loads(completed.stdout)["status"]["userInfo"]
        assert user["username"] == name
        assert set(user["groups"]) == groups | {"system:authenticated"}
        chain = base64.b64decode(config["users"][0]["user"]["client-certificate-data"]).decode()
        verified = openssl_verify(chain, cluster_ca, purpose="sslclient")
        assert verified.returncode == 0, verified.stdout + verified.stderr


def test_cluster_roles_decide_what_a_user_may_do(stack: Engine, tmp_path: Path) -> None:
    alice = _kubeconfig(tmp_path, "alice", stack.outputs(show_secrets=True)["kubeconfigs"]["alice"])
    assert _kubectl(alice, "auth", "can-i", "get", "pods").stdout.strip() == "yes"
    assert _kubectl(alice, "auth", "can-i", "create", "secrets").stdout.strip() == "no"
    assert _kubectl(alice, "get", "pods", "-A").returncode == 0


def test_a_certificate_from_a_foreign_ca_is_refused(stack: Engine, tmp_path: Path) -> None:
    foreign = make_authority("Someone Else's CA")
    certificate, key = issue_client(foreign.certificate, foreign.key, "alice")
    config = yaml.safe_load(stack.outputs(show_secrets=True)["kubeconfigs"]["alice"])
    user = config["users"][0]["user"]
    user["client-certificate-data"] = base64.b64encode(certificate.encode()).decode()
    user["client-key-data"] = base64.b64encode(key.encode()).decode()
    completed = _kubectl(_kubeconfig(tmp_path, "foreign", yaml.safe_dump(config)), "auth", "whoami")
    assert completed.returncode != 0
    assert "Unauthorized" in completed.stderr, completed.stderr


def test_several_groups_are_all_organizations_of_the_certificate(stack: Engine) -> None:
    outputs = stack.outputs(show_secrets=True)
    certificate = x509.load_pem_x509_certificate(
        outputs["clientCertificates"]["reporting"]["certificate"].encode()
    )
    subject = certificate.subject
    organizations = [a.value for a in subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)]
    assert sorted(organizations) == ["finance", "payments-readers"]
    # pulumi-tls re-encodes the request's subject with Go's pkix.Name: the request's two O
    # attributes become one RDN holding both (see README, "Several groups per identity").
    with_organizations = [
        rdn for rdn in subject.rdns if rdn.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)
    ]
    assert [len(rdn) for rdn in with_organizations] == [2]


def test_every_bundle_opens_with_its_password(stack: Engine, client_ca: Authority) -> None:
    bundles = stack.outputs(show_secrets=True)["clientBundles"]
    assert set(bundles) == {"checkout", "reporting"}
    fields = {"certificate", "chain", "privateKey", "pkcs12", "pkcs12Password", "curl"}
    for name, bundle in bundles.items():
        assert set(bundle) == fields
        assert_pkcs12_opens(base64.b64decode(bundle["pkcs12"]), bundle["pkcs12Password"], name)
        verified = openssl_verify(bundle["chain"], client_ca.certificate_pem, purpose="sslclient")
        assert verified.returncode == 0, verified.stdout + verified.stderr


def test_the_bundles_curl_command_calls_the_ingress(
    stack: Engine, cluster: LocalCluster, client_ca: Authority
) -> None:
    outputs = stack.outputs(show_secrets=True)
    declared = served(
        cluster.client(),
        NAMESPACE,
        "payments-api",
        outputs,
        client_ca=(client_ca.certificate_pem, client_ca.private_key_pem),
    )
    with serve(declared) as site:
        assert site.get(None).status == 400
        for name, bundle in outputs["clientBundles"].items():
            # The files the command names, written as the README tells.
            site.file("server-ca.crt", outputs["serverCaCertificate"])
            site.file(f"{name}.crt", bundle["chain"])
            site.file(f"{name}.key", bundle["privateKey"])
            command = [
                *shlex.split(bundle["curl"]),
                *("--connect-to", f"{site.host}:443:127.0.0.1:{site.port}"),
                *("--silent", "--output", "/dev/null", "--write-out", "%{http_code}"),
            ]
            completed = subprocess.run(
                command, cwd=site.directory, capture_output=True, text=True, check=False
            )
            assert completed.stdout == "200", (name, completed.stdout, completed.stderr)


def test_revoking_a_user_removes_its_kubeconfig_and_bindings(stack: Engine, tmp_path: Path) -> None:
    bob = _kubeconfig(tmp_path, "bob", stack.outputs(show_secrets=True)["kubeconfigs"]["bob"])
    assert _kubectl(bob, "auth", "can-i", "create", "deployments").stdout.strip() == "yes"
    stack.run("config", "set", "--path", "mtls-ingress:kubernetesApi.users[1].revoked", "true")
    assert preview_steps(stack) == [("delete", BINDING, "mtls-ingress-kubernetes-api-bob-edit")]
    stack.run("up", "--yes", "--skip-preview")
    outputs = stack.outputs(show_secrets=True)
    assert set(outputs["kubeconfigs"]) == {"alice"}
    assert set(outputs["kubernetesApiRevokedSerials"]) == {"bob"}
    assert _kubectl(bob, "auth", "can-i", "create", "deployments").stdout.strip() == "no"
    # The API server reads no CRL: the certificate still authenticates until it expires.
    whoami = _kubectl(bob, "auth", "whoami", "-o", "json")
    assert json.loads(whoami.stdout)["status"]["userInfo"]["username"] == "bob"
    stack.run("preview", "--expect-no-changes")


def test_a_due_user_renewal_replaces_its_key_and_certificate(stack: Engine, tmp_path: Path) -> None:
    # alice: 20 days, renewed 5 before the end, so due after 15 days; bob is revoked, and his
    # schedule paused. The Python program runs 16 days on (faketime), the tls provider now.
    before = stack.outputs(show_secrets=True)["kubeconfigs"]["alice"]
    later = [shutil.which("faketime") or "faketime", "-f", "+16d"]
    assert changed_resources(stack, wrapper=later) == [
        ("replace", "mtls-ingress-kubernetes-api-alice-cert"),
        ("replace", "mtls-ingress-kubernetes-api-alice-key"),
        ("update", "mtls-ingress-kubernetes-api-alice-csr"),
        ("update", "mtls-ingress-kubernetes-api-alice-renewal"),
    ]
    # 16 days on, the 30-day cluster CA has 13 left: alice's 20 days outlast it.
    preview = stack.run("preview", wrapper=later)
    assert "kubernetesApi.users[0].validityDays: 20 days outlast the imported" in preview.stdout
    stack.run("up", "--yes", "--skip-preview", wrapper=later)
    after = stack.outputs(show_secrets=True)["kubeconfigs"]["alice"]
    assert after != before
    whoami = _kubectl(_kubeconfig(tmp_path, "alice", after), "auth", "whoami", "-o", "json")
    assert json.loads(whoami.stdout)["status"]["userInfo"]["username"] == "alice"
