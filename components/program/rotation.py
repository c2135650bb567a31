"""The CAs of one side of the PKI (the server's or the clients') outside and during a rotation.

A rotation replaces a CA in three phases, each one `pulumi up`, so that no valid client is
refused in between:

- introduce: the next CA is created and trusted beside the current one, which still issues;
- issue: the next CA issues every certificate; the current one's certificates stay (paused,
  never renewed) and stay trusted, and each CA keeps its revocation list;
- retire: the current CA, its certificates and its list leave the stack.

The next CA's resources are named `<name>-next` (`mtls-ingress-client-ca-next`). Once the
rotation is over and its `next` entry has become the CA's own, the same resources are declared
under their plain names with an alias to the `-next` ones, so the stack shows no change.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi

from ..pki import CertificateAuthority, CertificateAuthorityArgs
from ..pki.leaf import pem_bundle
from .settings import AuthoritySettings, RotationPhase

NEXT = "-next"


@dataclass(frozen=True)
class RotatingAuthority:
    """One side's CAs: `current` (root first; empty once retired) and, during a rotation,
    `next`."""

    current: list[CertificateAuthority]
    next: list[CertificateAuthority]
    phase: RotationPhase | None

    @property
    def issuing(self) -> CertificateAuthority:
        """The CA that signs new certificates."""
        return self.next[-1] if self.issues_next else self.current[-1]

    @property
    def issuing_chain(self) -> list[CertificateAuthority]:
        return self.next if self.issues_next else self.current

    @property
    def keeps_current(self) -> bool:
        """Whether the current CA and its certificates are in the stack."""
        return self.phase is not RotationPhase.RETIRE

    @property
    def issues_next(self) -> bool:
        """Whether the next CA signs the certificates that are handed out."""
        return self.phase in (RotationPhase.ISSUE, RotationPhase.RETIRE)

    @property
    def trusted(self) -> list[CertificateAuthority]:
        """The CAs whose certificates verifiers accept: both while a rotation overlaps."""
        if self.phase in (RotationPhase.INTRODUCE, RotationPhase.ISSUE):
            return [self.current[-1], self.next[-1]]
        return [self.issuing]

    @property
    def trust_bundle_pem(self) -> pulumi.Output[str]:
        """What verifies this side's certificates: each trusted CA's chain, root included."""
        return pem_bundle(*(authority.trust_bundle_pem for authority in self.trusted))

    @property
    def roots_pem(self) -> pulumi.Output[str]:
        """The self-signed roots of the trusted CAs (what a TLS client's trust store holds)."""
        return pem_bundle(*(authority.root_certificate_pem for authority in self.trusted))

    @property
    def depth(self) -> int:
        """The longest chain of a trusted CA, in CAs."""
        return max(authority.depth for authority in self.trusted)


def once_next(
    next_name: str, phase: RotationPhase | None, opts: pulumi.ResourceOptions
) -> pulumi.ResourceOptions:
    """Options for a resource that a rotation's `next` generation declared as `next_name`:
    outside a rotation, an alias to that name, so that it is the same resource."""
    if phase is not None:
        return opts
    return pulumi.ResourceOptions.merge(
        opts, pulumi.ResourceOptions(aliases=[pulumi.Alias(name=next_name)])
    )


def declare_authorities(
    name: str, authority: AuthoritySettings, key_algorithm: str, opts: pulumi.ResourceOptions
) -> RotatingAuthority:
    """The CAs of `authority` named after `name`, in its rotation's phase."""
    rotation = authority.rotation
    phase = rotation.phase if rotation is not None else None
    current = []
    if phase is not RotationPhase.RETIRE:
        current = _chain(name, authority, key_algorithm, opts, phase)
    next_chain = []
    if rotation is not None:
        next_settings = rotation.next
        next_arguments: CertificateAuthorityArgs = {
            "common_name": next_settings.common_name,
            "organization": next_settings.organization,
            "validity_days": next_settings.validity_days,
            "key_algorithm": key_algorithm,
        }
        next_chain = [CertificateAuthority(name + NEXT, next_arguments, opts)]
    return RotatingAuthority(current, next_chain, phase)


def _chain(
    name: str,
    authority: AuthoritySettings,
    key_algorithm: str,
    opts: pulumi.ResourceOptions,
    phase: RotationPhase | None,
) -> list[CertificateAuthority]:
    """The CA of `authority`, and its intermediate if it has one: root first, issuer last."""
    arguments: CertificateAuthorityArgs = (
        {"certificate_pem": authority.certificate, "private_key_pem": authority.private_key}
        if authority.certificate is not None and authority.private_key is not None
        else {
            "common_name": authority.common_name or "",
            "organization": authority.organization,
            "validity_days": authority.validity_days,
            "key_algorithm": key_algorithm,
        }
    )
    if authority.intermediate is not None:  # never rotated (the settings refuse it)
        root = CertificateAuthority(name, arguments, opts)
        intermediate = CertificateAuthority(
            f"{name}-intermediate",
            {
                "common_name": authority.intermediate.common_name,
                "organization": authority.intermediate.organization,
                "validity_days": authority.intermediate_validity_days,
                "key_algorithm": key_algorithm,
                "issuer": root.as_issuer(),
            },
            opts,
        )
        return [root, intermediate]
    return [CertificateAuthority(name, arguments, once_next(name + NEXT, phase, opts))]
