"""CertificateAuthority, ServerCertificate and ClientCertificate produce the promised X.509
profiles and chains that two independent verifiers accept."""

from __future__ import annotations

import pulumi
import pytest
from cryptography import x509
from cryptography.x509.verification import VerificationError

from components.pki import (
    CertificateAuthority,
    ClientCertificate,
    KeyAlgorithm,
    ServerCertificate,
)
from support.mock_runtime import MockRuntime
from tests.x509_assertions import (
    assert_ca_profile,
    assert_client_profile,
    assert_issued_by,
    assert_server_profile,
    certificate,
    certificates,
    extension,
    key_size_name,
    openssl_verify,
    verify_client_chain,
    verify_server_chain,
)

ALGORITHMS = [algorithm.value for algorithm in KeyAlgorithm]
HOST = "app.example.com"


def _pki(algorithm: str = "ECDSA_P256", *, intermediate: bool = False):
    root = CertificateAuthority(
        "root", {"common_name": "Root CA", "organization": "Tests", "key_algorithm": algorithm}
    )
    issuer = root
    if intermediate:
        issuer = CertificateAuthority(
            "issuing",
            {"common_name": "Issuing CA", "key_algorithm": algorithm, "issuer": root.as_issuer()},
        )
    server = ServerCertificate(
        "server",
        {
            "issuer": issuer.as_issuer(),
            "dns_names": [HOST],
            "ip_addresses": ["192.0.2.10"],
            "key_algorithm": algorithm,
        },
    )
    client = ClientCertificate(
        "alice",
        {
            "issuer": issuer.as_issuer(),
            "common_name": "alice",
            "organization": "readers",
            "key_algorithm": algorithm,
        },
    )
    return root, issuer, server, client


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_authority_server_and_client_profiles(mocks: MockRuntime, algorithm: str) -> None:
    root, _, server, client = mocks.run(lambda: _pki(algorithm))
    root_cert = certificate(mocks.resolve(root.certificate_pem))
    server_cert = certificate(mocks.resolve(server.certificate_pem))
    client_cert = certificate(mocks.resolve(client.certificate_pem))
    assert_ca_profile(root_cert)
    assert_server_profile(server_cert, dns_names=[HOST], ip_addresses=["192.0.2.10"])
    assert_client_profile(client_cert, common_name_="alice", organization="readers")
    for cert in (root_cert, server_cert, client_cert):
        assert key_size_name(cert) == algorithm
    assert_issued_by(server_cert, root_cert)
    assert_issued_by(client_cert, root_cert)


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_chains_verify_with_cryptography_and_openssl(mocks: MockRuntime, algorithm: str) -> None:
    root, _, server, client = mocks.run(lambda: _pki(algorithm))
    root_pem = mocks.resolve(root.certificate_pem)
    server_chain = mocks.resolve(server.chain_pem)
    client_chain = mocks.resolve(client.chain_pem)
    verify_server_chain(server_chain, root_pem, HOST)
    verify_client_chain(client_chain, root_pem)
    for chain, purpose in ((server_chain, "sslserver"), (client_chain, "sslclient")):
        result = openssl_verify(chain, root_pem, purpose=purpose)
        assert result.returncode == 0, result.stdout + result.stderr


def test_server_certificate_does_not_verify_for_another_host(mocks: MockRuntime) -> None:
    root, _, server, _ = mocks.run(_pki)
    with pytest.raises(VerificationError):
        verify_server_chain(
            mocks.resolve(server.chain_pem), mocks.resolve(root.certificate_pem), "evil.example.com"
        )


def test_client_certificate_cannot_act_as_a_server(mocks: MockRuntime) -> None:
    root, _, _, client = mocks.run(_pki)
    result = openssl_verify(
        mocks.resolve(client.chain_pem), mocks.resolve(root.certificate_pem), purpose="sslserver"
    )
    assert result.returncode != 0
    assert "unsuitable certificate purpose" in result.stdout + result.stderr


def test_client_of_another_authority_does_not_verify(mocks: MockRuntime) -> None:
    def build():
        ours = CertificateAuthority("ours", {"common_name": "Our CA"})
        theirs = CertificateAuthority("theirs", {"common_name": "Our CA"})
        stranger = ClientCertificate(
            "stranger", {"issuer": theirs.as_issuer(), "common_name": "alice"}
        )
        return ours, stranger

    ours, stranger = mocks.run(build)
    result = openssl_verify(
        mocks.resolve(stranger.chain_pem), mocks.resolve(ours.certificate_pem), purpose="sslclient"
    )
    assert result.returncode != 0


def test_intermediate_authority_builds_two_level_chains(mocks: MockRuntime) -> None:
    root, issuing, server, client = mocks.run(lambda: _pki(intermediate=True))
    root_pem = mocks.resolve(root.certificate_pem)
    root_cert = certificate(root_pem)
    issuing_cert = certificate(mocks.resolve(issuing.certificate_pem))
    assert_ca_profile(issuing_cert)
    assert_issued_by(issuing_cert, root_cert)
    assert issuing.depth == 2 and root.depth == 1
    assert mocks.resolve(issuing.intermediates_pem) == mocks.resolve(issuing.certificate_pem)
    assert certificates(mocks.resolve(issuing.trust_bundle_pem)) == [issuing_cert, root_cert]
    assert mocks.resolve(issuing.root_certificate_pem) == root_pem
    server_chain = certificates(mocks.resolve(server.chain_pem))
    assert server_chain[1:] == [issuing_cert], "tls.crt must carry the intermediate, not the root"
    verify_server_chain(mocks.resolve(server.chain_pem), root_pem, HOST)
    verify_client_chain(mocks.resolve(client.chain_pem), root_pem)
    for chain, purpose in ((server.chain_pem, "sslserver"), (client.chain_pem, "sslclient")):
        result = openssl_verify(mocks.resolve(chain), root_pem, purpose=purpose)
        assert result.returncode == 0, result.stdout + result.stderr


