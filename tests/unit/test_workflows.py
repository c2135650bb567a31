"""The GitHub Actions workflows: pull requests preview every environment with the diff
commented on the pull request, main deploys dev and then the gated environments with
`python -m components.recovery up`, both reach the backend the repository configures, and
actionlint (built by toolchain/actionlint.sh) finds nothing wrong with them."""

from __future__ import annotations

import shlex
import subprocess
from typing import Any

import pytest
import yaml

from components.program.settings import parse_settings, parse_shard_settings
from localkube.engine import toolchain_bin
from support.mock_runtime import PROJECT_DIR

WORKFLOWS = PROJECT_DIR / ".github" / "workflows"


def _workflow(name: str) -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load((WORKFLOWS / name).read_text())
    return document


def _pulumi_steps(workflow: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        step
        for job in workflow["jobs"].values()
        for step in job.get("steps", [])
        if str(step.get("uses", "")).startswith("pulumi/actions@")
    ]


def _up_steps(job: dict[str, Any]) -> list[dict[str, Any]]:
    """The steps of `job` that run `pulumi up` (by the recovery command)."""
    return [
        step
        for step in job.get("steps", [])
        if "python -m components.recovery up" in str(step.get("run", ""))
    ]


def _up_arguments(step: dict[str, Any]) -> tuple[list[str], list[str]]:
    """The recovery command's own arguments and those it passes on to `pulumi up`."""
    words = shlex.split(step["run"])
    assert words[:4] == [".venv/bin/python", "-m", "components.recovery", "up"]
    split = words.index("--")
    return words[4:split], words[split + 1 :]


def _pinned_pulumi() -> str:
    for line in (PROJECT_DIR / "requirements.txt").read_text().splitlines():
        if line.startswith("pulumi=="):
            return line.split("==", 1)[1].strip()
    raise AssertionError("pulumi is not pinned")


