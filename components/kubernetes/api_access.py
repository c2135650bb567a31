"""KubernetesApiAccess: users of a Kubernetes API server, each with a client certificate signed
by the cluster CA, a ready kubeconfig and, optionally, ClusterRoleBindings.

The API server's x509 authenticator (`--client-ca-file`) reads the user name from the
certificate's CN and a group from each O; RBAC then decides what the user may do. The API
server reads no revocation list: revoking a user here removes its kubeconfig from the outputs
and deletes its bindings, but the certificate keeps authenticating (with its groups) until it
expires, so keep API users' certificates short-lived.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence
from typing import NotRequired, TypedDict

import pulumi
import pulumi_kubernetes as k8s
import yaml

from ..core import formats
from ..core.outputs import by_name
from ..core.validation import Problems
from ..pki import ClientCertificate, Issuer, lifetimes
from .ownership import owned_metadata, owner_identity, stable_name

RBAC_API_GROUP = "rbac.authorization.k8s.io"


class ApiUser(TypedDict):
    """One user of `KubernetesApiAccess`."""

    name: str
    """The user name (the certificate's CN)."""
    groups: NotRequired[Sequence[str]]
    """The user's groups, one O each."""
    validity_days: NotRequired[int]
    """Lifetime of the certificate in days; default 365."""
    renew_before_days: NotRequired[int]
    """Days before expiry from which `pulumi up` renews it; default 30."""
    cluster_roles: NotRequired[Sequence[str]]
    """ClusterRoles to bind the user to."""
    revoked: NotRequired[bool]
    """No kubeconfig and no bindings; the certificate stays in the stack for its serial."""


class KubernetesApiAccessArgs(TypedDict):
    """Arguments of `KubernetesApiAccess`."""

    server: str
    """The API server URL written in each kubeconfig."""
    cluster_name: str
    """The cluster's name in the kubeconfigs."""
    ca: Issuer
    """The cluster CA, the one the API server's `--client-ca-file` names
    (`CertificateAuthority(..., {"certificate_pem": ..., "private_key_pem": ...}).as_issuer()`)."""
    server_ca_certificate_pem: NotRequired[pulumi.Input[str]]
    """What verifies the API server's certificate (default: the cluster CA's trust bundle)."""
    users: Sequence[ApiUser]
    """The users."""
    key_algorithm: NotRequired[str]
    """Key type of the users' keys; default ECDSA_P256."""


class KubernetesApiAccess(pulumi.ComponentResource):
    """Client certificates, kubeconfigs and ClusterRoleBindings for Kubernetes API users."""

    users: dict[str, ClientCertificate]
    """Every user's certificate, revoked ones included, by name."""
    kubeconfigs: pulumi.Output[dict[str, str]]
    """Per active user: a complete kubeconfig with the key embedded (secret)."""
    revoked_serials: pulumi.Output[dict[str, str]]
    """Per revoked user: the certificate's serial number."""
    cluster_role_bindings: list[k8s.rbac.v1.ClusterRoleBinding]
    """One per active user and ClusterRole."""

    def __init__(
        self,
        name: str,
        args: KubernetesApiAccessArgs,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        _validate(name, args)
        super().__init__("mtls:index:KubernetesApiAccess", name, {}, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.users = _user_certificates(name, args, child)
        active = [user for user in args["users"] if not user.get("revoked", False)]
        self.kubeconfigs = pulumi.Output.secret(_kubeconfigs(args, active, self.users))
        self.revoked_serials = by_name(
            {
                user["name"]: self.users[user["name"]].serial_number
                for user in args["users"]
                if user.get("revoked", False)
            }
        )
        self.cluster_role_bindings = _cluster_role_bindings(name, active, child)
        self.register_outputs(
            {"kubeconfigs": self.kubeconfigs, "revoked_serials": self.revoked_serials}
        )


def _user_certificates(
    name: str, args: KubernetesApiAccessArgs, opts: pulumi.ResourceOptions
) -> dict[str, ClientCertificate]:
    """A client certificate per user, by user name, each group an O."""
    return {
        user["name"]: ClientCertificate(
            f"{name}-{formats.object_name(user['name'])}",
            {
                "issuer": args["ca"],
                "common_name": user["name"],
                "organizations": list(user.get("groups", ())),
                "validity_days": user.get("validity_days", lifetimes.API_USER_VALIDITY_DAYS),
                "renew_before_days": user.get("renew_before_days", 30),
                "key_algorithm": args.get("key_algorithm", "ECDSA_P256"),
                "revoked": user.get("revoked", False),
            },
            opts,
        )
        for user in args["users"]
    }


def _kubeconfigs(
    args: KubernetesApiAccessArgs,
    active: Sequence[ApiUser],
    certificates: Mapping[str, ClientCertificate],
) -> pulumi.Output[dict[str, str]]:
    """The kubeconfig of each active user, by user name."""
    trusted = args.get("server_ca_certificate_pem", args["ca"]["trust_bundle_pem"])
    return by_name(
        {
            user["name"]: kubeconfig(
                args["server"],
                args["cluster_name"],
                trusted,
                user["name"],
                certificates[user["name"]].chain_pem,
                certificates[user["name"]].private_key_pem,
            )
            for user in active
        }
    )


def _cluster_role_bindings(
    name: str, active: Sequence[ApiUser], opts: pulumi.ResourceOptions
) -> list[k8s.rbac.v1.ClusterRoleBinding]:
    """A ClusterRoleBinding per active user and ClusterRole, named after both."""
    owner = owner_identity("mtls:index:KubernetesApiAccess", name)
    return [
        k8s.rbac.v1.ClusterRoleBinding(
            binding,
            metadata=owned_metadata(name=stable_name(owner, binding)),
            role_ref=k8s.rbac.v1.RoleRefArgs(
                api_group=RBAC_API_GROUP, kind="ClusterRole", name=role
            ),
            subjects=[
                k8s.rbac.v1.SubjectArgs(api_group=RBAC_API_GROUP, kind="User", name=user["name"])
            ],
            opts=opts,
        )
        for user in active
        for role in user.get("cluster_roles", ())
        for binding in [f"{name}-{formats.object_name(user['name'])}-{formats.object_name(role)}"]
    ]


def kubeconfig(
    server: str,
    cluster: str,
    ca_pem: pulumi.Input[str],
    user: str,
    certificate_chain_pem: pulumi.Input[str],
    private_key_pem: pulumi.Input[str],
) -> pulumi.Output[str]:
    """A kubeconfig with one cluster, one user (certificate and key embedded) and one context,
    the current one."""
    context = f"{user}@{cluster}"
    return pulumi.Output.all(ca_pem, certificate_chain_pem, private_key_pem).apply(
        lambda pems: yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [
                    {
                        "name": cluster,
                        "cluster": {"server": server, "certificate-authority-data": _b64(pems[0])},
                    }
                ],
                "users": [
                    {
                        "name": user,
                        "user": {
                            "client-certificate-data": _b64(pems[1]),
                            "client-key-data": _b64(pems[2]),
                        },
                    }
                ],
                "contexts": [{"name": context, "context": {"cluster": cluster, "user": user}}],
                "current-context": context,
                "preferences": {},
            },
            sort_keys=False,
        )
    )


def _b64(pem: str) -> str:
    return base64.b64encode(pem.encode()).decode()


def _validate(name: str, args: KubernetesApiAccessArgs) -> None:
    problems = Problems(f"invalid arguments for KubernetesApiAccess {name!r}")
    problems.check_text("server", args.get("server"), formats.https_url)
    names = [user.get("name") for user in args.get("users", ())]
    for index, user_name in enumerate(names):
        if user_name in names[:index]:
            problems.add(f"users[{index}].name", f"repeats {user_name!r}; names must be unique")
    slugs = [formats.object_name(str(user_name)) for user_name in names]
    for index, slug in enumerate(slugs):
        if slug in slugs[:index] and names[index] not in names[:index]:
            problems.add(
                f"users[{index}].name",
                f"gives the same resource names as users[{slugs.index(slug)}].name "
                "(names are compared in lowercase, other characters than a-z, 0-9, '.' "
                "and '-' as '-')",
            )
    problems.raise_if_any()
