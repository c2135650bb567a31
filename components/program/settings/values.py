"""How the stack config is read: objects with a closed set of keys, and the values in them.

Each value reads as the README documents it or fails with "must be <what is allowed>, got
<value>" in the words of `components.core.formats`, and tells editors the same through the JSON
Schema. Numbers may arrive as strings ("90") and booleans as "true"/"false", as `pulumi config
set --path` can store them; pydantic's lax modes would also take `true` for 1 and "yes" for true.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Mapping, Sequence
from enum import Enum
from typing import Annotated, Any, ClassVar, NoReturn, Self, TypeVar, get_args

import pydantic
from pydantic.alias_generators import to_camel
from pydantic.fields import FieldInfo
from pydantic_core import ErrorDetails, InitErrorDetails, PydanticCustomError, core_schema

from ...core import formats, pem
from ...pki import imported

T = TypeVar("T")


def show(value: object) -> str:
    """A config value as the user wrote it in YAML or JSON."""
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
        raise pydantic.ValidationError.from_exception_data(type(value).__name__, list(problems))
    return value


def repeated(values: Sequence[T]) -> list[tuple[int, T]]:
    """Each value that an earlier one equals, with its index."""
    return [(index, value) for index, value in enumerate(values) if value in values[:index]]


def unique_names(entries: Sequence[Any], what: str) -> Any:
    """`entries`, unless two have the same `name` (each repeat reported at its own entry)."""
    names = [entry.name for entry in entries]
    message = "repeats {}; " + what + " names must be unique"
    return valid(
        entries, [problem((i, "name"), message.format(show(n))) for i, n in repeated(names)]
    )


class ConfigObject(pydantic.BaseModel):
    """One object of the stack config: camelCase keys from a closed set, `null` as absent.

    Reading one reports every problem inside it, not only the first: a value that is not an
    object, each unknown key with the keys allowed, each missing key, and each field's own.
    """

    # extra="forbid" tells editors `additionalProperties: false`; unknown keys never reach
    # pydantic's own check, they are reported below with the keys allowed instead.
    model_config = pydantic.ConfigDict(
        frozen=True, extra="forbid", alias_generator=to_camel, use_attribute_docstrings=True
    )
    # The object's forms in README notation, when it has several (`{a, b?}`); else its keys.
    shapes: ClassVar[tuple[str, ...]] = ()

    @pydantic.model_validator(mode="wrap")
    @classmethod
    def _read(cls, value: Any, handler: pydantic.ModelWrapValidatorHandler[Self]) -> Self:
        if isinstance(value, cls):
            return value
        fields = {field.alias or name: field for name, field in cls.model_fields.items()}
        keys = ", ".join(fields)
        problems: list[InitErrorDetails] = []
        if not isinstance(value, Mapping):  # read as no keys, to report the required ones too
            problems.append(
                problem((), f"must be an object with the keys {keys}; got {show(value)}")
            )
            value = {}
        unknown = f"unknown key; the keys allowed here are {keys}"
        problems += [problem((key,), unknown) for key in value if key not in fields]
        try:
            result = handler({k: v for k, v in value.items() if k in fields and v is not None})
        except pydantic.ValidationError as error:
            problems += [
                problem(line["loc"], _in_plain_words(line, fields))
                for line in error.errors()
                # A default computed from an invalid field is not computed; that one is reported.
                if line["type"] != "default_factory_not_called"
            ]
            raise pydantic.ValidationError.from_exception_data(cls.__name__, problems) from None
        return valid(result, problems)


def _in_plain_words(line: ErrorDetails, fields: Mapping[str, FieldInfo]) -> str:
    """The README's words for what pydantic checks itself: keys, choices and lists."""
    field = fields.get(str(line["loc"][0])) if len(line["loc"]) == 1 else None
    kind = field.annotation if field is not None else None
    got = show(line["input"])
    match line["type"]:
        case "missing" if isinstance(kind, type) and issubclass(kind, ConfigObject):
            if kind.shapes:
                return "is required: " + " or ".join(kind.shapes)
            keys = [
                f"{f.alias}{'' if f.is_required() else '?'}" for f in kind.model_fields.values()
            ]
            return "is required: {" + ", ".join(keys) + "}"
        case "enum" if isinstance(kind, type) and issubclass(kind, Enum):
            return f"must be one of {' | '.join(str(choice.value) for choice in kind)}, got {got}"
        case "tuple_type":  # of objects, or of strings (`Annotated[str, ...]`)
            of_strings = get_args(get_args(kind)[0])[:1] == (str,)
            return f"must be a list{' of strings' if of_strings else ''}, got {got}"
    return "is required" if line["type"] == "missing" else line["msg"]


