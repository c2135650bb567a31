"""mtls-ingress components: a private PKI and the Kubernetes objects that enforce mutual TLS.

Installed as the package `mtls_ingress` (`pip install <this repository>`), every component is
importable from the top level: `from mtls_ingress import CertificateAuthority, MtlsIngress`.
In this repository the same code is the package `components`.
"""

from .kubernetes import (
    ApiUser,
    CaSecret,
    CaSecretArgs,
    ClientAuthArgs,
    ControllerConfig,
    ControllerConfigArgs,
    IstioMesh,
    IstioMeshArgs,
    KubernetesApiAccess,
    KubernetesApiAccessArgs,
    MtlsGateway,
    MtlsGatewayArgs,
    MtlsIngress,
    MtlsIngressArgs,
    TlsSecret,
    TlsSecretArgs,
    UpstreamTlsArgs,
    verify_depth_for,
)
from .pki import (
    CertificateAuthority,
    CertificateAuthorityArgs,
    ClientBundle,
    ClientCertificate,
    ClientCertificateArgs,
    Issuer,
    KeyAlgorithm,
    RevocationList,
    RevocationListArgs,
    RevokedEntry,
    ServerCertificate,
    ServerCertificateArgs,
    crl_bundle,
)
from .shard import ClientShard, ClientShardArgs
from .stack import MtlsIngressStack, MtlsIngressStackArgs

__all__ = [
    "ApiUser",
    "CaSecret",
    "CaSecretArgs",
    "CertificateAuthority",
    "CertificateAuthorityArgs",
    "ClientAuthArgs",
    "ClientBundle",
    "ClientCertificate",
    "ClientCertificateArgs",
    "ClientShard",
    "ClientShardArgs",
    "ControllerConfig",
    "ControllerConfigArgs",
    "Issuer",
    "IstioMesh",
    "IstioMeshArgs",
    "KeyAlgorithm",
    "KubernetesApiAccess",
    "KubernetesApiAccessArgs",
    "MtlsGateway",
    "MtlsGatewayArgs",
    "MtlsIngress",
    "MtlsIngressArgs",
    "MtlsIngressStack",
    "MtlsIngressStackArgs",
    "RevocationList",
    "RevocationListArgs",
    "RevokedEntry",
    "ServerCertificate",
    "ServerCertificateArgs",
    "TlsSecret",
    "TlsSecretArgs",
    "UpstreamTlsArgs",
    "crl_bundle",
    "verify_depth_for",
]
