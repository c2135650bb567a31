"""Deploys the `local` stack to a throwaway cluster on this machine and checks that it enforces
mutual TLS: `python -m localkube` (what `make up` runs when there is no cluster to deploy to).

1. builds the engine, its plugins and the control plane (toolchain/build.sh; cached);
2. starts etcd, kube-apiserver and kube-controller-manager on 127.0.0.1, with what the
   ingress-nginx chart creates and the backend Service of `Pulumi.local.yaml`;
3. `pulumi up` of the `local` stack, its state in the run's folder (`--backend file`, the
   default), in an S3-compatible object store (`--backend s3`: versitygw serving a folder) or in
   PostgreSQL (`--backend postgres`), each served on 127.0.0.1 for the run;
4. reads the Ingress and its Secrets back from the API server, serves them with nginx as
   ingress-nginx v1.15 would, and runs `python -m components.check` against it;
5. stops everything and removes the folder (`--keep` leaves the folder, with the state unless
   PostgreSQL held it, the kubeconfig and the logs).

The stack's secrets are encrypted with a passphrase that is written here, so it protects
nothing: the state is thrown away with the cluster it describes.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from localkube.backends import BACKEND_KINDS, StateBackend, state_backend
from localkube.cluster import ApiClient, LocalCluster
from localkube.engine import LOCAL_PASSPHRASE, PROJECT_DIR
from localkube.envoy_gateway import install_envoy_gateway_crds, read_gateway, serving_gateway
from localkube.nginx import serving
from localkube.objects import (
    IngressStatusWriter,
    install_backend,
    install_ingress_nginx,
    read_served,
)
from localkube.state import key_pair

STACK = "local"
ENFORCERS = ("ingress-nginx", "gateway-api")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m localkube", description=__doc__.split("\n")[0])
    parser.add_argument("--keep", action="store_true", help="keep the run's folder")
    parser.add_argument(
        "--enforcer",
        choices=ENFORCERS,
        default="ingress-nginx",
        help="what enforces mutual TLS: ingress-nginx (served by nginx, the default) or "
        "gateway-api (served by Envoy Gateway and Envoy)",
    )
    parser.add_argument(
        "--backend",
        choices=BACKEND_KINDS,
        default="file",
        help="where the stack's state is kept: a folder (default), an S3-compatible object "
        "store or PostgreSQL, started on 127.0.0.1 for the run",
    )
    arguments = parser.parse_args(argv)
    folder = Path(tempfile.mkdtemp(prefix="mtls-ingress-local-"))
    bin_directory = _toolchain()
    cluster = LocalCluster(bin_directory, folder / "cluster")
    writer: IngressStatusWriter | None = None
    try:
        _say(f"starting a local Kubernetes API server in {folder}")
        cluster.start()
        client = cluster.client()
        if arguments.enforcer == "gateway-api":
            # A cluster with Envoy Gateway and no ingress-nginx.
            install_envoy_gateway_crds(client, bin_directory)
        else:
            install_ingress_nginx(client)
            writer = IngressStatusWriter(client)
            writer.start()

        with state_backend(arguments.backend, folder, bin_directory) as state:
            _say(f"keeping the stack's state in the {state.kind} backend {state.url}")
            environment = _engine_environment(bin_directory, state, cluster)
            config_file = _stack_file(folder, arguments.enforcer)
            return _deploy_and_check(
                Deployment(environment, config_file, bin_directory), folder, client, cluster.server
            )
    finally:
        if writer is not None:
            writer.stop()
        cluster.stop()
        if arguments.keep:
            _say(f"kept {folder}")
        else:
            shutil.rmtree(folder, ignore_errors=True)


@dataclass(frozen=True)
class Deployment:
    """How to run pulumi for the `local` stack: its environment and its stack config file."""

    environment: Mapping[str, str]
    config_file: Path
    bin_directory: Path

    def pulumi(self, *arguments: str) -> None:
        subprocess.run(
            ["pulumi", "--non-interactive", *arguments],
            cwd=PROJECT_DIR,
            env=dict(self.environment),
            check=True,
        )

    def up(self) -> None:
        self.pulumi("up", "--yes", "--stack", STACK, "--config-file", str(self.config_file))

    def output(self, *arguments: str) -> str:
        completed = subprocess.run(
            ["pulumi", "--non-interactive", *arguments, "--stack", STACK],
            cwd=PROJECT_DIR,
            env=dict(self.environment),
            capture_output=True,
            text=True,
            check=True,
        )
        return completed.stdout


def _stack_file(folder: Path, enforcer: str) -> Path:
    """`Pulumi.local.yaml` as committed, or, for Gateway API, with the enforcer switched to
    Envoy Gateway: a copy in the run's folder, so that the checkout's file is never written."""
    committed = PROJECT_DIR / f"Pulumi.{STACK}.yaml"
    if enforcer == "ingress-nginx":
        return committed
    document = yaml.safe_load(committed.read_text())
    document["config"] |= {
        "mtls-ingress:enforcer": "gateway-api",
        "mtls-ingress:gateway": {"className": "envoy-gateway", "implementation": "envoy-gateway"},
    }
    copy = folder / committed.name
    copy.write_text(yaml.safe_dump(document))
    return copy


def _deploy_and_check(deployment: Deployment, folder: Path, client: ApiClient, server: str) -> int:
    """Deploys the `local` stack with what its config needs in the cluster, and checks what
    the API server then holds as served by its enforcer's data plane."""
    deployment.pulumi("stack", "init", STACK)
    config = _stack_config(deployment)
    namespace = config["namespace"]
    backend = config["ingress"]["backend"]
    install_backend(client, namespace, backend["service"], int(backend["port"]))
    _say(f"deploying stack {STACK} to {server}")
    deployment.up()

    name = config["ingress"].get("name", backend["service"])
    if config.get("enforcer") == "gateway-api":
        objects = read_gateway(client, namespace, config["gateway"].get("name") or name)
        served_folder = folder / "envoy-gateway"
        with serving_gateway(objects, served_folder, deployment.bin_directory) as gateway:
            _say(
                "serving the deployed Gateway with Envoy Gateway and Envoy on "
                f"127.0.0.1:{gateway.port}"
            )
            return _check(deployment, folder, gateway.port)
    ingress, secrets, controller_data = read_served(client, namespace, name)
    nginx_folder = folder / "nginx"
    nginx_folder.mkdir()
    with serving(
        ingress=ingress, secrets=secrets, controller_data=controller_data, directory=nginx_folder
    ) as (_site, port):
        _say(f"serving the deployed Ingress and Secrets with nginx on 127.0.0.1:{port}")
        return _check(deployment, folder, port)


