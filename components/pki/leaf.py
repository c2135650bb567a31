"""The three resources behind every certificate this PKI signs: key, request, signature."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Required, TypedDict, Unpack

import pulumi
import pulumi_tls as tls

from .issuer import HOURS_PER_DAY, Issuer, serial_number_of
from .key_algorithm import KeyAlgorithm
from .lifetimes import certificate_lifetime
from .renewal import RenewalSchedule
from .request import CertificateRequest


@dataclass(frozen=True)
class SignedKeyPair:
    key: tls.PrivateKey
    request: tls.CertRequest | CertificateRequest
    certificate: tls.LocallySignedCert
    renewal: RenewalSchedule | None


class _LeafProfile(TypedDict, total=False):
    """The arguments of `sign_new_key` that set one end-entity certificate apart from another."""

    common_name: Required[str]
    organizations: Required[Sequence[str]]
    allowed_uses: Required[Sequence[str]]
    renewal_paused: bool
    dns_names: Sequence[str]
    ip_addresses: Sequence[str]


def sign_new_key(
    owner: pulumi.Resource,
    name: str,
    *,
    issuer: Issuer,
    key_algorithm: KeyAlgorithm,
    common_name: str,
    organizations: Sequence[str],
    allowed_uses: Sequence[str],
    validity_days: int,
    renew_before_days: int | None,
    renewal_paused: bool = False,
    is_ca: bool = False,
    max_path_length: int | None = None,
    dns_names: Sequence[str] = (),
    ip_addresses: Sequence[str] = (),
) -> SignedKeyPair:
    """Creates `{name}-key`, `{name}-csr` and `{name}-cert` as children of `owner`, and with a
    renewal window, the `{name}-renewal` schedule that replaces all three once it is reached
    (never, while `renewal_paused`).
    """
    key, renewal = _renewable_key(
        owner,
        name,
        key_algorithm,
        validity_days=validity_days,
        renew_before_days=renew_before_days,
        paused=renewal_paused,
    )
    request = _signing_request(
        owner,
        name,
        key,
        common_name=common_name,
        organizations=organizations,
        dns_names=dns_names,
        ip_addresses=ip_addresses,
    )
    certificate = _certificate(
        owner,
        name,
        request,
        issuer,
        allowed_uses=allowed_uses,
        validity_days=validity_days,
        renew_before_days=renew_before_days,
        is_ca=is_ca,
        max_path_length=max_path_length,
    )
    return SignedKeyPair(key, request, certificate, renewal)


def _renewable_key(
    owner: pulumi.Resource,
    name: str,
    key_algorithm: KeyAlgorithm,
    *,
    validity_days: int,
    renew_before_days: int | None,
    paused: bool,
) -> tuple[tls.PrivateKey, RenewalSchedule | None]:
    """`{name}-key`, and with a renewal window, the `{name}-renewal` schedule whose
    generation replaces it."""
    if renew_before_days is None:
        key_options = pulumi.ResourceOptions(parent=owner)
        renewal = None
    else:
        renewal = RenewalSchedule(
            f"{name}-renewal",
            validity_days=validity_days,
            renew_before_days=renew_before_days,
            paused=paused,
            opts=pulumi.ResourceOptions(parent=owner),
        )
        key_options = pulumi.ResourceOptions(parent=owner, replacement_trigger=renewal.generation)
    key = tls.PrivateKey(f"{name}-key", **key_algorithm.private_key_parameters(), opts=key_options)
    return key, renewal


def _signing_request(
    owner: pulumi.Resource,
    name: str,
    key: tls.PrivateKey,
    *,
    common_name: str,
    organizations: Sequence[str],
    dns_names: Sequence[str],
    ip_addresses: Sequence[str],
) -> tls.CertRequest | CertificateRequest:
    """`{name}-csr`: pulumi-tls's request, or with several organizations this project's."""
    if len(organizations) > 1:
        # tls.CertRequest writes one O at most; the subject's other attributes are the same.
        assert not dns_names and not ip_addresses, "only client certificates have several O"
        return CertificateRequest(
            f"{name}-csr",
            private_key_pem=key.private_key_pem,
            common_name=common_name,
            organizations=organizations,
            opts=pulumi.ResourceOptions(parent=owner),
        )
    return tls.CertRequest(
        f"{name}-csr",
        private_key_pem=key.private_key_pem,
        subject=tls.CertRequestSubjectArgs(
            common_name=common_name, organization=next(iter(organizations), None)
        ),
        dns_names=list(dns_names) or None,
        ip_addresses=list(ip_addresses) or None,
        opts=pulumi.ResourceOptions(parent=owner),
    )


def _certificate(
    owner: pulumi.Resource,
    name: str,
    request: tls.CertRequest | CertificateRequest,
    issuer: Issuer,
    *,
    allowed_uses: Sequence[str],
    validity_days: int,
    renew_before_days: int | None,
    is_ca: bool,
    max_path_length: int | None,
) -> tls.LocallySignedCert:
    """`{name}-cert`: the request signed by the issuer, with the uses of its role."""
    return tls.LocallySignedCert(
        f"{name}-cert",
        cert_request_pem=request.cert_request_pem,
        ca_cert_pem=issuer["certificate_pem"],
        # pulumi-tls marks this input secret itself.
        ca_private_key_pem=issuer["private_key_pem"],
        validity_period_hours=validity_days * HOURS_PER_DAY,
        # Kept for pulumi-tls's own readyForRenewal; the renewal schedule does the renewing.
        early_renewal_hours=(
            renew_before_days * HOURS_PER_DAY if renew_before_days is not None else None
        ),
        allowed_uses=list(allowed_uses),
        is_ca_certificate=is_ca,
        max_path_length=max_path_length,
        # RFC 5280 section 4.2.1.2: end-entity certificates SHOULD carry a subject key id;
        # the authority key id is added from the issuer's subject key id.
        set_subject_key_id=True,
        opts=pulumi.ResourceOptions(parent=owner),
    )


class IssuedCertificate(pulumi.ComponentResource):
    """What every end-entity certificate component exposes."""

    certificate_pem: pulumi.Output[str]
    """The certificate alone, PEM."""
    private_key_pem: pulumi.Output[str]
    """Its private key, PEM (secret)."""
    chain_pem: pulumi.Output[str]
    """The certificate followed by the issuer's intermediates, root excluded: what the holder
    presents in a TLS handshake (`tls.crt`, `curl --cert`)."""
    serial_number: pulumi.Output[str]
    """Serial number, decimal: what a revocation list names."""
    expires_at: pulumi.Output[str]
    """End of validity, RFC 3339."""
    renew_at: pulumi.Output[str]
    """When the next `pulumi up` replaces key and certificate, RFC 3339."""

    def _issue(
        self,
        name: str,
        args: Mapping[str, Any],
        default_validity_days: int,
        key_algorithm: KeyAlgorithm,
        **profile: Unpack[_LeafProfile],
    ) -> None:
        """Signs a new key with `args["issuer"]` for the lifetime `args` give (by default
        `default_validity_days`, components.pki.lifetimes), then publishes the outputs."""
        issuer: Issuer = args["issuer"]
        validity_days, renew_before_days = certificate_lifetime(args, default_validity_days)
        signed = sign_new_key(
            self,
            name,
            issuer=issuer,
            key_algorithm=key_algorithm,
            validity_days=validity_days,
            renew_before_days=renew_before_days,
            **profile,
        )
        self._publish(signed, issuer)

    def _publish(self, signed: SignedKeyPair, issuer: Issuer) -> None:
        self.certificate_pem = signed.certificate.cert_pem
        self.private_key_pem = pulumi.Output.secret(signed.key.private_key_pem)
        self.chain_pem = chain(signed.certificate.cert_pem, issuer)
        self.serial_number = serial_number_of(signed.certificate.cert_pem)
        self.expires_at = signed.certificate.validity_end_time
        assert signed.renewal is not None
        self.renew_at = signed.renewal.renew_at
        # The outputs stay attributes of the component and are not recorded in the state: every
        # recorded set is one more checkpoint of the whole state, once per certificate, and
        # the values are in the state already, in the key and certificate resources.
        self.register_outputs({})


def chain(certificate_pem: pulumi.Input[str], issuer: Issuer) -> pulumi.Output[str]:
    """A certificate followed by its issuer's intermediates: what a TLS peer must present."""
    return pem_bundle(certificate_pem, issuer["intermediates_pem"])


def pem_bundle(*parts: pulumi.Input[str]) -> pulumi.Output[str]:
    """One Output holding the PEM blocks of `parts`, in order (empty parts are skipped)."""
    return pulumi.Output.all(*parts).apply(lambda blocks: join_pem(*blocks))


def join_pem(*blocks: str) -> str:
    """Concatenates PEM blocks, one newline-terminated block after the other."""
    return "".join(block if block.endswith("\n") else block + "\n" for block in blocks if block)
