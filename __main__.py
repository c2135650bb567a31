"""mtls-ingress: mutual TLS for a Kubernetes ingress, from this stack's config."""

from __future__ import annotations

import json
import os

import pulumi

from components.program import outputs
from components.program.shard import ClientShard
from components.program.stack import MtlsIngressStack


def stack_config() -> tuple[dict[str, object], set[str]]:
    """Every `mtls-ingress:` key of the stack, decoded, and those the stack holds as secrets.

    All keys are read, not only the known ones, so that a misspelt key is reported by the
    settings validation instead of silently falling back to a default.
    """
    config = pulumi.Config()
    prefix = f"{config.name}:"
    names = sorted(
        key[len(prefix) :] for key in pulumi.runtime.get_config_env() if key.startswith(prefix)
    )
    document: dict[str, object] = {}
    for name in names:
        raw = config.get(name) or ""
        # Structured values (objects, lists) reach the program as JSON text; scalars as-is.
        if raw.lstrip().startswith(("{", "[")):
            try:
                document[name] = json.loads(raw)
                continue
            except json.JSONDecodeError:
                pass
        document[name] = raw
    secrets = {name for name in names if pulumi.runtime.is_config_secret(prefix + name)}
    return document, secrets


def secrets_updated_in_place() -> bool:
    """Whether the default Kubernetes provider updates Secrets in place (`enableSecretMutable`,
    from the stack config or pulumi-kubernetes' environment variable)."""
    configured = pulumi.Config("kubernetes").get_bool("enableSecretMutable")
    if configured is not None:
        return configured
    return os.environ.get("PULUMI_K8S_ENABLE_SECRET_MUTABLE", "").lower() == "true"


def ingress_stack(document: dict[str, object], secret_keys: set[str]) -> MtlsIngressStack:
    """The stack that holds the CAs, the CRL and the objects that enforce mutual TLS."""
    stack = MtlsIngressStack(
        "mtls-ingress",
        document,  # type: ignore[arg-type]
        secret_keys=secret_keys,
        secrets_updated_in_place=secrets_updated_in_place(),
    )
    outputs.export(stack, outputs.STACK_OUTPUTS)
    return stack


def client_shard(document: dict[str, object]) -> ClientShard:
    """A stack with `issuerStack`: clients only, signed by that stack's client CA."""
    shard = ClientShard("mtls-ingress", document)  # type: ignore[arg-type]
    outputs.export(shard, outputs.SHARD_OUTPUTS)
    return shard


document, secret_keys = stack_config()
if "issuerStack" in document:
    shard = client_shard(document)
else:
    stack = ingress_stack(document, secret_keys)
