"""Certificate authorities (`pki.serverCa`, `pki.clientCa`, `kubernetesApi.ca`): created or
imported, with an intermediate, and rotated in phases."""

from __future__ import annotations

from functools import cached_property
from typing import Self

from pydantic import Field, model_validator
from pydantic.alias_generators import to_camel
from pydantic_core import InitErrorDetails

from ...pki import imported, lifetimes
from .choices import RotationPhase
from .values import (
    CertificatePem,
    CommonName,
    ConfigObject,
    Days,
    Organization,
    PrivateKeyPem,
    problem,
    valid,
)


class NextAuthoritySettings(ConfigObject):
    """The CA that replaces the current one (`pki.*Ca.rotation.next`)."""

    common_name: CommonName
    """Subject CN of the next CA."""
    organization: Organization | None = None
    """Subject O of the next CA."""
    validity_days: Days = lifetimes.CA_VALIDITY_DAYS
    """Lifetime of the next CA, in days."""


class RotationSettings(ConfigObject):
    """A CA rotation without downtime, in three phases (`pki.serverCa.rotation`,
    `pki.clientCa.rotation`)."""

    phase: RotationPhase
    """introduce: the next CA is trusted beside the current one, which still issues; issue:
    the next CA issues every certificate, both stay trusted; retire: the current CA and what
    it issued leave the stack."""
    next: NextAuthoritySettings
    """The CA that replaces the current one."""


class IntermediateSettings(ConfigObject):
    """An intermediate CA under a root: `pki.serverCa.intermediate`, `pki.clientCa.intermediate`."""

    common_name: CommonName
    """Subject CN of the intermediate CA."""
    organization: Organization | None = None
    """Subject O of the intermediate CA."""
    # Unset means computed from the root (intermediate_validity_days): no default in the schema.
    validity_days: Days | None = Field(default_factory=lambda: None)
    """Lifetime of the intermediate in days, at most the root's (default 1825, or the root's)."""


class ImportedAuthoritySettings(ConfigObject):
    """An existing CA the stack signs with and never replaces (`kubernetesApi.ca`)."""

    certificate: CertificatePem
    """The CA certificate, PEM, followed by any certificates above it up to the root."""
    private_key: PrivateKeyPem
    """The CA's private key, unencrypted PEM; a secret: `pulumi config set --secret --path
    <key>.privateKey < ca.key`."""

    @cached_property
    def chain(self) -> imported.ImportedChain:
        """The CA and the certificates above it, read once."""
        return imported.read_chain(self.certificate)

    @model_validator(mode="after")
    def _signs_with_its_key(self) -> Self:
        return valid(self, _import_problems(self.certificate, self.private_key))


def _import_problems(certificate: str, private_key: str) -> list[InitErrorDetails]:
    found = imported.import_problems(certificate, private_key)
    return [
        problem((to_camel(field),), message)
        for field, messages in found.items()
        for message in messages
    ]


class AuthoritySettings(ConfigObject):
    """A certificate authority (`pki.serverCa`, `pki.clientCa`): one the stack creates
    (`commonName`), or an existing one it imports (`certificate` and `privateKey`)."""

    shapes = (
        "{commonName, organization?, validityDays?, intermediate?} to create a CA",
        "{certificate, privateKey, intermediate?} to import one",
    )

    common_name: CommonName | None = None
    """Subject CN of a CA the stack creates."""
    organization: Organization | None = None
    """Subject O of a CA the stack creates."""
    validity_days: Days = lifetimes.CA_VALIDITY_DAYS
    """Lifetime of a CA the stack creates, in days."""
    certificate: CertificatePem | None = None
    """Imports an existing CA instead of creating one: its certificate, PEM, followed by any
    certificates above it up to the root. The stack signs with it and never replaces it."""
    private_key: PrivateKeyPem | None = None
    """The imported CA's private key, unencrypted PEM; a secret: `pulumi config set --secret
    --path pki.clientCa.privateKey < ca.key`."""
    intermediate: IntermediateSettings | None = None
    """An intermediate CA signed by this one that issues its certificates; this CA stays the
    root that verifiers trust."""
    rotation: RotationSettings | None = None
    """Replaces this CA with `rotation.next` in phases, without refusing a valid client in
    between (see README, "Rotate a CA")."""

    @cached_property
    def chain(self) -> imported.ImportedChain | None:
        """The imported CA and the certificates above it, read once; None for a CA the stack
        creates."""
        return imported.read_chain(self.certificate) if self.certificate else None

    @property
    def imported(self) -> bool:
        return self.certificate is not None

    @property
    def intermediate_validity_days(self) -> int:
        """Lifetime of the intermediate, its default applied (0 without an intermediate)."""
        if self.intermediate is None:
            return 0
        return self.intermediate.validity_days or min(1825, self.validity_days)

    @property
    def issuing_validity_days(self) -> int | None:
        """Lifetime of the CA that signs the leaves, the intermediate if there is one; None for
        an imported CA without one, whose remaining lifetime shrinks as time passes."""
        if self.intermediate is not None:
            return self.intermediate_validity_days
        return None if self.imported else self.validity_days

    @model_validator(mode="after")
    def _created_or_imported(self) -> Self:
        if self.certificate is None and self.private_key is None:
            if self.common_name is None:
                message = (
                    "is required: the CA to create; or import an existing CA with certificate "
                    "and privateKey instead"
                )
                return valid(self, [problem(("commonName",), message)])
            return valid(self, [])
        problems = [
            problem((to_camel(field),), "only applies to a CA the stack creates, not to an import")
            for field in ("common_name", "organization", "validity_days")
            if field in self.model_fields_set
        ]
        for present, missing in (("certificate", "private_key"), ("private_key", "certificate")):
            if getattr(self, missing) is None:
                message = f"is required with {to_camel(present)}: an imported CA needs both"
                problems.append(problem((to_camel(missing),), message))
        if self.certificate is not None and self.private_key is not None:
            problems += _import_problems(self.certificate, self.private_key)
        return valid(self, problems)

    @model_validator(mode="after")
    def _rotates_a_single_ca(self) -> Self:
        if self.rotation is None or self.intermediate is None:
            return self
        message = (
            "cannot rotate a CA with an intermediate yet: rotate the intermediate alone by "
            "changing intermediate.commonName, or remove the intermediate first"
        )
        return valid(self, [problem(("rotation",), message)])

    @model_validator(mode="after")
    def _intermediate_expires_with_its_root(self) -> Self:
        days = self.intermediate.validity_days if self.intermediate else None
        message = "must not exceed the root's validityDays ({}), got {}"
        problems = (
            [problem(("intermediate", "validityDays"), message.format(self.validity_days, days))]
            if days is not None and days > self.validity_days and not self.imported
            else []
        )
        return valid(self, problems)
