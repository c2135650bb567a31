"""The Kubernetes half of `MtlsIngressStack`: which objects each backend mode needs.

- HTTP: Secrets `<stack>-server-tls-secret-*` (leaf, intermediates, key) and
  `<stack>-client-ca-bundle-secret-*` (ca.crt, ca.crl); the Ingress carries the auth-tls-*
  annotations.
- HTTPS: as HTTP, plus `<stack>-backend-tls-secret-*` (the backend's own key pair) and
  `<stack>-upstream-tls-secret-*` (the CA nginx verifies the backend with, and nginx's client
  certificate if asked); the Ingress adds backend-protocol and proxy-ssl-*.
- PASSTHROUGH: only `<stack>-backend-tls-secret-*` (the ingress host's key pair, the client CA
  as ca.crt and its CRLs as ca.crl, for the backend to verify clients); the Ingress carries
  ssl-passthrough alone.

Secret names end in a digest that is the same on every run (see components.kubernetes.secrets);
the stack exports them.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi

from ..kubernetes import (
    CaSecret,
    ClientAuthArgs,
    ControllerConfig,
    MtlsIngress,
    MtlsIngressArgs,
    TlsSecret,
    UpstreamTlsArgs,
)
from ..kubernetes.annotations import verify_depth_for
from ..kubernetes.gateway import BackendTlsArgs, EnvoyGatewayArgs, MtlsGateway
from ..pki import CertificateAuthority, ClientCertificate, ServerCertificate
from .settings import (
    BackendProtocol,
    Enforcer,
    GatewayImplementation,
    StackSettings,
    VerifyClient,
)


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
    controller_config: ControllerConfig | None
    ingress: MtlsIngress | None
    server_tls_secret: TlsSecret | None
    client_ca_secret: CaSecret | None
    backend_tls_secret: TlsSecret | None
    upstream_tls_secret: TlsSecret | CaSecret | None
    backend_certificate: ServerCertificate | None
    upstream_client_certificate: ClientCertificate | None
    gateway: MtlsGateway | None = None


def declare_objects(
    name: str,
    settings: StackSettings,
    pki: StackPki,
    opts: pulumi.ResourceOptions,
    *,
    secrets_updated_in_place: bool = False,
) -> StackObjects:
    """Declares the controller settings, the Secrets and the Ingress for `settings`."""
    in_place = secrets_updated_in_place
    ingress = settings.ingress
    backend = ingress.backend
    namespace = settings.namespace
    algorithm = settings.pki.key_algorithm.value
    controller = settings.controller
    # `controller` is the ingress-nginx controller's ConfigMap: a Gateway API stack leaves it
    # alone, so that it deploys where no ingress-nginx runs.
    controller_config = (
        ControllerConfig(
            f"{name}-controller",
            {
                "manage": controller.manage.value,
                "namespace": controller.namespace,
                "config_map_name": controller.config_map_name,
                "settings": dict(controller.settings),
            },
            opts,
        )
        if settings.enforcer is Enforcer.INGRESS_NGINX
        else None
    )

    ingress_args = MtlsIngressArgs(
        namespace=namespace,
        ingress_name=ingress.name,
        host=settings.host,
        class_name=ingress.class_name,
        paths=list(ingress.paths),
        service=backend.service,
        port=backend.port,
    )

    if backend.protocol is BackendProtocol.PASSTHROUGH:
        # The backend terminates TLS: it serves the ingress host's certificate and verifies
        # clients itself against ca.crt.
        passthrough_secret = TlsSecret(
            f"{name}-backend-tls",
            {
                "namespace": namespace,
                "updated_in_place": in_place,
                "certificate_chain_pem": pki.server_certificate.chain_pem,
                "private_key_pem": pki.server_certificate.private_key_pem,
                "trust_bundle_pem": pki.server_ca.trust_bundle_pem,
                "hosts": [settings.host],
                "ca_bundle_pem": pki.client_trust,
                "crl_pem": pki.client_crl_pem,
            },
            opts,
        )
        passthrough = MtlsIngress(f"{name}-ingress", {**ingress_args, "passthrough": True}, opts)
        return StackObjects(
            controller_config, passthrough, None, None, passthrough_secret, None, None, None
        )

    server_tls_secret = TlsSecret(
        f"{name}-server-tls",
        {
            "namespace": namespace,
            "updated_in_place": in_place,
            "certificate_chain_pem": pki.server_certificate.chain_pem,
            "private_key_pem": pki.server_certificate.private_key_pem,
            "trust_bundle_pem": pki.server_ca.trust_bundle_pem,
            "hosts": [settings.host],
        },
        opts,
    )
    client_ca_secret = CaSecret(
        f"{name}-client-ca-bundle",
        {
            "namespace": namespace,
            "updated_in_place": in_place,
            "ca_bundle_pem": pki.client_trust,
            "crl_pem": pki.client_crl_pem,
        },
        opts,
    )
    client_auth = ClientAuthArgs(
        secret=client_ca_secret.namespaced_name,
        verify_depth=verify_depth_for(pki.client_depth),
        verify_client=ingress.verify_client.value,
        pass_certificate_to_upstream=ingress.pass_certificate_to_upstream,
        error_page=ingress.error_page,
        match_cn=ingress.match_cn,
    )

    backend_certificate: ServerCertificate | None = None
    backend_tls_secret: TlsSecret | None = None
    upstream_tls_secret: TlsSecret | CaSecret | None = None
    upstream_client_certificate: ClientCertificate | None = None
    upstream_tls: UpstreamTlsArgs | None = None
    if backend.protocol is BackendProtocol.HTTPS:
        server_ca = pki.server_ca
        backend_certificate = ServerCertificate(
            f"{name}-backend",
            {
                "issuer": server_ca.as_issuer(),
                "dns_names": [backend.tls_name],
                "validity_days": settings.pki.server.validity_days,
                "renew_before_days": settings.pki.server.renew_before_days,
                "key_algorithm": algorithm,
            },
            opts,
        )
        if backend.client_certificate:
            # nginx's identity towards the backend, from the server CA: the backend trusts
            # that CA for clients, which no end-user client certificate comes from.
            upstream_client_certificate = ClientCertificate(
                f"{name}-upstream-client",
                {
                    "issuer": server_ca.as_issuer(),
                    "common_name": f"ingress-nginx.{controller.namespace}",
                    "validity_days": settings.pki.server.validity_days,
                    "renew_before_days": settings.pki.server.renew_before_days,
                    "key_algorithm": algorithm,
                },
                opts,
            )
        backend_tls_secret = TlsSecret(
            f"{name}-backend-tls",
            {
                "namespace": namespace,
                "updated_in_place": in_place,
                "certificate_chain_pem": backend_certificate.chain_pem,
                "private_key_pem": backend_certificate.private_key_pem,
                "trust_bundle_pem": server_ca.trust_bundle_pem,
                "hosts": [backend.tls_name],
                "ca_bundle_pem": (
                    server_ca.trust_bundle_pem if upstream_client_certificate else None
                ),
            },
            opts,
        )
        if upstream_client_certificate is not None:
            upstream_tls_secret = TlsSecret(
                f"{name}-upstream-tls",
                {
                    "namespace": namespace,
                    "updated_in_place": in_place,
                    "certificate_chain_pem": upstream_client_certificate.chain_pem,
                    "private_key_pem": upstream_client_certificate.private_key_pem,
                    "trust_bundle_pem": server_ca.trust_bundle_pem,
                    "hosts": [],
                    "ca_bundle_pem": server_ca.trust_bundle_pem,
                },
                opts,
            )
        else:
            upstream_tls_secret = CaSecret(
                f"{name}-upstream-tls",
                {
                    "namespace": namespace,
                    "updated_in_place": in_place,
                    "ca_bundle_pem": server_ca.trust_bundle_pem,
                },
                opts,
            )
        upstream_tls = UpstreamTlsArgs(
            secret=upstream_tls_secret.namespaced_name,
            server_name=backend.tls_name,
            verify_depth=verify_depth_for(server_ca.depth),
        )

    mtls_ingress: MtlsIngress | None = None
    gateway: MtlsGateway | None = None
    if settings.enforcer is Enforcer.GATEWAY_API:
        gateway = _gateway(
            name, settings, pki, server_tls_secret, client_ca_secret, upstream_tls_secret, opts
        )
    else:
        mtls_ingress = MtlsIngress(
            f"{name}-ingress",
            {
                **ingress_args,
                "tls_secret_name": server_tls_secret.secret_name,
                "client_auth": client_auth,
                "upstream_tls": upstream_tls,
            },
            opts,
        )
    return StackObjects(
        controller_config,
        mtls_ingress,
        server_tls_secret,
        client_ca_secret,
        backend_tls_secret,
        upstream_tls_secret,
        backend_certificate,
        upstream_client_certificate,
        gateway,
    )


def _gateway(
    name: str,
    settings: StackSettings,
    pki: StackPki,
    server_tls_secret: TlsSecret,
    client_ca_secret: CaSecret,
    upstream_tls_secret: TlsSecret | CaSecret | None,
    opts: pulumi.ResourceOptions,
) -> MtlsGateway:
    """The Gateway API objects for the same Secrets: the listener serves the TLS Secret, the
    client CA goes to a ConfigMap, and Envoy Gateway reads the CRL from the client CA Secret."""
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
        opts,
    )
