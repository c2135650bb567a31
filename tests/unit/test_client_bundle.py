"""The PKCS#12 bundle provider: built once, rebuilt for a new certificate under the same
password, readable by cryptography, OpenSSL 3 and Java's keytool."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from cryptography.hazmat.primitives.serialization import Encoding, pkcs12
from pulumi.output import Unknown

from components.pki.bundle import BundleProvider
from support.pki_material import issue_client, make_authority
from tests.x509_assertions import assert_pkcs12_opens

AUTHORITY = make_authority("Clients CA")


def _props(common_name: str = "alice") -> dict[str, Any]:
    certificate, key = issue_client(AUTHORITY.certificate, AUTHORITY.key, common_name)
    return {
        "name": common_name,
        "certificate_pem": certificate,
        "intermediates_pem": "",
        "private_key_pem": key,
    }


def test_a_bundle_opens_with_its_password_and_holds_the_key_and_certificate() -> None:
    props = _props()
    outs = BundleProvider().create(props).outs
    assert outs is not None and len(outs["password"]) >= 32
    loaded = pkcs12.load_pkcs12(base64.b64decode(outs["pkcs12"]), outs["password"].encode())
    assert loaded.cert is not None and loaded.cert.friendly_name == b"alice"
    assert loaded.key is not None
    assert loaded.cert.certificate.public_key() == loaded.key.public_key()
    with pytest.raises(ValueError):
        pkcs12.load_pkcs12(base64.b64decode(outs["pkcs12"]), b"wrong")


def test_an_unchanged_certificate_keeps_the_file_and_a_new_one_rebuilds_it() -> None:
    provider, props = BundleProvider(), _props()
    outs = provider.create(props).outs
    assert outs is not None
    assert not provider.diff("id", outs, props).changes
    renewed = _props()
    assert provider.diff("id", outs, renewed).changes
    assert provider.diff("id", outs, props | {"certificate_pem": Unknown()}).changes
    updated = provider.update("id", outs, renewed).outs
    assert updated is not None and updated["password"] == outs["password"]
    assert updated["pkcs12"] != outs["pkcs12"]
    loaded = pkcs12.load_pkcs12(base64.b64decode(updated["pkcs12"]), updated["password"].encode())
    assert loaded.cert is not None
    reissued = loaded.cert.certificate.public_bytes(Encoding.PEM).decode()
    assert reissued == renewed["certificate_pem"]


def test_openssl_and_keytool_read_the_bundle() -> None:
    outs = BundleProvider().create(_props()).outs
    assert outs is not None
    assert_pkcs12_opens(base64.b64decode(outs["pkcs12"]), outs["password"], "alice")
