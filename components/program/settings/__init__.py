"""The settings of an mtls-ingress stack: its config document, validated in one pass.

Every field is validated and has its default applied; nothing downstream re-checks or guesses.
Names are the Python spelling of the config keys the README documents
(`pki.server.renewBeforeDays` is `settings.pki.server.renew_before_days`); the attribute
docstrings are what editors show for each key, through the JSON Schema of the stack file.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Collection, Mapping
from datetime import datetime
from enum import StrEnum
from functools import cached_property
from typing import Annotated, Any, Self, TypeVar

import pydantic
from pydantic import Field, ValidationInfo, field_validator, model_validator
from pydantic.alias_generators import to_camel
from pydantic_core import InitErrorDetails

from ...core import formats
from ...core.validation import Problems
from ...pki import imported, lifetimes
from ...pki.key_algorithm import KeyAlgorithm
from .values import (
    CertificatePem,
    CommonName,
    ConfigMapSettings,
    ConfigObject,
    Days,
    ErrorPage,
    Flag,
    Hostname,
    HttpsUrl,
    IngressName,
    IngressPath,
    IpAddress,
    Label,
    MatchCn,
    NoRepeats,
    NotEmpty,
    Organization,
    Port,
    PrivateKeyPem,
    RoleName,
    Serial,
    ServiceName,
    StackName,
    Subdomain,
    fail,
    problem,
    read_serial,
    repeated,
    show,
    unique_names,
    valid,
)

Model = TypeVar("Model", bound=ConfigObject)


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


def _renewal_window(fields: dict[str, Any]) -> int:
    return lifetimes.renew_before_days(fields["validity_days"])


def _ahead_of_expiry(key: str, days: int, validity_days: int) -> list[InitErrorDetails]:
    message = f"must be less than validityDays ({validity_days}), got {days}"
    return [] if days < validity_days else [problem((key,), message)]


class RotationPhase(StrEnum):
    """The phase of a CA rotation (`pki.serverCa.rotation.phase`, `pki.clientCa.rotation.phase`)."""

    INTRODUCE = "introduce"
    ISSUE = "issue"
    RETIRE = "retire"


class NextAuthoritySettings(ConfigObject):
    """The CA that replaces the current one (`pki.*Ca.rotation.next`)."""

    common_name: CommonName
    """Subject CN of the next CA."""
    organization: Organization | None = None
    """Subject O of the next CA."""
    validity_days: Days = lifetimes.CA_VALIDITY_DAYS
    """Lifetime of the next CA, in days."""


class RotationSettings(ConfigObject):
    """A CA rotation without downtime, in three phases (`pki.serverCa.rotation`,
    `pki.clientCa.rotation`)."""

    phase: RotationPhase
    """introduce: the next CA is trusted beside the current one, which still issues; issue:
    the next CA issues every certificate, both stay trusted; retire: the current CA and what
    it issued leave the stack."""
    next: NextAuthoritySettings
    """The CA that replaces the current one."""


class IntermediateSettings(ConfigObject):
    """An intermediate CA under a root: `pki.serverCa.intermediate`, `pki.clientCa.intermediate`."""

    common_name: CommonName
    """Subject CN of the intermediate CA."""
    organization: Organization | None = None
    """Subject O of the intermediate CA."""
    # Unset means computed from the root (intermediate_validity_days): no default in the schema.
    validity_days: Days | None = Field(default_factory=lambda: None)
    """Lifetime of the intermediate in days, at most the root's (default 1825, or the root's)."""


class ImportedAuthoritySettings(ConfigObject):
    """An existing CA the stack signs with and never replaces (`kubernetesApi.ca`)."""

    certificate: CertificatePem
    """The CA certificate, PEM, followed by any certificates above it up to the root."""
    private_key: PrivateKeyPem
    """The CA's private key, unencrypted PEM; a secret: `pulumi config set --secret --path
    <key>.privateKey < ca.key`."""

    @cached_property
    def chain(self) -> imported.ImportedChain:
        """The CA and the certificates above it, read once."""
        return imported.read_chain(self.certificate)

    @model_validator(mode="after")
    def _signs_with_its_key(self) -> Self:
        return valid(self, _import_problems(self.certificate, self.private_key))


def _import_problems(certificate: str, private_key: str) -> list[InitErrorDetails]:
    found = imported.import_problems(certificate, private_key)
    return [
        problem((to_camel(field),), message)
        for field, messages in found.items()
        for message in messages
    ]


class AuthoritySettings(ConfigObject):
    """A certificate authority (`pki.serverCa`, `pki.clientCa`): one the stack creates
    (`commonName`), or an existing one it imports (`certificate` and `privateKey`)."""

    shapes = (
        "{commonName, organization?, validityDays?, intermediate?} to create a CA",
        "{certificate, privateKey, intermediate?} to import one",
    )

    common_name: CommonName | None = None
    """Subject CN of a CA the stack creates."""
    organization: Organization | None = None
    """Subject O of a CA the stack creates."""
    validity_days: Days = lifetimes.CA_VALIDITY_DAYS
    """Lifetime of a CA the stack creates, in days."""
    certificate: CertificatePem | None = None
    """Imports an existing CA instead of creating one: its certificate, PEM, followed by any
    certificates above it up to the root. The stack signs with it and never replaces it."""
    private_key: PrivateKeyPem | None = None
    """The imported CA's private key, unencrypted PEM; a secret: `pulumi config set --secret
    --path pki.clientCa.privateKey < ca.key`."""
    intermediate: IntermediateSettings | None = None
    """An intermediate CA signed by this one that issues its certificates; this CA stays the
    root that verifiers trust."""
    rotation: RotationSettings | None = None
    """Replaces this CA with `rotation.next` in phases, without refusing a valid client in
    between (see README, "Rotate a CA")."""

    @cached_property
    def chain(self) -> imported.ImportedChain | None:
        """The imported CA and the certificates above it, read once; None for a CA the stack
        creates."""
        return imported.read_chain(self.certificate) if self.certificate else None

    @property
    def imported(self) -> bool:
        return self.certificate is not None

    @property
    def intermediate_validity_days(self) -> int:
        """Lifetime of the intermediate, its default applied (0 without an intermediate)."""
        if self.intermediate is None:
            return 0
        return self.intermediate.validity_days or min(1825, self.validity_days)

    @property
    def issuing_validity_days(self) -> int | None:
        """Lifetime of the CA that signs the leaves, the intermediate if there is one; None for
        an imported CA without one, whose remaining lifetime shrinks as time passes."""
        if self.intermediate is not None:
            return self.intermediate_validity_days
        return None if self.imported else self.validity_days

    @model_validator(mode="after")
    def _created_or_imported(self) -> Self:
        if self.certificate is None and self.private_key is None:
            if self.common_name is None:
                message = (
                    "is required: the CA to create; or import an existing CA with certificate "
                    "and privateKey instead"
                )
                return valid(self, [problem(("commonName",), message)])
            return valid(self, [])
        problems = [
            problem((to_camel(field),), "only applies to a CA the stack creates, not to an import")
            for field in ("common_name", "organization", "validity_days")
            if field in self.model_fields_set
        ]
        for present, missing in (("certificate", "private_key"), ("private_key", "certificate")):
            if getattr(self, missing) is None:
                message = f"is required with {to_camel(present)}: an imported CA needs both"
                problems.append(problem((to_camel(missing),), message))
        if self.certificate is not None and self.private_key is not None:
            problems += _import_problems(self.certificate, self.private_key)
        return valid(self, problems)

    @model_validator(mode="after")
    def _rotates_a_single_ca(self) -> Self:
        if self.rotation is None or self.intermediate is None:
            return self
        message = (
            "cannot rotate a CA with an intermediate yet: rotate the intermediate alone by "
            "changing intermediate.commonName, or remove the intermediate first"
        )
        return valid(self, [problem(("rotation",), message)])

    @model_validator(mode="after")
    def _intermediate_expires_with_its_root(self) -> Self:
        days = self.intermediate.validity_days if self.intermediate else None
        message = "must not exceed the root's validityDays ({}), got {}"
        problems = (
            [problem(("intermediate", "validityDays"), message.format(self.validity_days, days))]
            if days is not None and days > self.validity_days and not self.imported
            else []
        )
        return valid(self, problems)


class ServerSettings(ConfigObject):
    """The ingress's server certificate (`pki.server`)."""

    # Left empty here when not set: StackSettings, which knows the host, fills it in.
    dns_names: Annotated[tuple[Hostname, ...], NoRepeats] = Field(default_factory=tuple)
    """subjectAltNames; they must cover `host`, which is the default."""
    ip_addresses: Annotated[tuple[IpAddress, ...], NoRepeats] = ()
    """IP subjectAltNames."""
    validity_days: Days = lifetimes.SERVER_VALIDITY_DAYS
    """Lifetime of the server certificate in days, at most the CA's."""
    renew_before_days: Days = Field(default_factory=_renewal_window)
    """`pulumi up` replaces the certificate this many days before it expires (default 30, at
    most half the lifetime)."""

    @model_validator(mode="after")
    def _has_a_name_and_renews_in_time(self) -> Self:
        problems = _ahead_of_expiry("renewBeforeDays", self.renew_before_days, self.validity_days)
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
    renew_before_days: Days = Field(default_factory=_renewal_window)
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
        return valid(self, _ahead_of_expiry("renewBeforeDays", days, validity_days))


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
        return valid(self, _ahead_of_expiry("refreshBeforeDays", days, validity_days))


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


class MeshServiceSettings(ConfigObject):
    """A service whose callers must use Istio mutual TLS (`mesh.services[]`)."""

    host: Hostname
    """Its host, `<service>.<namespace>.svc.cluster.local`: the DestinationRule's host."""

    @property
    def namespace(self) -> str | None:
        """The namespace of a `<service>.<namespace>.svc…` host (where its rule goes)."""
        labels = self.host.split(".")
        return labels[1] if len(labels) > 2 and labels[2] == "svc" else None


class MeshSettings(ConfigObject):
    """The Istio mesh that shares the ingress's root of trust (`mesh`)."""

    ca_common_name: CommonName
    """Subject CN of the mesh CA, an intermediate under the server CA's root that istiod uses
    as its plug-in CA."""
    ca_validity_days: Days = 1825
    """Lifetime of the mesh CA in days, at most the server root's."""
    istio_namespace: Label = "istio-system"
    """Namespace of istiod, where the `cacerts` Secret goes."""
    namespaces: Annotated[tuple[Label, ...], NoRepeats] = ()
    """Namespaces whose workloads accept mutual TLS only (a STRICT PeerAuthentication each)."""
    services: tuple[MeshServiceSettings, ...] = ()
    """Services that callers reach with Istio mutual TLS (an ISTIO_MUTUAL DestinationRule each)."""
    inject_sidecars: Flag = False
    """Label `namespaces` for sidecar injection (`istio-injection=enabled`)."""

    @field_validator("services")
    @classmethod
    def _hosts_are_unique_services(cls, services: tuple[MeshServiceSettings, ...]) -> Any:
        hosts = [service.host for service in services]
        problems = [
            problem((i, "host"), f"repeats {show(h)}; each host gets one DestinationRule")
            for i, h in repeated(hosts)
        ]
        problems += [
            problem(
                (i, "host"), f"must be <service>.<namespace>.svc[.cluster.local]; got {show(h)}"
            )
            for i, (h, service) in enumerate(zip(hosts, services, strict=True))
            if service.namespace is None
        ]
        return valid(services, problems)


class GatewaySettings(ConfigObject):
    """The Gateway API objects (`gateway`), with `enforcer: gateway-api`."""

    class_name: Subdomain
    """The Gateway's `gatewayClassName` (Envoy Gateway's quick start names its class `eg`)."""
    # Unset means computed from other keys: no default in the schema.
    name: Subdomain | None = Field(default_factory=lambda: None)
    """Name of the Gateway (default: the Ingress's name, `ingress.name`)."""
    namespace: Label | None = Field(default_factory=lambda: None)
    """Namespace of the Gateway (default: `namespace`); routes and Secrets stay in `namespace`."""
    implementation: GatewayImplementation = GatewayImplementation.OTHER
    """`envoy-gateway` adds its ClientTrafficPolicy: CRL checks and the client certificate
    forwarded upstream, which Gateway API itself cannot express."""


class KubernetesApiUserSettings(ConfigObject):
    """A user of the Kubernetes API server (`kubernetesApi.users[]`)."""

    name: CommonName
    """The user name, written as the certificate's CN; its key in `kubeconfigs`."""
    groups: Annotated[tuple[Organization, ...], NoRepeats] = ()
    """The user's groups, each written as an O of the certificate."""
    validity_days: Days = lifetimes.API_USER_VALIDITY_DAYS
    """Lifetime of the client certificate in days, at most the cluster CA's."""
    renew_before_days: Days = Field(default_factory=_renewal_window)
    """`pulumi up` replaces the certificate this many days before it expires (default 30, at
    most half the lifetime)."""
    cluster_roles: Annotated[tuple[RoleName, ...], NoRepeats] = ()
    """ClusterRoles to bind the user to, one ClusterRoleBinding each."""
    revoked: Flag = False
    """Revoke the user: the kubeconfig leaves the outputs and the bindings are deleted. The API
    server reads no CRL, so the certificate itself authenticates until it expires."""

    @model_validator(mode="after")
    def _renews_in_time(self) -> Self:
        days, validity_days = self.renew_before_days, self.validity_days
        return valid(self, _ahead_of_expiry("renewBeforeDays", days, validity_days))


class KubernetesApiSettings(ConfigObject):
    """Client certificates and kubeconfigs for users of a Kubernetes API server
    (`kubernetesApi`), signed by the cluster's own CA."""

    server: HttpsUrl
    """The API server URL written in each kubeconfig, `https://host:port`."""
    # Unset means computed from `server`: no default in the schema.
    cluster_name: Subdomain | None = Field(default_factory=lambda: None)
    """The cluster's name in the kubeconfigs (default: the server's host)."""
    ca: ImportedAuthoritySettings
    """The cluster CA (kubeadm's `/etc/kubernetes/pki/ca.crt` and `ca.key`), the one the API
    server's `--client-ca-file` names."""
    server_ca_certificate: CertificatePem | None = None
    """The CA of the API server's serving certificate, if another CA than `ca` signed it."""
    users: tuple[KubernetesApiUserSettings, ...] = ()
    """One entry per user."""

    @property
    def cluster(self) -> str:
        """The cluster's name in the kubeconfigs, its default applied."""
        return self.cluster_name or (urllib.parse.urlsplit(self.server).hostname or "kubernetes")

    @field_validator("users")
    @classmethod
    def _user_names_are_unique(cls, users: tuple[KubernetesApiUserSettings, ...]) -> Any:
        return unique_names(users, "user")


