"""The `pki` section of the stack config: certificate authorities, certificates, revocation."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any, Self

from pydantic import Field, GetJsonSchemaHandler, field_validator, model_validator
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema, InitErrorDetails

from components.pki.key_algorithm import KeyAlgorithm
from components.settings.config_object import ConfigObject
from components.settings.values import (
    SERIAL_SCHEMA,
    CommonName,
    Days,
    Flag,
    Hostname,
    IpAddress,
    Label,
    NoRepeats,
    ObjectList,
    Organization,
    Serial,
    StringList,
    fail,
    problem,
    read_serial,
    repeated,
    show,
    valid,
)


class RevocationReason(StrEnum):
    """CRL entry reason codes of RFC 5280 section 5.3.1, spelled as the RFC does.

    `removeFromCRL` is left out: it only has meaning in delta CRLs, which this project
    does not issue.
    """

    UNSPECIFIED = "unspecified"
    KEY_COMPROMISE = "keyCompromise"
    CA_COMPROMISE = "cACompromise"
    AFFILIATION_CHANGED = "affiliationChanged"
    SUPERSEDED = "superseded"
    CESSATION_OF_OPERATION = "cessationOfOperation"
    CERTIFICATE_HOLD = "certificateHold"
    PRIVILEGE_WITHDRAWN = "privilegeWithdrawn"
    AA_COMPROMISE = "aACompromise"


def _renewal_window(fields: dict[str, Any]) -> int:
    """30 days, or half the lifetime of a certificate that lives less than 60."""
    return min(30, fields["validity_days"] // 2 or 1)


def _renews_in_time(leaf: ServerSettings | ClientSettings) -> list[InitErrorDetails]:
    if leaf.renew_before_days < leaf.validity_days:
        return []
    message = f"must be less than validityDays ({leaf.validity_days}), got {leaf.renew_before_days}"
    return [problem(("renewBeforeDays",), message)]


class AuthoritySettings(ConfigObject):
    """A certificate authority (`pki.serverCa`, `pki.clientCa`)."""

    common_name: CommonName
    """Subject CN of the CA."""
    organization: Organization | None = None
    """Subject O of the CA."""
    validity_days: Days = 3650
    """Lifetime of the CA, in days."""


class ServerSettings(ConfigObject):
    """The ingress's server certificate (`pki.server`)."""

    # Left empty here when not set: StackSettings, which knows the host, fills it in.
    dns_names: Annotated[tuple[Hostname, ...], StringList, NoRepeats] = Field(default_factory=tuple)
    """subjectAltNames; they must cover `host`, which is the default."""
    ip_addresses: Annotated[tuple[IpAddress, ...], StringList, NoRepeats] = ()
    """IP subjectAltNames."""
    validity_days: Days = 365
    """Lifetime of the server certificate in days, at most the CA's."""
    renew_before_days: Days = Field(default_factory=_renewal_window)
    """`pulumi up` replaces the certificate this many days before it expires (default 30, at
    most half the lifetime)."""

    @model_validator(mode="after")
    def _has_a_name_and_renews_in_time(self) -> Self:
        problems = _renews_in_time(self)
        if "dns_names" in self.model_fields_set and not self.dns_names and not self.ip_addresses:
            # A server certificate without a SAN is rejected by every current TLS client
            # (RFC 6125 section 6.4.4 deprecates falling back to the common name).
            message = "must name at least one DNS name or ipAddresses must be set"
            problems.insert(0, problem(("dnsNames",), message))
        return valid(self, problems)


class ClientSettings(ConfigObject):
    """One client identity (`pki.clients[]`)."""

    name: Label
    """Stable, unique identity of the client; its key in the stack outputs."""
    common_name: CommonName = Field(default_factory=lambda fields: fields["name"])
    """Subject CN, what upstreams and `matchCn` see (default: `name`)."""
    organizations: Annotated[tuple[Organization, ...], StringList, NoRepeats] = Field(
        default=(), json_schema_extra={"maxItems": 1}
    )
    """Subject O, the client's group: at most one, as pulumi-tls writes a single O attribute."""
    validity_days: Days = 180
    """Lifetime of the client certificate in days, at most the CA's."""
    renew_before_days: Days = Field(default_factory=_renewal_window)
    """`pulumi up` replaces the certificate this many days before it expires (default 30, at
    most half the lifetime)."""
    revoked: Flag = False
    """Revoke the client: its certificate stays in the stack (its serial is needed), its key is
    no longer exported."""
    revocation_reason: RevocationReason = RevocationReason.UNSPECIFIED
    """RFC 5280 reason code of the revocation, only with `revoked: true`."""

    @field_validator("organizations")
    @classmethod
    def _at_most_one_organization(cls, organizations: tuple[str, ...]) -> tuple[str, ...]:
        if len(organizations) > 1:
            # pulumi-tls (like terraform-provider-tls) writes a single O attribute per subject.
            fail(
                "may hold at most one organization (pulumi-tls certificate subjects carry a "
                f"single O attribute), got {len(organizations)}"
            )
        return organizations

    @model_validator(mode="after")
    def _renews_in_time_and_has_a_reason_only_when_revoked(self) -> Self:
        problems = _renews_in_time(self)
        if "revocation_reason" in self.model_fields_set and not self.revoked:
            message = "is only allowed together with revoked: true"
            problems.append(problem(("revocationReason",), message))
        return valid(self, problems)


