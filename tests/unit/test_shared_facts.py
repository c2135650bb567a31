"""Facts that the components, the stack settings, the policy pack and localkube share agree:
each is written once (components/core) and the others take it from there."""

from __future__ import annotations

from mtls_policy import rules

from components.core import annotations as ingress_nginx
from components.core import pem
from components.program.settings import VerifyClient


def test_the_settings_offer_the_verify_modes_ingress_nginx_reads() -> None:
    assert tuple(mode.value for mode in VerifyClient) == ingress_nginx.VERIFY_CLIENT_VALUES
    assert set(ingress_nginx.UNVERIFIED_MODES) < set(ingress_nginx.VERIFY_CLIENT_VALUES)


def test_the_policy_pack_checks_the_annotations_the_components_write() -> None:
    assert rules.DEFAULT_ANNOTATION_PREFIX + "/" == ingress_nginx.PREFIX
    # Private keys and CRL bundles are read by the components' own module.
    assert rules.pem is pem
