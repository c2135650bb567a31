"""ControllerConfig: hardened TLS settings on the ingress-nginx controller ConfigMap."""

from __future__ import annotations

from collections.abc import Mapping
from typing import NotRequired, TypedDict

import pulumi
import pulumi_kubernetes as k8s

from ..core import formats
from ..core.validation import Problems

DEFAULT_NAMESPACE = "ingress-nginx"
DEFAULT_CONFIG_MAP = "ingress-nginx-controller"

# Mozilla's "intermediate" profile: TLS 1.2 with forward-secret AEAD suites only, and TLS 1.3
# (whose suites nginx does not take from ssl_ciphers). Session tickets are off because their
# key never rotates in ingress-nginx unless `ssl-session-ticket-key` is managed, which would
# undo forward secrecy.
HARDENED_TLS_SETTINGS = {
    "ssl-protocols": "TLSv1.2 TLSv1.3",
    "ssl-ciphers": ":".join(
        [
            "ECDHE-ECDSA-AES128-GCM-SHA256",
            "ECDHE-RSA-AES128-GCM-SHA256",
            "ECDHE-ECDSA-AES256-GCM-SHA384",
            "ECDHE-RSA-AES256-GCM-SHA384",
            "ECDHE-ECDSA-CHACHA20-POLY1305",
            "ECDHE-RSA-CHACHA20-POLY1305",
        ]
    ),
    "ssl-session-tickets": "false",
    "hsts": "true",
    "hsts-max-age": "31536000",
}


class ControllerConfigArgs(TypedDict):
    """Arguments of `ControllerConfig`."""

    manage: NotRequired[str]
    """`patch` (default): patch the controller ConfigMap with server-side apply; `none`: leave
    it alone (the settings are then only reported in `data`)."""
    namespace: NotRequired[str]
    """Namespace of the controller; default ingress-nginx."""
    config_map_name: NotRequired[str]
    """Name of the controller ConfigMap; default ingress-nginx-controller, as the official
    Helm chart and static manifests name it."""
    settings: NotRequired[Mapping[str, str]]
    """Further ConfigMap keys; they override the hardened defaults."""


class ControllerConfig(pulumi.ComponentResource):
    """The controller-wide TLS settings that mTLS depends on.

    With `manage: patch` the stack owns only the keys it sets, through a server-side apply
    `ConfigMapPatch`: the ConfigMap itself stays the Helm release's (or the manifests'), and
    neither side overwrites keys of the other. A key both set fails the update with a field
    manager conflict instead of flapping between the two.
    """

    data: dict[str, str]
    """The keys this stack wants in the ConfigMap."""
    patched: bool
    """Whether the stack patches the ConfigMap (`manage: patch`)."""

    def __init__(
        self, name: str, args: ControllerConfigArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        manage = args.get("manage", "patch")
        namespace = args.get("namespace", DEFAULT_NAMESPACE)
        config_map_name = args.get("config_map_name", DEFAULT_CONFIG_MAP)
        settings = dict(args.get("settings", {}))
        _validate(name, manage, namespace, config_map_name, settings)
        super().__init__("mtls:index:ControllerConfig", name, {}, opts)
        self.data = {**HARDENED_TLS_SETTINGS, **settings}
        self.patched = manage == "patch"
        if self.patched:
            k8s.core.v1.ConfigMapPatch(
                f"{name}-patch",
                metadata=k8s.meta.v1.ObjectMetaPatchArgs(name=config_map_name, namespace=namespace),
                data=self.data,
                opts=pulumi.ResourceOptions(parent=self),
            )
        self.register_outputs({"data": self.data, "patched": self.patched})


def _validate(
    name: str, manage: object, namespace: object, config_map_name: object, settings: dict[str, str]
) -> None:
    problems = Problems(f"invalid arguments for ControllerConfig {name!r}")
    if manage not in ("patch", "none"):
        problems.add("manage", f"must be one of patch | none, got {manage!r}")
    problems.check_text("namespace", namespace, formats.dns_label)
    problems.check_text("config_map_name", config_map_name, formats.dns_subdomain)
    for key, value in settings.items():
        if (expected := formats.config_map_key(key)) is not None:
            problems.add(f"settings.{key}", f"must be {expected}")
        elif not isinstance(value, str):
            problems.add(f"settings.{key}", f"must be a string, got {value!r}")
    problems.raise_if_any()
