"""MtlsIngress: a networking.k8s.io/v1 Ingress for ingress-nginx with client verification."""

from __future__ import annotations

from collections.abc import Sequence
from typing import NotRequired, TypedDict

import pulumi
import pulumi_kubernetes as k8s

from ..core import formats
from ..core.annotations import VERIFY_CLIENT_VALUES
from ..core.validation import Problems
from .annotations import (
    ClientAuthArgs,
    UpstreamTlsArgs,
    client_auth_annotations,
    passthrough_annotations,
    upstream_tls_annotations,
)
from .ownership import owned_metadata

PASSTHROUGH_FLAG_WARNING = (
    "ssl-passthrough only works when the ingress-nginx controller runs with the command-line "
    "flag --enable-ssl-passthrough (Helm: controller.extraArgs.enable-ssl-passthrough=true); "
    "it is not a ConfigMap setting. Without it the controller terminates TLS itself and "
    "clients are not verified at all."
)
OPTIONAL_VERIFY_WARNING = (
    "auth-tls-verify-client is {mode}: requests without a valid client certificate reach the "
    "backend, which must itself reject those whose ssl-client-verify header is not SUCCESS."
)
OPTIONAL_WITH_MATCH_CN_WARNING = (
    "auth-tls-verify-client is {mode} but auth-tls-match-cn is set: nginx answers 403 to "
    "every request without a certificate, since its empty subject cannot match."
)


class MtlsIngressArgs(TypedDict):
    """Arguments of `MtlsIngress`."""

    namespace: str
    """Namespace of the Ingress (and of the backend Service)."""
    ingress_name: str
    """Name of the Ingress."""
    host: str
    """Host name of the rule and of the TLS section."""
    service: str
    """Backend Service name."""
    port: int | str
    """Backend Service port: a number or a port name."""
    class_name: NotRequired[str]
    """ingressClassName; default nginx."""
    paths: NotRequired[Sequence[str]]
    """Prefix paths routed to the backend; default ["/"]."""
    tls_secret_name: NotRequired[pulumi.Input[str] | None]
    """The `kubernetes.io/tls` Secret nginx serves; required unless `passthrough`."""
    client_auth: NotRequired[ClientAuthArgs | None]
    """Client certificate verification at the ingress; not with `passthrough`."""
    upstream_tls: NotRequired[UpstreamTlsArgs | None]
    """Re-encrypt to the backend with verified TLS; not with `passthrough`."""
    passthrough: NotRequired[bool]
    """Hand the TLS connection to the backend untouched (it verifies clients itself)."""


