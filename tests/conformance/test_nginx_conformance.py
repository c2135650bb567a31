"""Real TLS against a real nginx configured as ingress-nginx configures it for what the
stack declares. Each test is one row of the mTLS behaviour users rely on."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID

from components.pki.crl import CrlProvider
from support.mock_runtime import PROJECT_DIR, MockRuntime
from support.pki_material import issue_client, load_authority, make_authority
from support.stack_configs import dev_config
from tests.conformance.site import Declared, LiveSite, declare, serve
from tests.kubernetes_manifests import secrets_by_name, the_ingress
from tests.layered_pki import declare_layered

P = "nginx.ingress.kubernetes.io/"
ERROR_PAGE = "https://errors.example.com/mtls"


@pytest.fixture(scope="module")
def dev() -> Declared:
    return declare(dev_config())


@pytest.fixture(scope="module")
def site(dev: Declared) -> Iterator[LiveSite]:
    with serve(dev) as live:
        yield live


def _signed_by_client_ca(dev: Declared, common_name: str, **options: Any) -> tuple[str, str]:
    ca = load_authority(dev.client_ca_certificate_pem, dev.client_ca_private_key_pem)
    return issue_client(ca.certificate, ca.key, common_name, **options)


def test_no_client_certificate_gets_400(site: LiveSite) -> None:
    result = site.probe(None, expect="rejected")
    assert result.detail == "HTTP 400" and result.passed


def test_valid_client_gets_200(site: LiveSite, dev: Declared) -> None:
    response = site.get(dev.client("checkout"))
    assert response.status == 200
    headers = LiveSite.upstream_headers(response)
    assert headers["ssl-client-verify"] == "SUCCESS"
    assert headers["ssl-client-subject-dn"] == "CN=checkout,O=payments-writers"
    assert headers["ssl-client-issuer-dn"] == "CN=Payments Client CA,O=Example Corp"


def test_every_active_client_of_the_stack_gets_200(site: LiveSite, dev: Declared) -> None:
    for name in dev.outputs["clientCertificates"]:
        assert site.probe(dev.client(name)).detail == "HTTP 200", name


def test_revoked_client_gets_400(site: LiveSite, dev: Declared) -> None:
    result = site.probe(dev.revoked_clients["legacy-batch"], expect="rejected")
    assert result.detail == "HTTP 400"


def test_client_of_a_foreign_ca_gets_400(site: LiveSite) -> None:
    foreign = make_authority("Payments Client CA")  # same name, different key
    credentials = issue_client(foreign.certificate, foreign.key, "checkout")
    assert site.probe(credentials, expect="rejected").detail == "HTTP 400"


def test_expired_client_gets_400(site: LiveSite, dev: Declared) -> None:
    past = datetime.now(UTC) - timedelta(days=10)
    credentials = _signed_by_client_ca(
        dev, "checkout", not_before=past - timedelta(days=30), not_after=past
    )
    assert site.probe(credentials, expect="rejected").detail == "HTTP 400"


def test_certificate_without_client_auth_usage_gets_400(site: LiveSite, dev: Declared) -> None:
    credentials = _signed_by_client_ca(
        dev, "checkout", extended_usages=[ExtendedKeyUsageOID.SERVER_AUTH]
    )
    assert site.probe(credentials, expect="rejected").detail == "HTTP 400"


def test_match_cn_mismatch_gets_403(site: LiveSite, dev: Declared) -> None:
    credentials = _signed_by_client_ca(dev, "intruder")
    assert site.probe(credentials, expect="rejected").detail == "HTTP 403"


def test_pass_certificate_forwards_ssl_client_cert(site: LiveSite, dev: Declared) -> None:
    chain, key = dev.client("reporting")
    response = site.get((chain, key))
    forwarded = x509.load_pem_x509_certificate(LiveSite.forwarded_certificate(response).encode())
    assert forwarded == x509.load_pem_x509_certificates(chain.encode())[0]


def test_server_chain_verifies_against_the_server_ca_with_host_name_checking(
    site: LiveSite, dev: Declared
) -> None:
    response = site.get(dev.client("checkout"))
    assert response.server_certificate is not None
    names = response.server_certificate.extensions.get_extension_for_class(
        x509.SubjectAlternativeName
    ).value.get_values_for_type(x509.DNSName)
    assert names == [site.host]
    wrong_host = site.probe(dev.client("checkout"), url=f"https://other.example.com:{site.port}/")
    assert wrong_host.outcome == "error"
    assert "server certificate rejected" in wrong_host.detail


def test_error_page_set_gives_302_to_it(dev: Declared) -> None:
    with serve(dev, annotation_overrides={P + "auth-tls-error-page": ERROR_PAGE}) as live:
        result = live.probe(None, expect="rejected", error_page=ERROR_PAGE)
        assert result.detail == "HTTP 302 to the error page"
        assert result.response is not None
        assert result.response.headers["location"] == ERROR_PAGE


def test_optional_mode_lets_a_certificateless_request_through_with_verify_none() -> None:
    config = dev_config()
    config["ingress"]["verifyClient"] = "optional"
    del config["ingress"]["matchCn"]
    declared = declare(config)
    with serve(declared) as live:
        response = live.get(None)
        assert response.status == 200
        assert LiveSite.upstream_headers(response)["ssl-client-verify"] == "NONE"
        verified = live.get(declared.client("checkout"))
        assert LiveSite.upstream_headers(verified)["ssl-client-verify"] == "SUCCESS"


def test_optional_mode_with_match_cn_still_refuses_requests_without_certificate() -> None:
    config = dev_config()
    config["ingress"]["verifyClient"] = "optional"
    declared = declare(config)
    with serve(declared) as live:
        assert live.probe(None, expect="rejected").detail == "HTTP 403"


def test_expired_crl_makes_a_valid_client_fail(dev: Declared) -> None:
    """Why `pulumi up` must run before nextUpdate: nginx rejects every client once the CRL
    it holds has expired, although ingress-nginx itself never checks."""
    long_ago = datetime.now(UTC) - timedelta(days=60)
    expired = (
        CrlProvider(clock=lambda: long_ago)
        .create(
            {
                "issuer_certificate_pem": dev.client_ca_certificate_pem,
                "issuer_private_key_pem": dev.client_ca_private_key_pem,
                "revoked": [],
                "validity_days": 30,
                "refresh_before_days": 7,
            }
        )
        .outs["crl_pem"]
    )
    secret = dev.ingress["metadata"]["annotations"][P + "auth-tls-secret"].split("/")[1]
    with serve(dev, secret_overrides={secret: {"ca.crl": expired}}) as live:
        assert live.probe(dev.client("checkout"), expect="rejected").detail == "HTTP 400"


def _layered(intermediates: int) -> dict[str, Any]:
    """Clients under `intermediates` CAs below their root, declared by the stack's wiring."""
    runtime = MockRuntime()
    try:
        pki = runtime.run(lambda: declare_layered(intermediates))
        return {
            "declared": Declared(
                ingress=the_ingress(runtime.emulator),
                secrets=secrets_by_name(runtime.emulator),
                controller_data={},
                outputs={"serverCaCertificate": runtime.resolve(pki.server_ca.certificate_pem)},
                client_ca_certificate_pem="",
                client_ca_private_key_pem="",
                revoked_clients={},
            ),
            "client": (
                runtime.resolve(pki.client.chain_pem),
                runtime.resolve(pki.client.private_key_pem),
            ),
        }
    finally:
        runtime.close()


