"""The components as a Pulumi component package `mtls`, for stacks in other languages than
Python (Pulumi YAML is the one tested): `provider/` in the repository (PulumiPlugin.yaml, and a
`__main__.py` that calls `main`) is what `pulumi package add` takes.

Pulumi's Python component provider host (`pulumi.provider.experimental`) derives the package
schema from the components' type hints and docstrings. `main` prepares three things for it:

- the hints themselves: the components' modules use postponed evaluation of annotations, and
  the host reads the raw strings, so `main` evaluates them first;
- integer inputs: the host hands components the float a number arrives as (3650.0); `main`
  converts integral numbers back, and refuses another resource's output where a component
  needs a plain integer, with a message that says so (components.compat);
- `MtlsIngress.port`: the schema has no union types, so other languages give a port number
  (named service ports remain a Python-only form);
- descriptions: the host reads an attribute's docstring only from the class being described,
  and keeps docstrings' indentation; `main` lets it find outputs declared on a base class
  (IssuedCertificate's, for ServerCertificate and ClientCertificate) and dedents them
  (components.compat).
"""

from __future__ import annotations

import importlib.metadata
import inspect
import sys
import types
import typing
from typing import Any

import pulumi
from pulumi.provider.experimental import component_provider_host

from . import compat
from .kubernetes.controller_config import ControllerConfig
from .kubernetes.gateway import MtlsGateway
from .kubernetes.ingress import MtlsIngress, MtlsIngressArgs
from .kubernetes.mesh import IstioMesh
from .kubernetes.secrets import CaSecret, TlsSecret
from .pki.authority import CertificateAuthority
from .pki.client_certificate import ClientCertificate
from .pki.server_certificate import ServerCertificate

PACKAGE = "mtls"
COMPONENTS: list[type[pulumi.ComponentResource]] = [
    CertificateAuthority,
    ServerCertificate,
    ClientCertificate,
    TlsSecret,
    CaSecret,
    ControllerConfig,
    MtlsIngress,
    MtlsGateway,
    IstioMesh,
]
_OWN_MODULES = ("components", "mtls_ingress")


def main() -> None:
    """Serve the components to the engine (the entry point of `provider/__main__.py`)."""
    prepare()
    component_provider_host(components=COMPONENTS, name=PACKAGE, version=_version())


def prepare() -> None:
    """Make the components' hints and inputs what the component provider host expects."""
    seen: set[type] = set()
    for component in COMPONENTS:
        init = component.__init__
        init.__annotations__ = {
            name: _evaluate(hint, init.__globals__) for name, hint in init.__annotations__.items()
        }
        for hint in init.__annotations__.values():
            _evaluate_hint(hint, seen)
        _evaluate_class(component, seen)
    MtlsIngressArgs.__annotations__["port"] = int
    compat.convert_integer_inputs()
    compat.describe_from_bases(_own)


def _version() -> str:
    try:
        return importlib.metadata.version("mtls-ingress")
    except importlib.metadata.PackageNotFoundError:  # run from a checkout
        return "0.0.0"


def _evaluate_class(cls: type, seen: set[type]) -> None:
    """Replace the string annotations of `cls`, and of the classes its hints name, by the
    types they denote (their own keys only, so that the host's walk of the MRO still sees
    each attribute where it is declared)."""
    if cls in seen or not _own(cls):
        return
    seen.add(cls)
    if cls.__doc__:
        cls.__doc__ = inspect.cleandoc(cls.__doc__)
    for klass in cls.__mro__:
        own = inspect.get_annotations(klass)
        if not own or not _own(klass):
            continue
        klass.__annotations__ = _evaluated(own, klass)
        for hint in klass.__annotations__.values():
            _evaluate_hint(hint, seen)


def _evaluated(annotations: dict[str, Any], klass: type) -> dict[str, Any]:
    """`annotations` of `klass`, each string evaluated in its module as Python would have
    without postponed evaluation (typing.get_type_hints would also try to resolve the
    forward references inside pulumi.Input, which only pulumi's own module can)."""
    scope = {**vars(sys.modules[klass.__module__]), **vars(klass)}
    return {name: _evaluate(hint, scope) for name, hint in annotations.items()}


def _evaluate(hint: Any, scope: dict[str, Any]) -> Any:
    if isinstance(hint, typing.ForwardRef):
        hint = hint.__forward_arg__
    return eval(hint, scope) if isinstance(hint, str) else hint


def _evaluate_hint(hint: Any, seen: set[type]) -> None:
    for argument in typing.get_args(hint):
        _evaluate_hint(argument, seen)
    if isinstance(hint, type) and not isinstance(hint, types.GenericAlias):
        _evaluate_class(hint, seen)


def _own(cls: type) -> bool:
    return cls.__module__.startswith(_OWN_MODULES)


__all__ = ["COMPONENTS", "PACKAGE", "main", "prepare"]
