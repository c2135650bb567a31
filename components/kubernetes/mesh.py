"""IstioMesh: service-to-service mutual TLS with Istio, under the ingress's root of trust.

Istio's plug-in CA (istio.io, "Plug in CA Certificates"): istiod signs workload certificates
with the CA in the `cacerts` Secret of its namespace instead of a self-signed root of its own,
so workloads in the mesh and clients of the ingress verify to one root. istiod reads `cacerts`
when it starts: a new mesh CA reaches workloads only after istiod restarts, and each workload
keeps its old certificate until its next rotation (24 hours by default).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NotRequired, TypedDict, cast

import pulumi
import pulumi_kubernetes as k8s

from ..core import formats
from ..core.validation import Problems
from .ownership import owned_metadata
from .preflight import check_plugin_ca

# istiod looks for exactly this Secret (pilot/pkg/bootstrap/istio_ca.go, LocalCertDir/cacerts).
PLUGIN_CA_SECRET = "cacerts"
INJECTION_LABEL = "istio-injection"


class IstioMeshArgs(TypedDict):
    """Arguments of `IstioMesh`."""

    istio_namespace: str
    """Namespace of istiod (`istio-system`), where `cacerts` goes."""
    ca_certificate_pem: pulumi.Input[str]
    """`ca-cert.pem`: the mesh CA, which signs workload certificates."""
    ca_private_key_pem: pulumi.Input[str]
    """`ca-key.pem`: its key (kept secret)."""
    cert_chain_pem: pulumi.Input[str]
    """`cert-chain.pem`: the mesh CA and every CA above it, root last."""
    root_certificate_pem: pulumi.Input[str]
    """`root-cert.pem`: the root every workload trusts."""
    namespaces: NotRequired[Sequence[str]]
    """Namespaces that accept mutual TLS only (a STRICT PeerAuthentication each)."""
    service_hosts: NotRequired[Sequence[str]]
    """`<service>.<namespace>.svc.cluster.local` hosts that callers reach with Istio mutual TLS
    (an ISTIO_MUTUAL DestinationRule each, in the service's namespace)."""
    inject_sidecars: NotRequired[bool]
    """Label `namespaces` with `istio-injection=enabled` (server-side apply: the namespaces
    themselves are not created or owned)."""


class IstioMesh(pulumi.ComponentResource):
    """The plug-in CA Secret, STRICT PeerAuthentications and ISTIO_MUTUAL DestinationRules."""

    ca_secret_name: str
    """`cacerts`."""
    peer_authentications: list[str]
    """`namespace/name` of each PeerAuthentication."""
    destination_rules: list[str]
    """`namespace/name` of each DestinationRule."""

    def __init__(
        self, name: str, args: IstioMeshArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        _validate(name, args)
        super().__init__("mtls:index:IstioMesh", name, {}, opts)
        child = pulumi.ResourceOptions(parent=self)
        _plugin_ca_secret(name, args, child)
        self.peer_authentications = _strict_namespaces(name, args, child)
        self.destination_rules = _mutual_tls_destinations(name, args, child)
        self.ca_secret_name = PLUGIN_CA_SECRET
        self.register_outputs(
            {
                "ca_secret_name": self.ca_secret_name,
                "peer_authentications": self.peer_authentications,
                "destination_rules": self.destination_rules,
            }
        )


def _plugin_ca_secret(name: str, args: IstioMeshArgs, opts: pulumi.ResourceOptions) -> None:
    """`cacerts` in istiod's namespace, once its four PEMs pass the preflight check."""
    istio_namespace = args["istio_namespace"]
    label = f"{istio_namespace}/{PLUGIN_CA_SECRET}"

    def checked(values: list[Any]) -> dict[str, str]:
        ca, key, chain, root = values
        check_plugin_ca(
            label, ca_cert_pem=ca, ca_key_pem=key, cert_chain_pem=chain, root_cert_pem=root
        )
        return {
            "ca-cert.pem": ca,
            "ca-key.pem": key,
            "cert-chain.pem": chain,
            "root-cert.pem": root,
        }

    data = pulumi.Output.all(
        args["ca_certificate_pem"],
        args["ca_private_key_pem"],
        args["cert_chain_pem"],
        args["root_certificate_pem"],
    ).apply(checked)
    # The name is istiod's, so it cannot be generated: with a provider that replaces
    # Secrets, istiod would miss it only while it restarts, and it reads it only then.
    k8s.core.v1.Secret(
        f"{name}-cacerts",
        metadata=owned_metadata(name=PLUGIN_CA_SECRET, namespace=istio_namespace),
        type="Opaque",
        string_data=pulumi.Output.secret(cast("pulumi.Input[Any]", data)),
        opts=opts,
    )


def _strict_namespaces(name: str, args: IstioMeshArgs, opts: pulumi.ResourceOptions) -> list[str]:
    """A STRICT PeerAuthentication in each namespace (and its sidecar injection label, when
    asked for); returns their `namespace/name`."""
    peer_authentications = []
    for namespace in args.get("namespaces", []):
        k8s.apiextensions.CustomResource(
            f"{name}-{namespace}-strict",
            api_version="security.istio.io/v1",
            kind="PeerAuthentication",
            metadata=owned_metadata(name="default", namespace=namespace),
            spec={"mtls": {"mode": "STRICT"}},
            opts=opts,
        )
        peer_authentications.append(f"{namespace}/default")
        if args.get("inject_sidecars", False):
            k8s.core.v1.NamespacePatch(
                f"{name}-{namespace}-injection",
                metadata=k8s.meta.v1.ObjectMetaPatchArgs(
                    name=namespace, labels={INJECTION_LABEL: "enabled"}
                ),
                opts=opts,
            )
    return peer_authentications


def _mutual_tls_destinations(
    name: str, args: IstioMeshArgs, opts: pulumi.ResourceOptions
) -> list[str]:
    """An ISTIO_MUTUAL DestinationRule for each service host, in the service's namespace;
    returns their `namespace/name`."""
    destination_rules = []
    for host in args.get("service_hosts", []):
        service, namespace = host.split(".")[:2]
        rule = f"{service}-mtls"
        k8s.apiextensions.CustomResource(
            f"{name}-{namespace}-{rule}",
            api_version="networking.istio.io/v1",
            kind="DestinationRule",
            metadata=owned_metadata(name=rule, namespace=namespace),
            spec={"host": host, "trafficPolicy": {"tls": {"mode": "ISTIO_MUTUAL"}}},
            opts=opts,
        )
        destination_rules.append(f"{namespace}/{rule}")
    return destination_rules


def _validate(name: str, args: IstioMeshArgs) -> None:
    problems = Problems(f"invalid arguments for IstioMesh {name!r}")
    problems.check_text("istio_namespace", args.get("istio_namespace"), formats.dns_label)
    for index, namespace in enumerate(args.get("namespaces", [])):
        problems.check_text(f"namespaces[{index}]", namespace, formats.dns_label)
    for index, host in enumerate(args.get("service_hosts", [])):
        labels = str(host).split(".")
        if len(labels) < 3 or labels[2] != "svc" or not all(labels[:2]):
            problems.add(
                f"service_hosts[{index}]",
                f"must be <service>.<namespace>.svc[.cluster.local], got {host!r}",
            )
    problems.raise_if_any()