# What Gateway API cannot express, and what to do instead, by `ingress` key.
GATEWAY_API_REFUSALS = {
    "match_cn": (
        "matchCn",
        "Gateway API cannot match the client certificate's subject; with Envoy "
        "Gateway, authorize clients in a SecurityPolicy, or restrict them with "
        "ClientTrafficPolicy tls.clientValidation.subjectAltNames",
    ),
    "error_page": (
        "errorPage",
        "Gateway API has no error page for clients that fail verification: the "
        "TLS handshake fails, and the implementation answers it",
    ),
}


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
    mesh: MeshSettings | None = None
    """An Istio mesh whose CA is an intermediate under the server CA's root."""
    enforcer: Enforcer = Enforcer.INGRESS_NGINX
    """What enforces mutual TLS: ingress-nginx (retired upstream in March 2026) or a Gateway
    API implementation."""
    gateway: GatewaySettings | None = None
    """The Gateway, with `enforcer: gateway-api`."""
    kubernetes_api: KubernetesApiSettings | None = None
    """Client certificates and kubeconfigs for users of a Kubernetes API server."""
    up_interval_days: Days = 1
    """Days between the scheduled `pulumi up` runs that renew certificates and re-issue CRLs
    (the deploy workflow runs daily); a preview warns of any window shorter than two runs."""

    @model_validator(mode="after")
    def _gateway_api_can_express_the_ingress(self) -> Self:
        if self.enforcer is not Enforcer.GATEWAY_API:
            if self.gateway is not None:
                return valid(
                    self, [problem(("gateway",), "only applies with enforcer gateway-api")]
                )
            return self
        problems = []
        if self.gateway is None:
            problems.append(problem(("gateway",), "is required with enforcer gateway-api"))
        ingress, backend = self.ingress, self.ingress.backend
        if backend.protocol is BackendProtocol.PASSTHROUGH:
            message = (
                "PASSTHROUGH is not supported with enforcer gateway-api yet: it needs a "
                "TLSRoute, which this project does not declare; use HTTP or HTTPS"
            )
            problems.append(problem(("ingress", "backend", "protocol"), message))
        if isinstance(backend.port, str):
            message = "must be a port number with enforcer gateway-api (an HTTPRoute's backendRef)"
            problems.append(problem(("ingress", "backend", "port"), message))
        for field, (key, message) in GATEWAY_API_REFUSALS.items():
            if getattr(ingress, field) is not None:
                problems.append(problem(("ingress", key), message))
        envoy = self.gateway is not None and (
            self.gateway.implementation is GatewayImplementation.ENVOY_GATEWAY
        )
        if not envoy:
            problems += _needs_envoy_gateway(self)
        return valid(self, problems)

    @model_validator(mode="after")
    def _mesh_keeps_its_root(self) -> Self:
        if self.mesh is None or self.pki.server_ca.rotation is None:
            return self
        message = (
            "cannot rotate the server CA while mesh is set: the mesh CA is an intermediate under "
            "the server root, and istiod must move to a new root by Istio's own procedure"
        )
        return valid(self, [problem(("pki", "serverCa", "rotation"), message)])

    @model_validator(mode="after")
    def _mesh_ca_expires_with_the_root(self) -> Self:
        root = self.pki.server_ca
        if self.mesh is None or root.imported or self.mesh.ca_validity_days <= root.validity_days:
            return self
        message = "must not exceed pki.serverCa.validityDays ({}), got {}"
        days = (root.validity_days, self.mesh.ca_validity_days)
        return valid(self, [problem(("mesh", "caValidityDays"), message.format(*days))])

    def enforcer_warnings(self) -> list[str]:
        """Settings that the chosen enforcer does not use."""
        if self.enforcer is Enforcer.GATEWAY_API and "controller" in self.model_fields_set:
            return [
                "controller: configures the ingress-nginx controller, which `enforcer: "
                "gateway-api` does not use: the stack leaves its ConfigMap alone; remove "
                "`controller`"
            ]
        return []

    def schedule_warnings(self) -> list[str]:
        """Renewal and refresh windows that one missed scheduled `pulumi up` could let pass.

        Renewal happens on the first run inside a window, so a window must hold two runs to
        survive one that fails.
        """
        pki, interval = self.pki, self.up_interval_days
        windows = [
            ("pki.server.renewBeforeDays", pki.server.renew_before_days, "it expire"),
            (
                "pki.crl.refreshBeforeDays",
                pki.crl.refresh_before_days,
                "the CRL expire, which refuses every client",
            ),
            *(
                (f"pki.clients[{i}].renewBeforeDays", client.renew_before_days, "it expire")
                for i, client in enumerate(pki.clients)
                if not client.revoked
            ),
        ]
        if self.kubernetes_api is not None:
            windows += [
                (
                    f"kubernetesApi.users[{i}].renewBeforeDays",
                    user.renew_before_days,
                    "the certificate",
                )
                for i, user in enumerate(self.kubernetes_api.users)
                if not user.revoked
            ]
        return _short_windows(windows, interval)

    def expiry_warnings(self, now: datetime) -> list[str]:
        """Certificates that would outlive the imported CA that signs them, if issued at `now`.

        An imported CA's remaining lifetime shrinks every day, so these are warnings, not
        errors: revocations and renewals must keep working while its successor is prepared.
        """
        pki = self.pki
        client_role = "pki.clientCa" if pki.client_ca is not None else "pki.serverCa"
        # What each CA signs itself, as (key of the lifetime, days): its intermediate, if it
        # has one, signs its leaves in its place.
        signed: dict[str, list[tuple[str, int]]] = {"pki.serverCa": [], "pki.clientCa": []}
        signed["pki.serverCa"].append(("pki.server.validityDays", pki.server.validity_days))
        signed[client_role] += [
            (f"pki.clients[{i}].validityDays", client.validity_days)
            for i, client in enumerate(pki.clients)
            if not client.revoked
        ]
        warnings: list[str] = []
        for role, authority in (("pki.serverCa", pki.server_ca), ("pki.clientCa", pki.client_ca)):
            if authority is None or authority.chain is None:
                continue
            leaves = signed[role]
            if authority.intermediate is not None:
                leaves = [
                    (f"{role}.intermediate.validityDays", authority.intermediate_validity_days)
                ]
            if role == "pki.serverCa" and self.mesh is not None:
                leaves.append(("mesh.caValidityDays", self.mesh.ca_validity_days))
            warnings += _outlasting(leaves, role, authority.chain, now)
        if self.kubernetes_api is not None:
            api = self.kubernetes_api
            users = [
                (f"kubernetesApi.users[{i}].validityDays", user.validity_days)
                for i, user in enumerate(api.users)
                if not user.revoked
            ]
            warnings += _outlasting(users, "kubernetesApi.ca", api.ca.chain, now)
        return warnings

    @field_validator("pki")
    @classmethod
    def _server_certificate_covers_the_host(cls, pki: PkiSettings, info: ValidationInfo) -> Any:
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
    ) -> Any:
        backend, namespace = ingress.backend, info.data.get("namespace")
        if namespace is None or "tls_name" in backend.model_fields_set:
            return ingress
        backend = backend.model_copy(update={"tls_name": f"{backend.service}.{namespace}.svc"})
        return ingress.model_copy(update={"backend": backend})


