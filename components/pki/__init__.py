"""The PKI: certificate authorities and the certificates they sign, on pulumi-tls."""

from components.pki.authority import CertificateAuthority, CertificateAuthorityArgs
from components.pki.client_certificate import ClientCertificate, ClientCertificateArgs
from components.pki.issuer import Issuer
from components.pki.key_algorithm import KeyAlgorithm
from components.pki.revocation import (
    RevocationList,
    RevocationListArgs,
    RevokedEntry,
    crl_bundle,
)
from components.pki.server_certificate import ServerCertificate, ServerCertificateArgs

__all__ = [
    "CertificateAuthority",
    "CertificateAuthorityArgs",
    "ClientCertificate",
    "ClientCertificateArgs",
    "Issuer",
    "KeyAlgorithm",
    "RevocationList",
    "RevocationListArgs",
    "RevokedEntry",
    "ServerCertificate",
    "ServerCertificateArgs",
    "crl_bundle",
]
