"""The Secrets ingress-nginx and backends read: TLS key pairs and client CA bundles.

A Secret that a data plane reads must never be absent, not even during an update, and must never
be left behind by an update that died half-way. Its name (`<component>-secret-<digest>`, read
back by whatever references it) is therefore the same on every attempt of a run, and changes only
when the Secret must be replaced (components.kubernetes.ownership):

- where the Kubernetes provider updates Secrets in place (its `enableSecretMutable` option, set by
  this project's stacks; `updated_in_place=True`), a change rewrites the Secret and the name
  stays for the Secret's whole life;
- where it does not (the provider's default), pulumi-kubernetes replaces a Secret whose data
  changes; the name follows the public contents (certificates, CA bundle, CRLs), so the new
  Secret is created first, the Ingress switches to it, and only then is the old one deleted. A
  name that did not change would force the provider to delete the old Secret before creating
  the new one.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NotRequired, TypedDict, cast

import pulumi
import pulumi_kubernetes as k8s

from ..core import formats
from ..core.validation import Problems
from .ownership import LABELS, content_name, owned_metadata, owner_identity, stable_name
from .preflight import check_ca_bundle, check_server_tls

__all__ = ["LABELS", "CaSecret", "CaSecretArgs", "TlsSecret", "TlsSecretArgs"]

PUBLIC_ENTRIES = ("tls.crt", "ca.crt", "ca.crl")


class TlsSecretArgs(TypedDict):
    """Arguments of `TlsSecret`."""

    namespace: str
    """Namespace of the Secret (its name is generated: see `secret_name`)."""
    certificate_chain_pem: pulumi.Input[str]
    """`tls.crt`: the certificate followed by its intermediates."""
    private_key_pem: pulumi.Input[str]
    """`tls.key` (kept secret)."""
    trust_bundle_pem: pulumi.Input[str]
    """The CA certificates the chain must verify to (checked before the Secret is written)."""
    hosts: Sequence[str]
    """Host names the certificate must cover (checked before the Secret is written); empty
    for a client certificate."""
    ca_bundle_pem: NotRequired[pulumi.Input[str] | None]
    """`ca.crt`, for a backend that verifies its own clients."""
    crl_pem: NotRequired[pulumi.Input[str] | None]
    """`ca.crl`, the revocation lists for `ca.crt`."""
    updated_in_place: NotRequired[bool]
    """True when the Kubernetes provider updates Secrets in place (its `enableSecretMutable`
    option): the Secret then keeps one name for its whole life. Otherwise (the default, right
    for any provider) the name follows the Secret's public contents, so that a replacement is
    created before the old Secret is deleted."""
    secret_name: NotRequired[str]
    """A name of your choice for the Secret, for what points at it by name (ingress-nginx's
    `--default-ssl-certificate`, a workload that mounts it). Only with `updated_in_place`: a
    provider that replaces Secrets would delete a Secret of a fixed name before creating it
    again. Default: `<component>-secret-<digest>` (see the module docstring)."""


class _CheckedSecret(pulumi.ComponentResource):
    """A Secret whose data is checked on the resolved values before it is written."""

    secret_name: pulumi.Output[str]
    """Name of the Secret (`<component>-secret-<digest>`), the same on every run. It changes
    only when the provider must replace the Secret, after the new one exists."""
    namespaced_name: pulumi.Output[str]
    """`namespace/name`, as ingress-nginx annotations reference Secrets."""

    def __init__(
        self,
        token: str,
        name: str,
        args: TlsSecretArgs | CaSecretArgs,
        opts: pulumi.ResourceOptions | None,
    ) -> None:
        _validate(f"{token.rsplit(':', 1)[1]} {name!r}", args)
        super().__init__(token, name, {}, opts)
        self._namespace = args["namespace"]
        self._updated_in_place = args.get("updated_in_place", False)
        self._fixed_name = args.get("secret_name")
        self._identity = owner_identity(token, name)
        # How preflight messages name the Secret: its derived name is not known before.
        self._label = f"{self._namespace}/{name}"

    def _write(
        self,
        name: str,
        secret_type: str,
        string_data: pulumi.Output[dict[str, str]],
        public_data: pulumi.Output[dict[str, str]],
    ) -> None:
        """Writes the Secret; `public_data` is what of `string_data` may name it (never a key)."""
        role = f"{formats.object_name_prefix(name)}-secret"
        object_name: pulumi.Input[str]
        if self._fixed_name is not None:
            object_name = self._fixed_name
        elif self._updated_in_place:
            object_name = stable_name(self._identity, role)
        else:
            object_name = content_name(self._identity, role, public_data)
        secret = k8s.core.v1.Secret(
            role,
            metadata=owned_metadata(name=object_name, namespace=self._namespace),
            type=secret_type,
            string_data=string_data,
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.secret_name = secret.metadata.apply(lambda metadata: str(metadata.name))
        self.namespaced_name = pulumi.Output.concat(self._namespace, "/", self.secret_name)
        self.register_outputs(
            {"secret_name": self.secret_name, "namespaced_name": self.namespaced_name}
        )

    def _ca_entries(
        self, ca_bundle: str | None, crl: str | None, *, bundle_required: bool
    ) -> dict[str, str]:
        """`ca.crt` (checked) and `ca.crl`, for those given; a required bundle is checked
        even when empty, so that it fails."""
        entries = {}
        if ca_bundle or bundle_required:
            check_ca_bundle(self._label, bundle_pem=ca_bundle or "")
            entries["ca.crt"] = ca_bundle or ""
        if crl:
            entries["ca.crl"] = crl
        return entries


class TlsSecret(_CheckedSecret):
    """A `kubernetes.io/tls` Secret whose key pair is checked before it is written.

    The chain must verify to `trust_bundle_pem`, cover every host in `hosts`, and match
    the key; otherwise the update fails with a RunError and the Secret keeps its last good
    contents.
    """

    def __init__(
        self, name: str, args: TlsSecretArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("mtls:index:TlsSecret", name, args, opts)
        hosts = list(args["hosts"])

        def checked(values: list[str | None]) -> dict[str, str]:
            chain, key, trust, ca_bundle, crl = values
            assert chain is not None and key is not None and trust is not None
            check_server_tls(
                self._label,
                chain_pem=chain,
                private_key_pem=key,
                trust_bundle_pem=trust,
                hosts=hosts,
            )
            return {
                "tls.crt": chain,
                "tls.key": key,
                **self._ca_entries(ca_bundle, crl, bundle_required=False),
            }

        string_data: pulumi.Output[dict[str, str]] = pulumi.Output.all(
            args["certificate_chain_pem"],
            args["private_key_pem"],
            args["trust_bundle_pem"],
            args.get("ca_bundle_pem"),
            args.get("crl_pem"),
        ).apply(checked)
        # Secret in state and in previews whatever the inputs' own secrecy: it holds tls.key.
        self._write(
            name,
            "kubernetes.io/tls",
            pulumi.Output.secret(cast("pulumi.Input[Any]", string_data)),
            pulumi.Output.all(
                args["certificate_chain_pem"], args.get("ca_bundle_pem"), args.get("crl_pem")
            ).apply(lambda values: _public(dict(zip(PUBLIC_ENTRIES, values, strict=True)))),
        )


class CaSecretArgs(TypedDict):
    """Arguments of `CaSecret`."""

    namespace: str
    """Namespace of the Secret (its name is generated: see `secret_name`)."""
    ca_bundle_pem: pulumi.Input[str]
    """`ca.crt`: the CA certificates that verify clients (during a rotation, old and new)."""
    crl_pem: NotRequired[pulumi.Input[str] | None]
    """`ca.crl`: one PEM revocation list per CA in the client chain, concatenated."""
    updated_in_place: NotRequired[bool]
    """As for `TlsSecret`: True when the provider updates Secrets in place."""
    secret_name: NotRequired[str]
    """As for `TlsSecret`: a name of your choice, only with `updated_in_place`."""


class CaSecret(_CheckedSecret):
    """A generic Secret with `ca.crt` (and `ca.crl`): what `auth-tls-secret` points at.

    It is kept apart from the TLS key pair: when `ca.crt` shares a Secret with `tls.crt`,
    ingress-nginx writes both into one file and can miss a reload when only the CA changes.
    """

    def __init__(
        self, name: str, args: CaSecretArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("mtls:index:CaSecret", name, args, opts)

        def checked(values: list[str | None]) -> dict[str, str]:
            bundle, crl = values
            return self._ca_entries(bundle, crl, bundle_required=True)

        data = pulumi.Output.all(args["ca_bundle_pem"], args.get("crl_pem")).apply(checked)
        self._write(name, "Opaque", data, data)


def _public(entries: dict[str, str | None]) -> dict[str, str]:
    return {key: value for key, value in entries.items() if value}


def _validate(component: str, args: TlsSecretArgs | CaSecretArgs) -> None:
    problems = Problems(f"invalid arguments for {component}")
    problems.check_text("namespace", args.get("namespace"), formats.dns_label)
    if "secret_name" in args:
        problems.check_text("secret_name", args["secret_name"], formats.dns_subdomain)
        if not args.get("updated_in_place", False):
            problems.add(
                "secret_name",
                "needs updated_in_place: true (the provider's enableSecretMutable): a provider "
                "that replaces Secrets would delete a Secret of a fixed name before creating it "
                "again; leave secret_name out for a derived name",
            )
    problems.raise_if_any()
