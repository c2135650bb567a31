"""The Kubernetes half of `MtlsIngressStack`: which objects each backend mode and each enforcer
needs.

- HTTP: Secrets `<stack>-server-tls-secret-*` (leaf, intermediates, key) and
  `<stack>-client-ca-bundle-secret-*` (ca.crt, ca.crl); the Ingress carries the auth-tls-*
  annotations.
- HTTPS: as HTTP, plus `<stack>-backend-tls-secret-*` (the backend's own key pair) and
  `<stack>-upstream-tls-secret-*` (the CA nginx verifies the backend with, and nginx's client
  certificate if asked); the Ingress adds backend-protocol and proxy-ssl-*.
- PASSTHROUGH: only `<stack>-backend-tls-secret-*` (the ingress host's key pair, the client CA
  as ca.crt and its CRLs as ca.crl, for the backend to verify clients); the Ingress carries
  ssl-passthrough alone.

The Secrets are the same for both enforcers (`secrets`); ingress-nginx reads them through the
Ingress and its controller ConfigMap (`ingress_nginx`), Gateway API through a Gateway and its
routes (`gateway_api`). Secret names end in a digest that is the same on every run (see
components.kubernetes.secrets); the stack exports them.
"""

from __future__ import annotations

import pulumi

from ...kubernetes import MtlsIngress
from ...kubernetes.gateway import MtlsGateway
from ..settings import BackendProtocol, Enforcer, StackSettings
from .gateway_api import declare_gateway
from .ingress_nginx import declare_controller_config, declare_ingress, declare_passthrough
from .secrets import (
    ObjectContext,
    StackObjects,
    StackPki,
    declare_client_ca_secret,
    declare_https_backend,
    declare_passthrough_secret,
    declare_server_tls_secret,
)

__all__ = ["StackObjects", "StackPki", "declare_objects"]


def declare_objects(
    name: str,
    settings: StackSettings,
    pki: StackPki,
    opts: pulumi.ResourceOptions,
    *,
    secrets_updated_in_place: bool = False,
) -> StackObjects:
    """Declares the controller settings, the Secrets and the Ingress (or the Gateway) for
    `settings`."""
    context = ObjectContext(name, settings, pki, opts, secrets_updated_in_place)
    # `controller` is the ingress-nginx controller's ConfigMap: a Gateway API stack leaves it
    # alone, so that it deploys where no ingress-nginx runs.
    controller_config = (
        declare_controller_config(context) if settings.enforcer is Enforcer.INGRESS_NGINX else None
    )
    if settings.ingress.backend.protocol is BackendProtocol.PASSTHROUGH:
        passthrough_secret = declare_passthrough_secret(context)
        return StackObjects(
            controller_config=controller_config,
            ingress=declare_passthrough(context),
            backend_tls_secret=passthrough_secret,
        )
    server_tls_secret = declare_server_tls_secret(context)
    client_ca_secret = declare_client_ca_secret(context)
    backend = (
        declare_https_backend(context)
        if settings.ingress.backend.protocol is BackendProtocol.HTTPS
        else None
    )
    objects = StackObjects(
        controller_config=controller_config,
        server_tls_secret=server_tls_secret,
        client_ca_secret=client_ca_secret,
        backend_tls_secret=backend.tls_secret if backend else None,
        upstream_tls_secret=backend.upstream_tls_secret if backend else None,
        backend_certificate=backend.certificate if backend else None,
        upstream_client_certificate=backend.upstream_client_certificate if backend else None,
    )
    ingress: MtlsIngress | None = None
    gateway: MtlsGateway | None = None
    if settings.enforcer is Enforcer.GATEWAY_API:
        gateway = declare_gateway(context, objects)
    else:
        ingress = declare_ingress(context, objects, backend)
    return objects.with_enforcer(ingress=ingress, gateway=gateway)
