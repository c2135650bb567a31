"""PEM text: its blocks, the private keys it may hold (in clear or base64-encoded, as in a
Kubernetes Secret's `data`, a ConfigMap's `binaryData` or a kubeconfig's `client-key-data`),
and whether a CA may sign the CRLs that a `ca.crl` bundle holds.

Standard library and cryptography only: the policy pack imports this module in its own
virtualenv.
"""

from __future__ import annotations

import base64
import binascii
import re

from cryptography import x509

PRIVATE_KEY = re.compile(
    r"-----BEGIN ((?:[A-Z0-9]+ )*PRIVATE KEY)-----\s.*?-----END \1-----", re.DOTALL
)
"""A whole PEM private key block (PKCS#1, PKCS#8, encrypted PKCS#8, SEC1, OpenSSH): text that
only names the header is not a key."""
PRIVATE_KEY_HEADER = r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY-----"
"""The BEGIN line of a private key block, as a pattern (for JSON Schema)."""
CERTIFICATE = "CERTIFICATE"
CRL = "X509 CRL"
_HEADER = re.compile(r"-----BEGIN ([A-Z0-9 ]+)-----")
# A run of base64 long enough to hold a key (the smallest, an Ed25519 PEM, encodes to 160).
_SHORTEST = 120
_BASE64_RUN = re.compile(rf"[A-Za-z0-9+/][A-Za-z0-9+/\s]{{{_SHORTEST - 2},}}={{0,2}}")


def labels(text: str) -> list[str]:
    """The label of each BEGIN line of `text`, in order (`CERTIFICATE`, `EC PRIVATE KEY`)."""
    return _HEADER.findall(text)


def blocks(text: str, label: str) -> list[str]:
    """Each whole block of `label` in `text`, BEGIN to END line, in order."""
    pattern = rf"-----BEGIN {label}-----.+?-----END {label}-----"
    return re.findall(pattern, text, re.DOTALL)


def begins_with(text: str, label: str) -> bool:
    """Whether the first non-blank text is the BEGIN line of a `label` block."""
    return text.lstrip().startswith(f"-----BEGIN {label}-----")


def crls(text: str) -> list[x509.CertificateRevocationList]:
    """The CRLs of a `ca.crl` bundle (one PEM block per CA), in order.

    Raises:
        ValueError: a block is not a readable CRL.
    """
    return [x509.load_pem_x509_crl(block.encode()) for block in blocks(text, CRL)]


def may_sign_crls(authority: x509.Certificate) -> bool:
    """Whether a CA certificate allows CRL signing: no keyUsage, or one with cRLSign."""
    try:
        usage = authority.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        return True
    return usage.crl_sign


def holds_private_key(text: str) -> bool:
    """Whether `text` holds a PEM private key, in clear or base64-encoded."""
    if PRIVATE_KEY.search(text):
        return True
    for run in _BASE64_RUN.findall(text):
        # The whole run (base64 wrapped over lines), and each of its words on its own (a run
        # may begin with an ordinary word, as in "key <base64>").
        words = [word for word in run.split() if len(word) >= _SHORTEST]
        for candidate in ("".join(run.split()), *words):
            plain = decoded(candidate)
            if plain is not None and PRIVATE_KEY.search(plain):
                return True
    return False


def decoded(text: str) -> str | None:
    """`text` decoded from base64 (as Latin-1, so that any bytes decode), or None when it is
    not base64; a run cut at a length that is not a multiple of four is decoded up to there."""
    text = text[: len(text) - len(text) % 4] if not text.endswith("=") else text
    try:
        return base64.b64decode(text, validate=True).decode("latin-1")
    except (binascii.Error, ValueError):
        return None
