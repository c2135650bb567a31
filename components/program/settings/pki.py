"""The private PKI (`pki`): its CAs, the server and client certificates, and revocation."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Self

import pydantic
from pydantic import Field, ValidationInfo, field_validator, model_validator

from ...pki import imported, lifetimes
from ...pki.key_algorithm import KeyAlgorithm
from .authority import AuthoritySettings
from .choices import RevocationReason
from .values import (
    CommonName,
    ConfigObject,
    Days,
    Flag,
    Hostname,
    IpAddress,
    Label,
    NoRepeats,
    Organization,
    Serial,
    StackName,
    fail,
    problem,
    read_serial,
    repeated,
    unique_names,
    valid,
)
from .windows import ahead_of_expiry, renewal_window


class ServerSettings(ConfigObject):
    """The ingress's server certificate (`pki.server`)."""

    # Left empty here when not set: StackSettings, which knows the host, fills it in.
    dns_names: Annotated[tuple[Hostname, ...], NoRepeats] = Field(default_factory=tuple)
    """subjectAltNames; they must cover `host`, which is the default."""
    ip_addresses: Annotated[tuple[IpAddress, ...], NoRepeats] = ()
    """IP subjectAltNames."""
    validity_days: Days = lifetimes.SERVER_VALIDITY_DAYS
    """Lifetime of the server certificate in days, at most the CA's."""
    renew_before_days: Days = Field(default_factory=renewal_window)
    """`pulumi up` replaces the certificate this many days before it expires (default 30, at
    most half the lifetime)."""

    @model_validator(mode="after")
    def _has_a_name_and_renews_in_time(self) -> Self:
        problems = ahead_of_expiry("renewBeforeDays", self.renew_before_days, self.validity_days)
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
    organizations: Annotated[tuple[Organization, ...], NoRepeats] = ()
    """Subject O, the client's groups, in order (what Kubernetes reads as groups)."""
    validity_days: Days = lifetimes.CLIENT_VALIDITY_DAYS
    """Lifetime of the client certificate in days, at most the CA's."""
    renew_before_days: Days = Field(default_factory=renewal_window)
    """`pulumi up` replaces the certificate this many days before it expires (default 30, at
    most half the lifetime)."""
    revoked: Flag = False
    """Revoke the client: its certificate stays in the stack (its serial is needed), its key is
    no longer exported."""
    revocation_reason: RevocationReason = RevocationReason.UNSPECIFIED
    """RFC 5280 reason code of the revocation, only with `revoked: true`."""

    @field_validator("revocation_reason")
    @classmethod
    def _only_when_revoked(cls, reason: RevocationReason, info: ValidationInfo) -> Any:
        if info.data.get("revoked") is False:
            fail("is only allowed together with revoked: true")
        return reason

    @model_validator(mode="after")
    def _renews_in_time(self) -> Self:
        days, validity_days = self.renew_before_days, self.validity_days
        return valid(self, ahead_of_expiry("renewBeforeDays", days, validity_days))


class RevokedSerial(ConfigObject):
    """A certificate issued outside this stack for the CRL to list (`pki.revokedSerials[]`): its
    serial number, or an object with the serial number and a reason."""

    serial_number: Serial
    """Decimal, 0x-prefixed hex or colon-separated hex, quoted."""
    reason: RevocationReason = RevocationReason.UNSPECIFIED
    """RFC 5280 reason code of the revocation."""


# A bare serial number stands for `{serialNumber: <it>}`.
BareSerial = pydantic.BeforeValidator(
    lambda value: value if isinstance(value, Mapping) else {"serialNumber": read_serial(value)},
    json_schema_input_type=Serial | RevokedSerial,
)


class CrlSettings(ConfigObject):
    """The revocation list of the client CA (`pki.crl`)."""

    validity_days: Days = lifetimes.CRL_VALIDITY_DAYS
    """Lifetime of each revocation list, in days."""
    refresh_before_days: Days = Field(
        default_factory=lambda f: lifetimes.refresh_before_days(f["validity_days"])
    )
    """`pulumi up` re-issues the list this many days before it expires (default 7)."""

    @model_validator(mode="after")
    def _refreshes_in_time(self) -> Self:
        days, validity_days = self.refresh_before_days, self.validity_days
        return valid(self, ahead_of_expiry("refreshBeforeDays", days, validity_days))


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
    clients: tuple[ClientSettings, ...] = ()
    """One entry per client identity."""
    client_bundles: Flag = True
    """Build each active client's PKCS#12 file and export `clientBundles`: one resource per
    client, which fleets of hundreds of clients that hand out the PEM outputs can spare."""
    revoked_serials: tuple[Annotated[RevokedSerial, BareSerial], ...] = ()
    """Certificates issued outside this stack to revoke."""
    crl: CrlSettings = Field(default_factory=CrlSettings)
    """The revocation list of the client CA."""
    client_shards: Annotated[tuple[StackName, ...], NoRepeats] | None = None
    """Stacks that issue more clients from the client CA (see README, "Large stacks"). Set,
    even empty, the stack exports `clientIssuer` for them, and its CRL also lists the
    certificates each named stack revokes."""

    @property
    def clients_have_own_ca(self) -> bool:
        """True in the recommended setup, where a separate CA signs the clients."""
        return self.client_ca is not None

    @field_validator("clients")
    @classmethod
    def _client_names_are_unique(cls, clients: tuple[ClientSettings, ...]) -> Any:
        return unique_names(clients, "client")

    @field_validator("revoked_serials")
    @classmethod
    def _serials_are_unique(cls, entries: tuple[RevokedSerial, ...]) -> Any:
        serials = [entry.serial_number for entry in entries]
        message = "repeats serial number {:#x}"
        return valid(entries, [problem((i,), message.format(s)) for i, s in repeated(serials)])

    @model_validator(mode="after")
    def _shards_share_a_client_ca(self) -> Self:
        if self.client_shards is None:
            return self
        if self.client_ca is None:
            message = "needs pki.clientCa: client shards sign with it, never with the server CA"
            return valid(self, [problem(("clientShards",), message)])
        if self.client_ca.rotation is not None:
            message = (
                "cannot be rotated while pki.clientShards is set: the shards sign with the "
                "CA this stack exports"
            )
            return valid(self, [problem(("clientCa", "rotation"), message)])
        return self

    @model_validator(mode="after")
    def _certificates_expire_with_their_ca(self) -> Self:
        # A leaf that outlives its CA stops verifying when the CA expires, whatever it says.
        leaves = [(("server",), self.server.validity_days, self.server_ca)] + [
            (("clients", index), client.validity_days, self.client_ca or self.server_ca)
            for index, client in enumerate(self.clients)
        ]
        message = "must not exceed the issuing CA's validityDays ({}), got {}"
        problems = [
            problem((*at, "validityDays"), message.format(ca_days, days))
            for at, days, ca in leaves
            if (ca_days := ca.issuing_validity_days) is not None and days > ca_days
        ]
        message = "must not exceed rotation.next.validityDays of the issuing CA ({}), got {}"
        problems += [
            problem((*at, "validityDays"), message.format(ca.rotation.next.validity_days, days))
            for at, days, ca in leaves
            if ca.rotation is not None and days > ca.rotation.next.validity_days
        ]
        # The CA that signs clients also signs their revocation list.
        role = "clientCa" if self.client_ca is not None else "serverCa"
        chain = (self.client_ca or self.server_ca).chain
        if chain is not None:
            problems += [
                problem((role, "certificate"), message)
                for message in imported.crl_signing_problems(chain)
            ]
        return valid(self, problems)
