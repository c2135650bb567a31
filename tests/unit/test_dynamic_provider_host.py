"""This project's dynamic providers (RevocationList's CRL, the renewal schedule), pickled by
the real SDK code path, run by the real dynamic provider host (`python -m pulumi.dynamic`) in
a fresh process and driven over gRPC as the engine drives them. Pickling or serialization
problems that mocks hide fail here."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import grpc
import pytest
from cryptography import x509
from google.protobuf import struct_pb2
from pulumi.output import Unknown
from pulumi.runtime import rpc
from pulumi.runtime.proto import provider_pb2, provider_pb2_grpc

from components.pki import CertificateAuthority, RevocationList
from components.pki.renewal import RenewalSchedule
from support.mock_runtime import PROJECT_DIR, MockRuntime

URN = "urn:pulumi:dev::mtls-ingress::pulumi-python:dynamic/mtls:SignedCrl::crl"


@pytest.fixture
def registered_props(mocks: MockRuntime) -> dict[str, Any]:
    """The inputs the SDK sends for a RevocationList's CRL resource, `__provider` included."""

    def build() -> None:
        ca = CertificateAuthority("clients", {"common_name": "Clients CA"})
        RevocationList(
            "revocations",
            {
                "issuer": ca.as_issuer(),
                "revoked": [{"serial_number": "4242", "reason": "superseded"}],
            },
        )

    mocks.run(build)
    (registration,) = [
        r for r in mocks.emulator.registered if r.typ.startswith("pulumi-python:dynamic")
    ]
    assert registration.typ == "pulumi-python:dynamic/mtls:SignedCrl"
    assert {"__provider", "issuer_private_key_pem"} <= registration.secret_inputs
    return dict(registration.inputs)


