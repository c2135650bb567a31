"""Client certificates as a stack hands them out, and client shards: stacks that issue clients
from the client CA of another stack (see README, "Large stacks")."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pulumi

from .outputs import by_name
from .pki import ClientCertificate, ClientCertificateArgs, Issuer, RevokedEntry
from .pki.bundle import ClientBundle
from .settings import ClientSettings, ClientShardSettings

ISSUER_OUTPUT = "clientIssuer"
"""The stack output of a stack with `pki.clientShards` that its shards sign with."""
REVOCATIONS_OUTPUT = "clientRevocations"
"""The stack output of a shard that the CA's stack lists in its CRL."""


def issue_client(
    resource: str,
    client: ClientSettings,
    issuer: Issuer,
    key_algorithm: str,
    *,
    frozen: bool,
    opts: pulumi.ResourceOptions,
) -> ClientCertificate:
    """The certificate of `client` from `issuer`; a `frozen` one is never renewed."""
    arguments: ClientCertificateArgs = {
        "issuer": issuer,
        "common_name": client.common_name,
        "organizations": list(client.organizations),
        "validity_days": client.validity_days,
        "renew_before_days": client.renew_before_days,
        "key_algorithm": key_algorithm,
        "revoked": frozen,
    }
    return ClientCertificate(resource, arguments, opts)


def certificate_summary(client: ClientCertificate) -> pulumi.Output[dict[str, str]]:
    """What the `clientCertificates` output says of one client."""
    return pulumi.Output.all(
        client.certificate_pem,
        client.chain_pem,
        client.serial_number,
        client.expires_at,
        client.renew_at,
    ).apply(
        lambda values: {
            "certificate": values[0],
            "chain": values[1],
            "serialNumber": values[2],
            "expiresAt": values[3],
            "renewAt": values[4],
        }
    )


def client_bundle(
    resource_name: str,
    name: str,
    client: ClientCertificate,
    intermediates_pem: pulumi.Input[str],
    url: pulumi.Input[str],
) -> pulumi.Output[dict[str, str]]:
    """What a client needs to call the ingress, PKCS#12 file included (see README, "Client
    bundles" for the files the curl command reads)."""
    bundle = ClientBundle(
        f"{resource_name}-pkcs12",
        friendly_name=name,
        certificate_pem=client.certificate_pem,
        intermediates_pem=intermediates_pem,
        private_key_pem=client.private_key_pem,
        opts=pulumi.ResourceOptions(parent=client),
    )
    return pulumi.Output.all(
        client.certificate_pem,
        client.chain_pem,
        client.private_key_pem,
        bundle.pkcs12,
        bundle.password,
        url,
    ).apply(
        lambda values: {
            "certificate": values[0],
            "chain": values[1],
            "privateKey": values[2],
            "pkcs12": values[3],
            "pkcs12Password": values[4],
            "curl": f"curl --cacert server-ca.crt --cert {name}.crt --key {name}.key {values[5]}",
        }
    )


class ClientOutputs:
    """The outputs every stack that issues clients exports, from its clients' certificates."""

    client_certificates: pulumi.Output[dict[str, dict[str, str]]]
    """Per active client: certificate, chain, serialNumber, expiresAt and renewAt."""
    client_private_keys: pulumi.Output[dict[str, str]]
    """Per active client: private key, PEM (secret)."""
    client_bundles: pulumi.Output[dict[str, dict[str, str]]] | None
    """Per active client (secret): certificate, chain, privateKey, pkcs12 (base64),
    pkcs12Password and the curl command that calls the ingress with them; None when the
    bundles are turned off."""
    revoked_client_serials: pulumi.Output[dict[str, str]]
    """Per revoked client: the serial number the revocation list names."""

    def __init__(
        self,
        clients: Sequence[ClientSettings],
        certificates: Mapping[str, ClientCertificate],
        resources: Mapping[str, str],
        intermediates_pem: pulumi.Input[str],
        url: pulumi.Input[str],
        *,
        bundles: bool = True,
    ) -> None:
        active = [client.name for client in clients if not client.revoked]
        revoked = [client.name for client in clients if client.revoked]
        self.client_certificates = by_name(
            {name: certificate_summary(certificates[name]) for name in active}
        )
        self.client_private_keys = pulumi.Output.secret(
            by_name({name: certificates[name].private_key_pem for name in active})
        )
        self.client_bundles = (
            None
            if not bundles
            else pulumi.Output.secret(
                by_name(
                    {
                        name: client_bundle(
                            resources[name], name, certificates[name], intermediates_pem, url
                        )
                        for name in active
                    }
                )
            )
        )
        self.revoked_client_serials = by_name(
            {name: certificates[name].serial_number for name in revoked}
        )