def test_actionlint_finds_nothing() -> None:
    files = sorted(str(path) for path in WORKFLOWS.glob("*.yml"))
    assert len(files) == 2
    completed = subprocess.run(
        [str(toolchain_bin() / "actionlint"), *files],
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr


def test_pull_requests_preview_each_environment_and_comment_the_diff() -> None:
    workflow = _workflow("preview.yml")
    assert "pull_request" in workflow[True]  # YAML 1.1 reads the key `on` as true
    (step,) = _pulumi_steps(workflow)
    assert step["with"]["command"] == "preview"
    assert step["with"]["comment-on-pr"] is True
    assert step["with"]["stack-name"] == "${{ matrix.stack }}"


def test_main_deploys_dev_then_the_other_environments_behind_their_gates() -> None:
    workflow = _workflow("deploy.yml")
    assert workflow[True]["push"]["branches"] == ["main"]
    jobs = workflow["jobs"]
    assert jobs["dev"]["environment"] == "dev"
    assert jobs["others"]["needs"] == ["stacks", "dev"]
    assert jobs["others"]["environment"] == "${{ matrix.stack }}"
    (dev,) = _up_steps(jobs["dev"])
    assert _up_arguments(dev)[0] == ["--stack", "dev"]
    (other,) = _up_steps(jobs["others"])
    assert _up_arguments(other)[0] == ["--stack", "$STACK"]
    assert other["env"]["STACK"] == "${{ matrix.stack }}"
    assert [name for name, job in jobs.items() if _up_steps(job)] == ["dev", "others"]


def test_deploys_run_one_at_a_time_and_each_job_has_a_timeout() -> None:
    # The recovery command clears a lock of the previous run only because that run is over:
    # the concurrency group never runs two at once, nor cancels one to start the next.
    workflow = _workflow("deploy.yml")
    assert workflow["concurrency"] == {"group": "deploy", "cancel-in-progress": False}
    for name in ("dev", "others"):
        assert 0 < workflow["jobs"][name]["timeout-minutes"] <= 120, name


def test_the_cli_is_installed_before_each_update() -> None:
    jobs = _workflow("deploy.yml")["jobs"]
    assert [name for name, job in jobs.items() if _up_steps(job)] == ["dev", "others"]
    for name, job in jobs.items():
        steps = job.get("steps", [])
        for up in _up_steps(job):
            installs = [
                step
                for step in steps[: steps.index(up)]
                if str(step.get("uses", "")).startswith("pulumi/actions@")
            ]
            # Without `command`, pulumi/actions only installs the CLI and runs nothing.
            assert [set(step["with"]) for step in installs] == [{"pulumi-version"}], name


@pytest.mark.parametrize("name", ["preview.yml", "deploy.yml"])
def test_both_workflows_reach_the_backend_the_repository_configures(name: str) -> None:
    expected = {
        "PULUMI_ACCESS_TOKEN": "${{ secrets.PULUMI_ACCESS_TOKEN }}",
        "PULUMI_CONFIG_PASSPHRASE": "${{ secrets.PULUMI_CONFIG_PASSPHRASE }}",
        "AWS_ACCESS_KEY_ID": "${{ secrets.AWS_ACCESS_KEY_ID }}",
        "AWS_SECRET_ACCESS_KEY": "${{ secrets.AWS_SECRET_ACCESS_KEY }}",
        "PGPASSWORD": "${{ secrets.PGPASSWORD }}",
    }
    backend = "${{ vars.PULUMI_BACKEND_URL }}"
    for job in _workflow(name)["jobs"].values():
        for step in job.get("steps", []):
            runs_pulumi = "components.recovery" in str(step.get("run", "")) or (
                "command" in step.get("with", {})
            )
            if not runs_pulumi:
                continue
            environment = {**job.get("env", {}), **step.get("env", {})}
            assert {key: environment.get(key) for key in expected} == expected
            if "command" in step.get("with", {}):
                assert step["with"]["cloud-url"] == backend
            else:
                assert environment["PULUMI_BACKEND_URL"] == backend


@pytest.mark.parametrize("name", ["preview.yml", "deploy.yml"])
def test_the_workflows_use_the_pinned_cli_and_cache_pip(name: str) -> None:
    workflow = _workflow(name)
    steps = _pulumi_steps(workflow)
    assert steps and all(step["with"]["pulumi-version"] == _pinned_pulumi() for step in steps)
    python = [
        step
        for job in workflow["jobs"].values()
        for step in job.get("steps", [])
        if str(step.get("uses", "")).startswith("actions/setup-python@")
    ]
    assert python and all(step["with"]["cache"] == "pip" for step in python)


@pytest.mark.parametrize("name", ["preview.yml", "deploy.yml"])
def test_every_preview_and_update_runs_the_policy_pack_in_its_virtualenv(name: str) -> None:
    workflow = _workflow(name)
    checked = 0
    for job in workflow["jobs"].values():
        steps = job.get("steps", [])
        previews = [
            step
            for step in steps
            if str(step.get("uses", "")).startswith("pulumi/actions@") and "command" in step["with"]
        ]
        updates = _up_steps(job)
        if not previews and not updates:
            continue
        assert [step["with"]["policyPacks"] for step in previews] == ["policy"] * len(previews)
        assert [_up_arguments(step)[1] for step in updates] == [["--policy-pack", "policy"]] * len(
            updates
        )
        manifest = yaml.safe_load((PROJECT_DIR / "policy" / "PulumiPolicy.yaml").read_text())
        venv = manifest["runtime"]["options"]["virtualenv"]
        installs = " ".join(str(step.get("run", "")) for step in steps)
        assert f"python -m venv policy/{venv}" in installs
        assert f"policy/{venv}/bin/pip install -r policy/requirements.txt" in installs
        checked += len(previews) + len(updates)
    assert checked == (2 if name == "deploy.yml" else 1)


def test_the_schedule_runs_up_as_often_as_each_environment_expects() -> None:
    # "minute hour * * *" is a daily run: every environment's upIntervalDays must allow it.
    (schedule,) = _workflow("deploy.yml")[True]["schedule"]
    minute, hour, *days = schedule["cron"].split()
    assert minute.isdigit() and hour.isdigit() and days == ["*", "*", "*"]
    for stack_file in sorted(PROJECT_DIR.glob("Pulumi.*.yaml")):
        if stack_file.name == "Pulumi.yaml":
            continue
        config = yaml.safe_load(stack_file.read_text()).get("config", {})
        document = {
            key.split(":", 1)[1]: value
            for key, value in config.items()
            if key.startswith("mtls-ingress:")
        }
        parse = parse_shard_settings if "issuerStack" in document else parse_settings
        settings = parse(document)
        assert settings.up_interval_days >= 1, stack_file.name
        assert settings.schedule_warnings() == [], stack_file.name


def test_main_deploys_client_shards_before_the_stacks_that_list_them(tmp_path: Any) -> None:
    (step,) = [s for s in _workflow("deploy.yml")["jobs"]["stacks"]["steps"] if "run" in s]
    stack_files = {
        "Pulumi.dev.yaml": "config:\n  mtls-ingress:host: dev.example.com\n",
        "Pulumi.local.yaml": "config:\n  mtls-ingress:host: localhost\n",
        "Pulumi.prod.yaml": "config:\n  mtls-ingress:host: app.example.com\n",
        "Pulumi.eu.yaml": "config:\n  mtls-ingress:host: eu.example.com\n",
        "Pulumi.zz-partners.yaml": "config:\n  mtls-ingress:issuerStack: acme/mtls-ingress/prod\n",
        "Pulumi.a-partners.yaml": "config:\n  mtls-ingress:issuerStack: acme/mtls-ingress/eu\n",
    }
    for name, text in stack_files.items():
        (tmp_path / name).write_text(text)
    output = tmp_path / "github-output"
    subprocess.run(
        ["bash", "-e", "-c", step["run"]],
        cwd=tmp_path,
        env={"GITHUB_OUTPUT": str(output), "PATH": "/usr/bin:/bin"},
        check=True,
    )
    assert output.read_text().strip() == 'others=["a-partners","zz-partners","eu","prod"]'
