"""Where a stack's state lives (the backend pulumi uses here), the repair of a file backend's
metadata files that an interrupted write left empty, and the creates an interrupted run left
pending in a state."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Mapping
from pathlib import Path, PurePath
from typing import Any, Literal
from urllib.parse import urlsplit

BackendKind = Literal["file", "self-managed", "cloud"]


def backend_kind(url: str | None) -> BackendKind:
    if url is None:
        return "cloud"
    scheme = urlsplit(url).scheme.lower()
    if scheme == "file":
        return "file"
    return "cloud" if scheme in ("", "http", "https") else "self-managed"


def file_backend_root(url: str, *, cwd: Path, home: Path) -> Path:
    """The directory of a file:// backend, resolved as pulumi resolves it (pulumi/pulumi
    pkg/backend/diy/backend.go, massageBlobPath): `~` is the home directory, a relative path
    is relative to the working directory, the query string is not part of the path."""
    path = url.removeprefix("file://").split("?", 1)[0]
    if path == "~" or path.startswith("~/"):
        path = str(home / path[2:])
    return cwd / path


def empty_metadata_files(root: Path, *, stack: str | None = None) -> list[Path]:
    """Every empty `*.attrs` file under `root/.pulumi` whose data file exists; with `stack`,
    only those of that stack's files and of the files every stack needs (meta.yaml)."""
    bookkeeping = root / ".pulumi"
    found = []
    for attrs in sorted(bookkeeping.rglob("*.attrs")):
        data = attrs.with_name(attrs.name.removesuffix(".attrs"))
        if (
            attrs.is_file()
            and attrs.stat().st_size == 0
            and data.is_file()
            and _concerns(data.relative_to(bookkeeping), stack)
        ):
            found.append(attrs)
    return found


def _concerns(relative: PurePath, stack: str | None) -> bool:
    if stack is None:
        return True
    name = stack.rsplit("/", 1)[-1]
    top = relative.parts[0]
    if top == "stacks":
        return relative.name.startswith(f"{name}.")
    if top in ("history", "backups", "locks"):
        return name in relative.parts[1:-1]
    return True


def repair(url: str | None, *, stack: str | None = None) -> list[str]:
    """Remove the empty metadata files of a file backend; one line of report per file."""
    if backend_kind(url) != "file" or url is None:
        where = "Pulumi Cloud" if url is None else f"a {urlsplit(url).scheme}:// backend"
        return [f"nothing to repair: the stack is on {where}, not on a file backend"]
    root = file_backend_root(url, cwd=Path.cwd(), home=Path.home())
    report = []
    for attrs in empty_metadata_files(root, stack=stack):
        attrs.unlink()
        data = attrs.with_name(attrs.name.removesuffix(".attrs"))
        report.append(
            f"repaired {data}: removed its empty metadata file {attrs.name}, left by an "
            "interrupted write (the file reads the same without it)"
        )
    return report or [f"nothing needed repair in {root / '.pulumi'}"]


def backend_url(environ: Mapping[str, str]) -> str | None:
    """The backend pulumi uses here: PULUMI_BACKEND_URL, else what `pulumi whoami` reports,
    else the current login in PULUMI_HOME's credentials.json; None for Pulumi Cloud's default."""
    if environ.get("PULUMI_BACKEND_URL", "").strip():
        return environ["PULUMI_BACKEND_URL"].strip()
    whoami = _pulumi("whoami", "--json")
    if whoami.returncode == 0:
        try:
            url = json.loads(whoami.stdout).get("url")
        except ValueError:
            url = None
        if isinstance(url, str) and url:
            return url
    verbose = _pulumi("whoami", "-v")
    for line in verbose.stdout.splitlines() if verbose.returncode == 0 else []:
        if line.startswith("Backend URL:"):
            return line.split(":", 1)[1].strip() or None
    home = Path(environ.get("PULUMI_HOME") or Path.home() / ".pulumi")
    try:
        current = json.loads((home / "credentials.json").read_text()).get("current")
    except (OSError, ValueError):
        return None
    return current if isinstance(current, str) and current else None


def _pulumi(*arguments: str) -> subprocess.CompletedProcess[str]:
    command = ["pulumi", "--non-interactive", *arguments]
    try:
        return subprocess.run(command, capture_output=True, text=True, check=False)
    except FileNotFoundError as error:
        return subprocess.CompletedProcess(command, 127, "", str(error))


def pending_creates(deployment: Mapping[str, Any]) -> tuple[list[str], list[str]]:
    """The creates a killed run left pending in a state (`pulumi stack export`'s deployment):
    (those whose resource the state now holds, adopted by a later run; those it does not)."""
    held = {resource["urn"] for resource in deployment.get("resources") or []}
    adopted: list[str] = []
    missing: list[str] = []
    for operation in deployment.get("pending_operations") or []:
        if operation.get("type") != "creating":
            continue
        urn = operation["resource"]["urn"]
        (adopted if urn in held else missing).append(urn)
    return adopted, missing