def test_root_chain_is_the_leaf_alone(mocks: MockRuntime) -> None:
    root, _, server, _ = mocks.run(_pki)
    assert mocks.resolve(root.intermediates_pem) == ""
    assert mocks.resolve(server.chain_pem) == mocks.resolve(server.certificate_pem)


def test_max_path_length_is_written(mocks: MockRuntime) -> None:
    root = mocks.run(
        lambda: CertificateAuthority("root", {"common_name": "Root", "max_path_length": 1})
    )
    cert = certificate(mocks.resolve(root.certificate_pem))
    assert extension(cert, x509.BasicConstraints).value.path_length == 1


def test_serial_and_expiry_outputs_describe_the_certificate(mocks: MockRuntime) -> None:
    _, _, server, client = mocks.run(_pki)
    for component in (server, client):
        cert = certificate(mocks.resolve(component.certificate_pem))
        assert mocks.resolve(component.serial_number) == str(cert.serial_number)
        assert mocks.resolve(component.expires_at) == cert.not_valid_after_utc.strftime(
            "%Y-%m-%dT%H:%M:%SZ"
        )


def test_default_lifetimes(mocks: MockRuntime) -> None:
    root, _, server, client = mocks.run(_pki)
    days = {
        name: (c.not_valid_after_utc - c.not_valid_before_utc).days
        for name, c in (
            ("ca", certificate(mocks.resolve(root.certificate_pem))),
            ("server", certificate(mocks.resolve(server.certificate_pem))),
            ("client", certificate(mocks.resolve(client.certificate_pem))),
        )
    }
    assert days == {"ca": 3650, "server": 365, "client": 180}
    renewals = {
        registration.name: registration.inputs["earlyRenewalHours"]
        for registration in mocks.emulator.of_type("tls:index/locallySignedCert:LocallySignedCert")
    }
    assert renewals == {"server-cert": 30 * 24, "alice-cert": 30 * 24}


def test_private_keys_leave_components_as_secrets(mocks: MockRuntime) -> None:
    root, issuing, server, client = mocks.run(lambda: _pki(intermediate=True))
    for component in (root, issuing, server, client):
        assert mocks.is_secret(component.private_key_pem)
        assert "PRIVATE KEY" in mocks.resolve(component.private_key_pem)
        assert not mocks.is_secret(component.certificate_pem)


def test_children_are_parented_and_named_after_their_component(mocks: MockRuntime) -> None:
    def build():
        first = CertificateAuthority("first", {"common_name": "A"})
        second = CertificateAuthority("second", {"common_name": "A"})
        return first, second

    mocks.run(build)
    monitor = pulumi.runtime.settings.get_monitor()
    urns = list(monitor.resources)
    assert len(urns) == len(set(urns))
    children = [urn for urn in urns if urn.split("::")[2].split("$")[-1].startswith("tls:")]
    assert len(children) == 4
    for urn in children:
        assert "mtls:index:CertificateAuthority$tls:index/" in urn
        assert urn.rsplit("::", 1)[1].startswith(("first-", "second-"))


def test_invalid_component_arguments_are_reported_together(mocks: MockRuntime) -> None:
    def build():
        root = CertificateAuthority("root", {"common_name": "Root"})
        with pytest.raises(pulumi.RunError) as raised:
            ServerCertificate(
                "server",
                {
                    "issuer": root.as_issuer(),
                    "dns_names": ["Not A Host"],
                    "validity_days": 10,
                    "renew_before_days": 10,
                    "key_algorithm": "DSA_1024",
                },
            )
        return raised.value

    error = mocks.run(build)
    message = str(error)
    assert message.startswith("invalid arguments for ServerCertificate 'server': 3 problems")
    for field in ("dns_names[0]", "renew_before_days", "key_algorithm"):
        assert f"  - {field}: " in message
    assert [r.name for r in mocks.emulator.registered if r.name.startswith("server")] == []


@pytest.mark.parametrize(
    ("arguments", "field"),
    [
        ({"common_name": ""}, "common_name"),
        ({"common_name": "x" * 65}, "common_name"),
        ({"common_name": "CA", "validity_days": 0}, "validity_days"),
        ({"common_name": "CA", "max_path_length": 0}, "max_path_length"),
        ({"common_name": "CA", "issuer": {"certificate_pem": "x"}}, "issuer"),
    ],
)
def test_invalid_authority_arguments(mocks: MockRuntime, arguments, field) -> None:
    with pytest.raises(pulumi.RunError, match=rf"  - {field}: "):
        mocks.run(lambda: CertificateAuthority("ca", arguments))
    assert mocks.emulator.registered == []
