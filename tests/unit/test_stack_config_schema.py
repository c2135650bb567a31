"""The JSON Schema of Pulumi.<stack>.yaml: generated, current, and in step with the program."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from typing import Any

import jsonschema
import pulumi
import pytest
import yaml
from jsonschema.exceptions import best_match

from components.program.settings import ClientShardSettings, parse_settings
from schemas.generate import SCHEMA_PATH, SHARD_SCHEMA_PATH, render, stack_file_schema
from support.stack_configs import PROJECT_DIR, stack_file_config

SCHEMA = stack_file_schema()
VALIDATOR = jsonschema.Draft202012Validator(SCHEMA)
PREFIX = "mtls-ingress:"


def _dev_stack_file() -> dict[str, Any]:
    return yaml.safe_load((PROJECT_DIR / "Pulumi.dev.yaml").read_text())


def _schema_problem(document: dict[str, Any]) -> str | None:
    """The config path of the problem an editor would flag first, or None."""
    error = best_match(VALIDATOR.iter_errors(document))
    if error is None:
        return None
    steps = list(error.absolute_path)
    assert steps[0] == "config", error
    path = steps[1][len(PREFIX) :] if len(steps) > 1 else ""
    for step in steps[2:]:
        path += f"[{step}]" if isinstance(step, int) else f".{step}"
    return path


def _program_problems(config: dict[str, Any]) -> list[str]:
    with pytest.raises(pulumi.RunError) as raised:
        parse_settings(config)
    return [line[4:] for line in str(raised.value).splitlines() if line.startswith("  - ")]


def test_committed_schema_is_generated_from_the_settings_model() -> None:
    committed = (PROJECT_DIR / SCHEMA_PATH).read_text()
    assert committed == render(), "schemas/stack-config.schema.json is out of date: make schema"
    committed = (PROJECT_DIR / SHARD_SCHEMA_PATH).read_text()
    assert committed == render(ClientShardSettings), f"{SHARD_SCHEMA_PATH} is out of date"


def test_schema_is_a_valid_json_schema() -> None:
    jsonschema.Draft202012Validator.check_schema(SCHEMA)


# The stack files this project ships: the example environment and the one `make up` deploys locally.
STACK_FILES = ["Pulumi.dev.yaml", "Pulumi.local.yaml"]


@pytest.mark.parametrize("stack_file", STACK_FILES)
def test_stack_file_names_the_schema_for_editors(stack_file: str) -> None:
    first_line = (PROJECT_DIR / stack_file).read_text().splitlines()[0]
    match = re.fullmatch(r"# yaml-language-server: \$schema=(\S+)", first_line)
    assert match, first_line
    assert (PROJECT_DIR / match.group(1)).resolve() == (PROJECT_DIR / SCHEMA_PATH).resolve()


@pytest.mark.parametrize("stack_file", STACK_FILES)
def test_stack_file_is_valid(stack_file: str) -> None:
    document = yaml.safe_load((PROJECT_DIR / stack_file).read_text())
    assert list(VALIDATOR.iter_errors(document)) == []


def _edit(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    """Sets `a.b[1].c` in a config document (namespace stripped)."""

    def edit(config: dict[str, Any]) -> None:
        steps: list[str | int] = []
        for part in path.split("."):
            name, _, index = part.partition("[")
            steps += [name, int(index.rstrip("]"))] if index else [name]
        node: Any = config
        for step in steps[:-1]:
            node = node[step]
        node[steps[-1]] = value

    return edit


# Mistakes in one field: (key, value, where an editor flags it, where the program does). An
# unknown key is flagged on the object that holds it (the config itself for a top-level one).
FIELD_MISTAKES = [
    ("hots", "example.com", "", "hots"),
    ("namespace", "Payments", "namespace", "namespace"),
    ("pki.keyAlgorithm", "DSA_1024", "pki.keyAlgorithm", "pki.keyAlgorithm"),
    ("pki.serverCa.commonName", "x" * 65, "pki.serverCa.commonName", "pki.serverCa.commonName"),
    ("pki.serverCa.validityDays", 0, "pki.serverCa.validityDays", "pki.serverCa.validityDays"),
    ("pki.serverCa.validityDay", 30, "pki.serverCa", "pki.serverCa.validityDay"),
    ("pki.clients[1].validityDays", -5, "pki.clients[1].validityDays", None),
    ("pki.clients[0].name", "Check_Out", "pki.clients[0].name", None),
    ("pki.clients[0].organizations", "dev", "pki.clients[0].organizations", None),
    (
        "pki.clients[0].organizations",
        ["dev", 5],
        "pki.clients[0].organizations[1]",
        "pki.clients[0].organizations[1]",
    ),
    ("pki.clients[0].revoked", "yes", "pki.clients[0].revoked", None),
    ("pki.clients[2].revocationReason", "stolen", "pki.clients[2].revocationReason", None),
    ("pki.revokedSerials[0]", "-12", "pki.revokedSerials[0]", None),
    ("pki.revokedSerials[1].reason", "lost", "pki.revokedSerials[1].reason", None),
    ("ingress.paths", ["api"], "ingress.paths[0]", "ingress.paths[0]"),
    ("ingress.verifyClient", "required", "ingress.verifyClient", None),
    ("ingress.matchCn", "alice", "ingress.matchCn", None),
    ("ingress.backend.port", 70000, "ingress.backend.port", None),
    ("ingress.backend.protocol", "GRPC", "ingress.backend.protocol", None),
    ("controller.manage", "replace", "controller.manage", None),
    (
        "controller.settings",
        {"ssl-protocols": ["TLSv1.3"]},
        "controller.settings.ssl-protocols",
        "controller.settings.ssl-protocols",
    ),
    (
        "controller.settings",
        {"ssl-passthrough": "true"},
        "controller.settings",
        "controller.settings.ssl-passthrough",
    ),
]


@pytest.mark.parametrize(("key", "value", "flagged_at", "reported_at"), FIELD_MISTAKES)
def test_editor_flags_what_the_program_rejects(
    key: str, value: Any, flagged_at: str, reported_at: str | None
) -> None:
    config = stack_file_config("dev")
    _edit(key, value)(config)
    document = {"config": {PREFIX + name: item for name, item in config.items()}}
    assert _schema_problem(document) == flagged_at
    problems = _program_problems(config)
    assert any(line.startswith(f"{reported_at or key}: ") for line in problems), problems


# Spellings the program accepts besides the plain ones, which the editor must not flag.
ACCEPTED_SPELLINGS = [
    ("pki.server.validityDays", "90"),
    ("pki.clients[0].revoked", "false"),
    ("ingress.verifyClient", True),
    ("ingress.backend.port", "https"),
    ("ingress.backend.port", "8443"),
    ("pki.revokedSerials[0]", 1234567),
    ("pki.revokedSerials[0]", "5e:2d:1c:0b"),
    ("controller.settings", {"use-http2": True, "keep-alive": 75}),
    ("pki.serverCa.organization", None),
]


@pytest.mark.parametrize(("path", "value"), ACCEPTED_SPELLINGS)
def test_editor_accepts_what_the_program_accepts(path: str, value: Any) -> None:
    config = stack_file_config("dev")
    _edit(path, value)(config)
    parse_settings(config)
    document = {"config": {PREFIX + key: item for key, item in config.items()}}
    assert _schema_problem(document) is None


def test_secret_values_are_accepted() -> None:
    # `pulumi config set --secret host ...` and `... --path --secret pki.serverCa.commonName`.
    document = _dev_stack_file()
    document["config"][PREFIX + "host"] = {"secure": "v1:GKu1vA==:cipher"}
    document["config"][PREFIX + "pki"]["serverCa"]["commonName"] = {"secure": "v1:cipher"}
    assert _schema_problem(document) is None


def test_keys_of_other_namespaces_are_left_alone() -> None:
    document = _dev_stack_file()
    document["config"]["kubernetes:context"] = "kind-payments"
    assert _schema_problem(document) is None


def test_required_keys_may_come_from_an_esc_environment() -> None:
    document = _dev_stack_file()
    del document["config"][PREFIX + "host"]
    problems = [error.message for error in VALIDATOR.iter_errors(document)]
    assert problems == [f"'{PREFIX}host' is a required property"]
    document["environment"] = ["payments/dev"]
    assert _schema_problem(document) is None


def _readme_table() -> list[list[str]]:
    """The rows of the README's configuration table, cells stripped."""
    readme = (PROJECT_DIR / "README.md").read_text()
    section = readme.split("## Configuration reference", 1)[1]
    rows = re.findall(r"^\| `([^`]+)` \|(.*)\|$", section.split("\n## ", 1)[0], re.MULTILINE)
    return [[key, *(cell.strip() for cell in rest.split(" | "))] for key, rest in rows]