def revocations(
    clients: Sequence[ClientSettings], certificates: Mapping[str, ClientCertificate]
) -> list[RevokedEntry]:
    """The CRL entries of the revoked `clients` among `certificates`."""
    return [
        RevokedEntry(
            serial_number=certificates[client.name].serial_number,
            reason=client.revocation_reason.value,
        )
        for client in clients
        if client.revoked and client.name in certificates
    ]


class ClientShard(pulumi.ComponentResource):
    """Clients issued from the client CA of another stack, read through a StackReference.

    The CA's stack lists this one in `pki.clientShards`: it exports the CA as `clientIssuer`
    (the key a secret), and its CRL lists the serials this stack exports as
    `clientRevocations`. A revocation here therefore takes a `pulumi up` of this stack, then
    one of the CA's stack.
    """

    outputs: ClientOutputs
    """The clients' certificates, keys, bundles and revoked serials."""
    client_revocations: pulumi.Output[list[dict[str, str]]]
    """Per revoked client: serialNumber and reason, for the CA's stack's CRL."""
    clients: dict[str, ClientCertificate]
    """Every configured client's certificate, revoked ones included."""

    def __init__(
        self,
        name: str,
        settings: ClientShardSettings,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("mtls:index:ClientShard", name, {}, opts)
        child = pulumi.ResourceOptions(parent=self)
        reference = pulumi.StackReference(settings.issuer_stack, opts=child)
        shared = reference.require_output(ISSUER_OUTPUT)

        def part(key: str) -> pulumi.Output[Any]:
            return pulumi.Output.unsecret(shared.apply(lambda issuer: issuer[key]))

        issuer = Issuer(
            certificate_pem=part("certificate"),
            private_key_pem=pulumi.Output.secret(shared.apply(lambda i: i["privateKey"])),
            intermediates_pem=part("intermediates"),
            trust_bundle_pem=part("trustBundle"),
        )
        clients = settings.pki.clients
        resources = {client.name: f"{name}-client-{client.name}" for client in clients}
        self.clients = {
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
        url = pulumi.Output.unsecret(reference.require_output("ingressUrl"))
        self.outputs = ClientOutputs(
            clients,
            self.clients,
            resources,
            issuer["intermediates_pem"],
            url,
            bundles=settings.pki.client_bundles,
        )
        revoked = [client for client in clients if client.revoked]
        self.client_revocations = pulumi.Output.all(
            *(self.clients[client.name].serial_number for client in revoked)
        ).apply(
            lambda serials: [
                {"serialNumber": serial, "reason": client.revocation_reason.value}
                for serial, client in zip(serials, revoked, strict=True)
            ]
        )
        self.register_outputs({})


def shard_revocations(
    shards: Sequence[str], opts: pulumi.ResourceOptions
) -> pulumi.Output[list[RevokedEntry]]:
    """The CRL entries the stacks named in `shards` export, one list."""
    exported = [
        pulumi.StackReference(shard, opts=opts).get_output(REVOCATIONS_OUTPUT) for shard in shards
    ]

    def entries(lists: list[Any]) -> list[RevokedEntry]:
        return [
            RevokedEntry(serial_number=str(entry["serialNumber"]), reason=str(entry["reason"]))
            for listed in lists
            for entry in listed or ()
        ]

    return pulumi.Output.all(*exported).apply(entries)
