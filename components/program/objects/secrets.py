"""The Secrets of a stack, the same whichever enforcer reads them, and the backend's
certificates when the ingress speaks TLS to it."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import pulumi

from ...kubernetes import (
    CaSecret,
    ControllerConfig,
    MtlsIngress,
    TlsSecret,
    TlsSecretArgs,
    UpstreamTlsArgs,
)
from ...kubernetes.annotations import verify_depth_for
from ...kubernetes.gateway import MtlsGateway
from ...pki import CertificateAuthority, ClientCertificate, ServerCertificate
from ..settings import StackSettings


@dataclass(frozen=True)
class StackPki:
    server_ca: CertificateAuthority
    client_ca: CertificateAuthority
    server_certificate: ServerCertificate
    client_crl_pem: pulumi.Output[str] | None = None
    # What verifies clients (`ca.crt`) and how deep, when it is more than the issuing client
    # CA's chain: both CAs' while a rotation overlaps.
    client_trust_bundle_pem: pulumi.Output[str] | None = None
    client_verify_depth: int | None = None

    @property
    def client_trust(self) -> pulumi.Output[str]:
        return self.client_trust_bundle_pem or self.client_ca.trust_bundle_pem

    @property
    def client_depth(self) -> int:
        return self.client_verify_depth or self.client_ca.depth


@dataclass(frozen=True)
class StackObjects:
    """The stack's Kubernetes objects; those its backend mode and enforcer do not declare are
    None."""

    controller_config: ControllerConfig | None = None
    ingress: MtlsIngress | None = None
    server_tls_secret: TlsSecret | None = None
    client_ca_secret: CaSecret | None = None
    backend_tls_secret: TlsSecret | None = None
    upstream_tls_secret: TlsSecret | CaSecret | None = None
    backend_certificate: ServerCertificate | None = None
    upstream_client_certificate: ClientCertificate | None = None
    gateway: MtlsGateway | None = None

    def with_enforcer(
        self, *, ingress: MtlsIngress | None, gateway: MtlsGateway | None
    ) -> StackObjects:
        return dataclasses.replace(self, ingress=ingress, gateway=gateway)


@dataclass(frozen=True)
class ObjectContext:
    """What every object of the stack is declared from."""

    name: str
    settings: StackSettings
    pki: StackPki
    opts: pulumi.ResourceOptions
    updated_in_place: bool


@dataclass(frozen=True)
class HttpsBackend:
    """With `ingress.backend.protocol: HTTPS`: the backend's certificate and Secret, and what
    the ingress verifies it with (and, if asked, authenticates to it with)."""

    certificate: ServerCertificate
    tls_secret: TlsSecret
    upstream_tls_secret: TlsSecret | CaSecret
    upstream_client_certificate: ClientCertificate | None
    upstream_tls: UpstreamTlsArgs


def declare_passthrough_secret(context: ObjectContext) -> TlsSecret:
    """The backend terminates TLS: it serves the ingress host's certificate and verifies
    clients itself against ca.crt."""
    return _host_tls_secret(
        context,
        "backend-tls",
        ca_bundle_pem=context.pki.client_trust,
        crl_pem=context.pki.client_crl_pem,
    )


def declare_server_tls_secret(context: ObjectContext) -> TlsSecret:
    return _host_tls_secret(context, "server-tls")


def _host_tls_secret(
    context: ObjectContext,
    role: str,
    *,
    ca_bundle_pem: pulumi.Output[str] | None = None,
    crl_pem: pulumi.Output[str] | None = None,
) -> TlsSecret:
    """A Secret with the ingress host's key pair (and, for a backend that verifies clients,
    the client CA and its CRLs)."""
    pki, settings = context.pki, context.settings
    arguments: TlsSecretArgs = {
        "namespace": settings.namespace,
        "updated_in_place": context.updated_in_place,
        "certificate_chain_pem": pki.server_certificate.chain_pem,
        "private_key_pem": pki.server_certificate.private_key_pem,
        "trust_bundle_pem": pki.server_ca.trust_bundle_pem,
        "hosts": [settings.host],
    }
    if ca_bundle_pem is not None:
        arguments["ca_bundle_pem"] = ca_bundle_pem
        arguments["crl_pem"] = crl_pem
    return TlsSecret(f"{context.name}-{role}", arguments, context.opts)


def declare_client_ca_secret(context: ObjectContext) -> CaSecret:
    return CaSecret(
        f"{context.name}-client-ca-bundle",
        {
            "namespace": context.settings.namespace,
            "updated_in_place": context.updated_in_place,
            "ca_bundle_pem": context.pki.client_trust,
            "crl_pem": context.pki.client_crl_pem,
        },
        context.opts,
    )


def declare_https_backend(context: ObjectContext) -> HttpsBackend:
    settings, server_ca = context.settings, context.pki.server_ca
    backend, server = settings.ingress.backend, settings.pki.server
    algorithm = settings.pki.key_algorithm.value
    certificate = ServerCertificate(
        f"{context.name}-backend",
        {
            "issuer": server_ca.as_issuer(),
            "dns_names": [backend.tls_name],
            "validity_days": server.validity_days,
            "renew_before_days": server.renew_before_days,
            "key_algorithm": algorithm,
        },
        context.opts,
    )
    client_certificate = None
    if backend.client_certificate:
        # nginx's identity towards the backend, from the server CA: the backend trusts that CA
        # for clients, which no end-user client certificate comes from.
        client_certificate = ClientCertificate(
            f"{context.name}-upstream-client",
            {
                "issuer": server_ca.as_issuer(),
                "common_name": f"ingress-nginx.{settings.controller.namespace}",
                "validity_days": server.validity_days,
                "renew_before_days": server.renew_before_days,
                "key_algorithm": algorithm,
            },
            context.opts,
        )
    tls_secret = _tls_secret(
        context,
        "backend-tls",
        certificate,
        [backend.tls_name],
        server_ca.trust_bundle_pem if client_certificate else None,
    )
    upstream_secret = _upstream_tls_secret(context, client_certificate)
    return HttpsBackend(
        certificate,
        tls_secret,
        upstream_secret,
        client_certificate,
        UpstreamTlsArgs(
            secret=upstream_secret.namespaced_name,
            server_name=backend.tls_name,
            verify_depth=verify_depth_for(server_ca.depth),
        ),
    )


def _tls_secret(
    context: ObjectContext,
    role: str,
    certificate: ServerCertificate | ClientCertificate,
    hosts: list[str],
    ca_bundle_pem: pulumi.Output[str] | None,
) -> TlsSecret:
    return TlsSecret(
        f"{context.name}-{role}",
        {
            "namespace": context.settings.namespace,
            "updated_in_place": context.updated_in_place,
            "certificate_chain_pem": certificate.chain_pem,
            "private_key_pem": certificate.private_key_pem,
            "trust_bundle_pem": context.pki.server_ca.trust_bundle_pem,
            "hosts": hosts,
            "ca_bundle_pem": ca_bundle_pem,
        },
        context.opts,
    )


def _upstream_tls_secret(
    context: ObjectContext, client_certificate: ClientCertificate | None
) -> TlsSecret | CaSecret:
    """What nginx verifies the backend with, and its own key pair when it authenticates."""
    trust = context.pki.server_ca.trust_bundle_pem
    if client_certificate is not None:
        return _tls_secret(context, "upstream-tls", client_certificate, [], trust)
    return CaSecret(
        f"{context.name}-upstream-tls",
        {
            "namespace": context.settings.namespace,
            "updated_in_place": context.updated_in_place,
            "ca_bundle_pem": trust,
        },
        context.opts,
    )
