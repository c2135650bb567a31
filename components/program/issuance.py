"""The clients' certificates of a stack that holds the CAs, through a rotation of the client
CA, and the revocation lists of each CA that signs them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pulumi

from ..pki import CertificateAuthority, ClientCertificate, RevocationList, RevokedEntry
from .clients import issue_client, revocations
from .rotation import NEXT, RotatingAuthority, once_next
from .settings import PkiSettings, RotationPhase


@dataclass(frozen=True)
class IssuedClients:
    """Each client's certificate from the current CA and, from the issue phase of a rotation
    on, from the next one; the latter is what is handed out once it exists."""

    current: dict[str, ClientCertificate]
    next: dict[str, ClientCertificate]
    resources: dict[str, str]
    """The resource name of each handed-out certificate, by client."""

    @property
    def handed_out(self) -> dict[str, ClientCertificate]:
        return self.next or self.current

    @property
    def retiring(self) -> dict[str, ClientCertificate]:
        """During a rotation's issue phase: the certificates from the CA being replaced, kept
        (never renewed) until the retire phase."""
        return self.current if self.next else {}


def issue_clients(
    name: str,
    pki: PkiSettings,
    client_side: RotatingAuthority,
    algorithm: str,
    opts: pulumi.ResourceOptions,
) -> IssuedClients:
    current: dict[str, ClientCertificate] = {}
    issued_next: dict[str, ClientCertificate] = {}
    for client in pki.clients:
        resource = f"{name}-client-{client.name}"
        if client_side.keeps_current:
            # Kept as issued while the next CA issues: the serial its holder has stays the
            # one the current CA's list can name.
            current[client.name] = issue_client(
                resource,
                client,
                client_side.current[-1].as_issuer(),
                algorithm,
                frozen=client.revoked or client_side.issues_next,
                opts=once_next(resource + NEXT, client_side.phase, opts),
            )
        if client_side.issues_next:
            issued_next[client.name] = issue_client(
                resource + NEXT,
                client,
                client_side.next[-1].as_issuer(),
                algorithm,
                frozen=client.revoked,
                opts=opts,
            )
    suffix = NEXT if issued_next else ""
    resources = {client: f"{name}-client-{client}{suffix}" for client in issued_next or current}
    return IssuedClients(current, issued_next, resources)


def revocation_lists(
    prefix: str,
    chain: list[CertificateAuthority],
    certificates: Mapping[str, ClientCertificate],
    pki: PkiSettings,
    phase: RotationPhase | None,
    opts: pulumi.ResourceOptions,
    shard_entries: pulumi.Output[list[RevokedEntry]] | None,
) -> list[RevocationList]:
    """One list per CA of `chain`, as nginx checks a CRL for each CA of a client's chain.

    Only the CA that issues end-entity certificates lists entries: the revoked clients'
    certificates it signed (none yet for a CA a rotation introduces), and the serials revoked
    by config. A root above it signs only the
    intermediate, which nothing here revokes.
    """
    entries: list[RevokedEntry] | pulumi.Output[list[RevokedEntry]] = revocations(
        pki.clients, certificates
    ) + [
        RevokedEntry(serial_number=str(entry.serial_number), reason=entry.reason.value)
        for entry in pki.revoked_serials
    ]
    if shard_entries is not None:
        local = entries
        entries = pulumi.Output.all(pulumi.Output.from_input(local), shard_entries).apply(
            lambda lists: [*lists[0], *lists[1]]
        )
    names = [f"{prefix}-revocations"]
    next_list = f"{prefix}{NEXT}-revocations"
    if len(chain) > 1:
        names.insert(0, f"{prefix}-root-revocations")
    return [
        RevocationList(
            list_name,
            {
                "issuer": authority.as_issuer(),
                "revoked": entries if authority is chain[-1] else [],
                "validity_days": pki.crl.validity_days,
                "refresh_before_days": pki.crl.refresh_before_days,
            },
            once_next(next_list, phase, opts) if len(chain) == 1 else opts,
        )
        for list_name, authority in zip(names, chain, strict=True)
    ]
