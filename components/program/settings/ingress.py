"""The ingress-nginx enforcer: the Ingress (`ingress`) and its controller's ConfigMap
(`controller`)."""

from __future__ import annotations

from typing import Annotated, Any, Self

import pydantic
from pydantic import Field, ValidationInfo, field_validator, model_validator

from .choices import BackendProtocol, ControllerManagement, VerifyClient
from .values import (
    ConfigMapSettings,
    ConfigObject,
    ErrorPage,
    Flag,
    Hostname,
    IngressName,
    IngressPath,
    Label,
    MatchCn,
    NoRepeats,
    NotEmpty,
    Port,
    ServiceName,
    Subdomain,
    fail,
)


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

    @field_validator("tls_name", "client_certificate")
    @classmethod
    def _only_with_https(cls, value: Any, info: ValidationInfo) -> Any:
        protocol = info.data.get("protocol")  # absent when invalid, and reported as such
        if protocol is not None and protocol is not BackendProtocol.HTTPS:
            fail("only applies with protocol HTTPS (TLS from nginx to the backend)")
        return value


# YAML 1.1 readers turn an unquoted `on`/`off` into a boolean: it is taken as meant.
YamlOnOff = pydantic.BeforeValidator(
    lambda value: ("on" if value else "off") if isinstance(value, bool) else value,
    json_schema_input_type=VerifyClient | bool,
)


class IngressSettings(ConfigObject):
    """The Ingress (`ingress`): its backend, and how ingress-nginx verifies clients."""

    # Left empty here when not set, and named after the backend service once that is read.
    name: IngressName = Field(default_factory=str)
    """Name of the Ingress (default: `backend.service`)."""
    class_name: Subdomain = "nginx"
    """The Ingress's `ingressClassName`."""
    paths: Annotated[tuple[IngressPath, ...], NotEmpty, NoRepeats] = ("/",)
    """Prefix paths: `/` followed by letters, digits and `. _ - /`."""
    backend: BackendSettings
    """The backend Service."""
    verify_client: Annotated[VerifyClient, YamlOnOff] = VerifyClient.ON
    """ingress-nginx's `auth-tls-verify-client`."""
    pass_certificate_to_upstream: Flag = False
    """ingress-nginx's `auth-tls-pass-certificate-to-upstream`."""
    error_page: ErrorPage | None = None
    """ingress-nginx's `auth-tls-error-page`: where clients that fail verification go."""
    match_cn: MatchCn | None = None
    """ingress-nginx's `auth-tls-match-cn`: `CN=` and a regular expression."""

    @field_validator("pass_certificate_to_upstream", "error_page", "match_cn")
    @classmethod
    def _client_options_take_effect(cls, option: Any, info: ValidationInfo) -> Any:
        backend = info.data.get("backend")
        if option and backend is not None and backend.protocol is BackendProtocol.PASSTHROUGH:
            fail(
                "has no effect with backend.protocol PASSTHROUGH: nginx never sees the TLS "
                "session, the backend verifies clients itself"
            )
        if option and info.data.get("verify_client") is VerifyClient.OFF:
            fail("has no effect when verifyClient is off")
        return option

    @model_validator(mode="after")
    def _named_after_the_backend(self) -> Self:
        return self if self.name else self.model_copy(update={"name": self.backend.service})


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
