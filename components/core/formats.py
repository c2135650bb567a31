"""Checks for the strings users write: DNS names, IP addresses, X.509 name attributes, serials.

Each check returns None for an acceptable value, else a phrase describing what is acceptable,
to be read as "must be <phrase>".
"""

from __future__ import annotations

import hashlib
import ipaddress
import re
import urllib.parse

DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
DNS_1035_LABEL = re.compile(r"^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$")
PORT_NAME = re.compile(r"^(?=.*[a-z])[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
CONFIG_MAP_KEY = re.compile(r"^[-._a-zA-Z0-9]+$")
_HEX_SERIAL = re.compile(r"^0x[0-9a-fA-F]+$")
_COLON_HEX_SERIAL = re.compile(r"^[0-9a-fA-F]{1,2}(:[0-9a-fA-F]{1,2})+$")

# RFC 5280 appendix A.1 upper bounds.
MAX_COMMON_NAME_LENGTH = 64
MAX_ORGANIZATION_LENGTH = 64

# RFC 5280 section 4.1.2.2: a serial is a positive integer of at most 20 octets, and a DER
# INTEGER spends one bit on the sign.
MAX_SERIAL_NUMBER = 2**159 - 1


def object_name(value: str) -> str:
    """`value` as a Kubernetes object name (or the start of a generated one): lower case,
    every run of other characters than letters, digits, `.` and `-` as one `-`
    (`serverTls` gives `servertls`, `system:viewer` gives `system-viewer`)."""
    return re.sub(r"[^a-z0-9.-]+", "-", value.lower()).strip("-") or "x"


def object_name_prefix(value: str) -> str:
    """A resource name from which Pulumi generates a Kubernetes object's name: `value` when it
    suits Kubernetes already, else `object_name(value)` and a short digest of `value`, so
    that names differing only in what Kubernetes refuses (`serverTls`, `server_tls`) stay
    apart."""
    # A generated name must also begin and end with a letter or digit.
    name = object_name(value).strip(".-") or "x"
    if name == value:
        return value
    return f"{name}-{hashlib.sha256(value.encode()).hexdigest()[:6]}"


def dns_label(value: str) -> str | None:
    """A Kubernetes namespace or object name of one label (RFC 1123)."""
    if DNS_LABEL.match(value):
        return None
    return "a lowercase RFC 1123 label: a-z, 0-9 and '-', at most 63 characters"


def service_name(value: str) -> str | None:
    """A Kubernetes Service name (RFC 1035 label: starts with a letter)."""
    if DNS_1035_LABEL.match(value):
        return None
    return "a lowercase RFC 1035 label starting with a letter, at most 63 characters"


def dns_subdomain(value: str) -> str | None:
    """A Kubernetes object name that may contain dots (RFC 1123 subdomain)."""
    labels = value.split(".")
    if len(value) <= 253 and all(DNS_LABEL.match(label) for label in labels):
        return None
    return "a lowercase RFC 1123 subdomain: labels of a-z, 0-9 and '-' joined by '.'"


def hostname(value: str) -> str | None:
    """A DNS host name as an Ingress rule and a certificate SAN accept it; `*.` is allowed."""
    name = value[2:] if value.startswith("*.") else value
    if dns_subdomain(name) is None and not _is_ip_address(name):
        return None
    return "a lowercase DNS name such as app.example.com (optionally *.example.com)"


# RBAC object names are path segments (`system:aggregate-to-view` is one).
STACK_NAME = re.compile(r"^([A-Za-z0-9_.-]+/){0,2}[A-Za-z0-9_.-]+$")
RBAC_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9:._@-]*$")


def rbac_name(value: str) -> str | None:
    """The name of a ClusterRole."""
    if len(value) <= 253 and RBAC_NAME.match(value):
        return None
    return "a ClusterRole name: letters, digits and ': . _ @ -', such as view or edit"


def stack_name(value: str) -> str | None:
    """A Pulumi stack name, as `pulumi.StackReference` takes it."""
    if STACK_NAME.match(value) and len(value) <= 300:
        return None
    return "a stack name, [organization/][project/]stack, such as organization/mtls-ingress/prod"


