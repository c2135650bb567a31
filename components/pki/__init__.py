"""The PKI: certificate authorities and the certificates they sign, on pulumi-tls."""

from .authority import CertificateAuthority, CertificateAuthorityArgs
from .bundle import ClientBundle
from .client_certificate import ClientCertificate, ClientCertificateArgs
from .issuer import Issuer
from .key_algorithm import KeyAlgorithm
from .revocation import (
    RevocationList,
    RevocationListArgs,
    RevokedEntry,
    crl_bundle,
)
from .server_certificate import ServerCertificate, ServerCertificateArgs

__all__ = [
    "CertificateAuthority",
    "CertificateAuthorityArgs",
    "ClientBundle",
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
