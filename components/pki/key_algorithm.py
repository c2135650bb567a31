"""Key algorithms the PKI offers, and how each maps onto `tls.PrivateKey`."""

from __future__ import annotations

from enum import StrEnum
from typing import Self, TypedDict

from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.types import PublicKeyTypes


class PrivateKeyParameters(TypedDict, total=False):
    """The `tls.PrivateKey` arguments that select an algorithm."""

    algorithm: str
    rsa_bits: int
    ecdsa_curve: str


class KeyAlgorithm(StrEnum):
    """A key type and size, as written in stack config (`pki.keyAlgorithm`).

    ECDSA P-256 is the default: TLS 1.3 and 1.2 support it everywhere, and a handshake with it
    costs a fraction of an RSA one. ED25519 is absent on purpose: browsers and most TLS clients
    still refuse Ed25519 certificates, and so would the users of this ingress.
    """

    RSA_2048 = "RSA_2048"
    RSA_3072 = "RSA_3072"
    RSA_4096 = "RSA_4096"
    ECDSA_P256 = "ECDSA_P256"
    ECDSA_P384 = "ECDSA_P384"

    @classmethod
    def of_public_key(cls, key: PublicKeyTypes) -> Self | None:
        """The algorithm of an existing key (an imported CA's), None for any other kind."""
        if isinstance(key, rsa.RSAPublicKey):
            name = f"RSA_{key.key_size}"
        elif isinstance(key, ec.EllipticCurvePublicKey):
            name = {"secp256r1": "ECDSA_P256", "secp384r1": "ECDSA_P384"}.get(key.curve.name, "")
        else:
            return None
        return cls(name) if name in cls.__members__ else None

    @property
    def is_rsa(self) -> bool:
        return self.value.startswith("RSA_")

    def private_key_parameters(self) -> PrivateKeyParameters:
        """The arguments for `tls.PrivateKey`.

        Every parameter is spelled out: pulumi-tls defaults to RSA 2048 and, for ECDSA, to the
        P-224 curve, which modern TLS stacks no longer accept.
        """
        kind, size = self.value.split("_", 1)
        if kind == "RSA":
            return {"algorithm": "RSA", "rsa_bits": int(size)}
        return {"algorithm": "ECDSA", "ecdsa_curve": size}

    def server_key_usages(self) -> list[str]:
        """Key usages of a TLS server certificate with this key type.

        RSA keys also get key_encipherment, which RSA key exchange (TLS 1.2 without (EC)DHE)
        requires of the server key; for ECDSA keys that usage is meaningless (RFC 5480
        section 3), so it is left out. A client key only ever signs, in every TLS version.
        """
        if self.is_rsa:
            return ["digital_signature", "key_encipherment"]
        return ["digital_signature"]


def key_algorithm_names() -> list[str]:
    return [algorithm.value for algorithm in KeyAlgorithm]
