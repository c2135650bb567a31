"""A throwaway Kubernetes control plane on 127.0.0.1: etcd, kube-apiserver and
kube-controller-manager, as built by toolchain/kubernetes-api.sh.

It is what the engine tests deploy to, and what `make up` deploys the `local` stack to when no
cluster is configured. Everything lives in one folder (certificates, etcd data, kubeconfig,
logs) and every process is stopped by `stop()`. There are no nodes: nothing runs Pods, so the
objects a controller would complete (an Ingress's load-balancer status) are completed by
`IngressStatusWriter`.
"""

from __future__ import annotations

import http.client
import ipaddress
import json
import os
import signal
import ssl
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from localkube.processes import free_port, stop_process

READY_TIMEOUT_SECONDS = 60
TOO_MANY_REQUESTS_RETRIES = 10
SERVICE_CLUSTER_IP_RANGE = "10.96.0.0/24"


@dataclass
class LocalCluster:
    """A control plane whose binaries are in `bin_directory` and whose files go to `directory`."""

    bin_directory: Path
    directory: Path
    api_port: int = field(default_factory=free_port)
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    _api_server_arguments: tuple[str, ...] = ()

    @property
    def server(self) -> str:
        return f"https://127.0.0.1:{self.api_port}"

    @property
    def kubeconfig(self) -> Path:
        return self.directory / "kubeconfig"

    def start(self) -> LocalCluster:
        """Starts etcd, the API server and the controller manager; returns once /readyz is ok."""
        self.directory.mkdir(parents=True, exist_ok=True)
        pki = self.directory / "pki"
        pki.mkdir(exist_ok=True)
        _write_pki(pki)
        self._write_kubeconfig(pki)
        etcd_port, peer_port = free_port(), free_port()
        self._spawn(
            "etcd",
            "--name=local",
            f"--data-dir={self.directory / 'etcd'}",
            f"--listen-client-urls=http://127.0.0.1:{etcd_port}",
            f"--advertise-client-urls=http://127.0.0.1:{etcd_port}",
            f"--listen-peer-urls=http://127.0.0.1:{peer_port}",
            f"--initial-advertise-peer-urls=http://127.0.0.1:{peer_port}",
            f"--initial-cluster=local=http://127.0.0.1:{peer_port}",
            # A test cluster: losing etcd's data on a crash of the machine is fine.
            "--unsafe-no-fsync",
            "--log-level=warn",
        )
        self._api_server_arguments = (
            f"--etcd-servers=http://127.0.0.1:{etcd_port}",
            "--bind-address=127.0.0.1",
            "--advertise-address=127.0.0.1",
            f"--secure-port={self.api_port}",
            f"--tls-cert-file={pki / 'apiserver.crt'}",
            f"--tls-private-key-file={pki / 'apiserver.key'}",
            f"--client-ca-file={pki / 'ca.crt'}",
            "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
            f"--service-account-key-file={pki / 'service-accounts.key'}",
            f"--service-account-signing-key-file={pki / 'service-accounts.key'}",
            f"--service-cluster-ip-range={SERVICE_CLUSTER_IP_RANGE}",
            "--authorization-mode=RBAC",
            "--profiling=false",
        )
        self.start_api_server()
        self._spawn(
            "kube-controller-manager",
            f"--kubeconfig={self.kubeconfig}",
            f"--authentication-kubeconfig={self.kubeconfig}",
            f"--authorization-kubeconfig={self.kubeconfig}",
            # Namespace deletion, garbage collection of owned objects, and the aggregated
            # ClusterRoles (view, edit, admin get their rules from it); nothing here runs Pods.
            "--controllers=namespace-controller,garbage-collector-controller,"
            "clusterrole-aggregation-controller",
            "--leader-elect=false",
            "--bind-address=127.0.0.1",
            f"--secure-port={free_port()}",
            f"--service-cluster-ip-range={SERVICE_CLUSTER_IP_RANGE}",
        )
        time.sleep(1)
        self._check_running()
        return self

    def stop_api_server(self) -> None:
        """Kills kube-apiserver alone, as a control plane outage does (at once: a graceful stop
        goes on serving for seconds): etcd keeps the objects, and `start_api_server` serves
        them again."""
        stop_process(self.processes.pop("kube-apiserver"), signal.SIGKILL)

    def start_api_server(self) -> None:
        """Starts kube-apiserver (again) on the same port and etcd; returns once it is ready."""
        self._spawn("kube-apiserver", *self._api_server_arguments)
        self.wait_ready()

    def stop(self) -> None:
        """Stops every process, the controller manager first and etcd last."""
        for name in reversed(list(self.processes)):
            stop_process(self.processes.pop(name))

    def wait_ready(self) -> None:
        deadline = time.monotonic() + READY_TIMEOUT_SECONDS
        while True:
            try:
                if self.client().get("/readyz", raw=True) == b"ok":
                    return
            except (urllib.error.URLError, OSError):
                pass
            self._check_running()
            if time.monotonic() > deadline:
                raise TimeoutError(
                    f"the API server was not ready: {self._log_tail('kube-apiserver')}"
                )
            time.sleep(0.5)

    def _check_running(self) -> None:
        for name, process in self.processes.items():
            if process.poll() is not None:
                raise RuntimeError(f"{name} exited: {self._log_tail(name)}")

    def client(self) -> ApiClient:
        return ApiClient.from_pki(self.server, self.directory / "pki")

    def _spawn(self, name: str, *arguments: str) -> None:
        running = self.processes.get(name)
        if running is not None and running.poll() is None:
            raise RuntimeError(f"{name} is running already")
        log = (self.directory / f"{name}.log").open("ab")
        self.processes[name] = subprocess.Popen(
            [str(self.bin_directory / name), *arguments],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            cwd=self.directory,
            start_new_session=True,
        )

    def _log_tail(self, name: str) -> str:
        path = self.directory / f"{name}.log"
        return path.read_text(errors="replace")[-2000:] if path.exists() else "(no log)"

    def _write_kubeconfig(self, pki: Path) -> None:
        config = {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [
                {
                    "name": "local",
                    "cluster": {
                        "server": self.server,
                        "certificate-authority": str(pki / "ca.crt"),
                    },
                }
            ],
            "users": [
                {
                    "name": "admin",
                    "user": {
                        "client-certificate": str(pki / "admin.crt"),
                        "client-key": str(pki / "admin.key"),
                    },
                }
            ],
            "contexts": [{"name": "local", "context": {"cluster": "local", "user": "admin"}}],
            "current-context": "local",
        }
        # JSON is YAML: the provider and kubectl read it as a kubeconfig.
        self.kubeconfig.write_text(json.dumps(config, indent=2))


