"""Check that a deployed endpoint enforces mutual TLS: `python -m mtls_ingress.check` where the
package is installed, `python -m components.check` in this repository.

Makes real HTTPS requests, verifying the server against its CA with host name checking, and
reports which were accepted: without a client certificate, with each valid client, and with
each revoked client. Exits 0 when every request got the expected answer, 1 when mTLS is not
enforced as configured, 2 when the endpoint cannot be checked at all.

    python -m components.check --stack dev
    python -m components.check https://api.example.com/ --ca server-ca.crt \\
        --client checkout.crt checkout.key --revoked old.crt old.key --crl crl.pem
"""

from __future__ import annotations

import argparse
import http.client
import json
import socket
import ssl
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from cryptography import x509

from .core import pem
from .program import outputs as stack_outputs

Outcome = Literal["accepted", "rejected", "error"]
# How nginx answers a request whose client certificate it refuses: 400 for a missing or
# invalid certificate (its internal codes 495/496), 403 for auth-tls-match-cn.
REJECTION_STATUSES = frozenset({400, 403, 495, 496})


@dataclass(frozen=True)
class Response:
    status: int
    headers: dict[str, str]
    body: bytes
    server_certificate: x509.Certificate | None


@dataclass(frozen=True)
class Probe:
    name: str
    expect: Outcome
    certificate_file: Path | None = None
    key_file: Path | None = None


@dataclass(frozen=True)
class ProbeResult:
    probe: Probe
    outcome: Outcome
    detail: str
    response: Response | None = field(default=None, repr=False)

    @property
    def passed(self) -> bool:
        return self.outcome == self.probe.expect


def request(
    url: str,
    *,
    ca_file: Path,
    certificate_file: Path | None = None,
    key_file: Path | None = None,
    connect_to: tuple[str, int] | None = None,
    timeout: float = 10.0,
) -> Response:
    """One GET over TLS that verifies the server certificate and host name against `ca_file`.

    Args:
        url: https URL; its host is the TLS server name and the Host header.
        ca_file: PEM CA bundle that must verify the server.
        certificate_file: client certificate chain to present (PEM), with `key_file`.
        connect_to: address and port to connect to instead of resolving the URL's host,
            like curl's --resolve.
    """
    parts = urlsplit(url)
    if parts.scheme != "https" or not parts.hostname:
        raise ValueError(f"not an https URL: {url}")
    context = ssl.create_default_context(cafile=str(ca_file))
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    if certificate_file is not None:
        context.load_cert_chain(str(certificate_file), str(key_file) if key_file else None)
    port = parts.port or 443
    address = connect_to or (parts.hostname, port)
    raw = socket.create_connection(address, timeout=timeout)
    tls = context.wrap_socket(raw, server_hostname=parts.hostname)
    der = tls.getpeercert(binary_form=True)
    connection = http.client.HTTPSConnection(parts.hostname, port, timeout=timeout, context=context)
    connection.sock = tls
    try:
        host_header = parts.hostname if port == 443 else f"{parts.hostname}:{port}"
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        connection.request("GET", path, headers={"Host": host_header})
        reply = connection.getresponse()
        body = reply.read()
        return Response(
            status=reply.status,
            headers={name.lower(): value for name, value in reply.getheaders()},
            body=body,
            server_certificate=x509.load_der_x509_certificate(der) if der else None,
        )
    finally:
        connection.close()


def run_probe(
    url: str,
    probe: Probe,
    *,
    ca_file: Path,
    connect_to: tuple[str, int] | None = None,
    error_page: str | None = None,
) -> ProbeResult:
    try:
        response = request(
            url,
            ca_file=ca_file,
            certificate_file=probe.certificate_file,
            key_file=probe.key_file,
            connect_to=connect_to,
        )
    except ssl.SSLCertVerificationError as error:
        # The server, not the client, failed verification: nothing about mTLS is known.
        return ProbeResult(probe, "error", f"server certificate rejected: {error.verify_message}")
    except ssl.SSLError as error:
        # A TLS alert from the server during the handshake is a refusal of the client.
        return ProbeResult(probe, "rejected", f"TLS handshake refused ({error.reason})")
    except (OSError, http.client.HTTPException) as error:
        return ProbeResult(probe, "error", f"request failed: {error}")
    location = response.headers.get("location")
    if response.status in REJECTION_STATUSES:
        return ProbeResult(probe, "rejected", f"HTTP {response.status}", response)
    if error_page and 300 <= response.status < 400 and location == error_page:
        return ProbeResult(probe, "rejected", f"HTTP {response.status} to the error page", response)
    return ProbeResult(probe, "accepted", f"HTTP {response.status}", response)


def probes(
    clients: Sequence[tuple[str, Path, Path]], revoked: Sequence[tuple[str, Path, Path]]
) -> list[Probe]:
    """The matrix: no certificate (refused), each valid client (accepted), each revoked
    client (refused)."""
    matrix = [Probe("no client certificate", "rejected")]
    matrix += [Probe(f"valid client {name}", "accepted", cert, key) for name, cert, key in clients]
    matrix += [
        Probe(f"revoked client {name}", "rejected", cert, key) for name, cert, key in revoked
    ]
    return matrix