@pytest.fixture
def provider_host() -> Iterator[provider_pb2_grpc.ResourceProviderStub]:
    """`python -m pulumi.dynamic`, started as the engine starts it: in the project directory,
    with nothing of the test process on its path, announcing its port on stdout."""
    env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    process = subprocess.Popen(
        [sys.executable, "-m", "pulumi.dynamic"],
        cwd=PROJECT_DIR,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        assert process.stdout is not None
        port = int(process.stdout.readline())
        channel = grpc.insecure_channel(f"127.0.0.1:{port}")
        yield provider_pb2_grpc.ResourceProviderStub(channel)
        channel.close()
    finally:
        process.kill()
        process.wait(timeout=10)


def _struct(values: dict[str, Any]) -> struct_pb2.Struct:
    loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(rpc.serialize_properties(values, {}))
    finally:
        loop.close()


def _values(struct: struct_pb2.Struct) -> dict[str, Any]:
    return rpc.deserialize_properties(struct)


def test_provider_runs_in_the_dynamic_provider_host(
    registered_props: dict[str, Any], provider_host: provider_pb2_grpc.ResourceProviderStub
) -> None:
    checked = provider_host.Check(
        provider_pb2.CheckRequest(urn=URN, olds=_struct({}), news=_struct(registered_props))
    )
    assert list(checked.failures) == []
    created = provider_host.Create(provider_pb2.CreateRequest(urn=URN, properties=checked.inputs))
    outs = _values(created.properties)
    crl = x509.load_pem_x509_crl(outs["crl_pem"].encode())
    assert [entry.serial_number for entry in crl] == [4242]
    assert outs["crl_number"] == 1

    unchanged = provider_host.Diff(
        provider_pb2.DiffRequest(
            id=created.id, urn=URN, olds=created.properties, news=checked.inputs
        )
    )
    assert unchanged.changes == provider_pb2.DiffResponse.DIFF_NONE

    revoked_more = registered_props | {
        "revoked": [
            *registered_props["revoked"],
            {"serial_number": "4343", "reason": "unspecified"},
        ]
    }
    rechecked = provider_host.Check(
        provider_pb2.CheckRequest(urn=URN, olds=created.properties, news=_struct(revoked_more))
    )
    changed = provider_host.Diff(
        provider_pb2.DiffRequest(
            id=created.id, urn=URN, olds=created.properties, news=rechecked.inputs
        )
    )
    assert changed.changes == provider_pb2.DiffResponse.DIFF_SOME
    assert list(changed.replaces) == []
    updated = provider_host.Update(
        provider_pb2.UpdateRequest(
            id=created.id, urn=URN, olds=created.properties, news=rechecked.inputs
        )
    )
    outs = _values(updated.properties)
    assert outs["crl_number"] == 2
    assert (
        outs["revocation_dates"]["4242"] == _values(created.properties)["revocation_dates"]["4242"]
    )
    assert sorted(e.serial_number for e in x509.load_pem_x509_crl(outs["crl_pem"].encode())) == [
        4242,
        4343,
    ]


def test_invalid_inputs_fail_the_check_in_the_provider_host(
    registered_props: dict[str, Any], provider_host: provider_pb2_grpc.ResourceProviderStub
) -> None:
    bad = registered_props | {"validity_days": 3, "refresh_before_days": 5}
    checked = provider_host.Check(
        provider_pb2.CheckRequest(urn=URN, olds=_struct({}), news=_struct(bad))
    )
    assert [failure.property for failure in checked.failures] == ["validity_days"]


def test_preview_of_a_new_revocation_passes_check_and_diffs_as_a_change(
    registered_props: dict[str, Any], provider_host: provider_pb2_grpc.ResourceProviderStub
) -> None:
    # During a preview the serial of a certificate created in the same update is unknown; the
    # host hands it to check and diff as a pulumi.output.Unknown object.
    checked = provider_host.Check(
        provider_pb2.CheckRequest(urn=URN, olds=_struct({}), news=_struct(registered_props))
    )
    created = provider_host.Create(provider_pb2.CreateRequest(urn=URN, properties=checked.inputs))
    pending = registered_props | {
        "revoked": [
            *registered_props["revoked"],
            {"serial_number": rpc.UNKNOWN, "reason": "unspecified"},
        ]
    }
    rechecked = provider_host.Check(
        provider_pb2.CheckRequest(urn=URN, olds=created.properties, news=_struct(pending))
    )
    assert list(rechecked.failures) == []
    pending_serial = rpc.deserialize_properties(rechecked.inputs, keep_unknowns=True)["revoked"][1]
    assert isinstance(pending_serial["serial_number"], Unknown)
    changed = provider_host.Diff(
        provider_pb2.DiffRequest(
            id=created.id, urn=URN, olds=created.properties, news=rechecked.inputs
        )
    )
    assert changed.changes == provider_pb2.DiffResponse.DIFF_SOME
    assert list(changed.replaces) == []


RENEWAL_URN = "urn:pulumi:dev::mtls-ingress::pulumi-python:dynamic/mtls:RenewalSchedule::r"


def test_renewal_schedule_runs_in_the_dynamic_provider_host(
    mocks: MockRuntime, provider_host: provider_pb2_grpc.ResourceProviderStub
) -> None:
    mocks.run(lambda: RenewalSchedule("r", validity_days=90, renew_before_days=30))
    (registration,) = mocks.emulator.of_type("pulumi-python:dynamic/mtls:RenewalSchedule")
    props = _struct(dict(registration.inputs))
    checked = provider_host.Check(
        provider_pb2.CheckRequest(urn=RENEWAL_URN, olds=_struct({}), news=props)
    )
    assert list(checked.failures) == []
    created = provider_host.Create(
        provider_pb2.CreateRequest(urn=RENEWAL_URN, properties=checked.inputs)
    )
    assert _values(created.properties)["generation"] == 1
    unchanged = provider_host.Diff(
        provider_pb2.DiffRequest(
            id=created.id, urn=RENEWAL_URN, olds=created.properties, news=checked.inputs
        )
    )
    assert unchanged.changes == provider_pb2.DiffResponse.DIFF_NONE
