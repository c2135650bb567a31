"""The config of a client shard: a stack that only issues clients from another stack's CA."""

from __future__ import annotations

from typing import Any

from pydantic import field_validator

from ...pki.key_algorithm import KeyAlgorithm
from .pki import ClientSettings
from .values import ConfigObject, Days, Flag, StackName, unique_names
from .windows import short_windows


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
        return short_windows(windows, self.up_interval_days)
