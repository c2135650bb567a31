"""The `ingress` and `controller` sections of the stack config: what ingress-nginx enforces."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Self

from pydantic import BeforeValidator, Field, model_validator

from components.settings.config_object import ConfigObject
from components.settings.values import (
    ConfigMapSettings,
    ErrorPage,
    Flag,
    Hostname,
    IngressName,
    IngressPath,
    Label,
    MatchCn,
    NonEmptyStringList,
    NoRepeats,
    Port,
    ServiceName,
    Subdomain,
    problem,
    valid,
)


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


def _yaml_on_off(value: object) -> object:
    # YAML 1.1 readers turn an unquoted `on`/`off` into a boolean: it is taken as meant.
    return ("on" if value else "off") if isinstance(value, bool) else value


YamlOnOff = BeforeValidator(_yaml_on_off, json_schema_input_type=VerifyClient | bool)


class BackendSettings(ConfigObject):
    """The backend Service of the Ingress (`ingress.backend`)."""

    service: ServiceName
    """The backend Service."""
    port: Port
    """The backend Service port: a number or a port name."""
    protocol: BackendProtocol = BackendProtocol.HTTP
    """TLS termination at the ingress (HTTP), re-encryption (HTTPS) or TLS passthrough."""
    # Left empty here when not set: StackSettings, which knows the namespace, fills it in.
    tls_name: Hostname = Field(default_factory=str)
    """HTTPS only: the name in the backend's certificate, verified by nginx and sent as SNI
    (default: `<service>.<namespace>.svc`)."""
    client_certificate: Flag = False
    """HTTPS only: nginx authenticates to the backend with its own client certificate."""

    @model_validator(mode="after")
    def _tls_options_only_with_https(self) -> Self:
        if self.protocol is BackendProtocol.HTTPS:
            return self
        message = "only applies with protocol HTTPS (TLS from nginx to the backend)"
        keys = {"tls_name": "tlsName", "client_certificate": "clientCertificate"}
        return valid(
            self, [problem((keys[n],), message) for n in keys if n in self.model_fields_set]
        )


class IngressSettings(ConfigObject):
    """The Ingress (`ingress`): its backend, and how ingress-nginx verifies clients."""

    # Before `name`, whose default it gives.
    backend: BackendSettings
    """The backend Service."""
    name: IngressName = Field(default_factory=lambda fields: fields["backend"].service)
    """Name of the Ingress (default: `backend.service`); its Secrets are `<name>-tls`,
    `<name>-client-ca`, `<name>-backend-tls` and `<name>-upstream-tls`."""
    class_name: Subdomain = "nginx"
    """The Ingress's `ingressClassName`."""
    paths: Annotated[tuple[IngressPath, ...], NonEmptyStringList, NoRepeats] = ("/",)
    """Prefix paths: `/` followed by letters, digits and `. _ - /`."""
    verify_client: Annotated[VerifyClient, YamlOnOff] = VerifyClient.ON
    """ingress-nginx's `auth-tls-verify-client`."""
    pass_certificate_to_upstream: Flag = False
    """ingress-nginx's `auth-tls-pass-certificate-to-upstream`."""
    error_page: ErrorPage | None = None
    """ingress-nginx's `auth-tls-error-page`: where clients that fail verification go."""
    match_cn: MatchCn | None = None
    """ingress-nginx's `auth-tls-match-cn`: `CN=` and a regular expression."""

    @model_validator(mode="after")
    def _client_options_take_effect(self) -> Self:
        if self.backend.protocol is BackendProtocol.PASSTHROUGH:
            message = (
                "has no effect with backend.protocol PASSTHROUGH: nginx never sees the TLS "
                "session, the backend verifies clients itself"
            )
        elif self.verify_client is VerifyClient.OFF:
            message = "has no effect when verifyClient is off"
        else:
            return self
        options = {
            "passCertificateToUpstream": self.pass_certificate_to_upstream,
            "errorPage": self.error_page is not None,
            "matchCn": self.match_cn is not None,
        }
        return valid(self, [problem((key,), message) for key, is_set in options.items() if is_set])


class ControllerSettings(ConfigObject):
    """The ingress-nginx controller ConfigMap (`controller`)."""

    manage: ControllerManagement = ControllerManagement.PATCH
    """Patch the controller ConfigMap, or leave it alone."""
    namespace: Label = "ingress-nginx"
    """Namespace of the controller ConfigMap."""
    config_map_name: Subdomain = "ingress-nginx-controller"
    """Name of the controller ConfigMap."""
    settings: ConfigMapSettings = Field(default=(), json_schema_extra={"default": {}})
    """Controller settings merged over the hardened defaults, written as strings."""
