"""The three resources behind every certificate this PKI signs: key, request, signature."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_tls as tls

from .issuer import HOURS_PER_DAY, Issuer, serial_number_of
from .key_algorithm import KeyAlgorithm
from .renewal import RenewalSchedule
from .request import CertificateRequest


@dataclass(frozen=True)
class SignedKeyPair:
    key: tls.PrivateKey
    request: tls.CertRequest | CertificateRequest
    certificate: tls.LocallySignedCert
    renewal: RenewalSchedule | None


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
    child = pulumi.ResourceOptions(parent=owner)
    renewal = None
    key_options = child
    if renew_before_days is not None:
        renewal = RenewalSchedule(
            f"{name}-renewal",
            validity_days=validity_days,
            renew_before_days=renew_before_days,
            paused=renewal_paused,
            opts=child,
        )
        key_options = pulumi.ResourceOptions(parent=owner, replacement_trigger=renewal.generation)
    key = tls.PrivateKey(f"{name}-key", **key_algorithm.private_key_parameters(), opts=key_options)
    request: tls.CertRequest | CertificateRequest
    if len(organizations) > 1:
        # tls.CertRequest writes one O at most; the subject's other attributes are the same.
        assert not dns_names and not ip_addresses, "only client certificates have several O"
        request = CertificateRequest(
            f"{name}-csr",
            private_key_pem=key.private_key_pem,
            common_name=common_name,
            organizations=organizations,
            opts=child,
        )
    else:
        request = tls.CertRequest(
            f"{name}-csr",
            private_key_pem=key.private_key_pem,
            subject=tls.CertRequestSubjectArgs(
                common_name=common_name, organization=next(iter(organizations), None)
            ),
            dns_names=list(dns_names) or None,
            ip_addresses=list(ip_addresses) or None,
            opts=child,
        )
    certificate = tls.LocallySignedCert(
        f"{name}-cert",
        cert_request_pem=request.cert_request_pem,
        ca_cert_pem=issuer["certificate_pem"],
        # pulumi-tls marks this input secret itself.
        ca_private_key_pem=issuer["private_key_pem"],
        validity_period_hours=validity_days * HOURS_PER_DAY,
        # Kept for pulumi-tls's own readyForRenewal; the schedule above does the renewing.
        early_renewal_hours=(
            renew_before_days * HOURS_PER_DAY if renew_before_days is not None else None
        ),
        allowed_uses=list(allowed_uses),
        is_ca_certificate=is_ca,
        max_path_length=max_path_length,
        # RFC 5280 section 4.2.1.2: end-entity certificates SHOULD carry a subject key id;
        # the authority key id is added from the issuer's subject key id.
        set_subject_key_id=True,
        opts=child,
    )
    return SignedKeyPair(key, request, certificate, renewal)


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
        # the values are in the state already, in the key and certificate resources. With 100
        # clients, `pulumi up` of a new stack takes a fifth less time (README, "Performance").
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
