"""`python -m components.recovery`: reading pulumi's "currently locked" error, the rule that
decides which lock a run of the deploy workflow may clear, and the repair of empty metadata
files of a file backend. The same command against the real CLI is in
tests/engine/test_lost_runner_lock.py."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from components.recovery import main
from components.stack_locks import (
    Deployer,
    Lock,
    clears,
    judge_locks,
    parse_locks,
    pid_alive,
    refusal_message,
)
from components.state_backend import (
    backend_kind,
    empty_metadata_files,
    file_backend_root,
    repair,
)

WORKFLOW = "acme/payments/.github/workflows/deploy.yml"
# As pulumi 3.259 prints it (pkg/backend/diy/lock.go, checkForLock).
LOCKED_ERROR = (
    "error: the stack is currently locked by 2 lock(s). Either wait for the other process(es) "
    "to end or delete the lock file with `pulumi cancel`.\n"
    "  file:///srv/state/.pulumi/locks/organization/mtls-ingress/dev/"
    "0b1e4b2e-1c1f-4a7e-9d55-2a3b0f3c9d11.json: created by runner@fv-az101-7 (pid 2211) "
    "at 2026-12-04T05:17:31Z\n"
    "  s3://****:****@bucket/.pulumi/locks/organization/mtls-ingress/dev/"
    "7f0c.json: created by jane.doe@corp.example@laptop-42 (pid 77) at 2026-12-04T06:01:02+01:00\n"
)


def _lock(host: str, pid: int = 2211) -> Lock:
    return Lock(f"file:///state/{host}-{pid}.json", "runner", host, pid, "2026-12-04T05:17:31Z")


def _run(host: str, run: str = "run 41.1", workflow: str | None = WORKFLOW) -> Deployer:
    return Deployer(host, run, workflow)


def _never_alive(pid: int) -> bool:
    return False


def _always_alive(pid: int) -> bool:
    return True


def test_every_lock_line_of_the_error_is_read() -> None:
    locks = parse_locks(LOCKED_ERROR)
    assert locks == [
        Lock(
            "file:///srv/state/.pulumi/locks/organization/mtls-ingress/dev/"
            "0b1e4b2e-1c1f-4a7e-9d55-2a3b0f3c9d11.json",
            "runner",
            "fv-az101-7",
            2211,
            "2026-12-04T05:17:31Z",
        ),
        Lock(
            "s3://****:****@bucket/.pulumi/locks/organization/mtls-ingress/dev/7f0c.json",
            "jane.doe@corp.example",
            "laptop-42",
            77,
            "2026-12-04T06:01:02+01:00",
        ),
    ]
    assert str(locks[0]) == "runner@fv-az101-7 (pid 2211) at 2026-12-04T05:17:31Z"


def test_colours_and_a_repeated_error_do_not_change_the_locks() -> None:
    coloured = f"\x1b[31m{LOCKED_ERROR}\x1b[0m"
    assert parse_locks(coloured + LOCKED_ERROR) == parse_locks(LOCKED_ERROR)


def test_output_without_the_lock_error_names_no_locks() -> None:
    assert parse_locks("error: update failed\n  created by nobody") is None


def test_a_workflow_run_records_its_host_run_and_workflow_file() -> None:
    environ = {
        "GITHUB_RUN_ID": "9001",
        "GITHUB_RUN_ATTEMPT": "2",
        "GITHUB_WORKFLOW_REF": f"{WORKFLOW}@refs/heads/main",
    }
    deployer = Deployer.of_this_run(environ, host="fv-az101-7", pid=12)
    assert deployer.tag_value == f"fv-az101-7 run 9001.2 of {WORKFLOW}"
    assert Deployer.parse(deployer.tag_value) == deployer


def test_a_run_by_hand_records_its_host_and_pid_and_no_workflow() -> None:
    deployer = Deployer.of_this_run({}, host="laptop-42", pid=4242)
    assert deployer.tag_value == "laptop-42 pid 4242"
    assert Deployer.parse(deployer.tag_value) == Deployer("laptop-42", "pid 4242", None)


def test_the_host_is_recoverable_from_any_tag_value() -> None:
    assert Deployer.parse("ci-7 something else") == Deployer("ci-7", "something else", None)
    assert Deployer.parse("   ") is None


def test_a_long_workflow_path_keeps_the_tag_within_pulumis_limit() -> None:
    deployer = _run("fv-az101-7", workflow="a/" * 200)
    assert len(deployer.tag_value) == 256
    assert deployer.tag_value.startswith("fv-az101-7 run 41.1 of ")


@pytest.mark.parametrize(
    ("lock", "previous", "alive", "dead", "reason"),
    [
        pytest.param(
            _lock("runner-1"),
            _run("runner-1"),
            _never_alive,
            True,
            "left by the previous run (pid 2211 no longer runs here)",
            id="same host, dead pid",
        ),
        pytest.param(
            _lock("runner-1"),
            _run("runner-1"),
            _always_alive,
            False,
            "pid 2211 is still running on this host",
            id="same host, live pid",
        ),
        pytest.param(
            _lock("fv-az101-7"),
            _run("fv-az101-7"),
            _always_alive,
            True,
            "left by the previous run (over)",
            id="recorded host elsewhere",
        ),
        pytest.param(
            _lock("laptop-42"),
            _run("fv-az101-7"),
            _never_alive,
            False,
            "laptop-42 is not the host of the stack's previous deployer (fv-az101-7)",
            id="foreign host",
        ),
        pytest.param(
            _lock("fv-az101-7"),
            None,
            _never_alive,
            False,
            "no earlier run of this workflow is recorded on the stack (mtls-ingress:deployer)",
            id="no recorded deployer",
        ),
        pytest.param(
            _lock("laptop-42"),
            Deployer("laptop-42", "pid 4242"),
            _never_alive,
            False,
            "the stack's previous deployer (laptop-42 pid 4242) and this command are not both "
            "runs of one workflow, so that deployer may still be running",
            id="recorded deployer ran by hand",
        ),
        pytest.param(
            _lock("fv-az101-7"),
            _run("fv-az101-7", workflow="acme/payments/.github/workflows/other.yml"),
            _never_alive,
            False,
            "the stack's previous deployer (fv-az101-7 run 41.1 of "
            "acme/payments/.github/workflows/other.yml) and this command are not both runs of "
            "one workflow, so that deployer may still be running",
            id="recorded deployer ran another workflow",
        ),
    ],
)
def test_the_decision_table(
    lock: Lock, previous: Deployer | None, alive: Callable[[int], bool], dead: bool, reason: str
) -> None:
    current = _run("runner-1", run="run 42.1")
    (verdict,) = judge_locks([lock], previous=previous, current=current, pid_alive=alive)
    assert (verdict.dead, verdict.reason) == (dead, reason)
    assert clears([verdict]) is dead


def test_a_run_by_hand_never_clears_a_lock_of_another_host() -> None:
    (verdict,) = judge_locks(
        [_lock("fv-az101-7")],
        previous=_run("fv-az101-7"),
        current=Deployer("laptop-42", "pid 4242"),
        pid_alive=_never_alive,
    )
    assert not verdict.dead


def test_one_live_lock_among_dead_ones_keeps_them_all() -> None:
    # pulumi cancel removes every lock of the stack: it may run only when each is dead.
    verdicts = judge_locks(
        [_lock("fv-az101-7", 10), _lock("laptop-42", 11), _lock("fv-az101-7", 12)],
        previous=_run("fv-az101-7"),
        current=_run("runner-1", run="run 42.1"),
        pid_alive=_never_alive,
    )
    assert [verdict.dead for verdict in verdicts] == [True, False, True]
    assert not clears(verdicts)
    message = refusal_message("dev", verdicts)
    for pid in (10, 11, 12):
        assert f"runner@{'laptop-42' if pid == 11 else 'fv-az101-7'} (pid {pid}) at " in message
    assert "pulumi cancel --yes --stack dev" in message


def test_several_dead_locks_of_the_previous_run_are_cleared_together() -> None:
    verdicts = judge_locks(
        [_lock("fv-az101-7", 10), _lock("fv-az101-7", 12)],
        previous=_run("fv-az101-7"),
        current=_run("runner-1", run="run 42.1"),
        pid_alive=_always_alive,
    )
    assert clears(verdicts)


def test_no_lock_read_from_the_error_clears_nothing() -> None:
    assert not clears([])
    assert "named no lock" in refusal_message("dev", [])


def test_this_process_is_alive_and_a_reaped_child_is_not() -> None:
    child = subprocess.Popen(["true"])
    child.wait()
    assert pid_alive(child.pid) is False
    assert pid_alive(os.getpid()) is True
    assert pid_alive(0) is True


@pytest.mark.parametrize(
    ("url", "kind"),
    [
        ("file:///srv/state", "file"),
        ("file://~", "file"),
        ("s3://bucket?region=us-east-1", "self-managed"),
        ("postgres://pulumi@db:5432/state", "self-managed"),
        ("azblob://container", "self-managed"),
        ("https://api.pulumi.com", "cloud"),
        (None, "cloud"),
    ],
)
def test_backend_kinds(url: str | None, kind: str) -> None:
    assert backend_kind(url) == kind


def test_file_backend_paths_resolve_as_pulumi_resolves_them(tmp_path: Path) -> None:
    home, cwd = tmp_path / "home", tmp_path / "work"
    assert file_backend_root("file:///srv/state?no_tmp_dir=true", cwd=cwd, home=home) == Path(
        "/srv/state"
    )
    assert file_backend_root("file://~", cwd=cwd, home=home) == home
    assert file_backend_root("file://~/state", cwd=cwd, home=home) == home / "state"
    assert file_backend_root("file://state", cwd=cwd, home=home) == cwd / "state"


def _state(root: Path) -> Path:
    stacks = root / ".pulumi" / "stacks" / "mtls-ingress"
    stacks.mkdir(parents=True)
    for name in ("dev.json", "prod.json", "dev.json.bak"):
        (stacks / name).write_text("{}")
    (stacks / "dev.json.bak.attrs").write_text('{"user.cache_control":""}')
    (stacks / "dev.json.attrs").write_bytes(b"")
    (stacks / "prod.json.attrs").write_bytes(b"")
    (stacks / "gone.json.attrs").write_bytes(b"")  # no data file beside it
    (root / ".pulumi" / "meta.yaml").write_text("version: 1\n")
    (root / ".pulumi" / "meta.yaml.attrs").write_bytes(b"")
    return stacks


def test_repair_removes_only_empty_metadata_files_beside_their_data(tmp_path: Path) -> None:
    stacks = _state(tmp_path)
    report = repair(f"file://{tmp_path}")
    assert sorted(Path(line.split()[1].rstrip(":")).name for line in report) == [
        "dev.json",
        "meta.yaml",
        "prod.json",
    ]
    assert not (stacks / "dev.json.attrs").exists()
    assert (stacks / "dev.json.bak.attrs").read_text() == '{"user.cache_control":""}'
    assert (stacks / "gone.json.attrs").exists()
    assert (stacks / "dev.json").read_text() == "{}"
    assert repair(f"file://{tmp_path}") == [f"nothing needed repair in {tmp_path / '.pulumi'}"]


def test_repair_of_one_stack_leaves_the_other_stacks_files(tmp_path: Path) -> None:
    stacks = _state(tmp_path)
    found = empty_metadata_files(tmp_path, stack="organization/mtls-ingress/dev")
    assert sorted(path.name for path in found) == ["dev.json.attrs", "meta.yaml.attrs"]
    repair(f"file://{tmp_path}", stack="dev")
    assert (stacks / "prod.json.attrs").exists()


def test_other_backends_have_nothing_to_repair() -> None:
    (line,) = repair("postgres://pulumi:secret@127.0.0.1:5432/state")
    assert line == "nothing to repair: the stack is on a postgres:// backend, not on a file backend"
    assert "secret" not in line
    (line,) = repair(None)
    assert "Pulumi Cloud" in line


def test_repair_reads_the_backend_from_pulumi_backend_url(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    stacks = _state(tmp_path)
    monkeypatch.setenv("PULUMI_BACKEND_URL", f"file://{tmp_path}")
    assert main(["repair", "--stack", "prod"]) == 0
    assert "repaired " in capsys.readouterr().out
    assert not (stacks / "prod.json.attrs").exists()
    assert (stacks / "dev.json.attrs").exists()


def test_repair_falls_back_to_the_current_login_in_pulumi_home(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    stacks = _state(tmp_path / "state")
    (tmp_path / "home").mkdir()
    (tmp_path / "home" / "credentials.json").write_text(
        f'{{"current": "file://{tmp_path / "state"}", "accessTokens": {{}}}}'
    )
    monkeypatch.delenv("PULUMI_BACKEND_URL", raising=False)
    monkeypatch.setenv("PULUMI_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("PATH", str(tmp_path))  # no pulumi to ask
    assert main(["repair"]) == 0
    assert not (stacks / "dev.json.attrs").exists()
