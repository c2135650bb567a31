"""The Kubernetes objects a mocked run declared, as the manifests the provider would send."""

from __future__ import annotations

from typing import Any

from tests.tls_emulator import Registration, TlsEmulator

SECRET = "kubernetes:core/v1:Secret"
INGRESS = "kubernetes:networking.k8s.io/v1:Ingress"
CONFIG_MAP_PATCH = "kubernetes:core/v1:ConfigMapPatch"
KUBERNETES_VERSION = "1.34.0"


def kubernetes_registrations(emulator: TlsEmulator) -> list[Registration]:
    return [r for r in emulator.registered if r.typ.startswith("kubernetes:")]


def manifest(registration: Registration) -> dict[str, Any]:
    return dict(registration.inputs)


def secrets_by_name(emulator: TlsEmulator) -> dict[str, dict[str, Any]]:
    return {r.inputs["metadata"]["name"]: manifest(r) for r in emulator.of_type(SECRET)}


def the_ingress(emulator: TlsEmulator) -> dict[str, Any]:
    (ingress,) = emulator.of_type(INGRESS)
    return manifest(ingress)