@dataclass
class ApiClient:
    """The few REST calls the fixtures and the status writer need, as the cluster admin."""

    server: str
    context: ssl.SSLContext

    @classmethod
    def from_pki(cls, server: str, pki: Path) -> ApiClient:
        context = ssl.create_default_context(cafile=str(pki / "ca.crt"))
        context.load_cert_chain(str(pki / "admin.crt"), str(pki / "admin.key"))
        return cls(server, context)

    def get(self, path: str, *, raw: bool = False) -> Any:
        return self._call("GET", path, None, raw=raw)

    def create(self, path: str, body: Mapping[str, Any]) -> Any:
        return self._call("POST", path, body)

    def apply(self, path: str, body: Mapping[str, Any]) -> Any:
        """Server-side apply (`?fieldManager=` in `path`)."""
        return self._call("PATCH", path, body, content_type="application/apply-patch+yaml")

    def merge_patch(self, path: str, body: Mapping[str, Any]) -> Any:
        return self._call("PATCH", path, body, content_type="application/merge-patch+json")

    def stream(self, path: str) -> tuple[http.client.HTTPSConnection, http.client.HTTPResponse]:
        """The connection and open response of a watch (`?watch=true`): one JSON event per
        line. Shutting the connection's socket down ends a read blocked in another thread."""
        address = urllib.parse.urlsplit(self.server)
        connection = http.client.HTTPSConnection(
            address.hostname or "127.0.0.1", address.port, context=self.context
        )
        connection.request("GET", path)
        response = connection.getresponse()
        if response.status != 200:
            raise RuntimeError(f"watch {path}: HTTP {response.status} {response.read()!r}")
        return connection, response

    def _call(
        self,
        method: str,
        path: str,
        body: Mapping[str, Any] | None,
        *,
        raw: bool = False,
        content_type: str = "application/json",
    ) -> Any:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.server + path, data=data, method=method)
        if data is not None:
            request.add_header("Content-Type", content_type)
        for attempt in range(TOO_MANY_REQUESTS_RETRIES + 1):
            try:
                with urllib.request.urlopen(request, context=self.context, timeout=30) as response:
                    payload = response.read()
                break
            except urllib.error.HTTPError as error:
                # 429: the API server asks to come back, e.g. while the storage of a custom
                # resource just defined is being set up.
                if error.code != 429 or attempt == TOO_MANY_REQUESTS_RETRIES:
                    raise
                time.sleep(float(error.headers.get("Retry-After") or 1))
        return payload if raw else json.loads(payload)