class ShardPkiSettings(ConfigObject):
    """The clients of a client shard (`pki` with `issuerStack`)."""

    key_algorithm: KeyAlgorithm = KeyAlgorithm.ECDSA_P256
    """Key type of the clients' keys."""
    clients: tuple[ClientSettings, ...] = ()
    """One entry per client identity, as in the stack that holds the CA."""
    client_bundles: Flag = True
    """Build each active client's PKCS#12 file and export `clientBundles`."""

    @field_validator("clients")
    @classmethod
    def _client_names_are_unique(cls, clients: tuple[ClientSettings, ...]) -> Any:
        return unique_names(clients, "client")


class ClientShardSettings(ConfigObject):
    """The config of a client shard: a stack that only issues clients, from the client CA of
    the stack `issuerStack` names (which lists this one in `pki.clientShards`)."""

    issuer_stack: StackName
    """The stack that holds the client CA, the CRL and the ingress."""
    pki: ShardPkiSettings
    """The clients this stack issues."""
    up_interval_days: Days = 1
    """Days between the scheduled `pulumi up` runs that renew the clients' certificates."""

    def schedule_warnings(self) -> list[str]:
        """Renewal windows that one missed scheduled `pulumi up` could let pass."""
        windows = [
            (f"pki.clients[{i}].renewBeforeDays", client.renew_before_days, "it expire")
            for i, client in enumerate(self.pki.clients)
            if not client.revoked
        ]
        return _short_windows(windows, self.up_interval_days)