def format_report(
    url: str,
    results: Sequence[ProbeResult],
    *,
    certificate_files: Sequence[tuple[str, Path]] = (),
    crl_file: Path | None = None,
    now: datetime | None = None,
) -> str:
    now = now or datetime.now(UTC)
    rows = [("check", "expected", "got", "detail", "result")]
    rows += [
        (r.probe.name, r.probe.expect, r.outcome, r.detail, "ok" if r.passed else "FAIL")
        for r in results
    ]
    widths = [max(len(row[column]) for row in rows) for column in range(5)]
    lines = [f"mTLS check of {url}", ""]
    for index, row in enumerate(rows):
        lines.append("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)))
        if index == 0:
            lines.append("  ".join("-" * width for width in widths))
    lines.append("")
    server = next(
        (
            r.response.server_certificate
            for r in results
            if r.response and r.response.server_certificate
        ),
        None,
    )
    if server is not None:
        lines.append(_expiry("server certificate", server.not_valid_after_utc, now))
    for label, path in certificate_files:
        certificate = x509.load_pem_x509_certificates(path.read_bytes())[0]
        lines.append(_expiry(f"client certificate {label}", certificate.not_valid_after_utc, now))
    if crl_file is not None:
        for crl in pem.crls(crl_file.read_text()):
            issuer = crl.issuer.rfc4514_string()
            if crl.next_update_utc is not None:
                lines.append(_expiry(f"CRL of {issuer}", crl.next_update_utc, now))
    failed = sum(not r.passed for r in results)
    verdict = (
        "mTLS is enforced"
        if not failed
        else f"{failed} check(s) failed: mTLS is NOT enforced as configured"
    )
    lines += ["", verdict]
    return "\n".join(lines)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=f"python -m {__spec__.name if __spec__ else __name__}",
        description=__doc__.split("\n\n")[0],
    )
    parser.add_argument(
        "url", nargs="?", help="https URL of the endpoint (default with --stack: ingressUrl)"
    )
    parser.add_argument(
        "--stack", help="read the URL, CA, client bundles and CRL from this Pulumi stack's outputs"
    )
    parser.add_argument(
        "--ca", type=Path, help="CA bundle that verifies the server (serverCaCertificate)"
    )
    parser.add_argument(
        "--client",
        nargs=2,
        action="append",
        default=[],
        metavar=("CERT", "KEY"),
        help="a valid client's certificate chain and key; repeatable",
    )
    parser.add_argument(
        "--revoked",
        nargs=2,
        action="append",
        default=[],
        metavar=("CERT", "KEY"),
        help="a revoked client's certificate chain and key; repeatable",
    )
    parser.add_argument("--crl", type=Path, help="the CRL bundle (clientCrl), to report its expiry")
    parser.add_argument(
        "--error-page", help="auth-tls-error-page, if set: a redirect there is a refusal"
    )
    parser.add_argument(
        "--connect-to",
        metavar="ADDRESS:PORT",
        help="connect here instead of resolving the URL's host",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    arguments = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="mtls-check-") as scratch:
        url, ca_file, crl_file = arguments.url, arguments.ca, arguments.crl
        clients = _named_pairs(arguments.client)
        if arguments.stack:
            try:
                stack_url, ca_file, stack_clients, crl_file = _from_stack(
                    arguments.stack, Path(scratch)
                )
            except (OSError, subprocess.CalledProcessError, KeyError, ValueError) as error:
                print(
                    f"cannot read the outputs of stack {arguments.stack}: {error}", file=sys.stderr
                )
                return 2
            url = url or stack_url
            clients = clients or stack_clients
        if not url or ca_file is None:
            parser.error("give the URL and --ca, or --stack")
        revoked = _named_pairs(arguments.revoked)
        connect_to = _address(arguments.connect_to) if arguments.connect_to else None
        results = [
            run_probe(
                url, probe, ca_file=ca_file, connect_to=connect_to, error_page=arguments.error_page
            )
            for probe in probes(clients, revoked)
        ]
        print(
            format_report(
                url,
                results,
                certificate_files=[(name, cert) for name, cert, _ in clients],
                crl_file=crl_file,
            )
        )
    if any(result.outcome == "error" for result in results):
        return 2
    return 0 if all(result.passed for result in results) else 1


def _from_stack(stack: str, scratch: Path) -> tuple[str, Path, list[tuple[str, Path, Path]], Path]:
    completed = subprocess.run(
        ["pulumi", "stack", "output", "--json", "--show-secrets", "--stack", stack],
        capture_output=True,
        text=True,
        check=True,
    )
    outputs = json.loads(completed.stdout)
    ca_file = scratch / "server-ca.crt"
    ca_file.write_text(outputs[stack_outputs.SERVER_CA_CERTIFICATE])
    crl_file = scratch / "client-crl.pem"
    crl_file.write_text(outputs[stack_outputs.CLIENT_CRL])
    clients = []
    for name, bundle in outputs[stack_outputs.CLIENT_CERTIFICATES].items():
        cert, key = scratch / f"{name}.crt", scratch / f"{name}.key"
        cert.write_text(bundle["chain"])
        key.write_text(outputs[stack_outputs.CLIENT_PRIVATE_KEYS][name])
        key.chmod(0o600)
        clients.append((name, cert, key))
    return outputs[stack_outputs.INGRESS_URL], ca_file, clients, crl_file


def _named_pairs(pairs: Sequence[Sequence[str]]) -> list[tuple[str, Path, Path]]:
    """(name, certificate, key) for each CERT KEY pair, named after the certificate file."""
    return [(Path(cert).stem, Path(cert), Path(key)) for cert, key in pairs]


def _address(value: str) -> tuple[str, int]:
    host, _, port = value.rpartition(":")
    return host.strip("[]"), int(port)


def _expiry(label: str, moment: datetime, now: datetime) -> str:
    days = (moment - now).total_seconds() / 86400
    state = f"in {days:.0f} days" if days >= 0 else f"EXPIRED {-days:.0f} days ago"
    return f"{label}: expires {moment:%Y-%m-%d %H:%M:%SZ} ({state})"


if __name__ == "__main__":
    sys.exit(main())
