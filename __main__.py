"""mtls-ingress: mutual TLS for a Kubernetes ingress, from this stack's config."""

from __future__ import annotations

import json
import os

import pulumi

from components.shard import ISSUER_OUTPUT, REVOCATIONS_OUTPUT, ClientShard
from components.stack import MtlsIngressStack


def stack_config() -> tuple[dict[str, object], set[str]]:
    """Every `mtls-ingress:` key of the stack, decoded, and those the stack holds as secrets.

    All keys are read, not only the known ones, so that a misspelt key is reported by the
    settings validation instead of silently falling back to a default.
    """
    config = pulumi.Config()
    prefix = f"{config.name}:"
    names = sorted(
        key[len(prefix) :] for key in pulumi.runtime.get_config_env() if key.startswith(prefix)
    )
    document: dict[str, object] = {}
    for name in names:
        raw = config.get(name) or ""
        # Structured values (objects, lists) reach the program as JSON text; scalars as-is.
        if raw.lstrip().startswith(("{", "[")):
            try:
                document[name] = json.loads(raw)
                continue
            except json.JSONDecodeError:
                pass
        document[name] = raw
    secrets = {name for name in names if pulumi.runtime.is_config_secret(prefix + name)}
    return document, secrets


def secrets_updated_in_place() -> bool:
    """Whether the default Kubernetes provider updates Secrets in place (`enableSecretMutable`,
    from the stack config or pulumi-kubernetes' environment variable)."""
    configured = pulumi.Config("kubernetes").get_bool("enableSecretMutable")
    if configured is not None:
        return configured
    return os.environ.get("PULUMI_K8S_ENABLE_SECRET_MUTABLE", "").lower() == "true"


def ingress_stack(document: dict[str, object], secret_keys: set[str]) -> MtlsIngressStack:
    """The stack that holds the CAs, the CRL and the objects that enforce mutual TLS."""
    stack = MtlsIngressStack(
        "mtls-ingress",
        document,  # type: ignore[arg-type]
        secret_keys=secret_keys,
        secrets_updated_in_place=secrets_updated_in_place(),
    )
    pulumi.export("ingressUrl", stack.ingress_url)
    pulumi.export("secretNames", stack.secret_names)
    pulumi.export("serverCaCertificate", stack.server_ca_certificate_pem)
    pulumi.export("clientCaBundle", stack.client_ca_bundle_pem)
    pulumi.export("serverCertificateChain", stack.server_chain_pem)
    pulumi.export("serverCertificateExpiresAt", stack.server_expires_at)
    pulumi.export("serverCertificateRenewAt", stack.server_renew_at)
    pulumi.export("clientCertificates", stack.client_certificates)
    pulumi.export("clientPrivateKeys", stack.client_private_keys)
    if stack.client_bundles is not None:
        pulumi.export("clientBundles", stack.client_bundles)
    pulumi.export("revokedClientSerials", stack.revoked_client_serials)
    pulumi.export("clientCrl", stack.client_crl_pem)
    pulumi.export("clientCrlNextUpdate", stack.client_crl_next_update)
    if stack.mesh_ca is not None:
        pulumi.export("meshCaCertificate", stack.mesh_ca.certificate_pem)
        pulumi.export("meshRootCertificate", stack.mesh_ca.root_certificate_pem)
    if stack.kubernetes_api is not None:
        pulumi.export("kubeconfigs", stack.kubernetes_api.kubeconfigs)
        pulumi.export("kubernetesApiRevokedSerials", stack.kubernetes_api.revoked_serials)
    if stack.client_issuer is not None:
        pulumi.export(ISSUER_OUTPUT, stack.client_issuer)
    return stack


def client_shard(document: dict[str, object]) -> ClientShard:
    """A stack with `issuerStack`: clients only, signed by that stack's client CA."""
    shard = ClientShard("mtls-ingress", document)  # type: ignore[arg-type]
    pulumi.export("clientCertificates", shard.client_certificates)
    pulumi.export("clientPrivateKeys", shard.client_private_keys)
    if shard.client_bundles is not None:
        pulumi.export("clientBundles", shard.client_bundles)
    pulumi.export("revokedClientSerials", shard.revoked_client_serials)
    pulumi.export(REVOCATIONS_OUTPUT, shard.client_revocations)
    return shard


document, secret_keys = stack_config()
if "issuerStack" in document:
    shard = client_shard(document)
else:
    stack = ingress_stack(document, secret_keys)
