"""CA rotation in phases under the real engine and plugins, against the local API server, the
served objects read back and served by nginx after each phase: the client CA and the server CA
are rotated together, as `Pulumi.dev.yaml` would be.

In order: up; introduce (clients of the current CA and of the next one get 200); issue (the
handed-out certificates come from the next CA, the current CA's ones still get 200, a client
revoked now is listed by both CAs); retire (the current CA's certificates get 400); and the
move of `next` into the CA entries, which previews with no changes."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import yaml
from cryptography import x509

from localkube.cluster import LocalCluster
from localkube.engine import Engine, exported_state
from localkube.objects import install_backend, read_served
from localkube.state import key_pair
from support.mock_runtime import PROJECT_DIR
from support.pki_material import issue_client, load_authority
from tests.conformance.site import Declared, serve
from tests.engine.conftest import deployed
from tests.engine.live import preview_steps

DEV = yaml.safe_load((PROJECT_DIR / "Pulumi.dev.yaml").read_text())["config"]
NAMESPACE = "rotation"
INGRESS = "payments-api"
NEXT = {
    "clientCa": {"commonName": "Payments Client CA 2027", "organization": "Example Corp"},
    "serverCa": {"commonName": "Payments Server CA 2027", "organization": "Example Corp"},
}
CA = "mtls:index:CertificateAuthority"
CLIENT = "mtls:index:ClientCertificate"
CRL_LIST = "mtls:index:RevocationList"
KEY = "tls:index/privateKey:PrivateKey"
SELF_SIGNED = "tls:index/selfSignedCert:SelfSignedCert"
SIGNED = "tls:index/locallySignedCert:LocallySignedCert"
REQUEST = "tls:index/certRequest:CertRequest"
SECRET = "kubernetes:core/v1:Secret"
CRL = "pulumi-python:dynamic/mtls:SignedCrl"
RENEWAL = "pulumi-python:dynamic/mtls:RenewalSchedule"
BUNDLE = "pulumi-python:dynamic/mtls:ClientBundle"
CLIENTS = ("checkout", "reporting", "legacy-batch")
ACTIVE = ("checkout", "reporting")
# The resources behind one client certificate, by type and name suffix.
LEAF = ((CLIENT, ""), (KEY, "-key"), (REQUEST, "-csr"), (SIGNED, "-cert"), (RENEWAL, "-renewal"))


def _client_steps(operation: str, generation: str = "") -> list[tuple[str, str, str]]:
    """The preview step `operation` on every resource of each client's certificate from the
    CA of `generation` ("" for the current one, "-next")."""
    return [
        (operation, kind, f"mtls-ingress-client-{client}{generation}{suffix}")
        for client in CLIENTS
        for kind, suffix in LEAF
    ]


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory, cluster: LocalCluster) -> Iterator[Engine]:
    document: dict[str, Any] = {key.split(":", 1)[1]: value for key, value in DEV.items()}
    document["namespace"] = NAMESPACE
    # The stack of test_stack_engine owns the controller ConfigMap's keys on the same cluster.
    document["controller"] = {"manage": "none"}
    # matchCn names the clients by CN; the one minted below under the next CA is another.
    document["ingress"].pop("matchCn")
    install_backend(cluster.client(), NAMESPACE, INGRESS, 8080)
    with deployed(tmp_path_factory.mktemp("rotation"), cluster, document) as engine:
        yield engine


def _rotate(engine: Engine, phase: str) -> None:
    """`pulumi config set --path` of each CA's rotation, as the README tells."""
    for side, next_ca in NEXT.items():
        key = f"mtls-ingress:pki.{side}.rotation"
        engine.run("config", "set", "--path", f"{key}.phase", phase)
        for field, value in next_ca.items():
            engine.run("config", "set", "--path", f"{key}.next.{field}", value)


def _up_and_settled(engine: Engine) -> dict[str, Any]:
    """`pulumi up`, then a second preview that must show no changes; the stack's outputs,
    secrets shown."""
    engine.run("up", "--yes", "--skip-preview")
    engine.run("preview", "--expect-no-changes")
    return engine.outputs(show_secrets=True)


