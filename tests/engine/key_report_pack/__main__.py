"""A policy pack that reports the algorithm of every pulumi-tls key: what the engine tests run
to show that the language host starts Python policy packs (RunPlugin)."""

from pulumi_policy import (
    EnforcementLevel,
    PolicyPack,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
)


def report_key(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    if args.resource_type == "tls:index/privateKey:PrivateKey":
        algorithm = args.props["algorithm"]
        if algorithm == "ECDSA":
            size = args.props["ecdsaCurve"]
        else:
            size = f"{int(args.props['rsaBits'])} bits"  # a JSON number: 2048.0
        report_violation(f"key {args.name}: {algorithm} {size}")


PolicyPack(
    name="key-report",
    enforcement_level=EnforcementLevel.ADVISORY,
    policies=[
        ResourceValidationPolicy(
            name="key-algorithms",
            description="Reports the algorithm of each key.",
            validate=report_key,
        )
    ],
)
