"""The Kubernetes objects a mocked run declared, as the manifests the provider would send."""

from __future__ import annotations

from typing import Any

from components.kubernetes.ownership import OWNED
from support.tls_emulator import Registration, TlsEmulator

SECRET = "kubernetes:core/v1:Secret"
INGRESS = "kubernetes:networking.k8s.io/v1:Ingress"
CONFIG_MAP_PATCH = "kubernetes:core/v1:ConfigMapPatch"
KUBERNETES_VERSION = "1.34.0"


def kubernetes_registrations(emulator: TlsEmulator) -> list[Registration]:
    return [r for r in emulator.registered if r.typ.startswith("kubernetes:")]


def manifest(registration: Registration) -> dict[str, Any]:
    """The object as the provider sends it: the inputs, named (see _kubernetes_autonamed)."""
    return dict(registration.state)


def secrets_by_name(emulator: TlsEmulator) -> dict[str, dict[str, Any]]:
    return {manifest(r)["metadata"]["name"]: manifest(r) for r in emulator.of_type(SECRET)}


def secrets_by_role(
    emulator: TlsEmulator, stack: str = "mtls-ingress"
) -> dict[str, dict[str, Any]]:
    """The Secrets of a stack by role: `server-tls` for `<stack>-server-tls-secret`."""
    return {
        r.name.removeprefix(f"{stack}-").removesuffix("-secret"): manifest(r)
        for r in emulator.of_type(SECRET)
    }


def name_of(secret: dict[str, Any]) -> str:
    """`namespace/name` of a Secret manifest, as annotations reference it."""
    return f"{secret['metadata']['namespace']}/{secret['metadata']['name']}"


def the_ingress(emulator: TlsEmulator) -> dict[str, Any]:
    (ingress,) = emulator.of_type(INGRESS)
    return manifest(ingress)


def ingress_annotations(ingress: dict[str, Any]) -> dict[str, str]:
    """The Ingress's annotations that configure ingress-nginx, without the ownership annotation
    that every object of the stack carries (components.kubernetes.ownership)."""
    annotations: dict[str, str] = ingress["metadata"]["annotations"]
    return {key: value for key, value in annotations.items() if key not in OWNED}