def _declared(engine: Engine, cluster: LocalCluster) -> Declared:
    ingress, secrets, controller_data = read_served(cluster.client(), NAMESPACE, INGRESS)
    return Declared(
        ingress=ingress,
        secrets=secrets,
        controller_data=controller_data,
        outputs=engine.outputs(show_secrets=True),
        client_ca_certificate_pem="",
        client_ca_private_key_pem="",
        revoked_clients={},
    )


def _minted_by(engine: Engine, authority: str, common_name: str) -> tuple[str, str]:
    """A client certificate signed outside the stack by one of its CAs, read from the state."""
    ca = load_authority(*key_pair(exported_state(engine), authority))
    return issue_client(ca.certificate, ca.key, common_name)


def _statuses(
    engine: Engine, cluster: LocalCluster, credentials: dict[str, tuple[str, str]]
) -> dict[str, int]:
    with serve(_declared(engine, cluster)) as site:
        return {name: site.get(pair).status for name, pair in credentials.items()}


def _issuers(pem_bundle: str) -> list[str]:
    return [
        c.subject.rfc4514_string() for c in x509.load_pem_x509_certificates(pem_bundle.encode())
    ]


def test_introduce_trusts_both_client_cas_while_the_current_one_issues(
    stack: Engine, cluster: LocalCluster
) -> None:
    _rotate(stack, "introduce")
    assert preview_steps(stack) == [
        ("create", CA, "mtls-ingress-client-ca-next"),
        ("create", CA, "mtls-ingress-server-ca-next"),
        ("create", CRL_LIST, "mtls-ingress-client-ca-next-revocations"),
        ("create", CRL, "mtls-ingress-client-ca-next-revocations-crl"),
        ("create", KEY, "mtls-ingress-client-ca-next-key"),
        ("create", KEY, "mtls-ingress-server-ca-next-key"),
        ("create", SELF_SIGNED, "mtls-ingress-client-ca-next-cert"),
        ("create", SELF_SIGNED, "mtls-ingress-server-ca-next-cert"),
        ("update", SECRET, "mtls-ingress-client-ca-bundle-secret"),
    ]
    outputs = _up_and_settled(stack)
    assert len(_issuers(outputs["serverCaCertificate"])) == 2
    assert len(_issuers(outputs["clientCaBundle"])) == 2
    exported = exported_state(stack)
    statuses = _statuses(
        stack,
        cluster,
        {
            "checkout": key_pair(exported, "mtls-ingress-client-checkout"),
            "minted by the next CA": _minted_by(stack, "mtls-ingress-client-ca-next", "partner"),
            "revoked": key_pair(exported, "mtls-ingress-client-legacy-batch"),
        },
    )
    assert statuses == {"checkout": 200, "minted by the next CA": 200, "revoked": 400}


def test_issue_hands_out_the_next_cas_certificates_and_both_are_accepted(
    stack: Engine, cluster: LocalCluster
) -> None:
    _rotate(stack, "issue")
    assert preview_steps(stack) == sorted(
        [
            *_client_steps("create", "-next"),
            *(("create", BUNDLE, f"mtls-ingress-client-{c}-next-pkcs12") for c in ACTIVE),
            *(("delete", BUNDLE, f"mtls-ingress-client-{c}-pkcs12") for c in ACTIVE),
            ("replace", SIGNED, "mtls-ingress-server-cert"),
            ("update", SECRET, "mtls-ingress-client-ca-bundle-secret"),
            ("update", SECRET, "mtls-ingress-server-tls-secret"),
            # The revoked client's certificate from the next CA is listed at once.
            ("update", CRL, "mtls-ingress-client-ca-next-revocations-crl"),
        ]
    )
    outputs = _up_and_settled(stack)
    assert _issuers(outputs["serverCertificateChain"])[0].startswith("CN=api.payments")
    server = x509.load_pem_x509_certificate(outputs["serverCertificateChain"].encode())
    assert server.issuer.rfc4514_string() == "CN=Payments Server CA 2027,O=Example Corp"
    exported = exported_state(stack)
    statuses = _statuses(
        stack,
        cluster,
        {
            "checkout from the next CA": _handed_out(outputs, "checkout"),
            "checkout from the current CA": key_pair(exported, "mtls-ingress-client-checkout"),
            "revoked, from the current CA": key_pair(exported, "mtls-ingress-client-legacy-batch"),
            "revoked, from the next CA": key_pair(
                exported, "mtls-ingress-client-legacy-batch-next"
            ),
        },
    )
    assert statuses == {
        "checkout from the next CA": 200,
        "checkout from the current CA": 200,
        "revoked, from the current CA": 400,
        "revoked, from the next CA": 400,
    }


