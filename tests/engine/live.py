"""Reading a deployed stack back: its objects from the API server, its state from the engine,
the steps of a preview, and a watch on Secrets while an update runs."""

from __future__ import annotations

import http.client
import json
import socket
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from localkube.cluster import ApiClient
from localkube.engine import Engine, exported_state
from localkube.objects import read_served
from localkube.state import key_pair
from tests.conformance.site import Declared

SECRET = "kubernetes:core/v1:Secret"


def preview_steps(engine: Engine, *arguments: str) -> list[tuple[str, str, str]]:
    """(operation, type, name) of every step of `pulumi preview` that is not "same"."""
    preview: dict[str, Any] = json.loads(engine.run("preview", "--json", *arguments).stdout)
    return sorted(
        (step["op"], step["urn"].rsplit("::", 2)[1].split("$")[-1], step["urn"].rsplit("::", 1)[1])
        for step in preview["steps"]
        if step["op"] != "same"
    )


def changed_resources(
    engine: Engine, *arguments: str, wrapper: Sequence[str] = ()
) -> list[tuple[str, str]]:
    """(operation, name) of every resource `pulumi preview` changes, a replacement once as
    "replace" (run by `wrapper`, such as faketime, when given)."""
    completed = engine.run("preview", "--json", *arguments, wrapper=wrapper)
    preview: dict[str, Any] = json.loads(completed.stdout)
    return sorted(
        (step["op"], step["urn"].rsplit("::", 1)[1])
        for step in preview["steps"]
        # A StackReference is read on every run and changes nothing.
        if step["op"] not in ("same", "read", "create-replacement", "delete-replaced")
    )


def rendered_objects(directory: Path) -> list[dict[str, Any]]:
    """Every object `kubernetes:renderYamlToDirectory` wrote under `directory`."""
    return [
        document
        for path in sorted(directory.rglob("*.yaml"))
        for document in yaml.safe_load_all(path.read_text())
        if document
    ]


def served(
    client: ApiClient,
    namespace: str,
    ingress: str,
    outputs: dict[str, Any],
    *,
    client_ca: tuple[str, str] = ("", ""),
    revoked_clients: dict[str, tuple[str, str]] | None = None,
) -> Declared:
    """The deployed Ingress, its Secrets and the controller ConfigMap, read back from the API
    server, with the outputs that name the clients (`clientCertificates`,
    `clientPrivateKeys`) and the server CA (`serverCaCertificate`), as the conformance site
    serves them."""
    served_ingress, secrets, controller_data = read_served(client, namespace, ingress)
    return Declared(
        ingress=served_ingress,
        secrets=secrets,
        controller_data=controller_data,
        outputs=outputs,
        client_ca_certificate_pem=client_ca[0],
        client_ca_private_key_pem=client_ca[1],
        revoked_clients=revoked_clients or {},
    )


def live_declared(client: ApiClient, engine: Engine, namespace: str, ingress: str) -> Declared:
    """The project's stack deployed by `engine`, as the conformance site serves it."""
    outputs = engine.outputs(show_secrets=True)
    exported = exported_state(engine)
    return served(
        client,
        namespace,
        ingress,
        outputs,
        client_ca=key_pair(exported, "mtls-ingress-client-ca"),
        revoked_clients={
            name: key_pair(exported, f"mtls-ingress-client-{name}")
            for name in outputs["revokedClientSerials"]
        },
    )


@dataclass
class Watch:
    """Every event of a watch: (type, name, resourceVersion, object)."""

    objects: list[tuple[str, str, str, dict[str, Any]]] = field(default_factory=list)

    def names(self, event_type: str) -> set[str]:
        return {name for kind, name, _, _ in self.objects if kind == event_type}


@contextmanager
def watching(client: ApiClient, collection: str) -> Iterator[Watch]:
    """Watches a collection (`/api/v1/namespaces/x/secrets`) from now until the block ends."""
    version = client.get(collection)["metadata"]["resourceVersion"]
    watch = Watch()
    connection, stream = client.stream(f"{collection}?watch=true&resourceVersion={version}")

    def read() -> None:
        try:
            for line in stream:
                event = json.loads(line)
                metadata = event["object"]["metadata"]
                watch.objects.append(
                    (event["type"], metadata["name"], metadata["resourceVersion"], event["object"])
                )
        except (OSError, ValueError, http.client.HTTPException):
            return  # the connection was shut down

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        yield watch
    finally:
        # Events of the last moments of the update are in flight: let them arrive.
        time.sleep(1.0)
        assert connection.sock is not None
        connection.sock.shutdown(socket.SHUT_RDWR)
        reader.join(timeout=10)
        connection.close()


def watching_secrets(client: ApiClient, namespace: str) -> AbstractContextManager[Watch]:
    return watching(client, f"/api/v1/namespaces/{namespace}/secrets")


def watching_ingresses(client: ApiClient, namespace: str) -> AbstractContextManager[Watch]:
    return watching(client, f"/apis/networking.k8s.io/v1/namespaces/{namespace}/ingresses")


def up_watched(engine: Engine, client: ApiClient, namespace: str) -> tuple[Watch, Watch]:
    """`pulumi up` while watching the Secrets and the Ingresses of `namespace`: their events,
    in that order."""
    with (
        watching_secrets(client, namespace) as secrets,
        watching_ingresses(client, namespace) as ingresses,
    ):
        engine.run("up", "--yes", "--skip-preview")
    return secrets, ingresses


def secret_names(engine: Engine) -> dict[str, str]:
    """The stack output `secretNames`: the name of each Secret the stack writes, by role."""
    names: dict[str, str] = json.loads(
        engine.run("stack", "output", "secretNames", "--json").stdout
    )
    return names


AUTH_TLS_SECRET = "nginx.ingress.kubernetes.io/auth-tls-secret"


def referenced_secrets(ingress: dict[str, Any]) -> set[str]:
    """The names of the Secrets an Ingress reads: its TLS Secrets and its client CA Secret."""
    names = {tls["secretName"] for tls in ingress["spec"].get("tls", [])}
    reference = ingress["metadata"].get("annotations", {}).get(AUTH_TLS_SECRET)
    if reference:
        names.add(reference.split("/", 1)[1])
    return names


def assert_ingress_never_names_a_missing_secret(
    secrets: Watch, ingresses: Watch, before: set[str]
) -> set[str]:
    """Replays the watched events in the order the API server applied them (resourceVersion:
    one etcd assigns them from one increasing revision) and fails if the Ingress ever named a
    Secret that did not exist, or a Secret it named was deleted. `before`: the Secrets it named
    when the watches began. Returns those it names at the end."""
    timeline = sorted(
        [("secret", *event) for event in secrets.objects]
        + [("ingress", *event) for event in ingresses.objects],
        key=lambda entry: int(entry[3]),
    )
    existing, referenced = set(before), set(before)
    for kind, event_type, name, _version, obj in timeline:
        if kind == "secret":
            if event_type == "ADDED":
                existing.add(name)
            elif event_type == "DELETED":
                assert name not in referenced, f"{name} deleted while the Ingress names it"
                existing.discard(name)
        else:
            referenced = referenced_secrets(obj)
            assert referenced <= existing, f"the Ingress names {referenced - existing}"
    return referenced
