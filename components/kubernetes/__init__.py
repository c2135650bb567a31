"""The Kubernetes objects that enforce mutual TLS, on pulumi-kubernetes."""

from .annotations import ClientAuthArgs, UpstreamTlsArgs, verify_depth_for
from .api_access import ApiUser, KubernetesApiAccess, KubernetesApiAccessArgs
from .controller_config import ControllerConfig, ControllerConfigArgs
from .gateway import MtlsGateway, MtlsGatewayArgs
from .ingress import MtlsIngress, MtlsIngressArgs
from .mesh import IstioMesh, IstioMeshArgs
from .secrets import CaSecret, CaSecretArgs, TlsSecret, TlsSecretArgs

__all__ = [
    "ApiUser",
    "CaSecret",
    "CaSecretArgs",
    "ClientAuthArgs",
    "ControllerConfig",
    "ControllerConfigArgs",
    "IstioMesh",
    "IstioMeshArgs",
    "KubernetesApiAccess",
    "KubernetesApiAccessArgs",
    "MtlsGateway",
    "MtlsGatewayArgs",
    "MtlsIngress",
    "MtlsIngressArgs",
    "TlsSecret",
    "TlsSecretArgs",
    "UpstreamTlsArgs",
    "verify_depth_for",
]
