"""Checks of the key material before it reaches a Secret.

ingress-nginx accepts almost anything a Secret holds and fails later, at request time: a chain
that does not verify, a key of another certificate (nginx refuses to reload), a host the
certificate does not name, or a `ca.crt` without a certificate, which silently turns client
verification off. These checks run on the values Pulumi resolves, before the Secret is created
or updated, and fail with one `pulumi.RunError`.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import pairwise

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from ..core import formats
from ..core.validation import Problems
from ..pki.imported import issued_by


def check_server_tls(
    secret: str,
    *,
    chain_pem: str,
    private_key_pem: str,
    trust_bundle_pem: str,
    hosts: Sequence[str],
) -> None:
    """Verifies a `kubernetes.io/tls` pair: names, chain to a trusted CA, and key.

    Args:
        secret: the Secret's `namespace/name`, for the error message.
        chain_pem: `tls.crt`: the leaf, then its intermediates.
        private_key_pem: `tls.key`.
        trust_bundle_pem: the CA certificates clients trust (the root, and any
            intermediates).
        hosts: every host an Ingress serves with this certificate (none for a client
            certificate).
    """
    problems = Problems(f"preflight check of Secret {secret} failed")
    chain = _certificates(problems, "tls.crt", chain_pem)
    trusted = _certificates(problems, "trusted CA bundle", trust_bundle_pem)
    if chain:
        leaf = chain[0]
        if hosts:
            _check_names(problems, leaf, hosts)
        _check_key(problems, leaf, private_key_pem)
        if trusted:
            _check_chain(problems, chain, trusted)
    problems.raise_if_any()


def check_ca_bundle(secret: str, *, bundle_pem: str) -> None:
    """Verifies that `ca.crt` holds at least one CA certificate.

    ingress-nginx treats a Secret without a usable `ca.crt` as having no client CA and serves
    the host without asking for client certificates (backend_ssl.go, getPemCertificate).
    """
    problems = Problems(f"preflight check of Secret {secret} failed")
    for index, certificate in enumerate(_certificates(problems, "ca.crt", bundle_pem)):
        if not _is_ca(certificate):
            problems.add(
                f"ca.crt[{index}]",
                f"{certificate.subject.rfc4514_string()} is not a CA certificate (no CA:TRUE)",
            )
    problems.raise_if_any()


def _certificates(problems: Problems, field: str, pem: str) -> list[x509.Certificate]:
    try:
        certificates = x509.load_pem_x509_certificates(pem.encode())
    except ValueError:
        problems.add(field, "holds no PEM certificate")
        return []
    return certificates


def _check_names(problems: Problems, leaf: x509.Certificate, hosts: Sequence[str]) -> None:
    try:
        names = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        problems.add(
            "tls.crt",
            "the certificate has no subjectAltName: clients match host names against SANs only "
            "(RFC 6125), so every connection would fail",
        )
        return
    dns_names = names.get_values_for_type(x509.DNSName)
    ip_addresses = [str(address) for address in names.get_values_for_type(x509.IPAddress)]
    for host in hosts:
        if host not in ip_addresses and not any(formats.covers(name, host) for name in dns_names):
            problems.add(
                "tls.crt",
                f"the certificate does not cover the Ingress host {host!r} "
                f"(its names: {', '.join([*dns_names, *ip_addresses]) or 'none'})",
            )


def check_plugin_ca(
    secret: str, *, ca_cert_pem: str, ca_key_pem: str, cert_chain_pem: str, root_cert_pem: str
) -> None:
    """Verifies an Istio plug-in CA (`cacerts`): `ca-cert.pem` is a CA whose key is
    `ca-key.pem`, and `cert-chain.pem` runs from it up to `root-cert.pem`. istiod fails to start
    on a wrong `cacerts`, or signs workload certificates that do not verify."""
    problems = Problems(f"preflight check of Secret {secret} failed")
    ca = _certificates(problems, "ca-cert.pem", ca_cert_pem)
    chain = _certificates(problems, "cert-chain.pem", cert_chain_pem)
    roots = _certificates(problems, "root-cert.pem", root_cert_pem)
    if ca:
        if not _is_ca(ca[0]):
            problems.add("ca-cert.pem", f"{ca[0].subject.rfc4514_string()} is not a CA")
        _check_key(problems, ca[0], ca_key_pem, key_field="ca-key.pem", field="ca-cert.pem")
        if chain and chain[0] != ca[0]:
            problems.add("cert-chain.pem", "must start with the certificate of ca-cert.pem")
    if chain and roots:
        _check_chain(problems, chain, roots, field="cert-chain.pem")
    problems.raise_if_any()


def _is_ca(certificate: x509.Certificate) -> bool:
    try:
        return certificate.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    except x509.ExtensionNotFound:
        return False


def _check_key(
    problems: Problems,
    leaf: x509.Certificate,
    private_key_pem: str,
    *,
    key_field: str = "tls.key",
    field: str = "tls.crt",
) -> None:
    try:
        key = serialization.load_pem_private_key(private_key_pem.encode(), password=None)
    except (ValueError, TypeError):
        problems.add(key_field, "is not an unencrypted PEM private key")
        return
    public_format = serialization.PublicFormat.SubjectPublicKeyInfo
    ours = key.public_key().public_bytes(serialization.Encoding.DER, public_format)
    theirs = leaf.public_key().public_bytes(serialization.Encoding.DER, public_format)
    if ours != theirs:
        problems.add(key_field, f"does not belong to the certificate in {field}")


def _check_chain(
    problems: Problems,
    chain: list[x509.Certificate],
    trusted: list[x509.Certificate],
    *,
    field: str = "tls.crt",
) -> None:
    """Each certificate must be signed by the next, and the last by a trusted CA."""
    for index, (child, parent) in enumerate(pairwise(chain)):
        if not issued_by(child, parent):
            problems.add(
                field,
                f"certificate {index} ({child.subject.rfc4514_string()}) is not signed by "
                f"certificate {index + 1} ({parent.subject.rfc4514_string()}): "
                "the chain must run from the leaf up, one issuer after the other",
            )
            return
    top = chain[-1]
    if top in trusted:
        return
    if not any(issued_by(top, anchor) for anchor in trusted):
        problems.add(
            field,
            f"the chain ends at {top.subject.rfc4514_string()}, issued by "
            f"{top.issuer.rfc4514_string()}, which is not a trusted CA",
        )
