"""MtlsGateway: the same mutual TLS on Gateway API, the successor of ingress-nginx.

Gateway API v1.5 made client certificate validation at the Gateway standard
(`spec.tls.frontend.default.validation`, CA certificates from ConfigMaps). It has no CRL and
no way to forward the client certificate; Envoy Gateway adds both in its ClientTrafficPolicy
(`tls.clientValidation.crl`, `headers.xForwardedClientCert`), which this component declares
for `envoy_gateway`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NotRequired, TypedDict

import pulumi
import pulumi_kubernetes as k8s

from ..core import formats
from ..core.annotations import VERIFY_CLIENT_VALUES
from ..core.validation import Problems
from .ownership import content_name, owned_metadata, owner_identity

GATEWAY_API = "gateway.networking.k8s.io"
LISTENER = "https"
# ingress-nginx's auth-tls-verify-client, in Gateway API's frontend validation modes.
VALIDATION_MODES = {
    "on": "AllowValidOnly",
    "optional": "AllowInsecureFallback",
    "optional_no_ca": "AllowInsecureFallback",
}
INSECURE_FALLBACK_WARNING = (
    "verifyClient is {mode}: the Gateway validates clients with AllowInsecureFallback, so "
    "requests without a valid client certificate reach the backend, which must refuse them."
)


class EnvoyGatewayArgs(TypedDict):
    """What only Envoy Gateway can enforce (its ClientTrafficPolicy)."""

    crl_secret_name: NotRequired[pulumi.Input[str] | None]
    """A Secret in the route namespace whose `ca.crl` lists the revoked clients."""
    forward_client_certificate: NotRequired[bool]
    """Send the client certificate upstream in X-Forwarded-Client-Cert."""


class BackendTlsArgs(TypedDict):
    """TLS from the Gateway to the backend (a BackendTLSPolicy)."""

    ca_bundle_pem: pulumi.Input[str]
    """The CA certificates that verify the backend (written to a ConfigMap's `ca.crt`)."""
    hostname: str
    """The name the backend certificate must carry; also sent as SNI."""
    client_certificate_secret_name: NotRequired[pulumi.Input[str] | None]
    """A `kubernetes.io/tls` Secret the Gateway authenticates to backends with."""


class MtlsGatewayArgs(TypedDict):
    """Arguments of `MtlsGateway`."""

    namespace: str
    """Namespace of the HTTPRoute, the ConfigMaps and the Secrets (and of the backend)."""
    gateway_name: str
    """Name of the Gateway."""
    gateway_namespace: NotRequired[str]
    """Namespace of the Gateway (default: `namespace`; otherwise a ReferenceGrant lets it read
    the Secret and the ConfigMap)."""
    class_name: str
    """The Gateway's `gatewayClassName`."""
    host: str
    """Host name of the listener and of the route."""
    service: str
    """Backend Service name."""
    port: int
    """Backend Service port number."""
    paths: NotRequired[Sequence[str]]
    """Prefix paths routed to the backend; default ["/"]."""
    tls_secret_name: pulumi.Input[str]
    """The `kubernetes.io/tls` Secret the listener serves."""
    client_ca_bundle_pem: NotRequired[pulumi.Input[str] | None]
    """The CA certificates that verify clients (written to a ConfigMap's `ca.crt`); none:
    clients are not verified."""
    verify_client: NotRequired[str]
    """on (default) | optional | optional_no_ca, as for ingress-nginx."""
    backend_tls: NotRequired[BackendTlsArgs | None]
    """Re-encrypt to the backend with verified TLS."""
    envoy_gateway: NotRequired[EnvoyGatewayArgs | None]
    """Envoy Gateway's extensions (CRL, client certificate forwarding)."""


class MtlsGateway(pulumi.ComponentResource):
    """A Gateway with an HTTPS listener that validates client certificates, and its route."""

    gateway_name: str
    """Name of the Gateway."""
    url: str
    """The https URL of the first path."""

    def __init__(
        self, name: str, args: MtlsGatewayArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        _validate(name, args)
        super().__init__("mtls:index:MtlsGateway", name, {}, opts)
        objects = _GatewayObjects(self, name, args)
        tls, client_ca_name = objects.listener_tls()
        if objects.elsewhere:
            objects.reference_grant()
        gateway = objects.gateway(tls)
        objects.route(gateway)
        backend_tls = args.get("backend_tls")
        if backend_tls:
            objects.backend_tls_policy(backend_tls)
        envoy = args.get("envoy_gateway")
        if envoy is not None and client_ca_name is not None:
            objects.client_traffic_policy(client_ca_name, envoy)
        self.gateway_name = args["gateway_name"]
        self.url = f"https://{args['host']}{objects.paths[0]}"
        self.register_outputs({"gateway_name": self.gateway_name, "url": self.url})


class _GatewayObjects:
    """The Kubernetes objects of one `MtlsGateway`, each declared as its child.

    The route, its backend, the ConfigMaps and the Secrets live in `namespace`; the Gateway
    and Envoy Gateway's policy for it in `gateway_namespace`, which may be another one.
    """

    def __init__(self, component: MtlsGateway, name: str, args: MtlsGatewayArgs) -> None:
        self.component = component
        self.name = name
        self.args = args
        self.owner = owner_identity("mtls:index:MtlsGateway", name)
        self.namespace = args["namespace"]
        self.gateway_namespace = args.get("gateway_namespace") or self.namespace
        self.elsewhere = self.gateway_namespace != self.namespace
        self.paths = list(args.get("paths", ["/"]))
        self.child = pulumi.ResourceOptions(parent=component)

    def reference(self, kind: str, ref_name: pulumi.Input[str]) -> dict[str, Any]:
        """A reference from the Gateway's namespace to an object in the route namespace."""
        ref: dict[str, Any] = {"group": "", "kind": kind, "name": ref_name}
        return ref | ({"namespace": self.namespace} if self.elsewhere else {})

    def listener_tls(self) -> tuple[dict[str, Any], pulumi.Output[str] | None]:
        """The Gateway's `spec.tls`: client validation against a ConfigMap of the client CAs
        (declared here; its name is returned), and the certificate it shows backends."""
        tls: dict[str, Any] = {}
        ca_bundle = self.args.get("client_ca_bundle_pem")
        client_ca_name: pulumi.Output[str] | None = None
        if ca_bundle is not None:
            mode = self.args.get("verify_client", "on")
            client_ca_name = self.ca_config_map(f"{self.name}-client-ca", ca_bundle)
            tls["frontend"] = {
                "default": {
                    "validation": {
                        "caCertificateRefs": [self.reference("ConfigMap", client_ca_name)],
                        "mode": VALIDATION_MODES[mode],
                    }
                }
            }
            if VALIDATION_MODES[mode] == "AllowInsecureFallback":
                pulumi.log.warn(
                    INSECURE_FALLBACK_WARNING.format(mode=mode), resource=self.component
                )
        backend_tls = self.args.get("backend_tls")
        backend_identity = (
            backend_tls.get("client_certificate_secret_name") if backend_tls else None
        )
        if backend_identity is not None:
            tls["backend"] = {"clientCertificateRef": self.reference("Secret", backend_identity)}
        return tls, client_ca_name

    def reference_grant(self) -> None:
        """Lets the Gateway and its ClientTrafficPolicy read Secrets and ConfigMaps of the
        route namespace."""
        k8s.apiextensions.CustomResource(
            f"{self.name}-reference-grant",
            api_version=f"{GATEWAY_API}/v1beta1",
            kind="ReferenceGrant",
            metadata=_metadata(f"{self.args['gateway_name']}-gateway", self.namespace),
            spec={
                "from": [
                    {"group": GATEWAY_API, "kind": "Gateway", "namespace": self.gateway_namespace},
                    {
                        "group": "gateway.envoyproxy.io",
                        "kind": "ClientTrafficPolicy",
                        "namespace": self.gateway_namespace,
                    },
                ],
                "to": [{"group": "", "kind": "Secret"}, {"group": "", "kind": "ConfigMap"}],
            },
            opts=self.child,
        )

    def gateway(self, tls: dict[str, Any]) -> k8s.apiextensions.CustomResource:
        """The Gateway, with its HTTPS listener on `host`."""
        args = self.args
        return k8s.apiextensions.CustomResource(
            f"{self.name}-gateway",
            api_version=f"{GATEWAY_API}/v1",
            kind="Gateway",
            metadata=_metadata(args["gateway_name"], self.gateway_namespace),
            spec={
                "gatewayClassName": args["class_name"],
                "listeners": [
                    {
                        "name": LISTENER,
                        "protocol": "HTTPS",
                        "port": 443,
                        "hostname": args["host"],
                        "tls": {
                            "mode": "Terminate",
                            "certificateRefs": [self.reference("Secret", args["tls_secret_name"])],
                        },
                        "allowedRoutes": {
                            "namespaces": {"from": "All" if self.elsewhere else "Same"}
                        },
                    }
                ],
                **({"tls": tls} if tls else {}),
            },
            opts=self.child,
        )

    def route(self, gateway: pulumi.Resource) -> None:
        """The HTTPRoute from the Gateway's HTTPS listener to the backend, a rule per path."""
        args = self.args
        parent_ref = {"name": args["gateway_name"], "sectionName": LISTENER}
        if self.elsewhere:
            parent_ref["namespace"] = self.gateway_namespace
        k8s.apiextensions.CustomResource(
            f"{self.name}-route",
            api_version=f"{GATEWAY_API}/v1",
            kind="HTTPRoute",
            metadata=_metadata(args["gateway_name"], self.namespace),
            spec={
                "parentRefs": [parent_ref],
                "hostnames": [args["host"]],
                "rules": [
                    {
                        "matches": [{"path": {"type": "PathPrefix", "value": path}}],
                        "backendRefs": [{"name": args["service"], "port": args["port"]}],
                    }
                    for path in self.paths
                ],
            },
            opts=pulumi.ResourceOptions(parent=self.component, depends_on=[gateway]),
        )

    def backend_tls_policy(self, backend_tls: BackendTlsArgs) -> None:
        """Verified TLS from the Gateway to the backend Service, against a ConfigMap's CAs."""
        service = self.args["service"]
        backend_ca_name = self.ca_config_map(
            f"{self.name}-backend-ca", backend_tls["ca_bundle_pem"]
        )
        k8s.apiextensions.CustomResource(
            f"{self.name}-backend-tls",
            api_version=f"{GATEWAY_API}/v1",
            kind="BackendTLSPolicy",
            metadata=_metadata(service, self.namespace),
            spec={
                "targetRefs": [{"group": "", "kind": "Service", "name": service}],
                "validation": {
                    "caCertificateRefs": [
                        {"group": "", "kind": "ConfigMap", "name": backend_ca_name}
                    ],
                    "hostname": backend_tls["hostname"],
                },
            },
            opts=self.child,
        )

    def client_traffic_policy(
        self, client_ca_name: pulumi.Output[str], envoy: EnvoyGatewayArgs
    ) -> None:
        """Envoy Gateway's policy for the Gateway: the same client CAs, the CRL, and the client
        certificate forwarded upstream. It lives with the Gateway, whose namespace it must
        share."""
        args = self.args
        validation: dict[str, Any] = {
            "caCertificateRefs": [self.reference("ConfigMap", client_ca_name)],
            "optional": VALIDATION_MODES[args.get("verify_client", "on")] != "AllowValidOnly",
        }
        crl_secret = envoy.get("crl_secret_name")
        if crl_secret is not None:
            validation["crl"] = {"refs": [self.reference("Secret", crl_secret)]}
        spec: dict[str, Any] = {
            "targetRefs": [{"group": GATEWAY_API, "kind": "Gateway", "name": args["gateway_name"]}],
            "tls": {"clientValidation": validation},
        }
        if envoy.get("forward_client_certificate"):
            spec["headers"] = {
                "xForwardedClientCert": {"mode": "SanitizeSet", "certDetailsToAdd": ["Cert"]}
            }
        k8s.apiextensions.CustomResource(
            f"{self.name}-client-traffic",
            api_version="gateway.envoyproxy.io/v1alpha1",
            kind="ClientTrafficPolicy",
            metadata=_metadata(args["gateway_name"], self.gateway_namespace),
            spec=spec,
            opts=self.child,
        )

    def ca_config_map(self, name: str, bundle: pulumi.Input[str]) -> pulumi.Output[str]:
        """`ca.crt` in a ConfigMap named after its contents, for the same reason as the Secrets
        (components.kubernetes.secrets): pulumi-kubernetes replaces a ConfigMap whose data
        changes, and the replacement exists before the old one goes. Returns that name."""
        data = {"ca.crt": bundle}
        role = formats.object_name_prefix(name)
        config_map = k8s.core.v1.ConfigMap(
            role,
            metadata=owned_metadata(
                name=content_name(self.owner, role, data), namespace=self.namespace
            ),
            data=data,
            opts=self.child,
        )
        return config_map.metadata.apply(lambda metadata: str(metadata.name))


def _metadata(name: str, namespace: str) -> dict[str, Any]:
    return owned_metadata(name=name, namespace=namespace)


def _validate(name: str, args: MtlsGatewayArgs) -> None:
    problems = Problems(f"invalid arguments for MtlsGateway {name!r}")
    problems.check_text("namespace", args.get("namespace"), formats.dns_label)
    problems.check_text("gateway_name", args.get("gateway_name"), formats.dns_subdomain)
    if "gateway_namespace" in args:
        problems.check_text("gateway_namespace", args["gateway_namespace"], formats.dns_label)
    problems.check_text("class_name", args.get("class_name"), formats.dns_subdomain)
    problems.check_text("host", args.get("host"), formats.hostname)
    problems.check_text("service", args.get("service"), formats.service_name)
    port = args.get("port")
    if not isinstance(port, int) or isinstance(port, bool) or not 0 < port < 65536:
        problems.add("port", f"must be a port number from 1 to 65535, got {port!r}")
    for index, path in enumerate(args.get("paths", ["/"])):
        problems.check_text(f"paths[{index}]", path, formats.ingress_path)
    mode = args.get("verify_client", "on")
    if mode not in VALIDATION_MODES:
        allowed = " | ".join(v for v in VERIFY_CLIENT_VALUES if v in VALIDATION_MODES)
        problems.add(
            "verify_client",
            f"must be one of {allowed} (without client verification, leave out "
            f"client_ca_bundle_pem), got {mode!r}",
        )
    problems.raise_if_any()