def test_a_client_revoked_during_the_rotation_is_listed_by_both_cas(
    stack: Engine, cluster: LocalCluster
) -> None:
    stack.run("config", "set", "--path", "mtls-ingress:pki.clients[1].revoked", "true")
    assert preview_steps(stack) == [
        ("delete", BUNDLE, "mtls-ingress-client-reporting-next-pkcs12"),
        ("update", SECRET, "mtls-ingress-client-ca-bundle-secret"),
        ("update", CRL, "mtls-ingress-client-ca-next-revocations-crl"),
        ("update", CRL, "mtls-ingress-client-ca-revocations-crl"),
    ]
    stack.run("up", "--yes", "--skip-preview")
    exported = exported_state(stack)
    old = key_pair(exported, "mtls-ingress-client-reporting")
    new = key_pair(exported, "mtls-ingress-client-reporting-next")
    listed = _crl_serials(stack.outputs(show_secrets=True)["clientCrl"])
    for certificate, _ in (old, new):
        serial = x509.load_pem_x509_certificate(certificate.encode()).serial_number
        issuer = x509.load_pem_x509_certificate(certificate.encode()).issuer.rfc4514_string()
        assert serial in listed[issuer]
    statuses = _statuses(stack, cluster, {"old": old, "new": new})
    assert statuses == {"old": 400, "new": 400}


def test_retire_removes_the_current_ca_and_its_certificates(
    stack: Engine, cluster: LocalCluster
) -> None:
    exported = exported_state(stack)
    old_checkout = key_pair(exported, "mtls-ingress-client-checkout")
    _rotate(stack, "retire")
    assert preview_steps(stack) == sorted(
        [
            *_client_steps("delete"),
            *(
                ("delete", kind, f"mtls-ingress-{side}-ca{suffix}")
                for side in ("client", "server")
                for kind, suffix in ((CA, ""), (KEY, "-key"), (SELF_SIGNED, "-cert"))
            ),
            ("delete", CRL_LIST, "mtls-ingress-client-ca-revocations"),
            ("delete", CRL, "mtls-ingress-client-ca-revocations-crl"),
            ("update", SECRET, "mtls-ingress-client-ca-bundle-secret"),
        ]
    )
    outputs = _up_and_settled(stack)
    assert _issuers(outputs["serverCaCertificate"]) == ["CN=Payments Server CA 2027,O=Example Corp"]
    assert _issuers(outputs["clientCaBundle"]) == ["CN=Payments Client CA 2027,O=Example Corp"]
    statuses = _statuses(
        stack,
        cluster,
        {
            "checkout": _handed_out(outputs, "checkout"),
            "checkout from the retired CA": old_checkout,
        },
    )
    assert statuses == {"checkout": 200, "checkout from the retired CA": 400}


def test_moving_next_into_the_ca_entries_changes_nothing(stack: Engine) -> None:
    for side, next_ca in NEXT.items():
        key = f"mtls-ingress:pki.{side}"
        stack.run("config", "rm", "--path", f"{key}.rotation")
        stack.run("config", "rm", "--path", f"{key}.validityDays")
        for field, value in next_ca.items():
            stack.run("config", "set", "--path", f"{key}.{field}", value)
    stack.run("preview", "--expect-no-changes")


def _handed_out(outputs: dict[str, Any], client: str) -> tuple[str, str]:
    return (
        outputs["clientCertificates"][client]["chain"],
        outputs["clientPrivateKeys"][client],
    )


def _crl_serials(bundle: str) -> dict[str, set[int]]:
    """The serials each CRL of a PEM bundle lists, by issuer."""
    marker = "-----END X509 CRL-----"
    lists = [block + marker for block in bundle.split(marker) if "BEGIN X509 CRL" in block]
    crls = [x509.load_pem_x509_crl(block.strip().encode()) for block in lists]
    return {crl.issuer.rfc4514_string(): {entry.serial_number for entry in crl} for crl in crls}
