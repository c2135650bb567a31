"""A year of weekly scheduled `pulumi up` runs of `Pulumi.dev.yaml`, under the mocks on one
clock: after every run, nothing the stack serves expires before the next run."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from cryptography import x509

from support.stack_configs import dev_config
from tests.scheduled_runs import ScheduledRuns

START = datetime(2027, 1, 4, 5, 17, tzinfo=UTC)
INTERVAL = timedelta(days=7)


def _certificates(pem: str) -> list[x509.Certificate]:
    return x509.load_pem_x509_certificates(pem.encode())


def _crls(pem: str) -> list[x509.CertificateRevocationList]:
    marker = "-----END X509 CRL-----"
    blocks = [block + marker for block in pem.split(marker) if "BEGIN X509 CRL" in block]
    return [x509.load_pem_x509_crl(block.strip().encode()) for block in blocks]


def test_weekly_runs_keep_everything_served_valid_for_a_year() -> None:
    config = dev_config()
    config["upIntervalDays"] = 7
    runs = ScheduledRuns(config, START)
    renewed: dict[str, int] = {}
    crl_numbers: list[int] = []
    for week in range(53):
        runs.now = START + week * INTERVAL
        outputs = runs.up()
        next_run = runs.now + INTERVAL
        served = {
            "server": _certificates(outputs["serverCertificateChain"]),
            "server CA": _certificates(outputs["serverCaCertificate"]),
            "client CA": _certificates(outputs["clientCaBundle"]),
            **{
                f"client {name}": _certificates(client["chain"])
                for name, client in outputs["clientCertificates"].items()
            },
        }
        for what, chain in served.items():
            for certificate in chain:
                assert certificate.not_valid_before_utc <= runs.now, (week, what)
                assert certificate.not_valid_after_utc > next_run, (week, what)
        for crl in _crls(outputs["clientCrl"]):
            assert crl.last_update_utc <= runs.now and crl.next_update_utc is not None
            assert crl.next_update_utc > next_run, week
        crl_numbers.append(
            _crls(outputs["clientCrl"])[0]
            .extensions.get_extension_for_class(x509.CRLNumber)
            .value.crl_number
        )
        for operation, name in runs.emulator.changed:
            if operation == "replace" and name.endswith("-key"):
                renewed[name] = renewed.get(name, 0) + 1
    # reporting (90 days, renewed 14 before) renews about every 76 days, checkout (180, 30)
    # every 150, the server (365, 30) once; the CRL (30 days, refreshed 7 before) every 4 weeks.
    assert renewed == {
        "mtls-ingress-client-reporting-key": 4,
        "mtls-ingress-client-checkout-key": 2,
        "mtls-ingress-server-key": 1,
    }
    assert crl_numbers == sorted(crl_numbers) and crl_numbers[-1] >= 13