def self_signed_ca(
    common_name: str,
    key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey,
    *,
    not_before: datetime,
    days: int,
    path_length: int | None = None,
) -> x509.Certificate:
    """A root CA certificate with RFC 5280's CA profile: critical CA:TRUE (and
    pathLenConstraint), critical keyCertSign and cRLSign, and a subject key identifier."""
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    usage = dict.fromkeys(
        (
            "digital_signature",
            "content_commitment",
            "key_encipherment",
            "data_encipherment",
            "key_agreement",
            "encipher_only",
            "decipher_only",
        ),
        False,
    )
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_before + timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=True, path_length=path_length), critical=True)
        .add_extension(x509.KeyUsage(key_cert_sign=True, crl_sign=True, **usage), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )


def _write_pki(directory: Path) -> None:
    """The cluster CA and its key, the API server's serving certificate, an admin client
    certificate (O=system:masters) and the service account signing key."""
    now = datetime.now(UTC) - timedelta(minutes=5)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = self_signed_ca("local-kubernetes-ca", ca_key, not_before=now, days=30, path_length=0)
    _write(directory / "ca.crt", ca.public_bytes(serialization.Encoding.PEM))
    # Kept, like kubeadm's ca.key: the cluster CA is what a stack's `kubernetesApi.ca` imports.
    _write(directory / "ca.key", _private_pem(ca_key))
    _issue(
        directory / "apiserver",
        ca,
        ca_key,
        x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "kube-apiserver")]),
        ExtendedKeyUsageOID.SERVER_AUTH,
        [
            x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
            x509.DNSName("localhost"),
            x509.DNSName("kubernetes.default.svc"),
        ],
        now,
    )
    _issue(
        directory / "admin",
        ca,
        ca_key,
        x509.Name(
            [
                x509.NameAttribute(NameOID.COMMON_NAME, "local-admin"),
                x509.NameAttribute(NameOID.ORGANIZATION_NAME, "system:masters"),
            ]
        ),
        ExtendedKeyUsageOID.CLIENT_AUTH,
        [],
        now,
    )
    service_accounts = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    _write(directory / "service-accounts.key", _private_pem(service_accounts))


def _issue(
    path: Path,
    ca: x509.Certificate,
    ca_key: ec.EllipticCurvePrivateKey,
    subject: x509.Name,
    usage: x509.ObjectIdentifier,
    names: Sequence[x509.GeneralName],
    now: datetime,
) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
    )
    if names:
        builder = builder.add_extension(x509.SubjectAlternativeName(list(names)), critical=False)
    certificate = builder.sign(ca_key, hashes.SHA256())
    _write(path.with_suffix(".crt"), certificate.public_bytes(serialization.Encoding.PEM))
    _write(path.with_suffix(".key"), _private_pem(key))


def _private_pem(key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _write(path: Path, content: bytes) -> None:
    path.write_bytes(content)
    os.chmod(path, 0o600)