def reads(read: Callable[[Any], Any], schema: dict[str, Any]) -> pydantic.GetPydanticSchema:
    """Pydantic metadata: values are read by `read`, and editors are told `schema`."""
    return pydantic.GetPydanticSchema(
        lambda _source, _handler: core_schema.no_info_plain_validator_function(read),
        lambda _schema, _handler: copy.deepcopy(schema),
    )


def text(check: Callable[[str], str | None], **schema: object) -> pydantic.GetPydanticSchema:
    """A non-empty string that `check` accepts (None), else says what is allowed."""

    def read(value: object) -> str:
        if not isinstance(value, str) or not value:
            fail(f"must be a non-empty string; got {show(value)}")
        if (expected := check(value)) is not None:
            fail(f"must be {expected}; got {show(value)}")
        return value

    return reads(read, {"type": "string", "minLength": 1, **schema})


def _ingress_name(value: str) -> str | None:
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
HttpsUrl = Annotated[str, text(formats.https_url, pattern="^https://")]
StackName = Annotated[str, text(formats.stack_name, pattern=formats.STACK_NAME.pattern)]
RoleName = Annotated[str, text(formats.rbac_name, pattern=formats.RBAC_NAME.pattern)]


def _integer(value: object) -> int | None:
    """A whole number, or a string of digits; never a boolean."""
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value.strip())
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    return int(value) if isinstance(value, float) and value.is_integer() else None


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
_PORT = {"anyOf": [{"type": "integer", "minimum": 1, "maximum": 65535}, _DIGITS, _PORT_NAME]}

Days = Annotated[int, reads(_days, {"anyOf": [{"type": "integer", "minimum": 1}, _DIGITS]})]
Port = Annotated[int | str, reads(_port, _PORT)]
Flag = Annotated[bool, reads(_flag, {"anyOf": [{"type": "boolean"}, {"enum": ["true", "false"]}]})]
Serial = Annotated[int, reads(read_serial, SERIAL_SCHEMA)]
NotEmpty = pydantic.BeforeValidator(
    lambda value: fail("must not be empty") if value == [] else value
)
NoRepeats = pydantic.AfterValidator(
    lambda values: valid(values, [problem((i,), f"repeats {show(v)}") for i, v in repeated(values)])
)


def _pem(read: Callable[[str], object]) -> Callable[[object], str]:
    """A reader of PEM text that `read` accepts; what is wrong never quotes the value."""

    def read_pem(value: object) -> str:
        if not isinstance(value, str) or not value.strip():
            fail("must be PEM text: a non-empty string")
        try:
            read(value)
        except ValueError as error:
            fail(str(error))
        return value.strip() + "\n"

    return read_pem


# A value set with `pulumi config set --secret` is written `{secure: ...}` in the stack file.
SECURE_VALUE = {
    "type": "object",
    "properties": {
        "secure": {
            "type": "string",
            "description": "The encrypted value, as `pulumi config set --secret` writes it.",
        }
    },
    "required": ["secure"],
    "additionalProperties": False,
}
CertificatePem = Annotated[
    str,
    reads(
        _pem(imported.read_chain),
        {
            "anyOf": [
                {"type": "string", "pattern": f"-----BEGIN {pem.CERTIFICATE}-----"},
                SECURE_VALUE,
            ]
        },
    ),
]
PrivateKeyPem = Annotated[
    str,
    reads(
        _pem(imported.read_private_key),
        {
            "anyOf": [
                SECURE_VALUE,
                {"type": "string", "pattern": pem.PRIVATE_KEY_HEADER},
            ]
        },
    ),
]

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


_KEY = {"pattern": formats.CONFIG_MAP_KEY.pattern, "not": {"enum": sorted(NOT_CONFIG_MAP_KEYS)}}
_SCALAR = {"type": ["string", "number", "boolean"]}
ConfigMapSettings = Annotated[
    tuple[tuple[str, str], ...],
    reads(
        _config_map_settings,
        {"type": "object", "propertyNames": _KEY, "additionalProperties": _SCALAR},
    ),
]
"""ConfigMap keys to strings, numbers or booleans, read as sorted (key, string) pairs."""
