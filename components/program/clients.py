"""Client certificates as a stack hands them out: issued from the settings, summarized in the
outputs, bundled for the clients, and listed when revoked."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pulumi

from ..core.outputs import by_name
from ..pki import ClientCertificate, ClientCertificateArgs, Issuer, RevokedEntry
from ..pki.bundle import ClientBundle
from .settings import ClientSettings


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
