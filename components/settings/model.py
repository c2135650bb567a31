"""StackSettings: the whole stack config, as `parse_settings` returns it.

Every field is validated and has its default applied; nothing downstream re-checks or guesses.
Names are the Python spelling of the config keys documented in the README
(`pki.server.renewBeforeDays` is `settings.pki.server.renew_before_days`). Each section of the
config has its module (`pki`, `ingress`); the attribute docstrings there are what editors show
for each key, through the JSON Schema of the stack file.
"""

from __future__ import annotations

from pydantic import Field, ValidationInfo, field_validator

from components import formats
from components.settings.config_object import ConfigObject
from components.settings.ingress import ControllerSettings, IngressSettings
from components.settings.pki import PkiSettings
from components.settings.values import Hostname, Label, problem, show, valid


class StackSettings(ConfigObject):
    """The config of an mtls-ingress stack: the `mtls-ingress:*` keys of its stack file."""

    namespace: Label
    """Namespace of the Ingress and its Secrets."""
    host: Hostname
    """Host name clients connect to (`*.example.com` allowed)."""
    pki: PkiSettings
    """Certificate authorities, server and client certificates, revocation."""
    ingress: IngressSettings
    """The Ingress: backend, class, paths, client verification."""
    controller: ControllerSettings = Field(default_factory=ControllerSettings)
    """The ingress-nginx controller ConfigMap."""

    @field_validator("pki")
    @classmethod
    def _server_certificate_covers_the_host(
        cls, pki: PkiSettings, info: ValidationInfo
    ) -> PkiSettings:
        server, host = pki.server, info.data.get("host")
        if host is None:
            return pki  # the host is invalid, and reported
        if "dns_names" not in server.model_fields_set:
            return pki.model_copy(
                update={"server": server.model_copy(update={"dns_names": (host,)})}
            )
        names = server.dns_names
        covered = not names or any(formats.covers(name, host) for name in names)
        message = f"must cover the ingress host {show(host)}; got {list(names)}"
        return valid(pki, [] if covered else [problem(("server", "dnsNames"), message)])

    @field_validator("ingress")
    @classmethod
    def _backend_tls_name_defaults_to_the_service(
        cls, ingress: IngressSettings, info: ValidationInfo
    ) -> IngressSettings:
        backend, namespace = ingress.backend, info.data.get("namespace")
        if namespace is None or "tls_name" in backend.model_fields_set:
            return ingress
        backend = backend.model_copy(update={"tls_name": f"{backend.service}.{namespace}.svc"})
        return ingress.model_copy(update={"backend": backend})
