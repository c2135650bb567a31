"""Typed stack settings: the config document of an mtls-ingress stack, validated."""

from components.settings.model import (
    AuthoritySettings,
    BackendProtocol,
    BackendSettings,
    ClientSettings,
    ControllerManagement,
    ControllerSettings,
    CrlSettings,
    IngressSettings,
    PkiSettings,
    RevocationReason,
    RevokedSerial,
    ServerSettings,
    StackSettings,
    VerifyClient,
)
from components.settings.parse import TOP_LEVEL_KEYS, parse_settings

__all__ = [
    "TOP_LEVEL_KEYS",
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
