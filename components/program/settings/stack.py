"""The whole config of an mtls-ingress stack, and the rules that span its sections."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Self

from pydantic import Field, ValidationInfo, field_validator, model_validator

from ...core import formats
from ...pki import imported
from .choices import Enforcer
from .gateway import GatewaySettings, gateway_api_problems
from .ingress import ControllerSettings, IngressSettings
from .kubernetes_api import KubernetesApiSettings
from .mesh import MeshSettings
from .pki import PkiSettings
from .values import ConfigObject, Days, Hostname, Label, problem, show, valid
from .windows import short_windows


class StackSettings(ConfigObject):
    """The config of an mtls-ingress stack: the `mtls-ingress:*` keys of its stack file."""

    namespace: Label
    """Namespace of the Ingress and its Secrets."""
    host: Hostname
    """Host name clients connect to (`*.example.com` allowed)."""
    pki: PkiSettings
    """Certificate authorities, server and client certificates, revocation."""
    ingress: IngressSettings
    """The Ingress: backend, class, paths, client verification."""
    controller: ControllerSettings = Field(default_factory=ControllerSettings)
    """The ingress-nginx controller ConfigMap."""
    mesh: MeshSettings | None = None
    """An Istio mesh whose CA is an intermediate under the server CA's root."""
    enforcer: Enforcer = Enforcer.INGRESS_NGINX
    """What enforces mutual TLS: ingress-nginx (retired upstream in March 2026) or a Gateway
    API implementation."""
    gateway: GatewaySettings | None = None
    """The Gateway, with `enforcer: gateway-api`."""
    kubernetes_api: KubernetesApiSettings | None = None
    """Client certificates and kubeconfigs for users of a Kubernetes API server."""
    up_interval_days: Days = 1
    """Days between the scheduled `pulumi up` runs that renew certificates and re-issue CRLs
    (the deploy workflow runs daily); a preview warns of any window shorter than two runs."""

    @model_validator(mode="after")
    def _gateway_api_can_express_the_ingress(self) -> Self:
        if self.enforcer is not Enforcer.GATEWAY_API:
            if self.gateway is not None:
                return valid(
                    self, [problem(("gateway",), "only applies with enforcer gateway-api")]
                )
            return self
        return valid(self, gateway_api_problems(self.gateway, self.ingress, self.pki))

    @model_validator(mode="after")
    def _mesh_keeps_its_root(self) -> Self:
        if self.mesh is None or self.pki.server_ca.rotation is None:
            return self
        message = (
            "cannot rotate the server CA while mesh is set: the mesh CA is an intermediate under "
            "the server root, and istiod must move to a new root by Istio's own procedure"
        )
        return valid(self, [problem(("pki", "serverCa", "rotation"), message)])

    @model_validator(mode="after")
    def _mesh_ca_expires_with_the_root(self) -> Self:
        root = self.pki.server_ca
        if self.mesh is None or root.imported or self.mesh.ca_validity_days <= root.validity_days:
            return self
        message = "must not exceed pki.serverCa.validityDays ({}), got {}"
        days = (root.validity_days, self.mesh.ca_validity_days)
        return valid(self, [problem(("mesh", "caValidityDays"), message.format(*days))])

    def enforcer_warnings(self) -> list[str]:
        """Settings that the chosen enforcer does not use."""
        if self.enforcer is Enforcer.GATEWAY_API and "controller" in self.model_fields_set:
            return [
                "controller: configures the ingress-nginx controller, which `enforcer: "
                "gateway-api` does not use: the stack leaves its ConfigMap alone; remove "
                "`controller`"
            ]
        return []

    def schedule_warnings(self) -> list[str]:
        """Renewal and refresh windows that one missed scheduled `pulumi up` could let pass.

        Renewal happens on the first run inside a window, so a window must hold two runs to
        survive one that fails.
        """
        pki, interval = self.pki, self.up_interval_days
        windows = [
            ("pki.server.renewBeforeDays", pki.server.renew_before_days, "it expire"),
            (
                "pki.crl.refreshBeforeDays",
                pki.crl.refresh_before_days,
                "the CRL expire, which refuses every client",
            ),
            *(
                (f"pki.clients[{i}].renewBeforeDays", client.renew_before_days, "it expire")
                for i, client in enumerate(pki.clients)
                if not client.revoked
            ),
        ]
        if self.kubernetes_api is not None:
            windows += [
                (
                    f"kubernetesApi.users[{i}].renewBeforeDays",
                    user.renew_before_days,
                    "the certificate",
                )
                for i, user in enumerate(self.kubernetes_api.users)
                if not user.revoked
            ]
        return short_windows(windows, interval)

    def expiry_warnings(self, now: datetime) -> list[str]:
        """Certificates that would outlive the imported CA that signs them, if issued at `now`.

        An imported CA's remaining lifetime shrinks every day, so these are warnings, not
        errors: revocations and renewals must keep working while its successor is prepared.
        """
        pki = self.pki
        client_role = "pki.clientCa" if pki.client_ca is not None else "pki.serverCa"
        # What each CA signs itself, as (key of the lifetime, days): its intermediate, if it
        # has one, signs its leaves in its place.
        signed: dict[str, list[tuple[str, int]]] = {"pki.serverCa": [], "pki.clientCa": []}
        signed["pki.serverCa"].append(("pki.server.validityDays", pki.server.validity_days))
        signed[client_role] += [
            (f"pki.clients[{i}].validityDays", client.validity_days)
            for i, client in enumerate(pki.clients)
            if not client.revoked
        ]
        warnings: list[str] = []
        for role, authority in (("pki.serverCa", pki.server_ca), ("pki.clientCa", pki.client_ca)):
            if authority is None or authority.chain is None:
                continue
            leaves = signed[role]
            if authority.intermediate is not None:
                leaves = [
                    (f"{role}.intermediate.validityDays", authority.intermediate_validity_days)
                ]
            if role == "pki.serverCa" and self.mesh is not None:
                leaves.append(("mesh.caValidityDays", self.mesh.ca_validity_days))
            warnings += _outlasting(leaves, role, authority.chain, now)
        if self.kubernetes_api is not None:
            api = self.kubernetes_api
            users = [
                (f"kubernetesApi.users[{i}].validityDays", user.validity_days)
                for i, user in enumerate(api.users)
                if not user.revoked
            ]
            warnings += _outlasting(users, "kubernetesApi.ca", api.ca.chain, now)
        return warnings

    @field_validator("pki")
    @classmethod
    def _server_certificate_covers_the_host(cls, pki: PkiSettings, info: ValidationInfo) -> Any:
        server, host = pki.server, info.data.get("host")
        if host is None:
            return pki  # the host is invalid, and reported
        if "dns_names" not in server.model_fields_set:
            return pki.model_copy(
                update={"server": server.model_copy(update={"dns_names": (host,)})}
            )
        names = server.dns_names
        covered = not names or any(formats.covers(name, host) for name in names)
        message = f"must cover the ingress host {show(host)}; got {list(names)}"
        return valid(pki, [] if covered else [problem(("server", "dnsNames"), message)])

    @field_validator("ingress")
    @classmethod
    def _backend_tls_name_defaults_to_the_service(
        cls, ingress: IngressSettings, info: ValidationInfo
    ) -> Any:
        backend, namespace = ingress.backend, info.data.get("namespace")
        if namespace is None or "tls_name" in backend.model_fields_set:
            return ingress
        backend = backend.model_copy(update={"tls_name": f"{backend.service}.{namespace}.svc"})
        return ingress.model_copy(update={"backend": backend})


def _outlasting(
    lifetimes: list[tuple[str, int]], name: str, chain: imported.ImportedChain, now: datetime
) -> list[str]:
    left, end = chain.remaining_days(now), chain.expires_at
    return [
        f"{key}: {days} days outlast the imported {name}, which expires in {left} days "
        f"({end:%Y-%m-%d}); certificates issued from now on stop verifying then: import its "
        "successor"
        for key, days in lifetimes
        if days > left
    ]
