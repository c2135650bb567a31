"""How long what the PKI issues lives, and how long before its end `pulumi up` replaces it.

The one home of these defaults and of the windows derived from a lifetime: the components use
them for arguments left out, and the stack config (components.program.settings) for keys left
out, so that `ClientCertificate(validity_days=30)` and `validityDays: 30` mean the same certificate.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

CA_VALIDITY_DAYS = 3650
SERVER_VALIDITY_DAYS = 365
CLIENT_VALIDITY_DAYS = 180
API_USER_VALIDITY_DAYS = 365
CRL_VALIDITY_DAYS = 30

# The longest default windows: a certificate is replaced 30 days before it expires, a CRL
# re-issued 7 days before (see README, "Schedule").
MAX_RENEW_BEFORE_DAYS = 30
MAX_REFRESH_BEFORE_DAYS = 7


def renew_before_days(validity_days: int) -> int:
    """The default renewal window of a certificate: 30 days, or half the lifetime of one that
    lives less than 60 days (at least a day)."""
    return min(MAX_RENEW_BEFORE_DAYS, validity_days // 2 or 1)


def refresh_before_days(validity_days: int) -> int:
    """The default refresh window of a CRL: 7 days, or a day less than the lifetime of a list
    that lives a week or less (at least a day)."""
    return min(MAX_REFRESH_BEFORE_DAYS, validity_days - 1 or 1)


def certificate_lifetime(args: Mapping[str, Any], default_validity_days: int) -> tuple[Any, Any]:
    """(validity_days, renew_before_days) of a certificate's arguments, each default filled in
    (the window derived from the lifetime given); values are checked elsewhere, as given."""
    validity = args.get("validity_days", default_validity_days)
    window = args.get("renew_before_days")
    if window is None and _positive(validity):
        window = renew_before_days(validity)
    return validity, window


def crl_lifetime(args: Mapping[str, Any]) -> tuple[Any, Any]:
    """(validity_days, refresh_before_days) of a revocation list's arguments, each default
    filled in (the window derived from the lifetime given)."""
    validity = args.get("validity_days", CRL_VALIDITY_DAYS)
    window = args.get("refresh_before_days")
    if window is None and _positive(validity):
        window = refresh_before_days(validity)
    return validity, window


def _positive(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0
