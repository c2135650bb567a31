"""Generates the JSON Schema of a `Pulumi.<stack>.yaml` file from the settings model.

Editors that run the YAML language server complete and check the stack config with it; the
first line of a stack file points at it:

    # yaml-language-server: $schema=./schemas/stack-config.schema.json

A client shard's stack file (one with `issuerStack`, see README, "Large stacks") points at
`client-shard.schema.json` instead. Regenerate both with `make schema` (`python -m
schemas.generate`); a unit test fails while a committed file is out of date.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from pydantic.json_schema import GenerateJsonSchema

from components.program.settings import ClientShardSettings, StackSettings
from components.program.settings.values import ConfigObject

NAMESPACE = "mtls-ingress"
SCHEMA_PATH = Path("schemas/stack-config.schema.json")
SHARD_SCHEMA_PATH = Path("schemas/client-shard.schema.json")

# `pulumi config set --secret` stores `{secure: <ciphertext>}` in the stack file; the program
# reads the decrypted value, so a secret may stand for a whole key or any scalar inside one.
_SECRET = {
    "description": "A value encrypted by `pulumi config set --secret`.",
    "type": "object",
    "properties": {"secure": {"type": "string"}},
    "required": ["secure"],
    "additionalProperties": False,
}


class _WithoutFieldTitles(GenerateJsonSchema):
    # Titles derived from field names ("Validitydays") say less than the key itself.
    def field_title_should_be_set(self, schema: Any) -> bool:
        return False


def stack_file_schema(model: type[ConfigObject] = StackSettings) -> dict[str, Any]:
    """The schema of a stack file: its `config:` holds the `mtls-ingress:*` keys of `model`."""
    settings = model.model_json_schema(by_alias=True, schema_generator=_WithoutFieldTitles)
    definitions = {name: _secrets_allowed(d) for name, d in settings.pop("$defs").items()}
    config_keys = {
        f"{NAMESPACE}:{key}": _or_secret(value) for key, value in settings["properties"].items()
    }
    required = [f"{NAMESPACE}:{key}" for key in settings["required"]]
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": f"Pulumi.<stack>.yaml of the {NAMESPACE} project"
        + (", a client shard" if model is ClientShardSettings else ""),
        "description": "Stack settings file: secrets provider, ESC environments and config.",
        "type": "object",
        "properties": {
            "config": {
                "description": settings["description"]
                + " Keys of other namespaces (`kubernetes:context`) are left to their owners.",
                "type": "object",
                "properties": config_keys,
                # Other namespaces' keys, never a misspelt or unknown one of this project.
                "patternProperties": {f"^(?!{NAMESPACE}:)[^:]+:[^:]+$": {}},
                "additionalProperties": False,
            },
            "environment": {"description": "Pulumi ESC environments imported by the stack."},
            "secretsprovider": {"type": "string"},
            "encryptedkey": {"type": "string"},
            "encryptionsalt": {"type": "string"},
        },
        "additionalProperties": False,
        # Config can also come from ESC environments; without one, the file must hold it all.
        "if": {"not": {"required": ["environment"]}},
        "then": {"required": ["config"], "properties": {"config": {"required": required}}},
        "$defs": definitions | {"Secret": _SECRET},
    }


def _secrets_allowed(schema: dict[str, Any]) -> dict[str, Any]:
    """`schema` with a secret allowed in place of each scalar value in it."""
    if "properties" in schema:
        properties = {key: _secrets_allowed(value) for key, value in schema["properties"].items()}
        return {**schema, "properties": properties}
    if "items" in schema:
        return {**schema, "items": _secrets_allowed(schema["items"])}
    if any("properties" in alternative for alternative in schema.get("anyOf", [])):
        return {**schema, "anyOf": [_secrets_allowed(part) for part in schema["anyOf"]]}
    if "$ref" in schema or schema.get("type") == "object":
        return schema  # an object is never a secret as a whole; an enumeration is, in $defs
    return _or_secret(schema)


def _or_secret(schema: dict[str, Any]) -> dict[str, Any]:
    documentation: dict[str, Any] = {
        key: schema[key] for key in ("description", "default") if key in schema
    }
    value = {key: item for key, item in schema.items() if key not in documentation}
    alternatives = value["anyOf"] if list(value) == ["anyOf"] else [value]
    return {**documentation, "anyOf": [*alternatives, {"$ref": "#/$defs/Secret"}]}


def render(model: type[ConfigObject] = StackSettings) -> str:
    """The text of the schema file of `model`'s stack files."""
    return json.dumps(stack_file_schema(model), indent=2, ensure_ascii=False) + "\n"


if __name__ == "__main__":
    directory = Path(sys.argv[1]) if len(sys.argv) > 1 else SCHEMA_PATH.parent
    directory.mkdir(parents=True, exist_ok=True)
    (directory / SCHEMA_PATH.name).write_text(render())
    (directory / SHARD_SCHEMA_PATH.name).write_text(render(ClientShardSettings))
