"""Stack config (the `mtls-ingress:*` keys) to `StackSettings`, in one validation pass."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from components import formats
from components.pki.key_algorithm import KeyAlgorithm
from components.settings.fields import Section, show
from components.settings.model import (
    DEFAULT_CA_VALIDITY_DAYS,
    DEFAULT_CLIENT_VALIDITY_DAYS,
    DEFAULT_CRL_REFRESH_BEFORE_DAYS,
    DEFAULT_CRL_VALIDITY_DAYS,
    DEFAULT_RENEW_BEFORE_DAYS,
    DEFAULT_SERVER_VALIDITY_DAYS,
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
from components.validation import Problems

TOP_LEVEL_KEYS = ("namespace", "host", "pki", "ingress", "controller")
PKI_KEYS = ("keyAlgorithm", "serverCa", "clientCa", "server", "clients", "revokedSerials", "crl")
AUTHORITY_KEYS = ("commonName", "organization", "validityDays")
SERVER_KEYS = ("dnsNames", "ipAddresses", "validityDays", "renewBeforeDays")
CLIENT_KEYS = (
    "name",
    "commonName",
    "organizations",
    "validityDays",
    "renewBeforeDays",
    "revoked",
    "revocationReason",
)
REVOKED_SERIAL_KEYS = ("serialNumber", "reason")
CRL_KEYS = ("validityDays", "refreshBeforeDays")
INGRESS_KEYS = (
    "name",
    "className",
    "paths",
    "backend",
    "verifyClient",
    "passCertificateToUpstream",
    "errorPage",
    "matchCn",
)
BACKEND_KEYS = ("service", "port", "protocol", "tlsName", "clientCertificate")
CONTROLLER_KEYS = ("manage", "namespace", "configMapName", "settings")

DEFAULT_CONTROLLER_NAMESPACE = "ingress-nginx"
DEFAULT_CONTROLLER_CONFIG_MAP = "ingress-nginx-controller"


def parse_settings(config: Mapping[str, Any]) -> StackSettings:
    """Validates the project's stack config and returns it typed, with defaults applied.

    Args:
        config: every `mtls-ingress:` key of the stack, namespace stripped, values decoded
            from JSON (`{"host": "...", "pki": {...}}`).

    Raises:
        pulumi.RunError: naming every offending field path and what it accepts.
    """
    problems = Problems("invalid mtls-ingress stack configuration")
    root = Section(problems, "", config, TOP_LEVEL_KEYS)
    namespace = root.text("namespace", required=True, check=formats.dns_label) or ""
    host = root.text("host", required=True, check=formats.hostname) or ""
    pki = _pki(root.section("pki", PKI_KEYS), host)
    ingress = _ingress(root.section("ingress", INGRESS_KEYS), namespace)
    controller = _controller(root.section("controller", CONTROLLER_KEYS))
    problems.raise_if_any()
    return StackSettings(namespace, host, pki, ingress, controller)


def _pki(section: Section, host: str) -> PkiSettings:
    key_algorithm = section.choice("keyAlgorithm", KeyAlgorithm, KeyAlgorithm.ECDSA_P256)
    if section.has("serverCa"):
        server_ca = _authority(section.section("serverCa", AUTHORITY_KEYS))
    else:
        section.fail("serverCa", "is required: {commonName, organization?, validityDays?}")
        server_ca = AuthoritySettings("", None, DEFAULT_CA_VALIDITY_DAYS)
    client_ca = (
        _authority(section.section("clientCa", AUTHORITY_KEYS)) if section.has("clientCa") else None
    )
    server = _server(section.section("server", SERVER_KEYS), host, server_ca)
    clients = _clients(section, client_ca or server_ca)
    revoked_serials = _revoked_serials(section)
    crl = _crl(section.section("crl", CRL_KEYS))
    return PkiSettings(key_algorithm, server_ca, client_ca, server, clients, revoked_serials, crl)


def _authority(section: Section) -> AuthoritySettings:
    common_name = section.text("commonName", required=True, check=formats.common_name)
    organization = section.text("organization", check=formats.organization)
    validity_days = section.integer("validityDays", default=DEFAULT_CA_VALIDITY_DAYS)
    return AuthoritySettings(common_name or "", organization, validity_days)


def _server(section: Section, host: str, issuer: AuthoritySettings) -> ServerSettings:
    dns_names = section.text_list("dnsNames", default=(host,), check=formats.hostname)
    ip_addresses = section.text_list("ipAddresses", check=formats.ip_address)
    if section.has("dnsNames") and not dns_names and not ip_addresses:
        # A server certificate without a SAN is rejected by every current TLS client
        # (RFC 6125 section 6.4.4 deprecates falling back to the common name).
        section.fail("dnsNames", "must name at least one DNS name or ipAddresses must be set")
    if host and dns_names and not any(formats.covers(name, host) for name in dns_names):
        section.fail("dnsNames", f"must cover the ingress host {show(host)}; got {list(dns_names)}")
    validity_days, renew_before_days = _lifetime(section, DEFAULT_SERVER_VALIDITY_DAYS, issuer)
    return ServerSettings(dns_names, ip_addresses, validity_days, renew_before_days)


def _lifetime(
    section: Section, default_validity_days: int, issuer: AuthoritySettings
) -> tuple[int, int]:
    validity_days = section.integer("validityDays", default=default_validity_days)
    renew_before_days = section.integer(
        "renewBeforeDays", default=min(DEFAULT_RENEW_BEFORE_DAYS, validity_days // 2 or 1)
    )
    if renew_before_days >= validity_days:
        section.fail(
            "renewBeforeDays",
            f"must be less than validityDays ({validity_days}), got {renew_before_days}",
        )
    if validity_days > issuer.validity_days:
        # A leaf that outlives its CA stops verifying when the CA expires, whatever it says.
        section.fail(
            "validityDays",
            f"must not exceed the issuing CA's validityDays ({issuer.validity_days}), "
            f"got {validity_days}",
        )
    return validity_days, renew_before_days


def _clients(pki: Section, issuer: AuthoritySettings) -> tuple[ClientSettings, ...]:
    clients: list[ClientSettings] = []
    names: set[str] = set()
    for path, raw in pki.items("clients"):
        section = Section(pki.problems, path, raw, CLIENT_KEYS)
        if not isinstance(raw, Mapping):
            continue
        name = section.text("name", required=True, check=formats.dns_label) or ""
        if name in names:
            section.fail("name", f"repeats {show(name)}; client names must be unique")
        names.add(name)
        common_name = section.text("commonName", default=name, check=formats.common_name)
        organizations = section.text_list("organizations", check=formats.organization)
        if len(organizations) > 1:
            # pulumi-tls (like terraform-provider-tls) writes a single O attribute per subject.
            section.fail(
                "organizations",
                f"may hold at most one organization (pulumi-tls certificate subjects carry a "
                f"single O attribute), got {len(organizations)}",
            )
        validity_days, renew_before_days = _lifetime(section, DEFAULT_CLIENT_VALIDITY_DAYS, issuer)
        revoked = section.boolean("revoked", default=False)
        reason = section.choice("revocationReason", RevocationReason, RevocationReason.UNSPECIFIED)
        if section.has("revocationReason") and not revoked:
            section.fail("revocationReason", "is only allowed together with revoked: true")
        clients.append(
            ClientSettings(
                name,
                common_name or name,
                organizations,
                validity_days,
                renew_before_days,
                revoked,
                reason,
            )
        )
    return tuple(clients)


def _revoked_serials(pki: Section) -> tuple[RevokedSerial, ...]:
    entries: list[RevokedSerial] = []
    for path, raw in pki.items("revokedSerials"):
        entry = Section(
            pki.problems, path, raw if isinstance(raw, Mapping) else None, REVOKED_SERIAL_KEYS
        )
        value = entry.values.get("serialNumber") if isinstance(raw, Mapping) else raw
        value_path = entry.path_of("serialNumber") if isinstance(raw, Mapping) else path
        reason = entry.choice("reason", RevocationReason, RevocationReason.UNSPECIFIED)
        serial = formats.serial_number(value)
        if serial is None:
            hint = (
                " (write serials as quoted strings: YAML numbers this large lose precision)"
                if isinstance(value, float)
                else ""
            )
            pki.problems.add(
                value_path,
                "must be a certificate serial number: a positive decimal integer, 0x-prefixed "
                f"hex or colon-separated hex bytes, at most 20 octets; got {show(value)}{hint}",
            )
            continue
        if any(existing.serial_number == serial for existing in entries):
            pki.problems.add(value_path, f"repeats serial number {serial:#x}")
            continue
        entries.append(RevokedSerial(serial, reason))
    return tuple(entries)


def _crl(section: Section) -> CrlSettings:
    validity_days = section.integer("validityDays", default=DEFAULT_CRL_VALIDITY_DAYS)
    refresh_before_days = section.integer(
        "refreshBeforeDays", default=min(DEFAULT_CRL_REFRESH_BEFORE_DAYS, validity_days - 1 or 1)
    )
    if refresh_before_days >= validity_days:
        section.fail(
            "refreshBeforeDays",
            f"must be less than validityDays ({validity_days}), got {refresh_before_days}",
        )
    return CrlSettings(validity_days, refresh_before_days)


def _ingress(section: Section, namespace: str) -> IngressSettings:
    class_name = section.text("className", default="nginx", check=formats.dns_subdomain)
    paths = section.text_list("paths", default=("/",), check=formats.ingress_path, non_empty=True)
    backend_section = section.section("backend", BACKEND_KEYS)
    if not section.has("backend"):
        section.fail("backend", "is required: {service, port, protocol?}")
    backend = _backend(backend_section, namespace)
    # The Secrets get suffixes of up to 13 characters ("-upstream-tls"); names stay labels.
    name = section.text("name", default=backend.service, check=_object_name) or backend.service
    if isinstance(section.values.get("verifyClient"), bool):
        # YAML 1.1 readers turn an unquoted `on`/`off` into a boolean; take it as meant.
        verify_client = VerifyClient.ON if section.values["verifyClient"] else VerifyClient.OFF
    else:
        verify_client = section.choice("verifyClient", VerifyClient, VerifyClient.ON)
    pass_certificate = section.boolean("passCertificateToUpstream", default=False)
    error_page = section.text("errorPage", check=formats.auth_tls_error_page)
    match_cn = section.text("matchCn", check=formats.auth_tls_match_cn)
    nginx_sees_tls = backend.protocol is not BackendProtocol.PASSTHROUGH
    for key, is_set in (
        ("passCertificateToUpstream", pass_certificate),
        ("errorPage", error_page is not None),
        ("matchCn", match_cn is not None),
    ):
        if is_set and not nginx_sees_tls:
            section.fail(
                key,
                "has no effect with backend.protocol PASSTHROUGH: nginx never sees the TLS "
                "session, the backend verifies clients itself",
            )
        elif is_set and verify_client is VerifyClient.OFF:
            section.fail(key, "has no effect when verifyClient is off")
    return IngressSettings(
        name,
        class_name or "nginx",
        paths,
        backend,
        verify_client,
        pass_certificate,
        error_page,
        match_cn,
    )


def _backend(section: Section, namespace: str) -> BackendSettings:
    service = section.text("service", required=section.values != {}, check=formats.service_name)
    port: int | str = 0
    raw_port = section.values.get("port")
    if raw_port is None:
        if section.values:
            section.fail("port", "is required: a port number or a named Service port")
    elif isinstance(raw_port, str) and not raw_port.isdigit():
        port = section.text("port", check=formats.port_name) or 0
    else:
        port = section.integer("port", default=0, maximum=65535)
    protocol = section.choice("protocol", BackendProtocol, BackendProtocol.HTTP)
    tls_name = (
        section.text("tlsName", default=f"{service}.{namespace}.svc", check=formats.hostname)
        or f"{service}.{namespace}.svc"
    )
    client_certificate = section.boolean("clientCertificate", default=False)
    for key in ("tlsName", "clientCertificate"):
        if section.has(key) and protocol is not BackendProtocol.HTTPS:
            section.fail(key, "only applies with protocol HTTPS (TLS from nginx to the backend)")
    return BackendSettings(service or "", port, protocol, tls_name, client_certificate)


def _controller(section: Section) -> ControllerSettings:
    manage = section.choice("manage", ControllerManagement, ControllerManagement.PATCH)
    namespace = section.text(
        "namespace", default=DEFAULT_CONTROLLER_NAMESPACE, check=formats.dns_label
    )
    config_map_name = section.text(
        "configMapName", default=DEFAULT_CONTROLLER_CONFIG_MAP, check=formats.dns_subdomain
    )
    settings: list[tuple[str, str]] = []
    raw = section.values.get("settings")
    if raw is not None and not isinstance(raw, Mapping):
        section.fail("settings", f"must be an object of ConfigMap keys to values, got {show(raw)}")
    elif raw is not None:
        for key, value in raw.items():
            path = f"{section.path_of('settings')}.{key}"
            if (expected := formats.config_map_key(str(key))) is not None:
                section.problems.add(path, f"must be {expected}")
            elif key in _NOT_CONFIG_MAP_KEYS:
                section.problems.add(path, _NOT_CONFIG_MAP_KEYS[key])
            elif isinstance(value, bool):
                settings.append((key, "true" if value else "false"))
            elif isinstance(value, str | int | float):
                # ConfigMap data holds strings only; numbers are written as YAML shows them.
                settings.append((key, str(value)))
            else:
                section.problems.add(
                    path, f"must be a string, number or boolean, got {show(value)}"
                )
    return ControllerSettings(
        manage,
        namespace or DEFAULT_CONTROLLER_NAMESPACE,
        config_map_name or DEFAULT_CONTROLLER_CONFIG_MAP,
        tuple(sorted(settings)),
    )


# Settings users put in the controller ConfigMap that the controller silently ignores there.
_NOT_CONFIG_MAP_KEYS = {
    flag: f"is the controller command-line flag --{flag}, not a ConfigMap key; set it in the "
    "controller's arguments (Helm: controller.extraArgs)"
    for flag in (
        "enable-ssl-passthrough",
        "default-ssl-certificate",
        "enable-ssl-chain-completion",
        "ingress-class",
        "watch-namespace",
        "publish-service",
        "annotations-prefix",
    )
} | {
    annotation: f"is an Ingress annotation (nginx.ingress.kubernetes.io/{annotation}), not a "
    "ConfigMap key; the stack sets it on the Ingress from the ingress.* settings"
    for annotation in (
        "ssl-passthrough",
        "auth-tls-secret",
        "auth-tls-verify-client",
        "backend-protocol",
    )
}


def _object_name(value: str) -> str | None:
    if len(value) <= 50 and formats.dns_label(value) is None:
        return None
    return "a lowercase RFC 1123 label of at most 50 characters"