class MtlsIngress(pulumi.ComponentResource):
    """An Ingress whose annotations make ingress-nginx enforce mutual TLS.

    With `passthrough`, nginx routes by SNI only and never sees the TLS session, so no
    `auth-tls-*` annotation is set: the backend terminates TLS and verifies clients.
    """

    ingress_name: str
    """Name of the Ingress."""
    annotations: pulumi.Output[dict[str, str]]
    """The ingress-nginx annotations set on the Ingress."""
    url: str
    """The https URL of the first path."""

    def __init__(
        self, name: str, args: MtlsIngressArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        _validate(name, args)
        super().__init__("mtls:index:MtlsIngress", name, {}, opts)
        paths = list(args.get("paths", ["/"]))
        annotations = self._annotations(args)
        k8s.networking.v1.Ingress(
            f"{name}-ingress",
            metadata=owned_metadata(
                name=args["ingress_name"], namespace=args["namespace"], annotations=annotations
            ),
            spec=_ingress_spec(args, paths),
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.ingress_name = args["ingress_name"]
        self.annotations = pulumi.Output.all(**annotations)
        self.url = f"https://{args['host']}{paths[0]}"
        self.register_outputs(
            {"ingress_name": self.ingress_name, "annotations": self.annotations, "url": self.url}
        )

    def _annotations(self, args: MtlsIngressArgs) -> dict[str, pulumi.Input[str]]:
        """The ingress-nginx annotations of `args`, with a warning for each setting that
        weakens or defeats client verification."""
        client_auth = args.get("client_auth")
        upstream_tls = args.get("upstream_tls")
        annotations: dict[str, pulumi.Input[str]] = {}
        if args.get("passthrough", False):
            annotations |= passthrough_annotations()
            pulumi.log.warn(PASSTHROUGH_FLAG_WARNING, resource=self)
        if client_auth is not None:
            annotations |= client_auth_annotations(client_auth)
            mode = client_auth.get("verify_client", "on")
            if mode in ("optional", "optional_no_ca"):
                warning = (
                    OPTIONAL_WITH_MATCH_CN_WARNING
                    if client_auth.get("match_cn")
                    else OPTIONAL_VERIFY_WARNING
                )
                pulumi.log.warn(warning.format(mode=mode), resource=self)
        if upstream_tls is not None:
            annotations |= upstream_tls_annotations(upstream_tls)
        return annotations


def _ingress_spec(args: MtlsIngressArgs, paths: Sequence[str]) -> k8s.networking.v1.IngressSpecArgs:
    """TLS for `host` with the served Secret (none with passthrough), and a Prefix rule per
    path to the backend Service."""
    port = args["port"]
    service_port = (
        k8s.networking.v1.ServiceBackendPortArgs(name=port)
        if isinstance(port, str)
        else k8s.networking.v1.ServiceBackendPortArgs(number=port)
    )
    tls_secret_name = args.get("tls_secret_name")
    return k8s.networking.v1.IngressSpecArgs(
        ingress_class_name=args.get("class_name", "nginx"),
        tls=(
            [k8s.networking.v1.IngressTLSArgs(hosts=[args["host"]], secret_name=tls_secret_name)]
            if tls_secret_name
            else None
        ),
        rules=[
            k8s.networking.v1.IngressRuleArgs(
                host=args["host"],
                http=k8s.networking.v1.HTTPIngressRuleValueArgs(
                    paths=[
                        k8s.networking.v1.HTTPIngressPathArgs(
                            path=path,
                            path_type="Prefix",
                            backend=k8s.networking.v1.IngressBackendArgs(
                                service=k8s.networking.v1.IngressServiceBackendArgs(
                                    name=args["service"], port=service_port
                                )
                            ),
                        )
                        for path in paths
                    ]
                ),
            )
        ],
    )


def _validate(name: str, args: MtlsIngressArgs) -> None:
    problems = Problems(f"invalid arguments for MtlsIngress {name!r}")
    problems.check_text("namespace", args.get("namespace"), formats.dns_label)
    problems.check_text("ingress_name", args.get("ingress_name"), formats.dns_subdomain)
    problems.check_text("host", args.get("host"), formats.hostname)
    problems.check_text("service", args.get("service"), formats.service_name)
    port = args.get("port")
    if isinstance(port, str):
        problems.check_text("port", port, formats.port_name)
    elif not isinstance(port, int) or isinstance(port, bool) or not 0 < port < 65536:
        problems.add("port", f"must be a port number from 1 to 65535 or a port name, got {port!r}")
    for index, path in enumerate(args.get("paths", ["/"])):
        problems.check_text(f"paths[{index}]", path, formats.ingress_path)
    passthrough = args.get("passthrough", False)
    if passthrough:
        for field in ("client_auth", "upstream_tls", "tls_secret_name"):
            if args.get(field):
                problems.add(field, "must be unset with passthrough: nginx never sees the TLS")
    elif not args.get("tls_secret_name"):
        problems.add("tls_secret_name", "is required unless passthrough is set")
    client_auth = args.get("client_auth")
    if client_auth:
        _validate_client_auth(problems, client_auth)
    problems.raise_if_any()


def _validate_client_auth(problems: Problems, auth: ClientAuthArgs) -> None:
    verify_client = auth.get("verify_client", "on")
    if verify_client not in VERIFY_CLIENT_VALUES:
        allowed = " | ".join(VERIFY_CLIENT_VALUES)
        problems.add(
            "client_auth.verify_client", f"must be one of {allowed}, got {verify_client!r}"
        )
    depth = auth.get("verify_depth")
    if not isinstance(depth, int) or isinstance(depth, bool) or depth < 1:
        problems.add("client_auth.verify_depth", f"must be a positive integer, got {depth!r}")
    for field, check in (
        ("error_page", formats.auth_tls_error_page),
        ("match_cn", formats.auth_tls_match_cn),
    ):
        value = auth.get(field)
        if value is not None:
            problems.check_text(f"client_auth.{field}", value, check)
