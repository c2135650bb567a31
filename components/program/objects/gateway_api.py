"""Gateway API as the enforcer: a Gateway whose listener serves the stack's TLS Secret and
verifies clients against its CA, its routes to the backend, and Envoy Gateway's extensions
(the CRL, client certificate forwarding) when Envoy Gateway implements it."""

from __future__ import annotations

from ...kubernetes import TlsSecret
from ...kubernetes.gateway import BackendTlsArgs, EnvoyGatewayArgs, MtlsGateway
from ..settings import BackendProtocol, GatewayImplementation, VerifyClient
from .secrets import ObjectContext, StackObjects


def declare_gateway(context: ObjectContext, objects: StackObjects) -> MtlsGateway:
    """The Gateway API objects for the same Secrets: the listener serves the TLS Secret, the
    client CA goes to a ConfigMap, and Envoy Gateway reads the CRL from the client CA Secret."""
    name, settings, pki = context.name, context.settings, context.pki
    server_tls_secret, client_ca_secret = objects.server_tls_secret, objects.client_ca_secret
    upstream_tls_secret = objects.upstream_tls_secret
    assert server_tls_secret is not None and client_ca_secret is not None
    ingress, backend, gateway = settings.ingress, settings.ingress.backend, settings.gateway
    assert gateway is not None and isinstance(backend.port, int)  # the settings guarantee it
    verifies = ingress.verify_client is not VerifyClient.OFF
    backend_tls: BackendTlsArgs | None = None
    if backend.protocol is BackendProtocol.HTTPS:
        backend_tls = {
            "ca_bundle_pem": pki.server_ca.trust_bundle_pem,
            "hostname": backend.tls_name,
            "client_certificate_secret_name": (
                upstream_tls_secret.secret_name
                if isinstance(upstream_tls_secret, TlsSecret)
                else None
            ),
        }
    envoy: EnvoyGatewayArgs | None = None
    if gateway.implementation is GatewayImplementation.ENVOY_GATEWAY:
        envoy = {
            "crl_secret_name": client_ca_secret.secret_name,
            "forward_client_certificate": ingress.pass_certificate_to_upstream,
        }
    return MtlsGateway(
        f"{name}-gateway",
        {
            "namespace": settings.namespace,
            "gateway_name": gateway.name or ingress.name,
            "gateway_namespace": gateway.namespace or settings.namespace,
            "class_name": gateway.class_name,
            "host": settings.host,
            "service": backend.service,
            "port": backend.port,
            "paths": list(ingress.paths),
            "tls_secret_name": server_tls_secret.secret_name,
            "client_ca_bundle_pem": pki.client_trust if verifies else None,
            "verify_client": ingress.verify_client.value if verifies else "on",
            "backend_tls": backend_tls,
            "envoy_gateway": envoy,
        },
        context.opts,
    )