@pytest.fixture(scope="module")
def two_level() -> dict[str, Any]:
    return _layered(1)


@pytest.fixture(scope="module")
def three_level() -> dict[str, Any]:
    return _layered(2)


def _depth(layered: dict[str, Any]) -> str:
    return layered["declared"].ingress["metadata"]["annotations"][P + "auth-tls-verify-depth"]


def test_two_level_client_chain_passes_with_the_derived_depth(two_level: dict[str, Any]) -> None:
    assert _depth(two_level) == "1"
    with serve(two_level["declared"]) as live:
        assert live.probe(two_level["client"]).detail == "HTTP 200"


def test_three_level_client_chain_passes_with_the_derived_depth(
    three_level: dict[str, Any],
) -> None:
    assert _depth(three_level) == "2"
    with serve(three_level["declared"]) as live:
        assert live.probe(three_level["client"]).detail == "HTTP 200"


def test_three_level_client_chain_fails_with_depth_1(three_level: dict[str, Any]) -> None:
    overrides = {P + "auth-tls-verify-depth": "1"}
    with serve(three_level["declared"], annotation_overrides=overrides) as live:
        assert live.probe(three_level["client"], expect="rejected").detail == "HTTP 400"


def _table(report: str) -> list[str]:
    """The result rows of the check command's table (between the dashes and the blank line)."""
    lines = report.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("---")) + 1
    end = lines.index("", start)
    return [line.replace("HTTP ", "") for line in lines[start:end]]


def _check_command(site: LiveSite, *arguments: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "components.check",
            site.url,
            "--ca",
            str(site.ca_file),
            "--connect-to",
            f"127.0.0.1:{site.port}",
            *arguments,
        ],
        cwd=PROJECT_DIR,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_check_command_reports_an_enforced_endpoint(site: LiveSite, dev: Declared) -> None:
    valid = site.credentials(*dev.client("checkout"), name="checkout")
    revoked = site.credentials(*dev.revoked_clients["legacy-batch"], name="legacy-batch")
    crl = site.file("crl.pem", dev.outputs["clientCrl"])
    completed = _check_command(
        site, "--client", *map(str, valid), "--revoked", *map(str, revoked), "--crl", str(crl)
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    report = completed.stdout
    rows = {" ".join(line.split()[:-4]): line.split()[-4:] for line in _table(report)}
    assert rows == {
        "no client certificate": ["rejected", "rejected", "400", "ok"],
        "valid client checkout": ["accepted", "accepted", "200", "ok"],
        "revoked client legacy-batch": ["rejected", "rejected", "400", "ok"],
    }
    assert "server certificate: expires" in report
    assert "CRL of CN=Payments Client CA,O=Example Corp: expires" in report
    assert report.rstrip().endswith("mTLS is enforced")


def test_check_command_fails_when_mtls_is_not_enforced(dev: Declared) -> None:
    overrides = {P + "auth-tls-verify-client": "optional_no_ca", P + "auth-tls-match-cn": None}
    with serve(dev, annotation_overrides=overrides) as live:
        completed = _check_command(live)
    assert completed.returncode == 1
    rows = {" ".join(line.split()[:-4]): line.split()[-4:] for line in _table(completed.stdout)}
    assert rows["no client certificate"] == ["rejected", "accepted", "200", "FAIL"]
    assert "mTLS is NOT enforced" in completed.stdout