class RevokedSerial(ConfigObject):
    """A certificate issued outside this stack for the CRL to list (`pki.revokedSerials[]`): its
    serial number, or an object with the serial number and a reason."""

    serial_number: Serial
    """Decimal, 0x-prefixed hex or colon-separated hex, quoted."""
    reason: RevocationReason = RevocationReason.UNSPECIFIED
    """RFC 5280 reason code of the revocation."""

    @classmethod
    def shorthand(cls, value: object) -> dict[str, object]:
        return {"serialNumber": read_serial(value)}

    @classmethod
    def __get_pydantic_json_schema__(
        cls, schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        return {"anyOf": [SERIAL_SCHEMA, handler(schema)]}


class CrlSettings(ConfigObject):
    """The revocation list of the client CA (`pki.crl`)."""

    validity_days: Days = 30
    """Lifetime of each revocation list, in days."""
    refresh_before_days: Days = Field(
        default_factory=lambda fields: min(7, fields["validity_days"] - 1 or 1)
    )
    """`pulumi up` re-issues the list this many days before it expires (default 7)."""

    @model_validator(mode="after")
    def _refreshes_in_time(self) -> Self:
        if self.refresh_before_days < self.validity_days:
            return self
        message = (
            f"must be less than validityDays ({self.validity_days}), got {self.refresh_before_days}"
        )
        return valid(self, [problem(("refreshBeforeDays",), message)])


class PkiSettings(ConfigObject):
    """The private PKI (`pki`): certificate authorities, certificates and revocation."""

    key_algorithm: KeyAlgorithm = KeyAlgorithm.ECDSA_P256
    """Key type of every CA and certificate."""
    server_ca: AuthoritySettings
    """The CA that signs the server certificate, and the clients when there is no `clientCa`."""
    client_ca: AuthoritySettings | None = None
    """A separate CA for clients (recommended); absent: the server CA signs clients."""
    server: ServerSettings = Field(default_factory=ServerSettings)
    """The ingress's server certificate."""
    clients: Annotated[tuple[ClientSettings, ...], ObjectList] = ()
    """One entry per client identity."""
    revoked_serials: Annotated[tuple[RevokedSerial, ...], ObjectList] = ()
    """Certificates issued outside this stack to revoke."""
    crl: CrlSettings = Field(default_factory=CrlSettings)
    """The revocation list of the client CA."""

    @property
    def clients_have_own_ca(self) -> bool:
        """True in the recommended setup, where a separate CA signs the clients."""
        return self.client_ca is not None

    @field_validator("clients")
    @classmethod
    def _client_names_are_unique(
        cls, clients: tuple[ClientSettings, ...]
    ) -> tuple[ClientSettings, ...]:
        names = [client.name for client in clients]
        message = "repeats {}; client names must be unique"
        return valid(
            clients, [problem((i, "name"), message.format(show(n))) for i, n in repeated(names)]
        )

    @field_validator("revoked_serials")
    @classmethod
    def _serials_are_unique(cls, entries: tuple[RevokedSerial, ...]) -> tuple[RevokedSerial, ...]:
        serials = [entry.serial_number for entry in entries]
        return valid(
            entries, [problem((i,), f"repeats serial number {s:#x}") for i, s in repeated(serials)]
        )

    @model_validator(mode="after")
    def _certificates_expire_with_their_ca(self) -> Self:
        # A leaf that outlives its CA stops verifying when the CA expires, whatever it says.
        leaves = [(("server",), self.server.validity_days, self.server_ca)] + [
            (("clients", index), client.validity_days, self.client_ca or self.server_ca)
            for index, client in enumerate(self.clients)
        ]
        message = "must not exceed the issuing CA's validityDays ({}), got {}"
        problems = [
            problem((*where, "validityDays"), message.format(ca.validity_days, days))
            for where, days, ca in leaves
            if days > ca.validity_days
        ]
        return valid(self, problems)
