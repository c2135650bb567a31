"""The ingress's neighbours that the stack's PKI serves too: Kubernetes API users (client
certificates and kubeconfigs from the cluster CA) and an Istio mesh under the server CA's
root."""

from __future__ import annotations

import pulumi

from ..kubernetes.api_access import KubernetesApiAccess, KubernetesApiAccessArgs
from ..kubernetes.mesh import IstioMesh
from ..pki import CertificateAuthority
from .settings import StackSettings


def kubernetes_api(
    name: str, settings: StackSettings, opts: pulumi.ResourceOptions
) -> KubernetesApiAccess | None:
    """The cluster CA, imported, and the API users it signs, when `kubernetesApi` is set."""
    api = settings.kubernetes_api
    if api is None:
        return None
    authority = CertificateAuthority(
        f"{name}-kubernetes-ca",
        {"certificate_pem": api.ca.certificate, "private_key_pem": api.ca.private_key},
        opts,
    )
    arguments: KubernetesApiAccessArgs = {
        "server": api.server,
        "cluster_name": api.cluster,
        "ca": authority.as_issuer(),
        "users": [
            {
                "name": user.name,
                "groups": list(user.groups),
                "validity_days": user.validity_days,
                "renew_before_days": user.renew_before_days,
                "cluster_roles": list(user.cluster_roles),
                "revoked": user.revoked,
            }
            for user in api.users
        ],
        "key_algorithm": settings.pki.key_algorithm.value,
    }
    if api.server_ca_certificate is not None:
        arguments["server_ca_certificate_pem"] = api.server_ca_certificate
    return KubernetesApiAccess(f"{name}-kubernetes-api", arguments, opts)


def mesh(
    name: str, settings: StackSettings, root: CertificateAuthority, opts: pulumi.ResourceOptions
) -> tuple[CertificateAuthority | None, IstioMesh | None]:
    """The mesh CA under the server side's root, and the Istio objects, when `mesh` is set."""
    section = settings.mesh
    if section is None:
        return None, None
    authority = CertificateAuthority(
        f"{name}-mesh-ca",
        {
            "common_name": section.ca_common_name,
            "validity_days": section.ca_validity_days,
            "key_algorithm": settings.pki.key_algorithm.value,
            "issuer": root.as_issuer(),
        },
        opts,
    )
    objects = IstioMesh(
        f"{name}-mesh",
        {
            "istio_namespace": section.istio_namespace,
            "ca_certificate_pem": authority.certificate_pem,
            "ca_private_key_pem": authority.private_key_pem,
            "cert_chain_pem": authority.trust_bundle_pem,
            "root_certificate_pem": authority.root_certificate_pem,
            "namespaces": list(section.namespaces),
            "service_hosts": [service.host for service in section.services],
            "inject_sidecars": section.inject_sidecars,
        },
        opts,
    )
    return authority, objects
