"""What a real cluster around the stack would already have: the objects the ingress-nginx Helm
chart creates, the backend Service, and an ingress controller's status updates."""

from __future__ import annotations

import base64
import threading
import time
import urllib.error
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from components.core.annotations import AUTH_TLS_SECRET, PREFIX
from localkube.cluster import ApiClient, LocalCluster

CONTROLLER_NAMESPACE = "ingress-nginx"
CONTROLLER_CONFIG_MAP = "ingress-nginx-controller"
# Keys the chart (ingress-nginx 4.x, controller.config defaults) writes into the controller's
# ConfigMap; the stack's server-side-apply patch must leave them alone.
CHART_CONFIG: Mapping[str, str] = {"allow-snippet-annotations": "false"}
LOAD_BALANCER_IP = "127.0.0.1"
CRD_TIMEOUT_SECONDS = 60


def ensure(client: ApiClient, path: str, body: Mapping[str, Any]) -> None:
    """Creates the object at collection `path` unless it exists."""
    try:
        client.create(path, body)
    except urllib.error.HTTPError as error:
        if error.code != 409:
            raise


def install_crds(client: ApiClient, documents: Iterable[Mapping[str, Any]]) -> None:
    """Creates CustomResourceDefinitions (as their projects publish them) and waits until the
    API server serves each."""
    names = []
    for document in documents:
        ensure(client, "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", document)
        names.append(document["metadata"]["name"])
    deadline = time.monotonic() + CRD_TIMEOUT_SECONDS
    for name in names:
        while True:
            crd = client.get(f"/apis/apiextensions.k8s.io/v1/customresourcedefinitions/{name}")
            conditions = (crd.get("status") or {}).get("conditions") or []
            if any(c["type"] == "Established" and c["status"] == "True" for c in conditions):
                break
            if time.monotonic() > deadline:
                raise TimeoutError(f"the API server does not serve {name}")
            time.sleep(0.3)


def install_ingress_nginx(client: ApiClient) -> None:
    """The controller's namespace, its ConfigMap with the chart's keys, and the IngressClass."""
    ensure(client, "/api/v1/namespaces", _namespace(CONTROLLER_NAMESPACE))
    ensure(
        client,
        f"/api/v1/namespaces/{CONTROLLER_NAMESPACE}/configmaps",
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": CONTROLLER_CONFIG_MAP, "namespace": CONTROLLER_NAMESPACE},
            "data": dict(CHART_CONFIG),
        },
    )
    ensure(
        client,
        "/apis/networking.k8s.io/v1/ingressclasses",
        {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "IngressClass",
            "metadata": {"name": "nginx"},
            "spec": {"controller": "k8s.io/ingress-nginx"},
        },
    )


def install_backend(client: ApiClient, namespace: str, service: str, port: int) -> None:
    """The namespace, the backend Service and its Endpoints.

    pulumi-kubernetes waits for an Endpoints object of each Service an Ingress routes to. With
    no nodes nothing serves it, and the API server refuses loopback addresses in Endpoints, so
    the object stays empty, which satisfies that wait.
    """
    ensure(client, "/api/v1/namespaces", _namespace(namespace))
    metadata = {"name": service, "namespace": namespace}
    ensure(
        client,
        f"/api/v1/namespaces/{namespace}/services",
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": metadata,
            "spec": {"ports": [{"name": "http", "port": port, "targetPort": port}]},
        },
    )
    ensure(
        client,
        f"/api/v1/namespaces/{namespace}/endpoints",
        {"apiVersion": "v1", "kind": "Endpoints", "metadata": metadata, "subsets": []},
    )


class IngressStatusWriter(threading.Thread):
    """Publishes a load-balancer address on every Ingress, as ingress-nginx does once it
    serves one (pulumi-kubernetes waits for it before an Ingress counts as ready)."""

    def __init__(self, client: ApiClient, interval: float = 0.3) -> None:
        super().__init__(name="ingress-status-writer", daemon=True)
        self._client = client
        self._interval = interval
        self._stopped = threading.Event()

    def run(self) -> None:
        while not self._stopped.wait(self._interval):
            try:
                self.publish()
            except (urllib.error.URLError, OSError):
                continue  # the API server is starting or stopping

    def publish(self) -> None:
        for ingress in self._client.get("/apis/networking.k8s.io/v1/ingresses")["items"]:
            if ingress.get("status", {}).get("loadBalancer", {}).get("ingress"):
                continue
            metadata = ingress["metadata"]
            try:
                self._client.merge_patch(
                    f"/apis/networking.k8s.io/v1/namespaces/{metadata['namespace']}"
                    f"/ingresses/{metadata['name']}/status",
                    {"status": {"loadBalancer": {"ingress": [{"ip": LOAD_BALANCER_IP}]}}},
                )
            except urllib.error.HTTPError as error:
                if error.code != 404:  # deleted meanwhile
                    raise

    def stop(self) -> None:
        self._stopped.set()
        self.join(timeout=5)


def _namespace(name: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}


def read_served(
    client: ApiClient, namespace: str, ingress_name: str
) -> tuple[dict[str, Any], dict[str, dict[str, Any]], dict[str, str]]:
    """What ingress-nginx would read for an Ingress: the Ingress, the Secrets it references
    (as manifests with `stringData`, by name) and the controller ConfigMap's data."""
    ingress: dict[str, Any] = client.get(
        f"/apis/networking.k8s.io/v1/namespaces/{namespace}/ingresses/{ingress_name}"
    )
    annotations = ingress["metadata"].get("annotations", {})
    names = {tls["secretName"] for tls in ingress["spec"].get("tls", []) if tls.get("secretName")}
    for key in (AUTH_TLS_SECRET, "proxy-ssl-secret"):
        reference = annotations.get(PREFIX + key)
        if reference:
            names.add(reference.split("/", 1)[1])
    secrets = {name: read_secret(client, namespace, name) for name in sorted(names)}
    controller = client.get(
        f"/api/v1/namespaces/{CONTROLLER_NAMESPACE}/configmaps/{CONTROLLER_CONFIG_MAP}"
    )
    return ingress, secrets, dict(controller.get("data", {}))


def read_secret(client: ApiClient, namespace: str, name: str) -> dict[str, Any]:
    """A Secret from the API server, its data decoded into `stringData`."""
    return with_string_data(client.get(f"/api/v1/namespaces/{namespace}/secrets/{name}"))


def with_string_data(secret: dict[str, Any]) -> dict[str, Any]:
    """A Secret manifest with its base64 `data` decoded into `stringData`, in place."""
    secret["stringData"] = {
        key: base64.b64decode(value).decode() for key, value in secret.get("data", {}).items()
    }
    return secret


@contextmanager
def cluster_with_ingress_nginx(bin_directory: Path, directory: Path) -> Iterator[LocalCluster]:
    """A LocalCluster with what the ingress-nginx chart creates and a writer of Ingress
    load-balancer status, until the block exits (everything stopped, however it exits)."""
    cluster = LocalCluster(bin_directory, directory)
    writer: IngressStatusWriter | None = None
    try:
        cluster.start()
        install_ingress_nginx(cluster.client())
        writer = IngressStatusWriter(cluster.client())
        writer.start()
        yield cluster
    finally:
        if writer is not None:
            writer.stop()
        cluster.stop()
