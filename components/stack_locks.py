"""Stack locks of a self-managed backend, and the rule that tells which one a run of the deploy
workflow may clear (components/recovery.py uses it; the rule is explained there).

A lock is left by a run of the workflow that is over only when its host is the host recorded by
the stack's previous deployer, that deployer and this run are runs of the same workflow (whose
concurrency group runs one at a time), and the host is another machine or, on this machine, the
lock's pid no longer runs.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

DEPLOYER_TAG = "mtls-ingress:deployer"
# pulumi/pulumi pkg/util/validation/stack.go: a tag value holds at most 256 characters.
MAX_TAG_VALUE = 256
LOCKED = "the stack is currently locked by"
# pulumi/pulumi pkg/backend/diy/lock.go, checkForLock: one line per lock after LOCKED.
_LOCK_LINE = re.compile(
    r"^\s*(?P<url>\S.*?): created by (?P<user>.*)@(?P<host>[^@\s]*) "
    r"\(pid (?P<pid>-?\d+)\) at (?P<time>\S+)\s*$"
)
_WORKFLOW_RUN = re.compile(r"^(?P<run>run \S+) of (?P<workflow>\S.*)$")
_ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


@dataclass(frozen=True)
class Lock:
    """One lock file of a stack, as pulumi's "currently locked" error describes it."""

    url: str
    user: str
    host: str
    pid: int
    time: str

    def __str__(self) -> str:
        return f"{self.user}@{self.host} (pid {self.pid}) at {self.time}"


@dataclass(frozen=True)
class Deployer:
    """Who ran `up` of a stack: the value of its `mtls-ingress:deployer` tag."""

    host: str
    run: str
    """Which run: `run <id>.<attempt>` in GitHub Actions, else `pid <pid>`."""
    workflow: str | None = None
    """The workflow file of a workflow run (`<owner>/<repo>/.github/workflows/<file>`)."""

    @property
    def tag_value(self) -> str:
        value = f"{self.host} {self.run}" + (f" of {self.workflow}" if self.workflow else "")
        return value[:MAX_TAG_VALUE]

    @classmethod
    def parse(cls, value: str) -> Deployer | None:
        host, _, run = value.strip().partition(" ")
        if not host:
            return None
        match = _WORKFLOW_RUN.match(run)
        if match is None:
            return cls(host, run)
        return cls(host, match["run"], match["workflow"])

    @classmethod
    def of_this_run(cls, environ: Mapping[str, str], *, host: str, pid: int) -> Deployer:
        """This process, as a run of a GitHub Actions workflow when GITHUB_RUN_ID is set."""
        run_id = environ.get("GITHUB_RUN_ID", "")
        if not run_id:
            return cls(host, f"pid {pid}")
        # The workflow file, without the ref it ran at: its runs share one concurrency group
        # whichever branch they come from.
        workflow = environ.get("GITHUB_WORKFLOW_REF", "").split("@", 1)[0] or None
        return cls(host, f"run {run_id}.{environ.get('GITHUB_RUN_ATTEMPT', '1')}", workflow)


@dataclass(frozen=True)
class Verdict:
    """Whether a lock was left by a run of this workflow that is over, and why."""

    lock: Lock
    dead: bool
    reason: str


def parse_locks(output: str) -> list[Lock] | None:
    """The locks named by pulumi's "the stack is currently locked" error in `output`, or None
    when `output` holds no such error."""
    text = _ANSI_ESCAPE.sub("", output)
    if LOCKED not in text:
        return None
    locks: dict[str, Lock] = {}
    for line in text.splitlines():
        match = _LOCK_LINE.match(line)
        if match is not None:
            lock = Lock(
                match["url"], match["user"], match["host"], int(match["pid"]), match["time"]
            )
            locks.setdefault(lock.url, lock)
    return list(locks.values())


def judge_locks(
    locks: Sequence[Lock],
    *,
    previous: Deployer | None,
    current: Deployer,
    pid_alive: Callable[[int], bool],
) -> list[Verdict]:
    """Judge each lock by the rule of this module's docstring.

    Args:
        previous: the deployer recorded on the stack before this run overwrote it.
        current: this run.
        pid_alive: whether a pid runs on this machine.
    """
    verdicts = []
    for lock in locks:
        if previous is None:
            reason = f"no earlier run of this workflow is recorded on the stack ({DEPLOYER_TAG})"
        elif lock.host != previous.host:
            reason = (
                f"{lock.host} is not the host of the stack's previous deployer ({previous.host})"
            )
        elif previous.workflow is None or previous.workflow != current.workflow:
            reason = (
                f"the stack's previous deployer ({previous.tag_value}) and this command are not "
                "both runs of one workflow, so that deployer may still be running"
            )
        elif lock.host == current.host and pid_alive(lock.pid):
            reason = f"pid {lock.pid} is still running on this host"
        else:
            over = f"pid {lock.pid} no longer runs here" if lock.host == current.host else "over"
            verdicts.append(Verdict(lock, True, f"left by the previous run ({over})"))
            continue
        verdicts.append(Verdict(lock, False, reason))
    return verdicts


def clears(verdicts: Sequence[Verdict]) -> bool:
    """`pulumi cancel` removes every lock, so it may run only when each one is dead."""
    return bool(verdicts) and all(verdict.dead for verdict in verdicts)


def cleared_message(stack: str, lock: Lock) -> str:
    return (
        f"cleared the lock of {stack} left by a run of this workflow that is no longer "
        f"running: {lock}"
    )


def refusal_message(stack: str, verdicts: Sequence[Verdict]) -> str:
    lines = [f"the stack {stack} is locked; no lock was removed, as one may be in use:"]
    lines += [f"  {verdict.lock}: {verdict.reason}" for verdict in verdicts]
    if not verdicts:
        lines.append("  (pulumi named no lock this command could read)")
    lines.append(
        "A lock can belong to an update still running on its host. Once you know that process "
        f"has ended, run `pulumi cancel --yes --stack {stack}`, then this command again."
    )
    return "\n".join(lines)


def pid_alive(pid: int) -> bool:
    """Whether a process `pid` runs on this machine (a pid this command cannot tell about,
    such as 0, counts as running)."""
    if pid <= 0:
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
