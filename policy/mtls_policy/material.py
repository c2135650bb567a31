"""Private key material in text: PEM private keys (PKCS#1, PKCS#8, encrypted PKCS#8, SEC1,
OpenSSH), in clear or base64-encoded once more, as in a Kubernetes Secret's `data`, a
ConfigMap's `binaryData` or a kubeconfig's `client-key-data`."""

from __future__ import annotations

import base64
import binascii
import re

PEM_PRIVATE_KEY = re.compile(r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY-----")
# "-----BEGIN" encoded in base64 from a 3-byte boundary, as when a whole PEM file is encoded.
_ENCODED_PEM = re.compile(r"LS0tLS1CRUdJT[A-Za-z0-9+/]*={0,2}")


def decoded(text: str) -> str | None:
    """`text` decoded from base64, when it is base64 of UTF-8 text; else None."""
    try:
        return base64.b64decode(text, validate=True).decode()
    except (binascii.Error, ValueError):
        return None


def holds_private_key(text: str) -> bool:
    """Whether `text` holds a PEM private key, in clear or base64-encoded."""
    if PEM_PRIVATE_KEY.search(text):
        return True
    for encoded in _ENCODED_PEM.findall(text):
        padded = encoded + "=" * (-len(encoded) % 4)
        plain = decoded(padded)
        if plain is not None and PEM_PRIVATE_KEY.search(plain):
            return True
    return False
