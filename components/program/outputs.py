"""The stack outputs: each name, once, with the attribute of the stack (or client shard) it
exports. The program exports them, client shards and the check command read them by these
names, and README "Stack outputs" documents them."""

from __future__ import annotations

import pulumi

INGRESS_URL = "ingressUrl"
SERVER_CA_CERTIFICATE = "serverCaCertificate"
CLIENT_CERTIFICATES = "clientCertificates"
CLIENT_PRIVATE_KEYS = "clientPrivateKeys"
REVOKED_CLIENT_SERIALS = "revokedClientSerials"
CLIENT_CRL = "clientCrl"
CLIENT_ISSUER = "clientIssuer"
"""The output of a stack with `pki.clientShards` that its shards sign with."""
CLIENT_REVOCATIONS = "clientRevocations"
"""The output of a shard that the CA's stack lists in its CRL."""

STACK_OUTPUTS: dict[str, str] = {
    INGRESS_URL: "ingress_url",
    "secretNames": "secret_names",
    SERVER_CA_CERTIFICATE: "server_ca_certificate_pem",
    "clientCaBundle": "client_ca_bundle_pem",
    "serverCertificateChain": "server_chain_pem",
    "serverCertificateExpiresAt": "server_expires_at",
    "serverCertificateRenewAt": "server_renew_at",
    CLIENT_CERTIFICATES: "client_certificates",
    CLIENT_PRIVATE_KEYS: "client_private_keys",
    "clientBundles": "client_bundles",
    REVOKED_CLIENT_SERIALS: "revoked_client_serials",
    CLIENT_CRL: "client_crl_pem",
    "clientCrlNextUpdate": "client_crl_next_update",
    "meshCaCertificate": "mesh_ca.certificate_pem",
    "meshRootCertificate": "mesh_ca.root_certificate_pem",
    "kubeconfigs": "kubernetes_api.kubeconfigs",
    "kubernetesApiRevokedSerials": "kubernetes_api.revoked_serials",
    CLIENT_ISSUER: "client_issuer",
}
"""The outputs of a stack that holds the CAs: name -> attribute path of MtlsIngressStack."""

SHARD_OUTPUTS: dict[str, str] = {
    CLIENT_CERTIFICATES: "client_certificates",
    CLIENT_PRIVATE_KEYS: "client_private_keys",
    "clientBundles": "client_bundles",
    REVOKED_CLIENT_SERIALS: "revoked_client_serials",
    CLIENT_REVOCATIONS: "client_revocations",
}
"""The outputs of a client shard: name -> attribute path of ClientShard."""


def export(source: object, outputs: dict[str, str]) -> None:
    """Export each of `outputs` that `source` has (an attribute path through a part the stack
    does not declare, such as `mesh_ca` without a mesh, is None and not exported)."""
    for name, path in outputs.items():
        value = source
        for attribute in path.split("."):
            value = getattr(value, attribute)
            if value is None:
                break
        if value is not None:
            pulumi.export(name, value)