def _short_windows(windows: list[tuple[str, int, str]], interval: int) -> list[str]:
    return [
        f"{key}: a window of {days} day(s) holds fewer than two scheduled runs "
        f"{interval} day(s) apart (upIntervalDays): one failed `pulumi up` lets {what}; "
        "widen the window or run more often"
        for key, days, what in windows
        if days < 2 * interval
    ]


def _outlasting(
    lifetimes: list[tuple[str, int]], name: str, chain: imported.ImportedChain, now: datetime
) -> list[str]:
    left, end = chain.remaining_days(now), chain.expires_at
    return [
        f"{key}: {days} days outlast the imported {name}, which expires in {left} days "
        f"({end:%Y-%m-%d}); certificates issued from now on stop verifying then: import its "
        "successor"
        for key, days in lifetimes
        if days > left
    ]


def _needs_envoy_gateway(settings: StackSettings) -> list[InitErrorDetails]:
    """What only Envoy Gateway's ClientTrafficPolicy can do among Gateway API implementations."""
    no_crl = (
        "Gateway API has no CRL: with gateway.implementation other, a revoked certificate would "
        "still be accepted; set gateway.implementation envoy-gateway (its ClientTrafficPolicy "
        "checks ca.crl), or rotate the client CA instead of revoking"
    )
    problems = [
        problem(("pki", "clients", index, "revoked"), no_crl)
        for index, client in enumerate(settings.pki.clients)
        if client.revoked
    ]
    if settings.pki.revoked_serials:
        problems.append(problem(("pki", "revokedSerials"), no_crl))
    if settings.ingress.pass_certificate_to_upstream:
        message = (
            "Gateway API cannot forward the client certificate; set gateway.implementation "
            "envoy-gateway (its ClientTrafficPolicy sets X-Forwarded-Client-Cert)"
        )
        problems.append(problem(("ingress", "passCertificateToUpstream"), message))
    return problems


