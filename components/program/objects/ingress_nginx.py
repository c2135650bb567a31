"""ingress-nginx as the enforcer: the controller's ConfigMap settings and the Ingress whose
annotations point it at the stack's Secrets."""

from __future__ import annotations

from ...kubernetes import (
    ClientAuthArgs,
    ControllerConfig,
    MtlsIngress,
    MtlsIngressArgs,
)
from ...kubernetes.annotations import verify_depth_for
from .secrets import HttpsBackend, ObjectContext, StackObjects


def declare_controller_config(context: ObjectContext) -> ControllerConfig:
    controller = context.settings.controller
    return ControllerConfig(
        f"{context.name}-controller",
        {
            "manage": controller.manage.value,
            "namespace": controller.namespace,
            "config_map_name": controller.config_map_name,
            "settings": dict(controller.settings),
        },
        context.opts,
    )


def declare_passthrough(context: ObjectContext) -> MtlsIngress:
    """An Ingress that hands the TLS connection to the backend (ssl-passthrough)."""
    return MtlsIngress(
        f"{context.name}-ingress", {**_ingress_args(context), "passthrough": True}, context.opts
    )


def declare_ingress(
    context: ObjectContext, objects: StackObjects, backend: HttpsBackend | None
) -> MtlsIngress:
    """The Ingress that serves the TLS Secret and verifies clients against the CA Secret."""
    ingress, pki = context.settings.ingress, context.pki
    assert objects.server_tls_secret is not None and objects.client_ca_secret is not None
    client_auth = ClientAuthArgs(
        secret=objects.client_ca_secret.namespaced_name,
        verify_depth=verify_depth_for(pki.client_depth),
        verify_client=ingress.verify_client.value,
        pass_certificate_to_upstream=ingress.pass_certificate_to_upstream,
        error_page=ingress.error_page,
        match_cn=ingress.match_cn,
    )
    return MtlsIngress(
        f"{context.name}-ingress",
        {
            **_ingress_args(context),
            "tls_secret_name": objects.server_tls_secret.secret_name,
            "client_auth": client_auth,
            "upstream_tls": backend.upstream_tls if backend else None,
        },
        context.opts,
    )


def _ingress_args(context: ObjectContext) -> MtlsIngressArgs:
    settings = context.settings
    ingress = settings.ingress
    return MtlsIngressArgs(
        namespace=settings.namespace,
        ingress_name=ingress.name,
        host=settings.host,
        class_name=ingress.class_name,
        paths=list(ingress.paths),
        service=ingress.backend.service,
        port=ingress.backend.port,
    )
