"""The typed settings of an mtls-ingress stack: what `parse_settings` returns.

Every field is already validated and has its default applied; nothing downstream re-checks
or guesses. Names are the Python spelling of the config keys documented in the README
(`pki.server.renewBeforeDays` is `settings.pki.server.renew_before_days`).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from components.pki.key_algorithm import KeyAlgorithm

DEFAULT_CA_VALIDITY_DAYS = 3650
DEFAULT_SERVER_VALIDITY_DAYS = 365
DEFAULT_CLIENT_VALIDITY_DAYS = 180
DEFAULT_RENEW_BEFORE_DAYS = 30
DEFAULT_CRL_VALIDITY_DAYS = 30
DEFAULT_CRL_REFRESH_BEFORE_DAYS = 7


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


class BackendProtocol(StrEnum):
    """How the ingress reaches the backend (`ingress.backend.protocol`)."""

    HTTP = "HTTP"
    HTTPS = "HTTPS"
    PASSTHROUGH = "PASSTHROUGH"


class VerifyClient(StrEnum):
    """Values of ingress-nginx's `auth-tls-verify-client` (`ingress.verifyClient`)."""

    ON = "on"
    OPTIONAL = "optional"
    OPTIONAL_NO_CA = "optional_no_ca"
    OFF = "off"


class ControllerManagement(StrEnum):
    """Whether the stack patches the ingress-nginx controller ConfigMap (`controller.manage`)."""

    PATCH = "patch"
    NONE = "none"


@dataclass(frozen=True)
class AuthoritySettings:
    common_name: str
    organization: str | None
    validity_days: int


@dataclass(frozen=True)
class ServerSettings:
    dns_names: tuple[str, ...]
    ip_addresses: tuple[str, ...]
    validity_days: int
    renew_before_days: int


@dataclass(frozen=True)
class ClientSettings:
    name: str
    common_name: str
    organizations: tuple[str, ...]
    validity_days: int
    renew_before_days: int
    revoked: bool
    revocation_reason: RevocationReason


@dataclass(frozen=True)
class RevokedSerial:
    """A certificate issued outside this stack that the CRL must list."""

    serial_number: int
    reason: RevocationReason


@dataclass(frozen=True)
class CrlSettings:
    validity_days: int
    refresh_before_days: int


@dataclass(frozen=True)
class PkiSettings:
    key_algorithm: KeyAlgorithm
    server_ca: AuthoritySettings
    client_ca: AuthoritySettings | None
    server: ServerSettings
    clients: tuple[ClientSettings, ...]
    revoked_serials: tuple[RevokedSerial, ...]
    crl: CrlSettings

    @property
    def clients_have_own_ca(self) -> bool:
        """True in the recommended setup, where a separate CA signs the clients."""
        return self.client_ca is not None


@dataclass(frozen=True)
class BackendSettings:
    service: str
    port: int | str
    protocol: BackendProtocol
    tls_name: str
    """HTTPS: the DNS name in the backend's certificate, which nginx verifies."""
    client_certificate: bool
    """HTTPS: whether nginx presents a client certificate to the backend (mTLS upstream)."""


@dataclass(frozen=True)
class IngressSettings:
    name: str
    """Name of the Ingress; its Secrets are named after it."""
    class_name: str
    paths: tuple[str, ...]
    backend: BackendSettings
    verify_client: VerifyClient
    pass_certificate_to_upstream: bool
    error_page: str | None
    match_cn: str | None


@dataclass(frozen=True)
class ControllerSettings:
    manage: ControllerManagement
    namespace: str
    config_map_name: str
    settings: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class StackSettings:
    namespace: str
    host: str
    pki: PkiSettings
    ingress: IngressSettings
    controller: ControllerSettings
