"""The settings of an mtls-ingress stack: its config document, validated in one pass.

Every field is validated and has its default applied; nothing downstream re-checks or guesses.
Names are the Python spelling of the config keys the README documents
(`pki.server.renewBeforeDays` is `settings.pki.server.renew_before_days`); the attribute
docstrings are what editors show for each key, through the JSON Schema of the stack file.

One module per section of the document: `choices` (the enumerations), `authority` and `pki`,
`ingress` (ingress-nginx), `gateway` (Gateway API), `mesh`, `kubernetes_api`, `stack` (the whole
document and the rules that span sections), `shards` (a client shard's document), and `parse`,
which reads a document and reports every problem at once. `values` holds the field types they
share, `windows` the renewal windows.
"""

from __future__ import annotations

from .authority import (
    AuthoritySettings,
    ImportedAuthoritySettings,
    IntermediateSettings,
    NextAuthoritySettings,
    RotationSettings,
)
from .choices import (
    BackendProtocol,
    ControllerManagement,
    Enforcer,
    GatewayImplementation,
    RevocationReason,
    RotationPhase,
    VerifyClient,
)
from .gateway import GATEWAY_API_REFUSALS, GatewaySettings
from .ingress import BackendSettings, ControllerSettings, IngressSettings, YamlOnOff
from .kubernetes_api import KubernetesApiSettings, KubernetesApiUserSettings
from .mesh import MeshServiceSettings, MeshSettings
from .parse import PRIVATE_KEY_PATHS, parse_settings, parse_shard_settings
from .pki import (
    BareSerial,
    ClientSettings,
    CrlSettings,
    PkiSettings,
    RevokedSerial,
    ServerSettings,
)
from .shards import ClientShardSettings, ShardPkiSettings
from .stack import StackSettings

__all__ = [
    "GATEWAY_API_REFUSALS",
    "PRIVATE_KEY_PATHS",
    "AuthoritySettings",
    "BackendProtocol",
    "BackendSettings",
    "BareSerial",
    "ClientSettings",
    "ClientShardSettings",
    "ControllerManagement",
    "ControllerSettings",
    "CrlSettings",
    "Enforcer",
    "GatewayImplementation",
    "GatewaySettings",
    "ImportedAuthoritySettings",
    "IngressSettings",
    "IntermediateSettings",
    "KubernetesApiSettings",
    "KubernetesApiUserSettings",
    "MeshServiceSettings",
    "MeshSettings",
    "NextAuthoritySettings",
    "PkiSettings",
    "RevocationReason",
    "RevokedSerial",
    "RotationPhase",
    "RotationSettings",
    "ServerSettings",
    "ShardPkiSettings",
    "StackSettings",
    "VerifyClient",
    "YamlOnOff",
    "parse_settings",
    "parse_shard_settings",
]
