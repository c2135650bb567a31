"""Users of a Kubernetes API server (`kubernetesApi`), signed by the cluster's own CA."""

from __future__ import annotations

import urllib.parse
from typing import Annotated, Any, Self

from pydantic import Field, field_validator, model_validator

from ...pki import lifetimes
from .authority import ImportedAuthoritySettings
from .values import (
    CertificatePem,
    CommonName,
    ConfigObject,
    Days,
    Flag,
    HttpsUrl,
    NoRepeats,
    Organization,
    RoleName,
    Subdomain,
    unique_names,
    valid,
)
from .windows import ahead_of_expiry, renewal_window


class KubernetesApiUserSettings(ConfigObject):
    """A user of the Kubernetes API server (`kubernetesApi.users[]`)."""

    name: CommonName
    """The user name, written as the certificate's CN; its key in `kubeconfigs`."""
    groups: Annotated[tuple[Organization, ...], NoRepeats] = ()
    """The user's groups, each written as an O of the certificate."""
    validity_days: Days = lifetimes.API_USER_VALIDITY_DAYS
    """Lifetime of the client certificate in days, at most the cluster CA's."""
    renew_before_days: Days = Field(default_factory=renewal_window)
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
        return valid(self, ahead_of_expiry("renewBeforeDays", days, validity_days))


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
