"""The pulumi-policy glue: each check of `rules` as a policy, with its configuration schema.

Imported only inside the pack's virtualenv, where pulumi-policy is installed."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import pulumi_policy.policy as sdk
from pulumi_policy import (
    PolicyConfigSchema,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.proxy import UnknownValueError as SdkUnknownValueError

from mtls_policy import rules
from mtls_policy.values import UnknownValueError, mark

# The placeholder of an unknown string, for the SDK's "can't run policy during preview" report.
_UNKNOWN_STRING = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"

ResourceCheck = Callable[[rules.Resource, Mapping[str, Any]], list[str]]
StackCheck = Callable[[list[Any], Mapping[str, Any]], list[rules.Violation]]


def keep_secrecy() -> None:
    """Make the SDK hand the checks `SecretText` for secret strings and `UNKNOWN` for unknowns.

    The analyzer service deserializes every property through the module-level
    `deserialize_properties` of pulumi_policy.policy; this wraps it with `values.mark`."""
    original = sdk.deserialize_properties
    if getattr(original, "marks_secrets", False):
        return

    def deserialize(props: dict[str, Any], proxy_secrets: bool = False) -> Any:
        return original(props if proxy_secrets else mark(props), proxy_secrets)

    deserialize.marks_secrets = True  # type: ignore[attr-defined]
    sdk.deserialize_properties = deserialize


def resource_policy(
    name: str, check: ResourceCheck, schema: Mapping[str, Mapping[str, Any]] | None = None
) -> ResourceValidationPolicy:
    """A policy that runs `check` on each resource; its docstring is the description."""

    def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
        provider = args.provider.props if args.provider is not None else {}
        resource = rules.Resource(args.resource_type, args.name, args.props, provider)
        try:
            messages = check(resource, args.get_config() or {})
        except UnknownValueError as unknown:
            raise SdkUnknownValueError(_UNKNOWN_STRING, unknown.path) from None
        except Exception as error:  # a readable report rather than a failed analysis
            messages = [_failed(check, error)]
        for message in messages:
            report_violation(message)

    return ResourceValidationPolicy(
        name=name,
        description=_description(check),
        validate=validate,
        config_schema=_schema(schema),
    )


def stack_policy(
    name: str, check: StackCheck, schema: Mapping[str, Mapping[str, Any]] | None = None
) -> StackValidationPolicy:
    """A policy that runs `check` on the whole stack; its docstring is the description."""

    def validate(args: StackValidationArgs, report_violation: ReportViolation) -> None:
        try:
            violations = check(args.resources, args.get_config() or {})
        except UnknownValueError as unknown:
            raise SdkUnknownValueError(_UNKNOWN_STRING, unknown.path) from None
        except Exception as error:  # a readable report rather than a failed analysis
            violations = [rules.Violation(_failed(check, error), "")]
        for violation in violations:
            report_violation(violation.message, violation.urn or None)

    return StackValidationPolicy(
        name=name,
        description=_description(check),
        validate=validate,
        config_schema=_schema(schema),
    )


def _failed(check: Callable[..., Any], error: Exception) -> str:
    """The report of a check that could not decide: the pack's own error, which the
    enforcement level of the policy then treats like a violation."""
    return f"the check {check.__name__} failed: {type(error).__name__}: {error}"


def _description(check: Callable[..., Any]) -> str:
    return " ".join((check.__doc__ or check.__name__).split("\n\n")[0].split())


def _schema(properties: Mapping[str, Mapping[str, Any]] | None) -> PolicyConfigSchema | None:
    if not properties:
        return None
    return PolicyConfigSchema(properties={key: dict(value) for key, value in properties.items()})
