"""The Gateway API enforcer (`gateway`, with `enforcer: gateway-api`), and what of the other
settings it cannot express."""

from __future__ import annotations

from pydantic import Field
from pydantic_core import InitErrorDetails

from .choices import BackendProtocol, GatewayImplementation
from .ingress import IngressSettings
from .pki import PkiSettings
from .values import ConfigObject, Label, Subdomain, problem


class GatewaySettings(ConfigObject):
    """The Gateway API objects (`gateway`), with `enforcer: gateway-api`."""

    class_name: Subdomain
    """The Gateway's `gatewayClassName` (Envoy Gateway's quick start names its class `eg`)."""
    # Unset means computed from other keys: no default in the schema.
    name: Subdomain | None = Field(default_factory=lambda: None)
    """Name of the Gateway (default: the Ingress's name, `ingress.name`)."""
    namespace: Label | None = Field(default_factory=lambda: None)
    """Namespace of the Gateway (default: `namespace`); routes and Secrets stay in `namespace`."""
    implementation: GatewayImplementation = GatewayImplementation.OTHER
    """`envoy-gateway` adds its ClientTrafficPolicy: CRL checks and the client certificate
    forwarded upstream, which Gateway API itself cannot express."""


# What Gateway API cannot express, and what to do instead, by `ingress` key.
GATEWAY_API_REFUSALS = {
    "match_cn": (
        "matchCn",
        "Gateway API cannot match the client certificate's subject; with Envoy "
        "Gateway, authorize clients in a SecurityPolicy, or restrict them with "
        "ClientTrafficPolicy tls.clientValidation.subjectAltNames",
    ),
    "error_page": (
        "errorPage",
        "Gateway API has no error page for clients that fail verification: the "
        "TLS handshake fails, and the implementation answers it",
    ),
}


def gateway_api_problems(
    gateway: GatewaySettings | None, ingress: IngressSettings, pki: PkiSettings
) -> list[InitErrorDetails]:
    """What keeps `enforcer: gateway-api` from enforcing the settings, at the stack's keys."""
    problems = []
    if gateway is None:
        problems.append(problem(("gateway",), "is required with enforcer gateway-api"))
    backend = ingress.backend
    if backend.protocol is BackendProtocol.PASSTHROUGH:
        message = (
            "PASSTHROUGH is not supported with enforcer gateway-api yet: it needs a "
            "TLSRoute, which this project does not declare; use HTTP or HTTPS"
        )
        problems.append(problem(("ingress", "backend", "protocol"), message))
    if isinstance(backend.port, str):
        message = "must be a port number with enforcer gateway-api (an HTTPRoute's backendRef)"
        problems.append(problem(("ingress", "backend", "port"), message))
    for field, (key, message) in GATEWAY_API_REFUSALS.items():
        if getattr(ingress, field) is not None:
            problems.append(problem(("ingress", key), message))
    envoy = gateway is not None and gateway.implementation is GatewayImplementation.ENVOY_GATEWAY
    if not envoy:
        problems += _needs_envoy_gateway(ingress, pki)
    return problems


def _needs_envoy_gateway(ingress: IngressSettings, pki: PkiSettings) -> list[InitErrorDetails]:
    """What only Envoy Gateway's ClientTrafficPolicy can do among Gateway API implementations."""
    no_crl = (
        "Gateway API has no CRL: with gateway.implementation other, a revoked certificate would "
        "still be accepted; set gateway.implementation envoy-gateway (its ClientTrafficPolicy "
        "checks ca.crl), or rotate the client CA instead of revoking"
    )
    problems = [
        problem(("pki", "clients", index, "revoked"), no_crl)
        for index, client in enumerate(pki.clients)
        if client.revoked
    ]
    if pki.revoked_serials:
        problems.append(problem(("pki", "revokedSerials"), no_crl))
    if ingress.pass_certificate_to_upstream:
        message = (
            "Gateway API cannot forward the client certificate; set gateway.implementation "
            "envoy-gateway (its ClientTrafficPolicy sets X-Forwarded-Client-Cert)"
        )
        problems.append(problem(("ingress", "passCertificateToUpstream"), message))
    return problems
