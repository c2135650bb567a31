"""The Kubernetes objects that enforce mutual TLS, on pulumi-kubernetes."""

from components.kubernetes.annotations import ClientAuthArgs, UpstreamTlsArgs, verify_depth_for
from components.kubernetes.controller_config import ControllerConfig, ControllerConfigArgs
from components.kubernetes.gateway import MtlsGateway, MtlsGatewayArgs
from components.kubernetes.ingress import MtlsIngress, MtlsIngressArgs
from components.kubernetes.mesh import IstioMesh, IstioMeshArgs
from components.kubernetes.secrets import CaSecret, CaSecretArgs, TlsSecret, TlsSecretArgs

__all__ = [
    "CaSecret",
    "CaSecretArgs",
    "ClientAuthArgs",
    "ControllerConfig",
    "ControllerConfigArgs",
    "IstioMesh",
    "IstioMeshArgs",
    "MtlsGateway",
    "MtlsGatewayArgs",
    "MtlsIngress",
    "MtlsIngressArgs",
    "TlsSecret",
    "TlsSecretArgs",
    "UpstreamTlsArgs",
    "verify_depth_for",
]