def https_url(value: str) -> str | None:
    """An https URL of a server: scheme, host and optional port and path."""
    try:
        parts = urllib.parse.urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError on a port that is not a number
    except ValueError:
        parts = None
    if parts is not None and parts.scheme == "https" and parts.hostname and not parts.query:
        return None
    return "an https URL such as https://10.20.30.31:6443"


def ip_address(value: str) -> str | None:
    if _is_ip_address(value):
        return None
    return "an IPv4 or IPv6 address"


def common_name(value: str) -> str | None:
    if len(value) <= MAX_COMMON_NAME_LENGTH:
        return None
    return f"at most {MAX_COMMON_NAME_LENGTH} characters (RFC 5280 ub-common-name)"


def organization(value: str) -> str | None:
    if len(value) <= MAX_ORGANIZATION_LENGTH:
        return None
    return f"at most {MAX_ORGANIZATION_LENGTH} characters (RFC 5280 ub-organization-name)"


def port_name(value: str) -> str | None:
    """A named Service port (IANA_SVC_NAME)."""
    if len(value) <= 15 and PORT_NAME.match(value) and "--" not in value:
        return None
    return "a port number or a named Service port (a-z, 0-9, '-', at most 15 characters)"


def config_map_key(value: str) -> str | None:
    if len(value) <= 253 and CONFIG_MAP_KEY.match(value):
        return None
    return "a ConfigMap key: letters, digits, '-', '_' and '.'"


# ingress-nginx v1.15, internal/ingress/annotations/authtls/main.go: `auth-tls-error-page`
# values that do not match this are rejected together with the whole annotation group.
ERROR_PAGE = re.compile(
    r"^(@[A-Za-z0-9_-]+|((https?://)?[A-Za-z0-9\-.]+(:\d+)?)?(/[A-Za-z0-9\-_.]+)*/?)$"
)
# ingress-nginx v1.15, internal/ingress/inspector/rules.go: paths of type Prefix must match.
INGRESS_PATH = re.compile(r"^/[A-Za-z0-9._\-/]*$")


def ingress_path(value: str) -> str | None:
    if INGRESS_PATH.match(value):
        return None
    # Wording of ingress-nginx's strict path-type validation, which rejects anything else.
    return "a path starting with '/' made of letters, digits and . _ - /"


def auth_tls_error_page(value: str) -> str | None:
    if ERROR_PAGE.match(value):
        return None
    return (
        "a URL or path ingress-nginx accepts for auth-tls-error-page, "
        "e.g. https://example.com/mtls-error"
    )


def auth_tls_match_cn(value: str) -> str | None:
    """ingress-nginx's CommonNameAnnotationValidator: "CN=" and a regular expression."""
    if not value.startswith("CN="):
        return "a pattern starting with 'CN=', e.g. 'CN=(alice|bob)'"
    try:
        re.compile(value[3:])
    except re.error as error:
        return f"'CN=' followed by a valid regular expression ({error})"
    return None


def covers(dns_name: str, host: str) -> bool:
    """Whether a certificate SAN `dns_name` matches `host` (RFC 6125: `*` spans one label)."""
    if dns_name == host:
        return True
    if dns_name.startswith("*.") and not host.startswith("*."):
        return host.count(".") == dns_name.count(".") and host.endswith(dns_name[1:])
    return False


def serial_number(value: object) -> int | None:
    """A certificate serial as users copy it: decimal, `0x`-prefixed hex or colon-separated hex.

    Decimal is a YAML/JSON integer or a string of digits; `openssl x509 -serial` prints hex
    without a prefix, which is why bare hex is not guessed at: `10` would be ambiguous.
    """
    if isinstance(value, bool):
        return None
    number: int | None = None
    if isinstance(value, int):
        number = value
    elif isinstance(value, str):
        text = value.strip()
        if text.isdigit():
            number = int(text)
        elif _HEX_SERIAL.match(text):
            number = int(text[2:], 16)
        elif _COLON_HEX_SERIAL.match(text):
            number = int(text.replace(":", ""), 16)
    if number is None or not 0 < number <= MAX_SERIAL_NUMBER:
        return None
    return number


def _is_ip_address(value: str) -> bool:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True
