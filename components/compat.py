"""Workarounds for defects of the Pulumi Python SDK, each gated on the SDK versions it mends.

Each workaround names the first SDK version it was written for and the newest one checked to
still need it. It applies from the first version on (on a newer SDK it is harmless: it finds
nothing to mend); `tests/unit/test_compat.py` fails when the installed SDK is newer than the
newest checked, so that an upgrade of the pin re-checks each defect and retires a workaround
whose defect is fixed.
"""

from __future__ import annotations

import importlib.metadata
import inspect
import pickle
from collections.abc import Callable
from dataclasses import dataclass
from types import FunctionType
from typing import Any, cast


@dataclass(frozen=True)
class Workaround:
    defect: str
    first: tuple[int, ...]
    """The first SDK version known to have the defect."""
    checked: tuple[int, ...]
    """The newest SDK version checked to still have it."""

    def applies(self) -> bool:
        return sdk_version() >= self.first


NESTED_PICKLER_PATCHES = Workaround(
    "pulumi.dynamic's serialize_provider wraps pickle._Pickler._batch_setitems for every "
    "dynamic resource it registers and never restores it",
    (3, 259, 0),
    (3, 272, 0),
)
FLOAT_INTEGER_INPUTS = Workaround(
    "the component provider host hands components the float an integer input arrives as (a "
    "missing `continue` in its integer conversion undoes the conversion)",
    (3, 259, 0),
    (3, 272, 0),
)
DOCSTRINGS_OF_BASES = Workaround(
    "the component provider host reads an attribute's docstring only from the class being "
    "described, with its indentation",
    (3, 259, 0),
    (3, 272, 0),
)
WORKAROUNDS = (NESTED_PICKLER_PATCHES, FLOAT_INTEGER_INPUTS, DOCSTRINGS_OF_BASES)


def sdk_version() -> tuple[int, ...]:
    """The installed Pulumi Python SDK's version, as numbers (3.259.0 -> (3, 259, 0))."""
    text = importlib.metadata.version("pulumi")
    return tuple(int(part) for part in text.split("+")[0].split(".")[:3] if part.isdigit())


def undo_nested_pickler_patches() -> None:
    """Leaves `pickle._Pickler._batch_setitems` as pickle defines it.

    The SDK's serialize_provider wraps that method in a dict-sorting wrapper for every dynamic
    resource it registers and never restores it, so each registration nests one wrapper
    deeper: pickling slows down with every dynamic resource, and a program with about a
    thousand of them (a stack with many clients has a renewal schedule per certificate) fails
    with RecursionError. Called before each of this project's dynamic resources registers, so
    the SDK wraps the original exactly once.
    """
    if not NESTED_PICKLER_PATCHES.applies():
        return
    pickler = cast(Any, pickle._Pickler)
    method = cast(FunctionType, pickler._batch_setitems)
    while method.__qualname__ != "_Pickler._batch_setitems" and method.__closure__:
        wrapped = [
            cell.cell_contents for cell in method.__closure__ if callable(cell.cell_contents)
        ]
        if not wrapped:
            break
        method = wrapped[0]
    pickler._batch_setitems = method


def convert_integer_inputs() -> None:
    """Makes the component provider host hand components integers as ints: integral numbers
    are converted back, and another resource's output where a component needs a plain
    integer is refused with a message that says so."""
    from pulumi.provider.experimental.component import ComponentProvider

    original: Callable[..., Any] = ComponentProvider.map_input_properties
    if not FLOAT_INTEGER_INPUTS.applies() or getattr(original, "converts_integers", False):
        return

    def map_input_properties(
        self: ComponentProvider,
        inputs: dict[str, Any],
        properties: dict[str, Any],
        mapping: dict[str, str],
        component_name: str,
        property_path: str,
    ) -> dict[str, Any]:
        held = _held_integer_outputs(inputs, properties, component_name, property_path)
        if held:
            # The host would call int() on the outputs: give it a stand-in, then the output.
            inputs = {**inputs, **dict.fromkeys(held, 0)}
        mapped: dict[str, Any] = original(
            self, inputs, properties, mapping, component_name, property_path
        )
        return _integral_inputs(mapped, properties, mapping, held)

    map_input_properties.converts_integers = True  # type: ignore[attr-defined]
    setattr(ComponentProvider, "map_input_properties", map_input_properties)  # noqa: B010


def _held_integer_outputs(
    inputs: Any, properties: dict[str, Any], component_name: str, property_path: str
) -> dict[str, Any]:
    """The integer inputs that are outputs of other resources, refusing those that must be
    plain."""
    import pulumi
    from pulumi.errors import InputPropertyError
    from pulumi.provider.experimental.analyzer import PropertyType

    held: dict[str, Any] = {}
    if not isinstance(inputs, dict):
        return held
    for name, prop in properties.items():
        value = inputs.get(name)
        if prop.type != PropertyType.INTEGER or not isinstance(value, pulumi.Output):
            continue
        path = f"{property_path}.{name}" if property_path else name
        if prop.plain:
            raise InputPropertyError(
                path,
                f"{component_name}: {path} must be a number known before the deployment (a "
                "literal or plain stack config), not another resource's output or a secret",
            )
        held[name] = value
    return held


def _integral_inputs(
    mapped: dict[str, Any],
    properties: dict[str, Any],
    mapping: dict[str, str],
    held: dict[str, Any],
) -> dict[str, Any]:
    from pulumi.provider.experimental.analyzer import PropertyType

    for name, prop in properties.items():
        python_name = mapping[name]
        items = prop.items or prop.additional_properties
        value = mapped.get(python_name)
        if name in held:
            mapped[python_name] = held[name].apply(_integral)
        elif prop.type == PropertyType.INTEGER and python_name in mapped:
            mapped[python_name] = _integral(value)
        elif items is not None and items.type == PropertyType.INTEGER:
            if isinstance(value, list):
                mapped[python_name] = [_integral(item) for item in value]
            elif isinstance(value, dict):
                mapped[python_name] = {key: _integral(item) for key, item in value.items()}
    return mapped


def describe_from_bases(own: Callable[[type], bool]) -> None:
    """Lets the component provider host find an attribute's docstring on the base classes for
    which `own` holds (outputs declared on a base class), dedented."""
    from pulumi.provider.experimental.analyzer import Analyzer

    original: Callable[..., str | None] = Analyzer.get_docstring
    if not DOCSTRINGS_OF_BASES.applies() or getattr(original, "reads_bases", False):
        return

    def get_docstring(self: Analyzer, typ: type, name: str) -> str | None:
        for klass in (typ, *(base for base in typ.__mro__[1:] if own(base))):
            found = original(self, klass, name)
            if found:
                return inspect.cleandoc(found)
        return None

    get_docstring.reads_bases = True  # type: ignore[attr-defined]
    setattr(Analyzer, "get_docstring", get_docstring)  # noqa: B010


def _integral(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value
