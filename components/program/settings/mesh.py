"""The Istio mesh that shares the ingress's root of trust (`mesh`)."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import field_validator

from .values import (
    CommonName,
    ConfigObject,
    Days,
    Flag,
    Hostname,
    Label,
    NoRepeats,
    problem,
    repeated,
    show,
    valid,
)


class MeshServiceSettings(ConfigObject):
    """A service whose callers must use Istio mutual TLS (`mesh.services[]`)."""

    host: Hostname
    """Its host, `<service>.<namespace>.svc.cluster.local`: the DestinationRule's host."""

    @property
    def namespace(self) -> str | None:
        """The namespace of a `<service>.<namespace>.svc…` host (where its rule goes)."""
        labels = self.host.split(".")
        return labels[1] if len(labels) > 2 and labels[2] == "svc" else None


class MeshSettings(ConfigObject):
    """The Istio mesh that shares the ingress's root of trust (`mesh`)."""

    ca_common_name: CommonName
    """Subject CN of the mesh CA, an intermediate under the server CA's root that istiod uses
    as its plug-in CA."""
    ca_validity_days: Days = 1825
    """Lifetime of the mesh CA in days, at most the server root's."""
    istio_namespace: Label = "istio-system"
    """Namespace of istiod, where the `cacerts` Secret goes."""
    namespaces: Annotated[tuple[Label, ...], NoRepeats] = ()
    """Namespaces whose workloads accept mutual TLS only (a STRICT PeerAuthentication each)."""
    services: tuple[MeshServiceSettings, ...] = ()
    """Services that callers reach with Istio mutual TLS (an ISTIO_MUTUAL DestinationRule each)."""
    inject_sidecars: Flag = False
    """Label `namespaces` for sidecar injection (`istio-injection=enabled`)."""

    @field_validator("services")
    @classmethod
    def _hosts_are_unique_services(cls, services: tuple[MeshServiceSettings, ...]) -> Any:
        hosts = [service.host for service in services]
        problems = [
            problem((i, "host"), f"repeats {show(h)}; each host gets one DestinationRule")
            for i, h in repeated(hosts)
        ]
        problems += [
            problem(
                (i, "host"), f"must be <service>.<namespace>.svc[.cluster.local]; got {show(h)}"
            )
            for i, (h, service) in enumerate(zip(hosts, services, strict=True))
            if service.namespace is None
        ]
        return valid(services, problems)
