"""MtlsIngressStack: the whole mtls-ingress stack, built from its config document."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import UTC, datetime
from typing import Any, NotRequired, TypedDict

import pulumi

from ..core.outputs import by_name
from ..kubernetes.api_access import KubernetesApiAccess
from ..kubernetes.mesh import IstioMesh
from ..pki import (
    CertificateAuthority,
    ClientCertificate,
    RevocationList,
    ServerCertificate,
    crl_bundle,
)
from .clients import ClientOutputs
from .issuance import IssuedClients, issue_clients, revocation_lists
from .neighbours import kubernetes_api, mesh
from .objects import StackObjects, StackPki, declare_objects
from .rotation import NEXT, RotatingAuthority, declare_authorities
from .settings import StackSettings, parse_settings
from .shard import shard_revocations


class MtlsIngressStackArgs(TypedDict):
    """The stack's config document: the `mtls-ingress:*` keys documented in the README."""

    namespace: str
    """Namespace of the Secrets and the Ingress."""
    host: str
    """The host name clients connect to."""
    pki: NotRequired[Mapping[str, Any]]
    """Certificate authorities, server and client certificates, revocation."""
    ingress: NotRequired[Mapping[str, Any]]
    """The Ingress: class, paths, backend, client verification."""
    controller: NotRequired[Mapping[str, Any]]
    """The ingress-nginx controller ConfigMap."""
    mesh: NotRequired[Mapping[str, Any]]
    """An Istio mesh under the server CA's root."""
    enforcer: NotRequired[str]
    """ingress-nginx (default) or gateway-api."""
    gateway: NotRequired[Mapping[str, Any]]
    """The Gateway, with enforcer gateway-api."""
    kubernetesApi: NotRequired[Mapping[str, Any]]
    """Users of a Kubernetes API server: certificates from the cluster CA, kubeconfigs."""
    upIntervalDays: NotRequired[int]
    """Days between scheduled `pulumi up` runs (default 1)."""


