"""ConfigObject: the base of every object of the stack config, and how its problems read."""

from __future__ import annotations

from collections.abc import Mapping
from enum import Enum
from typing import Any, Self

from pydantic import (
    BaseModel,
    ConfigDict,
    ModelWrapValidatorHandler,
    ValidationError,
    model_validator,
)
from pydantic.alias_generators import to_camel
from pydantic.fields import FieldInfo
from pydantic_core import ErrorDetails, InitErrorDetails

from components.settings.values import problem, show, valid


class ConfigObject(BaseModel):
    """One object of the stack config: camelCase keys from a closed set, `null` as absent.

    Reading one reports every problem inside it, not only the first: a value that is not an
    object, each unknown key with the keys allowed, and each field's own problems.
    """

    # extra="forbid" puts `additionalProperties: false` in the JSON Schema; unknown keys never
    # reach pydantic's own check, they are reported below with the keys allowed instead.
    model_config = ConfigDict(
        frozen=True, extra="forbid", alias_generator=to_camel, use_attribute_docstrings=True
    )

    @classmethod
    def shorthand(cls, value: object) -> Mapping[str, object] | None:
        """The object that a value which is not one stands for, if this object has a shorthand."""
        return None

    @model_validator(mode="wrap")
    @classmethod
    def _read_config_object(cls, value: Any, handler: ModelWrapValidatorHandler[Self]) -> Self:
        if isinstance(value, cls):
            return value
        fields = {field.alias or name: field for name, field in cls.model_fields.items()}
        keys = ", ".join(fields)
        problems: list[InitErrorDetails] = []
        document = value if isinstance(value, Mapping) else cls.shorthand(value)
        if document is None:
            problems.append(
                problem((), f"must be an object with the keys {keys}; got {show(value)}")
            )
            document = {}  # carry on with no keys, to report the required ones as missing too
        problems += [
            problem((key,), f"unknown key; the keys allowed here are {keys}")
            for key, item in document.items()
            if key not in fields
        ]
        known = {key: item for key, item in document.items() if key in fields and item is not None}
        try:
            result = handler(known)
        except ValidationError as error:
            problems += [
                problem(line["loc"], _in_plain_words(line, fields))
                for line in error.errors()
                # A default computed from an invalid field is not computed; that one is reported.
                if line["type"] != "default_factory_not_called"
            ]
            raise ValidationError.from_exception_data(cls.__name__, problems) from None
        return valid(result, problems)


def _in_plain_words(line: ErrorDetails, fields: Mapping[str, FieldInfo]) -> str:
    """A problem in the README's words, also when pydantic's own checks found it."""
    field = fields.get(str(line["loc"][0])) if len(line["loc"]) == 1 else None
    kind = field.annotation if field is not None else None
    if line["type"] == "enum" and isinstance(kind, type) and issubclass(kind, Enum):
        allowed = " | ".join(str(member.value) for member in kind)
        return f"must be one of {allowed}, got {show(line['input'])}"
    if line["type"] == "missing" and isinstance(kind, type) and issubclass(kind, ConfigObject):
        keys = [
            (f.alias or n) + ("" if f.is_required() else "?") for n, f in kind.model_fields.items()
        ]
        return "is required: {" + ", ".join(keys) + "}"
    return "is required" if line["type"] == "missing" else line["msg"]
