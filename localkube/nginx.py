"""nginx configured as ingress-nginx v1.15 configures it for an Ingress and its Secrets: what
the conformance tests probe, and what serves the local stack of `make up`.

`render_server` follows rootfs/etc/nginx/template/nginx.tmpl of ingress-nginx: the TLS key
pair of the Ingress's TLS Secret in one PEM file, and, when `auth-tls-secret` names a Secret
with `ca.crt`, the server-level `ssl_client_certificate`, `ssl_verify_client`,
`ssl_verify_depth` (default 1), `ssl_crl` for `ca.crl`, `error_page 495 496 = <page>`, the
`auth-tls-match-cn` check returning 403, and the ssl-client-* headers to the upstream. The
controller ConfigMap's TLS keys become the http-level ssl_* directives.

`running_nginx` starts Debian's nginx on a free 127.0.0.1 port and stops it afterwards.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from components.core import annotations as ingress_nginx
from localkube.echo import echo_upstream
from localkube.processes import free_port, stop_process


@dataclass(frozen=True)
class Site:
    """A rendered server block and what it needs on disk."""

    host: str
    server_block: str


def render_server(
    *,
    ingress: Mapping[str, Any],
    secrets: Mapping[str, Mapping[str, Any]],
    controller_data: Mapping[str, str],
    directory: Path,
    port: int,
    upstream: tuple[str, int],
    annotation_overrides: Mapping[str, str | None] | None = None,
    secret_overrides: Mapping[str, Mapping[str, str]] | None = None,
) -> Site:
    """The server block ingress-nginx renders for `ingress`.

    Args:
        secrets: manifests of the Secrets, by name.
        annotation_overrides / secret_overrides: changes applied on top, for tests that
            show what a different value would do (None removes an annotation).
    """
    annotations = {**ingress["metadata"].get("annotations", {}), **(annotation_overrides or {})}
    annotations = {key: value for key, value in annotations.items() if value is not None}
    namespace = ingress["metadata"]["namespace"]
    spec = ingress["spec"]
    host = spec["rules"][0]["host"]
    paths = [path["path"] for path in spec["rules"][0]["http"]["paths"]]

    def secret_data(name: str) -> dict[str, str]:
        data = dict(secrets[name]["stringData"])
        data.update((secret_overrides or {}).get(name, {}))
        return data

    (tls,) = spec["tls"]
    key_pair = secret_data(tls["secretName"])
    key_pair_file = _write(
        directory / f"{namespace}-{tls['secretName']}.pem",
        key_pair["tls.crt"] + key_pair["tls.key"],
    )
    lines = [
        "server {",
        f"    listen 127.0.0.1:{port} ssl;",
        f"    server_name {host};",
        f"    ssl_certificate {key_pair_file};",
        f"    ssl_certificate_key {key_pair_file};",
    ]
    client_auth = _client_auth(annotations, namespace, secret_data, directory)
    lines += client_auth or []
    pass_certificate = _annotation(annotations, ingress_nginx.AUTH_TLS_PASS_CERTIFICATE) == "true"
    for path in paths:
        lines += _location(path, upstream, client_auth is not None, pass_certificate)
    lines.append("}")
    http_level = _controller_directives(controller_data)
    return Site(host, "\n".join([*http_level, *lines]))


def _annotation(
    annotations: Mapping[str, str], name: str, default: str | None = None
) -> str | None:
    """The value of the ingress-nginx annotation `name` (without its prefix), else `default`."""
    return annotations.get(ingress_nginx.PREFIX + name, default)


def _client_auth(
    annotations: Mapping[str, str],
    namespace: str,
    secret_data: Callable[[str], dict[str, str]],
    directory: Path,
) -> list[str] | None:
    """The server-level directives of client authentication when `auth-tls-secret` names a
    Secret with a `ca.crt` (its files written in `directory`); None without client auth."""
    auth_secret = _annotation(annotations, ingress_nginx.AUTH_TLS_SECRET)
    if not auth_secret:
        return None
    secret_namespace, secret_name = auth_secret.split("/", 1)
    assert secret_namespace == namespace, "the fixture only models one namespace"
    ca = secret_data(secret_name)
    if not ca.get("ca.crt"):
        return None
    lines = []
    match_cn = _annotation(annotations, ingress_nginx.AUTH_TLS_MATCH_CN)
    if match_cn:
        lines += [
            f'    if ( $ssl_client_s_dn !~ "{match_cn}" ) {{',
            '        return 403 "client certificate unauthorized";',
            "    }",
        ]
    depth = (
        int(annotations.get(ingress_nginx.PREFIX + ingress_nginx.AUTH_TLS_VERIFY_DEPTH, 0))
        or ingress_nginx.DEFAULT_VERIFY_DEPTH
    )
    verify_client = _annotation(annotations, ingress_nginx.AUTH_TLS_VERIFY_CLIENT, "on")
    ca_file = _write(directory / f"{namespace}-{secret_name}-ca.pem", ca["ca.crt"])
    lines += [
        f"    ssl_client_certificate {ca_file};",
        f"    ssl_verify_client {verify_client};",
        f"    ssl_verify_depth {depth};",
    ]
    if ca.get("ca.crl"):
        crl_file = _write(directory / f"{namespace}-{secret_name}-crl.pem", ca["ca.crl"])
        lines.append(f"    ssl_crl {crl_file};")
    error_page = _annotation(annotations, ingress_nginx.AUTH_TLS_ERROR_PAGE)
    if error_page:
        lines.append(f"    error_page 495 496 = {error_page};")
    return lines


def _location(
    path: str, upstream: tuple[str, int], client_auth: bool, pass_certificate: bool
) -> list[str]:
    """The location block of `path`, proxying to `upstream` with the ssl-client-* headers when
    clients authenticate (the certificate itself with `auth-tls-pass-certificate-to-upstream`)."""
    lines = [f"    location {path} {{", "        proxy_set_header Host $host;"]
    if client_auth:
        if pass_certificate:
            lines.append("        proxy_set_header ssl-client-cert $ssl_client_escaped_cert;")
        lines += [
            "        proxy_set_header ssl-client-verify $ssl_client_verify;",
            "        proxy_set_header ssl-client-subject-dn $ssl_client_s_dn;",
            "        proxy_set_header ssl-client-issuer-dn $ssl_client_i_dn;",
        ]
    return [*lines, f"        proxy_pass http://{upstream[0]}:{upstream[1]};", "    }"]


def _controller_directives(data: Mapping[str, str]) -> list[str]:
    directives = []
    if "ssl-protocols" in data:
        directives.append(f"ssl_protocols {data['ssl-protocols']};")
    if "ssl-ciphers" in data:
        directives.append(f"ssl_ciphers '{data['ssl-ciphers']}';")
    if "ssl-session-tickets" in data:
        directives.append(
            f"ssl_session_tickets {'on' if data['ssl-session-tickets'] == 'true' else 'off'};"
        )
    return directives


def _write(path: Path, content: str) -> Path:
    path.write_text(content)
    path.chmod(0o600)
    return path


def nginx_binary() -> str:
    found = shutil.which("nginx") or next(
        (path for path in ("/usr/sbin/nginx", "/usr/local/sbin/nginx") if Path(path).exists()), None
    )
    if found is None:
        raise RuntimeError(
            "nginx is not installed; `make test` installs Debian's nginx package when run as root"
        )
    return found


@dataclass(frozen=True)
class RunningNginx:
    master_pid: int
    error_log: Path

    def worker_cpu_seconds(self) -> float:
        """CPU time (user + system) used so far by the worker processes."""
        ticks = os.sysconf("SC_CLK_TCK")
        total = 0
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == self.master_pid:
                total += int(fields[11]) + int(fields[12])
        return total / ticks


@contextmanager
def running_nginx(
    directory: Path, site: Site, port: int, wrapper: Sequence[str] = ()
) -> Iterator[RunningNginx]:
    """Runs nginx with `site` until the block exits (run by `wrapper`, such as faketime, when
    given)."""
    for folder in ("tmp", "logs"):
        (directory / folder).mkdir(exist_ok=True)
    error_log = directory / "logs" / "error.log"
    run_as = "user root;" if os.geteuid() == 0 else ""
    config = directory / "nginx.conf"
    config.write_text(
        f"""{run_as}
