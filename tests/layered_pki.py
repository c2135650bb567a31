"""A stack whose client CA sits under intermediates, declared through the stack's own
Kubernetes wiring (stack config has no intermediates; the components do)."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi

from components.pki import CertificateAuthority, ClientCertificate, ServerCertificate
from components.program.objects import StackPki, declare_objects
from components.program.settings import parse_settings
from support.stack_configs import dev_config


@dataclass(frozen=True)
class LayeredPki:
    server_ca: CertificateAuthority
    client_ca: CertificateAuthority
    client: ClientCertificate


def declare_layered(intermediates: int) -> LayeredPki:
    """Declares the dev stack's objects with clients `intermediates` levels below the root.

    Call inside `MockRuntime.run`.
    """
    settings = parse_settings(dev_config())
    client_ca = CertificateAuthority("clients-root", {"common_name": "Clients Root"})
    for level in range(intermediates):
        client_ca = CertificateAuthority(
            f"clients-level-{level}",
            {"common_name": f"Clients Level {level}", "issuer": client_ca.as_issuer()},
        )
    server_ca = CertificateAuthority("server-ca", {"common_name": "Server CA"})
    server = ServerCertificate(
        "server", {"issuer": server_ca.as_issuer(), "dns_names": [settings.host]}
    )
    client = ClientCertificate(
        "alice", {"issuer": client_ca.as_issuer(), "common_name": "checkout"}
    )
    declare_objects(
        "layered", settings, StackPki(server_ca, client_ca, server), pulumi.ResourceOptions()
    )
    return LayeredPki(server_ca, client_ca, client)
