"""The values a stack config holds, each read as the README documents it.

Each type reads a value or fails with "must be <what is allowed>, got <value>", and tells editors
the same as JSON Schema. Numbers may arrive as strings ("90") and booleans as "true"/"false", as
`pulumi config set --path` can store them.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Mapping, Sequence
from typing import Annotated, Any, NoReturn, TypeVar

from pydantic import (
    AfterValidator,
    BeforeValidator,
    GetPydanticSchema,
    ValidationError,
)
from pydantic_core import InitErrorDetails, PydanticCustomError, core_schema

from components import formats

T = TypeVar("T")

# A check returns None when the value is acceptable, else what an acceptable value looks like.
Check = Callable[[str], "str | None"]


def show(value: object) -> str:
    """Renders a config value the way the user wrote it in YAML or JSON."""
    if isinstance(value, Mapping):
        return "an object"
    return "a list" if isinstance(value, list | tuple) else json.dumps(value)


def fail(message: str) -> NoReturn:
    """Rejects the value being read; `message` is what the user reads after its path."""
    raise PydanticCustomError("stack_config", message)


def problem(loc: tuple[str | int, ...], message: str) -> InitErrorDetails:
    """A problem with the field at `loc`, relative to the object being read."""
    return {"type": PydanticCustomError("stack_config", message), "loc": loc, "input": None}


def valid(value: T, problems: Sequence[InitErrorDetails]) -> T:
    """`value`, unless a rule that spans fields found `problems`, each at its own field."""
    if problems:
        raise ValidationError.from_exception_data(type(value).__name__, list(problems))
    return value


def repeated(values: Sequence[T]) -> list[tuple[int, T]]:
    """Each value that an earlier one equals, with its index."""
    return [(index, value) for index, value in enumerate(values) if value in values[:index]]


def reads(read: Callable[[Any], Any], schema: dict[str, Any]) -> GetPydanticSchema:
    """Pydantic metadata: values are read by `read`, and editors are told `schema`."""
    return GetPydanticSchema(
        lambda _source, _handler: core_schema.no_info_plain_validator_function(read),
        lambda _schema, _handler: copy.deepcopy(schema),
    )


def text(check: Check | None = None, **schema: object) -> GetPydanticSchema:
    def read(value: object) -> str:
        if not isinstance(value, str) or not value:
            fail(f"must be a non-empty string; got {show(value)}")
        if check is not None and (expected := check(value)) is not None:
            fail(f"must be {expected}; got {show(value)}")
        return value

    return reads(read, {"type": "string", "minLength": 1, **schema})


def _ingress_name(value: str) -> str | None:
    # The Secrets get suffixes of up to 13 characters ("-upstream-tls"); names stay labels.
    if len(value) <= 50 and formats.dns_label(value) is None:
        return None
    return "a lowercase RFC 1123 label of at most 50 characters"


Label = Annotated[str, text(formats.dns_label, pattern=formats.DNS_LABEL.pattern, maxLength=63)]
Subdomain = Annotated[str, text(formats.dns_subdomain, maxLength=253)]
Hostname = Annotated[str, text(formats.hostname)]
IpAddress = Annotated[str, text(formats.ip_address)]
CommonName = Annotated[str, text(formats.common_name, maxLength=formats.MAX_COMMON_NAME_LENGTH)]
Organization = Annotated[str, text(formats.organization, maxLength=formats.MAX_ORGANIZATION_LENGTH)]
ServiceName = Annotated[str, text(formats.service_name, pattern=formats.DNS_1035_LABEL.pattern)]
IngressName = Annotated[str, text(_ingress_name, pattern=formats.DNS_LABEL.pattern, maxLength=50)]
IngressPath = Annotated[str, text(formats.ingress_path, pattern=formats.INGRESS_PATH.pattern)]
ErrorPage = Annotated[str, text(formats.auth_tls_error_page, pattern=formats.ERROR_PAGE.pattern)]
MatchCn = Annotated[str, text(formats.auth_tls_match_cn, pattern="^CN=")]


def _integer(value: object) -> int | None:
    """An integer from YAML/JSON: a whole number, or a string of digits; never a boolean."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value.strip())
    return None


def _days(value: object) -> int:
    if (number := _integer(value)) is None or number < 1:
        fail(f"must be a positive integer, got {show(value)}")
    return number


def _port(value: object) -> int | str:
    if isinstance(value, str) and not value.isdigit():
        if (expected := formats.port_name(value)) is not None:
            fail(f"must be {expected}; got {show(value)}")
        return value
    if (number := _integer(value)) is None or not 1 <= number <= 65535:
        fail(f"must be an integer from 1 to 65535, got {show(value)}")
    return number


def _flag(value: object) -> bool:
    # `pulumi config set --path a.b true --type string` stores the string "true".
    if isinstance(value, bool) or value in ("true", "false"):
        return value in (True, "true")
    fail(f"must be true or false, got {show(value)}")


