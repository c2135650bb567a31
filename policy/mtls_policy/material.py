"""Private key material in text: PEM private keys (PKCS#1, PKCS#8, encrypted PKCS#8, SEC1,
OpenSSH), in clear or inside base64-encoded text, as in a Kubernetes Secret's `data`, a
ConfigMap's `binaryData` or a kubeconfig's `client-key-data`. A key is a whole block, from
its BEGIN line to the matching END line: text that only names the header is not a key."""

from __future__ import annotations

import base64
import binascii
import re

PEM_PRIVATE_KEY = re.compile(
    r"-----BEGIN ((?:[A-Z0-9]+ )*PRIVATE KEY)-----\s.*?-----END \1-----", re.DOTALL
)
# A run of base64 long enough to hold a key (the smallest, an Ed25519 PEM, encodes to 160).
_SHORTEST = 120
_BASE64_RUN = re.compile(rf"[A-Za-z0-9+/][A-Za-z0-9+/\s]{{{_SHORTEST - 2},}}={{0,2}}")


def holds_private_key(text: str) -> bool:
    """Whether `text` holds a PEM private key, in clear or base64-encoded."""
    if PEM_PRIVATE_KEY.search(text):
        return True
    for run in _BASE64_RUN.findall(text):
        # The whole run (base64 wrapped over lines), and each of its words on its own (a run
        # may begin with an ordinary word, as in "key <base64>").
        words = [word for word in run.split() if len(word) >= _SHORTEST]
        for candidate in ("".join(run.split()), *words):
            plain = decoded(candidate)
            if plain is not None and PEM_PRIVATE_KEY.search(plain):
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