worker_processes 1;
daemon off;
pid {directory}/nginx.pid;
error_log {error_log} info;
events {{ worker_connections 64; }}
http {{
    access_log {directory}/logs/access.log;
    client_body_temp_path {directory}/tmp/body;
    proxy_temp_path {directory}/tmp/proxy;
    fastcgi_temp_path {directory}/tmp/fastcgi;
    uwsgi_temp_path {directory}/tmp/uwsgi;
    scgi_temp_path {directory}/tmp/scgi;
{site.server_block}
}}
"""
    )
    binary = nginx_binary()
    checked = subprocess.run(
        [binary, "-t", "-p", str(directory), "-c", str(config), "-e", str(error_log)],
        capture_output=True,
        text=True,
        check=False,
    )
    if checked.returncode != 0:
        raise RuntimeError(
            f"nginx rejected the configuration:\n{checked.stderr}\n{config.read_text()}"
        )
    process = subprocess.Popen(
        [*wrapper, binary, "-p", str(directory), "-c", str(config), "-e", str(error_log)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        _wait_for_port(port, process)
        yield RunningNginx(process.pid, error_log)
    finally:
        # SIGQUIT: nginx's graceful shutdown, sent to the master itself: a wrapper such as
        # faketime runs nginx as its child and does not pass signals on, which left the
        # master running after the wrapper had stopped.
        _signal_master(directory / "nginx.pid", signal.SIGQUIT)
        stop_process(process, signal.SIGQUIT, timeout=10)


def _signal_master(pid_file: Path, signal_number: int) -> None:
    with contextlib.suppress(OSError, ValueError):  # never started, or already gone
        os.kill(int(pid_file.read_text().strip()), signal_number)


@contextmanager
def serving(
    *,
    ingress: Mapping[str, Any],
    secrets: Mapping[str, Mapping[str, Any]],
    controller_data: Mapping[str, str],
    directory: Path,
    annotation_overrides: Mapping[str, str | None] | None = None,
    secret_overrides: Mapping[str, Mapping[str, str]] | None = None,
    wrapper: Sequence[str] = (),
) -> Iterator[tuple[Site, int]]:
    """nginx on a free loopback port serving `ingress` as ingress-nginx would, in front of an
    upstream that answers with the request headers it got; yields the site and the port.
    `wrapper` runs nginx (faketime, to serve at another date)."""
    port = free_port()
    with echo_upstream() as upstream:
        site = render_server(
            ingress=ingress,
            secrets=secrets,
            controller_data=controller_data,
            directory=directory,
            port=port,
            upstream=upstream,
            annotation_overrides=annotation_overrides,
            secret_overrides=secret_overrides,
        )
        with running_nginx(directory, site, port, wrapper):
            yield site, port


def _wait_for_port(port: int, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if process.poll() is not None:
            stderr = process.stderr.read().decode() if process.stderr else ""
            raise RuntimeError(f"nginx exited with {process.returncode}: {stderr}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nginx did not listen on 127.0.0.1:{port} within 10 s")