def _alternatives(schema: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """The schemas a value may match: `$ref`s followed, `anyOf` spread, secrets left out."""
    if schema.get("$ref") == "#/$defs/Secret":
        return
    if "$ref" in schema:
        yield from _alternatives(SCHEMA["$defs"][schema["$ref"].rsplit("/", 1)[1]])
    elif "anyOf" in schema:
        for alternative in schema["anyOf"]:
            yield from _alternatives(alternative)
    else:
        yield schema


def _schema_keys(schema: dict[str, Any], prefix: str) -> dict[str, dict[str, Any]]:
    """Every key path below `schema` as the README writes it (`pki.clients[].name`)."""
    keys: dict[str, dict[str, Any]] = {}
    for alternative in _alternatives(schema):
        if alternative.get("type") == "array" and (
            items := _schema_keys(alternative["items"], prefix + "[]")
        ):
            keys |= {prefix + "[]": alternative["items"], **items}
        for key, child in alternative.get("properties", {}).items():
            path = f"{prefix}.{key}" if prefix else key
            required = key in alternative.get("required", [])
            keys |= {path: child | {"x-required": required}, **_schema_keys(child, path)}
    return keys


def _config_keys() -> dict[str, dict[str, Any]]:
    """Every key of the config, with "x-required" telling whether it must be set."""
    config = SCHEMA["properties"]["config"]["properties"]
    required = SCHEMA["then"]["properties"]["config"]["required"]
    keys: dict[str, dict[str, Any]] = {}
    for name, child in config.items():
        key = name[len(PREFIX) :]
        keys |= {key: child | {"x-required": name in required}, **_schema_keys(child, key)}
    return keys


def _below(key: str, ancestor: str) -> bool:
    return key.startswith((ancestor + ".", ancestor + "["))


def test_readme_configuration_table_documents_every_schema_key() -> None:
    documented = {row[0] for row in _readme_table()}
    keys = set(_config_keys())
    assert "pki.clients[].validityDays" in keys and "pki.clients[].name" in documented
    assert documented - keys == set(), "README documents keys the program does not accept"

    def is_documented(key: str) -> bool:
        if key in documented or any(_below(row, key) for row in documented):
            return True  # itself, or an object or list whose keys have rows of their own
        # Under a row that documents its object as a whole (`pki.clientCa`: same as serverCa).
        return any(
            _below(key, row) and not any(_below(other, row) for other in documented)
            for row in documented
        )

    assert {key for key in keys if not is_documented(key)} == set()


def test_readme_required_keys_are_the_schema_required_keys() -> None:
    keys = _config_keys()
    documented = {row[0]: row[2] == "required" for row in _readme_table()}
    # A list (`pki.clients[]`) is as required as its key.
    assert documented == {key: keys[key.removesuffix("[]")]["x-required"] for key in documented}


def test_readme_defaults_are_the_schema_defaults() -> None:
    keys = _config_keys()
    mismatches = []
    for key, _type, default, _meaning in _readme_table():
        if "default" not in keys[key]:
            continue  # computed from other keys (`[host]`, `name`), or required
        expected = keys[key]["default"]
        shown = default.strip("`")
        if expected is None:
            ok = shown in ("none", "absent")
        else:
            ok = shown == (expected if isinstance(expected, str) else json.dumps(expected))
        if not ok:
            mismatches.append((key, default, expected))
    assert mismatches == []


def test_schema_documents_each_key_for_editors() -> None:
    keys = _config_keys()
    undescribed = [
        key
        for key, schema in keys.items()
        if not key.endswith("[]") and "description" not in schema
    ]
    assert undescribed == []
