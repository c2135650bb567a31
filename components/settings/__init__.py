"""Typed stack settings: the config document of an mtls-ingress stack, validated."""

from components.settings.ingress import (
    BackendProtocol,
    BackendSettings,
    ControllerManagement,
    ControllerSettings,
    IngressSettings,
    VerifyClient,
)
from components.settings.model import StackSettings
from components.settings.parse import parse_settings
from components.settings.pki import (
    AuthoritySettings,
    ClientSettings,
    CrlSettings,
    PkiSettings,
    RevocationReason,
    RevokedSerial,
    ServerSettings,
)

__all__ = [
    "AuthoritySettings",
    "BackendProtocol",
    "BackendSettings",
    "ClientSettings",
    "ControllerManagement",
    "ControllerSettings",
    "CrlSettings",
    "IngressSettings",
    "PkiSettings",
    "RevocationReason",
    "RevokedSerial",
    "ServerSettings",
    "StackSettings",
    "VerifyClient",
    "parse_settings",
]
