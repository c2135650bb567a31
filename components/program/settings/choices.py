"""The words the stack config chooses from: each key that takes one of a fixed set of values."""

from __future__ import annotations

from enum import StrEnum


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


class Enforcer(StrEnum):
    """What enforces mutual TLS at the edge (`enforcer`)."""

    INGRESS_NGINX = "ingress-nginx"
    GATEWAY_API = "gateway-api"


class GatewayImplementation(StrEnum):
    """The Gateway API implementation (`gateway.implementation`)."""

    ENVOY_GATEWAY = "envoy-gateway"
    OTHER = "other"


class ControllerManagement(StrEnum):
    """Whether the stack patches the ingress-nginx controller ConfigMap (`controller.manage`)."""

    PATCH = "patch"
    NONE = "none"


class RotationPhase(StrEnum):
    """The phase of a CA rotation (`pki.serverCa.rotation.phase`, `pki.clientCa.rotation.phase`)."""

    INTRODUCE = "introduce"
    ISSUE = "issue"
    RETIRE = "retire"
