"""How the components name and own the Kubernetes objects they create, so that an update that
dies half-way (a lost CI runner, a killed `pulumi up`) leaves nothing behind.

When a run is killed after the API server created an object but before the engine recorded it,
the state keeps only a "pending create", which the next run drops. Whatever name the next run
gives the object decides what happens to the first one:

- a name drawn at random for each attempt (Pulumi's auto-naming) creates a second object and
  orphans the first, with its private key, for good;
- a name that is the same on every attempt makes the retry write the object that is already
  there (pulumi-kubernetes creates objects with server-side apply, an upsert), so it is adopted.

So every object gets a name that depends only on what it is: the component's URN and, where
the provider replaces the object when its contents change, those contents. A replacement then
gets a new name, is created before the old object is deleted, and the reader of the object
(the Ingress, the Gateway) is switched over in between, as auto-naming allowed.

The retry writes with a field manager of its own (pulumi-kubernetes draws one per resource),
while the adopted object's fields belong to the killed run's manager; its next change of such
a field would fail with a field-manager conflict. These objects belong to the stack alone, so
their applies take ownership of the fields they set (`pulumi.com/patchForce`).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

import pulumi

from ..core import formats

LABELS = {"app.kubernetes.io/managed-by": "pulumi", "app.kubernetes.io/part-of": "mtls-ingress"}

# pulumi-kubernetes' annotation for server-side apply with force: the stack owns every field it
# sets on these objects, including those a killed run's field manager wrote.
OWNED = {"pulumi.com/patchForce": "true"}

# Kubernetes object names (DNS subdomains) are at most 253 characters; the digest and its dash
# take 9.
_MAX_PREFIX_LENGTH = 253 - 9


def owned_metadata(
    *, name: pulumi.Input[str] | None = None, namespace: str | None = None, **extra: Any
) -> dict[str, Any]:
    """Metadata arguments for an object the stack owns: its labels and the force annotation
    (merged with `annotations` when given)."""
    annotations = {**dict(extra.pop("annotations", None) or {}), **OWNED}
    metadata: dict[str, Any] = {"labels": LABELS, "annotations": annotations, **extra}
    if name is not None:
        metadata["name"] = name
    if namespace is not None:
        metadata["namespace"] = namespace
    return metadata


def owner_identity(token: str, name: str) -> str:
    """What tells a component apart from every other in every stack: the project, the stack,
    the component's type token and its name (as its URN does)."""
    return f"{pulumi.get_project()}/{pulumi.get_stack()}/{token}/{name}"


def stable_name(owner: str, role: str) -> str:
    """`<role>-<digest>` of `owner` (owner_identity): the same on every run of the stack and
    different in every stack, for an object that keeps its name for its whole life (updated in
    place)."""
    return _named(role, owner)


def content_name(
    owner: str, role: str, contents: pulumi.Input[Mapping[str, Any]]
) -> pulumi.Output[str]:
    """`<role>-<digest>` of `owner` and the object's `contents`: the same on every run for the
    same contents, and new whenever the contents change, for an object that the provider
    replaces on a change (created under the new name before the old one goes)."""
    return pulumi.Output.from_input(contents).apply(
        lambda values: _named(role, owner, json.dumps(values, sort_keys=True))
    )


def _named(role: str, *parts: str) -> str:
    prefix = formats.object_name_prefix(role)[:_MAX_PREFIX_LENGTH].rstrip(".-")
    digest = hashlib.sha256("\n".join(parts).encode()).hexdigest()[:8]
    return f"{prefix}-{digest}"
