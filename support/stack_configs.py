"""Stack configs for the tests and the benchmarks: the shipped example environment and a
minimal one."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml

PROJECT_DIR = Path(__file__).resolve().parents[1]


def stack_file_config(stack: str) -> dict[str, Any]:
    """The `mtls-ingress:*` keys of `Pulumi.<stack>.yaml`, namespace stripped."""
    document = yaml.safe_load((PROJECT_DIR / f"Pulumi.{stack}.yaml").read_text())
    prefix = "mtls-ingress:"
    return {
        key[len(prefix) :]: value
        for key, value in document["config"].items()
        if key.startswith(prefix)
    }


def dev_config() -> dict[str, Any]:
    return stack_file_config("dev")


def minimal_config() -> dict[str, Any]:
    """The least a user must write: namespace, host, a server CA and a backend."""
    return copy.deepcopy(
        {
            "namespace": "apps",
            "host": "app.example.com",
            "pki": {"serverCa": {"commonName": "Apps CA"}, "clients": [{"name": "alice"}]},
            "ingress": {"backend": {"service": "web", "port": 8080}},
        }
    )