# Where the config document holds private keys, as README paths.
PRIVATE_KEY_PATHS = (
    ("pki", "serverCa", "privateKey"),
    ("pki", "clientCa", "privateKey"),
    ("kubernetesApi", "ca", "privateKey"),
)


def parse_settings(
    config: Mapping[str, Any], secret_keys: Collection[str] | None = None
) -> StackSettings:
    """Validates the project's stack config and returns it typed, with defaults applied.

    Args:
        config: every `mtls-ingress:` key of the stack, namespace stripped, values decoded
            from JSON (`{"host": "...", "pki": {...}}`).
        secret_keys: the keys of `config` that the stack holds as secrets (one whose value
            has a secret inside, such as `pki` with `pulumi config set --secret --path
            pki.clientCa.privateKey`). Given, a private key in any other key is a problem.

    Raises:
        pulumi.RunError: naming every offending field path and what it accepts.
    """
    problems = Problems("invalid mtls-ingress stack configuration")
    if secret_keys is not None:
        for key_path in PRIVATE_KEY_PATHS:
            if key_path[0] not in secret_keys and _lookup(config, key_path) is not None:
                written = ".".join(key_path)
                problems.add(
                    written,
                    "must be a secret, or the key would be stored in plain text in the stack "
                    f"file: set it with `pulumi config set --secret --path {written} < ca.key`",
                )
    settings = _validated(StackSettings, config, problems)
    problems.raise_if_any()
    return settings


def parse_shard_settings(config: Mapping[str, Any]) -> ClientShardSettings:
    """Validates the stack config of a client shard (one with `issuerStack`).

    Raises:
        pulumi.RunError: naming every offending field path and what it accepts.
    """
    problems = Problems("invalid mtls-ingress client shard configuration")
    settings = _validated(ClientShardSettings, config, problems)
    problems.raise_if_any()
    return settings


def _validated(model: type[Model], config: Mapping[str, Any], problems: Problems) -> Model:
    try:
        return model.model_validate(config)
    except pydantic.ValidationError as error:
        for line in error.errors():
            # The path as the README writes it: `pki.clients[1].validityDays`.
            steps = line["loc"]
            path = "".join(f"[{step}]" if isinstance(step, int) else f".{step}" for step in steps)
            problems.add(path.removeprefix("."), line["msg"])
        problems.raise_if_any()
        raise  # not reached: a ValidationError names at least one problem


def _lookup(document: Mapping[str, Any], path: tuple[str, ...]) -> object:
    value: object = document
    for step in path:
        value = value.get(step) if isinstance(value, Mapping) else None
    return value
