"""Reading key pairs back from a stack's state (`pulumi stack export --show-secrets`): the
local run checks a revoked client with them, whose key the stack does not export."""

from __future__ import annotations

import json
from typing import Any

SECRET_SIGNATURE = "4dabf18193072939515e22adb298388d"  # how the state marks a secret value


def revealed(value: Any) -> Any:
    """A state value without its secret wrapper."""
    if isinstance(value, dict) and SECRET_SIGNATURE in value:
        return json.loads(value["plaintext"])
    return value


def key_pair(exported: str, name: str) -> tuple[str, str]:
    """(certificate PEM, private key PEM) of the certificate whose resources are `<name>-cert`
    and `<name>-key` in an exported state (a leaf or an authority of the components)."""
    resources = json.loads(exported)["deployment"].get("resources") or []
    by_name = {resource["urn"].rsplit("::", 1)[1]: resource for resource in resources}
    certificate = revealed(by_name[f"{name}-cert"]["outputs"]["certPem"])
    key = revealed(by_name[f"{name}-key"]["outputs"]["privateKeyPem"])
    return str(certificate), str(key)
