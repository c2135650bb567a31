"""Recover a stack from an interrupted run: `python -m components.recovery`.

A `pulumi up` on a self-managed backend (file://, s3://, postgres://, ...) locks the stack with a
file under `.pulumi/locks/`. A run that is killed (a cancelled job, a lost runner, the
out-of-memory killer) leaves its lock behind, and every later `up` fails "the stack is currently
locked" until someone runs `pulumi cancel`. On a file backend, a kill in the middle of a
checkpoint write can also leave the checkpoint's metadata file (`<stack>.json.attrs`) empty, and
then every command fails "failed to load checkpoint: EOF".

    python -m components.recovery repair [--stack dev]
    python -m components.recovery up --stack dev -- --policy-pack policy

`repair` removes every empty `*.attrs` file under the file backend's `.pulumi/` whose data file
exists: the data file reads the same without it. It never touches a non-empty file.

`up` is what the deploy workflow runs: `repair`, then it records this run as the stack's deployer
(stack tag `mtls-ingress:deployer`: "<host> run <id>.<attempt> of <workflow>", or "<host> pid N"
outside GitHub Actions), runs `pulumi up --yes`, and when that fails because the stack is locked,
clears the lock only if it was left by a run of this workflow that is over. A lock is that only
when all of these hold:

- its host is the host recorded by the previous deployer of the stack (the tag read before this
  run overwrote it);
- that deployer and this run are both runs of the same GitHub Actions workflow: the workflow's
  concurrency group runs one at a time, so the previous run has ended;
- its host is another machine, or this machine and its pid is no longer running.

Then the command says which lock it clears, runs `pulumi cancel --yes` and `pulumi up` once more.
Any other lock may belong to an update that is still running: the command removes nothing, names
every lock and exits with pulumi's exit code. Run by hand, it therefore never clears a lock.

Known limit: `pulumi cancel` removes every lock of the stack, not just the one that was checked.
A process that takes the lock in the instant between the check and the cancel loses it, and two
updates of the stack could then run at once. Only the deploy workflow is expected to start an
update of its stacks, and its runs do not overlap.

On Pulumi Cloud (no self-managed backend URL), `up` is `pulumi up` alone: the service keeps its
own record of running updates, and has no lock files or metadata files to repair.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Mapping, Sequence
from typing import IO

from components.stack_locks import (
    DEPLOYER_TAG,
    Deployer,
    cleared_message,
    clears,
    judge_locks,
    parse_locks,
    pid_alive,
    refusal_message,
)
from components.state_backend import backend_kind, backend_url, pending_creates, repair


def up(stack: str, extra: Sequence[str], environ: Mapping[str, str]) -> int:
    """`pulumi up` of `stack` as the deploy workflow runs it (see the module docstring)."""
    command = ["up", "--yes", "--stack", stack, *extra]
    url = backend_url(environ)
    kind = backend_kind(url)
    if kind == "cloud":
        return _stream(command)[0]
    if kind == "file":
        for line in repair(url, stack=stack):
            print(line)
    previous = _read_deployer(stack)
    current = Deployer.of_this_run(environ, host=socket.gethostname(), pid=os.getpid())
    tagged = _pulumi("stack", "tag", "set", DEPLOYER_TAG, current.tag_value, "--stack", stack)
    if tagged.returncode != 0:
        print(f"warning: could not record this run on {stack}: {tagged.stderr.strip()}")
    status, output = _stream(command)
    if status == 0:
        return _settle(stack)
    locks = parse_locks(output)
    if locks is None:
        return status
    verdicts = judge_locks(locks, previous=previous, current=current, pid_alive=pid_alive)
    if not clears(verdicts):
        print(refusal_message(stack, verdicts), file=sys.stderr)
        return status
    for verdict in verdicts:
        print(cleared_message(stack, verdict.lock))
    cancelled = _pulumi("cancel", "--yes", "--stack", stack)
    if cancelled.returncode != 0:
        print(cancelled.stdout + cancelled.stderr, file=sys.stderr)
        return cancelled.returncode
    status = _stream(command)[0]
    return _settle(stack) if status == 0 else status


def _settle(stack: str) -> int:
    """Clears the creates a killed run left pending, once `pulumi up` has succeeded.

    The engine keeps them in the state, warns about them on every later run and refuses a
    non-interactive `pulumi refresh` until they are dealt with. The components name every object
    the same on each attempt (components.kubernetes.ownership), so the successful run has
    written the very object a pending create stands for: the create is settled. One whose
    resource the program no longer declares may have left an object behind: it is named, for
    the operator to check, before the records are cleared.
    """
    exported = _pulumi("stack", "export", "--stack", stack)
    if exported.returncode != 0:
        print(exported.stderr, file=sys.stderr)
        return exported.returncode
    adopted, missing = pending_creates(json.loads(exported.stdout)["deployment"])
    if not adopted and not missing:
        return 0
    for urn in adopted:
        print(f"settled the pending create of {urn}: this run wrote its object")
    for urn in missing:
        print(
            f"warning: {urn} was being created by an interrupted run and is no longer declared: "
            "check that its object does not exist any more"
        )
    # The lighter documented way to drop pending creates: a refresh that clears them.
    cleared = _pulumi(
        "refresh", "--yes", "--skip-preview", "--clear-pending-creates", "--stack", stack
    )
    if cleared.returncode != 0:
        print(cleared.stdout + cleared.stderr, file=sys.stderr)
    return cleared.returncode


def main(argv: Sequence[str] | None = None) -> int:
    arguments = list(sys.argv[1:] if argv is None else argv)
    extra: list[str] = []
    if "--" in arguments:
        split = arguments.index("--")
        arguments, extra = arguments[:split], arguments[split + 1 :]
    parser = argparse.ArgumentParser(
        prog=f"python -m {__spec__.name if __spec__ else __name__}",
        description=__doc__.split("\n\n")[0],
    )
    commands = parser.add_subparsers(dest="command", required=True)
    repair_command = commands.add_parser(
        "repair", help="remove the empty metadata files an interrupted write leaves"
    )
    repair_command.add_argument("--stack", help="only this stack's files (default: all)")
    up_command = commands.add_parser(
        "up",
        help="pulumi up, clearing a lock left by a run of this workflow that is over",
        epilog="Arguments after -- go to pulumi up, e.g. -- --policy-pack policy.",
    )
    up_command.add_argument("--stack", required=True, help="the stack to update")
    parsed = parser.parse_args(arguments)
    if parsed.command == "repair":
        if extra:
            parser.error("repair takes no arguments after --")
        for line in repair(backend_url(os.environ), stack=parsed.stack):
            print(line)
        return 0
    return up(parsed.stack, extra, os.environ)


def _read_deployer(stack: str) -> Deployer | None:
    listed = _pulumi("stack", "tag", "ls", "--json", "--stack", stack)
    try:
        value = json.loads(listed.stdout).get(DEPLOYER_TAG) if listed.returncode == 0 else None
    except ValueError:
        value = None
    return Deployer.parse(value) if isinstance(value, str) else None


def _pulumi(*arguments: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["pulumi", "--non-interactive", *arguments],
        capture_output=True,
        text=True,
        check=False,
    )


def _stream(arguments: Sequence[str]) -> tuple[int, str]:
    """Run pulumi with its output passed through as it comes; its exit code and output."""
    process = subprocess.Popen(
        ["pulumi", "--non-interactive", *arguments],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        bufsize=1,
    )
    lines: list[str] = []

    def copy(source: IO[str], sink: IO[str]) -> None:
        for line in source:
            sink.write(line)
            sink.flush()
            lines.append(line)

    assert process.stdout is not None and process.stderr is not None
    copiers = [
        threading.Thread(target=copy, args=(process.stdout, sys.stdout)),
        threading.Thread(target=copy, args=(process.stderr, sys.stderr)),
    ]
    for copier in copiers:
        copier.start()
    for copier in copiers:
        copier.join()
    return process.wait(), "".join(lines)


if __name__ == "__main__":
    sys.exit(main())