def read_serial(value: object) -> int:
    """A certificate serial number in any spelling the README documents."""
    if (serial := formats.serial_number(value)) is None:
        hint = " (write serials as quoted strings: YAML numbers this large lose precision)"
        fail(
            "must be a certificate serial number: a positive decimal integer, 0x-prefixed hex "
            f"or colon-separated hex bytes, at most 20 octets; got {show(value)}"
            + (hint if isinstance(value, float) else "")
        )
    return serial


_DIGITS = {"type": "string", "pattern": r"^\s*[0-9]+\s*$"}
_PORT_NAME = {"type": "string", "pattern": formats.PORT_NAME.pattern, "maxLength": 15}
_SERIAL = r"^\s*([0-9]+|0x[0-9a-fA-F]+|[0-9a-fA-F]{1,2}(:[0-9a-fA-F]{1,2})+)\s*$"
SERIAL_SCHEMA = {
    "anyOf": [{"type": "integer", "minimum": 1}, {"type": "string", "pattern": _SERIAL}]
}

Days = Annotated[int, reads(_days, {"anyOf": [{"type": "integer", "minimum": 1}, _DIGITS]})]
Port = Annotated[
    int | str,
    reads(
        _port, {"anyOf": [{"type": "integer", "minimum": 1, "maximum": 65535}, _DIGITS, _PORT_NAME]}
    ),
]
Flag = Annotated[bool, reads(_flag, {"anyOf": [{"type": "boolean"}, {"enum": ["true", "false"]}]})]
Serial = Annotated[int, reads(read_serial, SERIAL_SCHEMA)]


def _list(value: object, *, of: str = "", non_empty: bool = False) -> list[Any]:
    if not isinstance(value, list):
        fail(f"must be a list{of}, got {show(value)}")
    if non_empty and not value:
        fail("must not be empty")
    return value


def _no_repeats(values: tuple[T, ...]) -> tuple[T, ...]:
    return valid(values, [problem((i,), f"repeats {show(v)}") for i, v in repeated(values)])


ObjectList = BeforeValidator(_list)
"""A list of objects (`pki.clients`), each reported with its own path (`pki.clients[1]`)."""
StringList = BeforeValidator(lambda value: _list(value, of=" of strings"))
NonEmptyStringList = BeforeValidator(lambda value: _list(value, of=" of strings", non_empty=True))
NoRepeats = AfterValidator(_no_repeats)

# Settings users put in the controller ConfigMap that the controller silently ignores there.
_FLAGS = "enable-ssl-passthrough default-ssl-certificate enable-ssl-chain-completion ingress-class"
_MORE_FLAGS = "watch-namespace publish-service annotations-prefix"
_ANNOTATIONS = "ssl-passthrough auth-tls-secret auth-tls-verify-client backend-protocol"
NOT_CONFIG_MAP_KEYS = {
    flag: f"is the controller command-line flag --{flag}, not a ConfigMap key; set it in the "
    "controller's arguments (Helm: controller.extraArgs)"
    for flag in f"{_FLAGS} {_MORE_FLAGS}".split()
} | {
    annotation: f"is an Ingress annotation (nginx.ingress.kubernetes.io/{annotation}), not a "
    "ConfigMap key; the stack sets it on the Ingress from the ingress.* settings"
    for annotation in _ANNOTATIONS.split()
}


def _config_map_settings(value: object) -> tuple[tuple[str, str], ...]:
    if not isinstance(value, Mapping):
        fail(f"must be an object of ConfigMap keys to values, got {show(value)}")
    settings: list[tuple[str, str]] = []
    problems: list[InitErrorDetails] = []
    for key, item in value.items():
        if (expected := formats.config_map_key(str(key))) is not None:
            problems.append(problem((key,), f"must be {expected}"))
        elif key in NOT_CONFIG_MAP_KEYS:
            problems.append(problem((key,), NOT_CONFIG_MAP_KEYS[key]))
        elif isinstance(item, str | int | float):
            # ConfigMap data holds strings only; numbers are written as YAML shows them.
            settings.append((key, str(item).lower() if isinstance(item, bool) else str(item)))
        else:
            message = f"must be a string, number or boolean, got {show(item)}"
            problems.append(problem((key,), message))
    return tuple(sorted(valid(settings, problems)))


ConfigMapSettings = Annotated[
    tuple[tuple[str, str], ...],
    reads(
        _config_map_settings,
        {
            "type": "object",
            "propertyNames": {
                "pattern": formats.CONFIG_MAP_KEY.pattern,
                "not": {"enum": sorted(NOT_CONFIG_MAP_KEYS)},
            },
            "additionalProperties": {"type": ["string", "number", "boolean"]},
        },
    ),
]
"""ConfigMap keys to strings, numbers or booleans, read as sorted (key, string) pairs."""
