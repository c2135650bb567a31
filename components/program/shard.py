"""Client shards: stacks that issue clients from the client CA of another stack, so that a
fleet of clients is split over stacks that each stay small (see README, "Large stacks")."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, NotRequired, TypedDict

import pulumi

from ..pki import ClientCertificate, Issuer, RevokedEntry
from . import outputs
from .clients import ClientOutputs, issue_client
from .settings import ClientSettings, ClientShardSettings, parse_shard_settings


class ClientShardArgs(TypedDict):
    """A client shard's config document: the `mtls-ingress:*` keys of its stack file."""

    issuerStack: str
    """The stack that holds the client CA, the CRL and the ingress."""
    pki: Mapping[str, Any]
    """`clients`, `keyAlgorithm` and `clientBundles`, as in the CA's stack."""
    upIntervalDays: NotRequired[int]
    """Days between scheduled `pulumi up` runs (default 1)."""


class ClientShard(pulumi.ComponentResource):
    """Clients issued from the client CA of another stack, read through a StackReference.

    The CA's stack lists this one in `pki.clientShards`: it exports the CA as `clientIssuer`
    (the key a secret), and its CRL lists the serials this stack exports as
    `clientRevocations`. A revocation here therefore takes a `pulumi up` of this stack, then
    one of the CA's stack. Invalid settings raise one `pulumi.RunError` listing every problem.
    """

    settings: ClientShardSettings
    """The validated settings the shard was built from."""
    clients: dict[str, ClientCertificate]
    """Every configured client's certificate, revoked ones included."""
    client_certificates: pulumi.Output[dict[str, dict[str, str]]]
    """Per active client: certificate, chain, serialNumber, expiresAt and renewAt."""
    client_private_keys: pulumi.Output[dict[str, str]]
    """Per active client: private key, PEM (secret)."""
    client_bundles: pulumi.Output[dict[str, dict[str, str]]] | None
    """Per active client (secret): certificate, chain, privateKey, pkcs12, pkcs12Password and
    curl; None with `pki.clientBundles: false`."""
    revoked_client_serials: pulumi.Output[dict[str, str]]
    """Per revoked client: the serial number the CA's stack's CRL names."""
    client_revocations: pulumi.Output[list[dict[str, str]]]
    """Per revoked client: serialNumber and reason, for the CA's stack's CRL."""

    def __init__(
        self, name: str, args: ClientShardArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        settings = parse_shard_settings(args)
        super().__init__("mtls:index:ClientShard", name, {}, opts)
        for warning in settings.schedule_warnings():
            pulumi.log.warn(warning, resource=self)
        self.settings = settings
        child = pulumi.ResourceOptions(parent=self)
        reference = pulumi.StackReference(settings.issuer_stack, opts=child)
        issuer = _shared_issuer(reference)
        clients = settings.pki.clients
        resources = {client.name: f"{name}-client-{client.name}" for client in clients}
        certificates = {
            client.name: issue_client(
                resources[client.name],
                client,
                issuer,
                settings.pki.key_algorithm.value,
                frozen=client.revoked,
                opts=child,
            )
            for client in clients
        }
        self.clients = certificates
        issued = ClientOutputs(
            clients,
            certificates,
            resources,
            issuer["intermediates_pem"],
            pulumi.Output.unsecret(reference.require_output(outputs.INGRESS_URL)),
            bundles=settings.pki.client_bundles,
        )
        self.client_certificates = issued.client_certificates
        self.client_private_keys = issued.client_private_keys
        self.client_bundles = issued.client_bundles
        self.revoked_client_serials = issued.revoked_client_serials
        self.client_revocations = _revocations(clients, certificates)
        self.register_outputs(
            {
                "client_certificates": self.client_certificates,
                "client_private_keys": self.client_private_keys,
                "client_bundles": self.client_bundles,
                "revoked_client_serials": self.revoked_client_serials,
                "client_revocations": self.client_revocations,
            }
        )


def _shared_issuer(reference: pulumi.StackReference) -> Issuer:
    """The client CA as the CA's stack exports it for its shards (`clientIssuer`)."""
    shared = reference.require_output(outputs.CLIENT_ISSUER)

    def part(key: str) -> pulumi.Output[Any]:
        return pulumi.Output.unsecret(shared.apply(lambda issuer: issuer[key]))

    return Issuer(
        certificate_pem=part("certificate"),
        private_key_pem=pulumi.Output.secret(shared.apply(lambda i: i["privateKey"])),
        intermediates_pem=part("intermediates"),
        trust_bundle_pem=part("trustBundle"),
    )


def _revocations(
    clients: Sequence[ClientSettings], certificates: Mapping[str, ClientCertificate]
) -> pulumi.Output[list[dict[str, Any]]]:
    """The CRL entries of the shard's revoked clients (`clientRevocations`)."""
    revoked = [client for client in clients if client.revoked]
    return pulumi.Output.all(
        *(certificates[client.name].serial_number for client in revoked)
    ).apply(
        lambda serials: [
            {"serialNumber": serial, "reason": client.revocation_reason.value}
            for serial, client in zip(serials, revoked, strict=True)
        ]
    )


def shard_revocations(
    shards: Sequence[str], opts: pulumi.ResourceOptions
) -> pulumi.Output[list[RevokedEntry]]:
    """The CRL entries the stacks named in `shards` export, one list."""
    exported = [
        pulumi.StackReference(shard, opts=opts).get_output(outputs.CLIENT_REVOCATIONS)
        for shard in shards
    ]

    def entries(lists: list[Any]) -> list[RevokedEntry]:
        return [
            RevokedEntry(serial_number=str(entry["serialNumber"]), reason=str(entry["reason"]))
            for listed in lists
            for entry in listed or ()
        ]

    return pulumi.Output.all(*exported).apply(entries)