def _check(deployment: Deployment, folder: Path, port: int) -> int:
    """The check command against what serves the stack on 127.0.0.1:`port`."""
    checked = subprocess.run(
        [
            sys.executable,
            "-m",
            "components.check",
            "--stack",
            STACK,
            "--connect-to",
            f"127.0.0.1:{port}",
            *_revoked_clients(deployment, folder / "revoked"),
        ],
        cwd=PROJECT_DIR,
        env=dict(deployment.environment),
        check=False,
    )
    return checked.returncode


def _revoked_clients(deployment: Deployment, folder: Path) -> list[str]:
    """`--revoked CERT KEY` for each revoked client, from the state: the stack does not export
    their keys, but the check should see them refused too."""
    revoked = json.loads(deployment.output("stack", "output", "revokedClientSerials", "--json"))
    exported = deployment.output("stack", "export", "--show-secrets")
    folder.mkdir(mode=0o700)
    arguments = []
    for name in revoked:
        certificate, key = key_pair(exported, f"mtls-ingress-client-{name}")
        certificate_file, key_file = folder / f"{name}.crt", folder / f"{name}.key"
        certificate_file.write_text(certificate)
        key_file.write_text(key)
        key_file.chmod(0o600)
        arguments += ["--revoked", str(certificate_file), str(key_file)]
    return arguments


def _toolchain() -> Path:
    completed = subprocess.run(
        ["bash", str(PROJECT_DIR / "toolchain" / "build.sh")],
        stdout=subprocess.PIPE,
        text=True,
        check=True,
    )
    return Path(completed.stdout.strip().splitlines()[-1])


def _engine_environment(
    bin_directory: Path, state: StateBackend, cluster: LocalCluster
) -> dict[str, str]:
    return {
        **os.environ,
        "PATH": f"{bin_directory}{os.pathsep}{os.environ['PATH']}",
        **state.cli_environment(),
        "PULUMI_CONFIG_PASSPHRASE": LOCAL_PASSPHRASE,
        "PULUMI_SKIP_UPDATE_CHECK": "true",
        "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true",
        "KUBECONFIG": str(cluster.kubeconfig),
    }


def _stack_config(deployment: Deployment) -> dict[str, Any]:
    """The stack's `mtls-ingress:` config as the engine reads it, objects decoded."""
    prefix = "mtls-ingress:"
    listed = deployment.output("config", "--json", "--config-file", str(deployment.config_file))
    return {
        key.removeprefix(prefix): entry.get("objectValue", entry.get("value"))
        for key, entry in json.loads(listed).items()
        if key.startswith(prefix)
    }


def _say(message: str) -> None:
    print(f"==> {message}", flush=True)


if __name__ == "__main__":
    sys.exit(main())
