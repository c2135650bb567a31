"""ingress-nginx's annotations for client certificates, as the controller reads them
(ingress-nginx v1.15, internal/ingress/annotations/authtls): the components write them, the
policy pack checks them and the local cluster's nginx is configured from them.

Standard library only: the policy pack imports this module in its own virtualenv.
"""

from __future__ import annotations

PREFIX = "nginx.ingress.kubernetes.io/"
"""The controller's default `--annotations-prefix`, with the slash before each key."""

AUTH_TLS_SECRET = "auth-tls-secret"
AUTH_TLS_VERIFY_CLIENT = "auth-tls-verify-client"
AUTH_TLS_VERIFY_DEPTH = "auth-tls-verify-depth"
AUTH_TLS_PASS_CERTIFICATE = "auth-tls-pass-certificate-to-upstream"
AUTH_TLS_ERROR_PAGE = "auth-tls-error-page"
AUTH_TLS_MATCH_CN = "auth-tls-match-cn"

VERIFY_CLIENT_VALUES = ("on", "optional", "optional_no_ca", "off")
"""The values of `auth-tls-verify-client`."""
UNVERIFIED_MODES = ("off", "optional", "optional_no_ca")
"""The values with which requests without a valid client certificate reach the backend; the
controller reads any value outside VERIFY_CLIENT_VALUES as "on"."""
DEFAULT_VERIFY_DEPTH = 1
"""The controller's `auth-tls-verify-depth` when the annotation is absent or 0."""
