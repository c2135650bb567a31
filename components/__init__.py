"""mtls-ingress components: a private PKI and the Kubernetes objects that enforce mutual TLS.

Installed as the package `mtls_ingress` (`pip install <this repository>`), every component is
importable from the top level: `from mtls_ingress import CertificateAuthority, MtlsIngress`.
In this repository the same code is the package `components`.

The package's parts:
- `pki` and `kubernetes`: the components (this module exports them);
- `core`: the facts they share with the policy pack and the local cluster (annotation names,
  PEM and CRL handling, names and formats), needing only the standard library and
  cryptography;
- `program`: the stack program this repository deploys (its settings, the stack built from
  them, client shards, CA rotation), which the components never import;
- `check` (`python -m mtls_ingress.check`): checks that a deployed endpoint enforces mTLS.

The components load on first use, so that `import mtls_ingress` (or `mtls_ingress.core`) does
not load pulumi-tls and pulumi-kubernetes until a component is asked for.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
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
_PARTS = ("pki", "kubernetes")


def __getattr__(name: str) -> Any:
    if name in __all__:
        for part in _PARTS:
            module = importlib.import_module(f".{part}", __name__)
            if hasattr(module, name):
                value = getattr(module, name)
                globals()[name] = value
                return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
