"""The ingress-nginx annotations that switch on client certificate checks and backend TLS.

Values are written the way the controller parses them (ingress-nginx v1.15,
internal/ingress/annotations/authtls and proxyssl): strings only, booleans as "true"/"false".
Secret references are outputs: the Secrets' names are generated (components.kubernetes.secrets).
"""

from __future__ import annotations

from typing import NotRequired, TypedDict

import pulumi

from ..core.annotations import (
    AUTH_TLS_ERROR_PAGE,
    AUTH_TLS_MATCH_CN,
    AUTH_TLS_PASS_CERTIFICATE,
    AUTH_TLS_SECRET,
    AUTH_TLS_VERIFY_CLIENT,
    AUTH_TLS_VERIFY_DEPTH,
    PREFIX,
)


class ClientAuthArgs(TypedDict):
    """Client certificate authentication at the ingress (`auth-tls-*`)."""

    secret: pulumi.Input[str]
    """`namespace/name` of the Secret with `ca.crt` (and `ca.crl`)."""
    verify_depth: int
    """Most intermediate CA certificates allowed between a client certificate and the root
    (OpenSSL's verify depth); `verify_depth_for(client_ca.depth)` derives it."""
    verify_client: NotRequired[str]
    """on (default) | optional | optional_no_ca | off."""
    pass_certificate_to_upstream: NotRequired[bool]
    """Forward the client certificate in the `ssl-client-cert` header."""
    error_page: NotRequired[str | None]
    """Where to redirect clients whose certificate fails verification."""
    match_cn: NotRequired[str | None]
    """`CN=<regex>` the client subject must match (403 otherwise)."""


class UpstreamTlsArgs(TypedDict):
    """TLS from nginx to the backend (`backend-protocol: HTTPS` and `proxy-ssl-*`)."""

    secret: pulumi.Input[str]
    """`namespace/name` of the Secret with `ca.crt` that verifies the backend, and `tls.crt`
    and `tls.key` when nginx authenticates to the backend with a client certificate."""
    server_name: str
    """The name the backend certificate must carry; also sent as SNI."""
    verify_depth: NotRequired[int]
    """Most intermediate CA certificates above the backend certificate; default 1."""


def verify_depth_for(authority_depth: int) -> int:
    """The `ssl_verify_depth` for certificates signed by an authority `authority_depth` levels
    from the root (a root: 1).

    OpenSSL's verify depth counts the intermediate CAs between the leaf and the trust anchor,
    neither of which counts: a root signing clients directly needs 0, one intermediate needs
    1. ingress-nginx replaces 0 with its default of 1, so 1 is the smallest value that
    reaches nginx. A larger value than the chain needs would accept chains longer than this
    PKI issues.
    """
    return max(1, authority_depth - 1)


def client_auth_annotations(auth: ClientAuthArgs) -> dict[str, pulumi.Input[str]]:
    annotations: dict[str, pulumi.Input[str]] = {
        AUTH_TLS_SECRET: auth["secret"],
        AUTH_TLS_VERIFY_CLIENT: auth.get("verify_client", "on"),
        # Written even when it is the controller's default, so the Ingress says what the
        # client chain needs (see verify_depth_for).
        AUTH_TLS_VERIFY_DEPTH: str(auth["verify_depth"]),
        AUTH_TLS_PASS_CERTIFICATE: _flag(auth.get("pass_certificate_to_upstream", False)),
    }
    if error_page := auth.get("error_page"):
        annotations[AUTH_TLS_ERROR_PAGE] = error_page
    if match_cn := auth.get("match_cn"):
        annotations[AUTH_TLS_MATCH_CN] = match_cn
    return _prefixed(annotations)


def upstream_tls_annotations(upstream: UpstreamTlsArgs) -> dict[str, pulumi.Input[str]]:
    return _prefixed(
        {
            "backend-protocol": "HTTPS",
            "proxy-ssl-secret": upstream["secret"],
            # The controller's default is "off": it would accept any backend certificate.
            "proxy-ssl-verify": "on",
            "proxy-ssl-verify-depth": str(upstream.get("verify_depth", 1)),
            "proxy-ssl-name": upstream["server_name"],
            "proxy-ssl-server-name": "on",
            "proxy-ssl-protocols": "TLSv1.2 TLSv1.3",
        }
    )


def passthrough_annotations() -> dict[str, pulumi.Input[str]]:
    return _prefixed({"ssl-passthrough": "true"})


def _flag(value: bool) -> str:
    return "true" if value else "false"


def _prefixed(annotations: dict[str, pulumi.Input[str]]) -> dict[str, pulumi.Input[str]]:
    return {PREFIX + key: value for key, value in annotations.items()}