class MtlsIngressStack(pulumi.ComponentResource):
    """Everything that gives one ingress host mutual TLS, from one config document.

    The document is validated before anything is registered: invalid settings raise one
    `pulumi.RunError` listing every problem, and the stack creates nothing.
    """

    settings: StackSettings
    """The validated settings the stack was built from."""
    server_ca: CertificateAuthority
    """The authority that signs the server certificate."""
    client_ca: CertificateAuthority
    """The authority that signs client certificates (the server CA in the simple setup)."""
    client_authorities: list[CertificateAuthority]
    """Every CA of the client chain, root first and `client_ca` last."""
    server_authorities: RotatingAuthority
    """The server side's CAs: the current one and, during a rotation, the next."""
    client_side: RotatingAuthority
    """The client side's CAs (the server side's, without `pki.clientCa`)."""
    retiring_clients: dict[str, ClientCertificate]
    """During a rotation's issue phase: each client's certificate from the CA being replaced,
    kept (never renewed) until the retire phase."""
    server_certificate: ServerCertificate
    """The ingress's TLS certificate."""
    server_ca_certificate_pem: pulumi.Output[str]
    """The server CA certificate: what clients trust to verify the ingress."""
    client_ca_bundle_pem: pulumi.Output[str]
    """The client CA bundle: what the ingress trusts to verify clients (`ca.crt`)."""
    server_chain_pem: pulumi.Output[str]
    """The server certificate and its intermediates (`tls.crt`)."""
    server_expires_at: pulumi.Output[str]
    """End of the server certificate's validity, RFC 3339."""
    server_renew_at: pulumi.Output[str]
    """When `pulumi up` replaces the server key and certificate, RFC 3339."""
    clients: dict[str, ClientCertificate]
    """Every configured client's certificate from the issuing CA, revoked ones included."""
    client_certificates: pulumi.Output[dict[str, dict[str, str]]]
    """Per active client: certificate, chain, serialNumber, expiresAt and renewAt."""
    client_private_keys: pulumi.Output[dict[str, str]]
    """Per active client: private key, PEM (secret)."""
    revoked_client_serials: pulumi.Output[dict[str, str]]
    """Per revoked client: the serial number the revocation list names."""
    revocation_lists: list[RevocationList]
    """The CRL of each CA in the client chain."""
    client_crl_pem: pulumi.Output[str]
    """Every CRL of the client chain, concatenated (`ca.crl`)."""
    client_crl_next_update: pulumi.Output[str]
    """When the client CA's CRL expires unless `pulumi up` re-issues it, RFC 3339."""
    objects: StackObjects
    """The Kubernetes objects: controller settings, Secrets, Ingress."""
    ingress_url: str
    """The https URL clients call."""
    mesh_ca: CertificateAuthority | None
    """The mesh's plug-in CA, an intermediate under the server CA's root (with `mesh`)."""
    mesh: IstioMesh | None
    """The Istio objects (with `mesh`)."""
    client_bundles: pulumi.Output[dict[str, dict[str, str]]] | None
    """Per active client (secret): certificate, chain, privateKey, pkcs12 (base64),
    pkcs12Password and the curl command that calls the ingress with them (None with
    `pki.clientBundles: false`)."""
    client_issuer: pulumi.Output[dict[str, str]] | None
    """With `pki.clientShards` (secret): the client CA as its shards sign with it:
    certificate, privateKey, intermediates and trustBundle."""
    kubernetes_api: KubernetesApiAccess | None
    """Kubernetes API users: certificates, kubeconfigs and bindings (with `kubernetesApi`)."""
    secret_names: pulumi.Output[dict[str, str]]
    """The names of the stack's Secrets, by role (`serverTls`, `clientCa`,
    `backendTls`, `upstreamTls`; those the backend mode declares)."""

    def __init__(
        self,
        name: str,
        args: MtlsIngressStackArgs,
        opts: pulumi.ResourceOptions | None = None,
        *,
        secret_keys: Collection[str] | None = None,
        secrets_updated_in_place: bool = False,
    ) -> None:
        """Validates `args` and declares the stack.

        `secret_keys` names the keys of `args` that the stack config holds as secrets; given
        (the program passes them), a private key in any other key is a configuration error.
        `secrets_updated_in_place` says that the Kubernetes provider updates Secrets in place
        (its `enableSecretMutable` option): the Secrets then keep their names for life (see
        components.kubernetes.secrets).
        """
        settings = parse_settings(args, secret_keys)
        super().__init__("mtls:index:MtlsIngressStack", name, {}, opts)
        warnings = settings.expiry_warnings(datetime.now(UTC)) + settings.schedule_warnings()
        for warning in warnings + settings.enforcer_warnings():
            pulumi.log.warn(warning, resource=self)
        self.settings = settings
        child = pulumi.ResourceOptions(parent=self)
        self._declare_authorities(name, child)
        self._declare_server_certificate(name, child)
        issued = issue_clients(
            name, settings.pki, self.client_side, settings.pki.key_algorithm.value, child
        )
        self.clients, self.retiring_clients = issued.handed_out, issued.retiring
        self._declare_revocation_lists(name, issued, child)
        self.objects = declare_objects(
            name,
            settings,
            StackPki(
                self.server_ca,
                self.client_ca,
                self.server_certificate,
                self.client_crl_pem,
                client_trust_bundle_pem=self.client_side.trust_bundle_pem,
                client_verify_depth=self.client_side.depth,
            ),
            child,
            secrets_updated_in_place=secrets_updated_in_place,
        )
        self.ingress_url = f"https://{settings.host}{settings.ingress.paths[0]}"
        self._hand_out_clients(issued.resources)
        self.kubernetes_api = kubernetes_api(name, settings, child)
        self.mesh_ca, self.mesh = mesh(
            name, settings, self.server_authorities.issuing_chain[0], child
        )
        self._publish()

    def _declare_authorities(self, name: str, opts: pulumi.ResourceOptions) -> None:
        """The server side's CAs and the client side's (the same without `pki.clientCa`)."""
        pki = self.settings.pki
        algorithm = pki.key_algorithm.value
        server_side = declare_authorities(f"{name}-server-ca", pki.server_ca, algorithm, opts)
        client_side = (
            declare_authorities(f"{name}-client-ca", pki.client_ca, algorithm, opts)
            if pki.client_ca is not None
            else server_side
        )
        self.server_authorities, self.client_side = server_side, client_side
        self.server_ca, self.client_ca = server_side.issuing, client_side.issuing
        self.client_authorities = client_side.issuing_chain

    def _declare_server_certificate(self, name: str, opts: pulumi.ResourceOptions) -> None:
        pki = self.settings.pki
        self.server_certificate = ServerCertificate(
            f"{name}-server",
            {
                "issuer": self.server_ca.as_issuer(),
                "dns_names": list(pki.server.dns_names),
                "ip_addresses": list(pki.server.ip_addresses),
                "validity_days": pki.server.validity_days,
                "renew_before_days": pki.server.renew_before_days,
                "key_algorithm": pki.key_algorithm.value,
            },
            opts,
        )

    def _declare_revocation_lists(
        self, name: str, issued: IssuedClients, opts: pulumi.ResourceOptions
    ) -> None:
        """The CRLs of each CA generation of the client side that signs clients."""
        pki, client_side = self.settings.pki, self.client_side
        shard_entries = shard_revocations(pki.client_shards, opts) if pki.client_shards else None
        generations = []
        if client_side.keeps_current:
            generations.append((f"{name}-client-ca", client_side.current, issued.current))
        if client_side.next:  # from the introduce phase on: ready before it signs anyone
            generations.append((f"{name}-client-ca{NEXT}", client_side.next, issued.next))
        self.revocation_lists = []
        for prefix, chain, certificates in generations:
            self.revocation_lists += revocation_lists(
                prefix, chain, certificates, pki, client_side.phase, opts, shard_entries
            )
        self.client_crl_pem = crl_bundle(self.revocation_lists)
        self.client_crl_next_update = self.revocation_lists[-1].next_update

    def _hand_out_clients(self, resources: Mapping[str, str]) -> None:
        """The clients' outputs and, with client shards, the issuer they sign with."""
        pki = self.settings.pki
        self._client_resources = dict(resources)
        issued = ClientOutputs(
            pki.clients,
            self.clients,
            self._client_resources,
            self.client_ca.intermediates_pem,
            self.ingress_url,
            bundles=pki.client_bundles,
        )
        self.client_certificates = issued.client_certificates
        self.client_private_keys = issued.client_private_keys
        self.client_bundles = issued.client_bundles
        self.revoked_client_serials = issued.revoked_client_serials
        self.client_issuer = (
            None
            if pki.client_shards is None
            else pulumi.Output.secret(
                pulumi.Output.all(
                    certificate=self.client_ca.certificate_pem,
                    privateKey=self.client_ca.private_key_pem,
                    intermediates=self.client_ca.intermediates_pem,
                    trustBundle=self.client_ca.trust_bundle_pem,
                )
            )
        )

    def _publish(self) -> None:
        """The stack's own outputs, and the component's registered outputs."""
        self.secret_names = by_name(
            {
                role: secret.secret_name
                for role, secret in (
                    ("serverTls", self.objects.server_tls_secret),
                    ("clientCa", self.objects.client_ca_secret),
                    ("backendTls", self.objects.backend_tls_secret),
                    ("upstreamTls", self.objects.upstream_tls_secret),
                )
                if secret is not None
            }
        )
        # What clients trust: the roots (OpenSSL wants a self-signed trust anchor), both of
        # them while a rotation of the server CA overlaps.
        self.server_ca_certificate_pem = self.server_authorities.roots_pem
        self.client_ca_bundle_pem = self.client_side.trust_bundle_pem
        self.server_chain_pem = self.server_certificate.chain_pem
        self.server_expires_at = self.server_certificate.expires_at
        self.server_renew_at = self.server_certificate.renew_at
        self.register_outputs(
            {
                "server_ca_certificate_pem": self.server_ca_certificate_pem,
                "client_ca_bundle_pem": self.client_ca_bundle_pem,
                "server_chain_pem": self.server_chain_pem,
                "server_expires_at": self.server_expires_at,
                "server_renew_at": self.server_renew_at,
                "client_certificates": self.client_certificates,
                "client_private_keys": self.client_private_keys,
                "client_bundles": self.client_bundles,
                "revoked_client_serials": self.revoked_client_serials,
                "ingress_url": self.ingress_url,
                "secret_names": self.secret_names,
                "client_crl_pem": self.client_crl_pem,
                "client_crl_next_update": self.client_crl_next_update,
            }
        )
