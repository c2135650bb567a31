"""A stack whose CAs each have an intermediate (`pki.serverCa.intermediate`,
`pki.clientCa.intermediate`), served by a real nginx as ingress-nginx serves it: clients under
the two-level chain pass with the derived verify depth, and nginx wants a current CRL for
every CA of the chain, root and intermediate alike."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from cryptography import x509

from components.pki.crl import CrlProvider
from support.pki_material import issue_client, make_authority
from support.stack_configs import dev_config
from tests.conformance.site import Declared, LiveSite, declare, serve
from tests.x509_assertions import certificates

P = "nginx.ingress.kubernetes.io/"


def layered_config() -> dict[str, Any]:
    config = dev_config()
    config["pki"]["serverCa"]["intermediate"] = {"commonName": "Payments Server Issuing CA"}
    config["pki"]["clientCa"]["intermediate"] = {
        "commonName": "Payments Client Issuing CA",
        "validityDays": 1000,
    }
    return config


@pytest.fixture(scope="module")
def layered() -> Declared:
    return declare(layered_config())


@pytest.fixture(scope="module")
def site(layered: Declared) -> Iterator[LiveSite]:
    with serve(layered) as live:
        yield live


def _client_ca_secret(declared: Declared) -> str:
    return str(declared.ingress["metadata"]["annotations"][P + "auth-tls-secret"].split("/")[1])


def test_tls_crt_carries_the_intermediate_and_clients_trust_the_root(layered: Declared) -> None:
    chain = certificates(layered.outputs["serverCertificateChain"])
    root = x509.load_pem_x509_certificate(layered.outputs["serverCaCertificate"].encode())
    assert [c.issuer.rfc4514_string() for c in chain] == [
        "CN=Payments Server Issuing CA",
        root.subject.rfc4514_string(),
    ]
    assert root.issuer == root.subject


def test_ca_crt_holds_the_intermediate_and_the_root_and_depth_is_derived(
    layered: Declared,
) -> None:
    bundle = certificates(layered.outputs["clientCaBundle"])
    assert [c.subject.rfc4514_string() for c in bundle] == [
        "CN=Payments Client Issuing CA",
        "CN=Payments Client CA,O=Example Corp",
    ]
    assert layered.ingress["metadata"]["annotations"][P + "auth-tls-verify-depth"] == "1"


def test_ca_crl_holds_one_list_per_ca_of_the_client_chain(layered: Declared) -> None:
    crl = layered.secrets[_client_ca_secret(layered)]["stringData"]["ca.crl"]
    marker = "-----BEGIN X509 CRL-----"
    lists = [x509.load_pem_x509_crl((marker + part).encode()) for part in crl.split(marker)[1:]]
    issuers = [c.issuer.rfc4514_string() for c in lists]
    assert issuers == ["CN=Payments Client CA,O=Example Corp", "CN=Payments Client Issuing CA"]
    revoked = {entry.serial_number for entry in lists[1]}
    assert int(layered.outputs["revokedClientSerials"]["legacy-batch"]) in revoked
    assert list(lists[0]) == []


def test_every_active_client_under_the_intermediate_gets_200(
    site: LiveSite, layered: Declared
) -> None:
    for name in layered.outputs["clientCertificates"]:
        assert site.probe(layered.client(name)).detail == "HTTP 200", name


def test_revoked_client_under_the_intermediate_gets_400(site: LiveSite, layered: Declared) -> None:
    result = site.probe(layered.revoked_clients["legacy-batch"], expect="rejected")
    assert result.detail == "HTTP 400"


def test_client_of_a_foreign_ca_gets_400(site: LiveSite) -> None:
    foreign = make_authority("Foreign CA")
    credentials = issue_client(foreign.certificate, foreign.key, "mallory")
    assert site.probe(credentials, expect="rejected").detail == "HTTP 400"


@pytest.mark.parametrize(
    ("expired_index", "expected"),
    [(None, 200), (0, 400), (1, 400)],
    ids=["none", "root", "intermediate"],
)
def test_an_expired_crl_of_any_ca_of_the_chain_fails_every_client(
    layered: Declared, expired_index: int | None, expected: int
) -> None:
    """nginx checks a CRL for every CA of the chain: when either list has expired, valid clients
    get 400 too, so `pulumi up` must refresh both in time (they share `pki.crl`)."""
    long_ago = datetime.now(UTC) - timedelta(days=60)
    lists = []
    for index, (certificate, key) in enumerate(layered.client_authorities):
        provider = CrlProvider(clock=(lambda: long_ago) if index == expired_index else None)
        props = {
            "issuer_certificate_pem": certificate,
            "issuer_private_key_pem": key,
            "revoked": [],
            "validity_days": 30,
            "refresh_before_days": 7,
        }
        lists.append(provider.create(props).outs["crl_pem"])
    secret = _client_ca_secret(layered)
    with serve(layered, secret_overrides={secret: {"ca.crl": "".join(lists)}}) as live:
        assert live.get(layered.client("checkout")).status == expected
