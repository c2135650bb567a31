"""The mtls-ingress policy pack (policy/) under the real engine: the `local` stack, as
committed, passes every policy in preview and in `up` against the local API server; a config
mistake is stopped in preview; and a stack that makes each mistake once is stopped with one
violation per mistake."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from localkube.cluster import LocalCluster
from localkube.engine import Engine, copy_program, new_engine
from localkube.objects import install_backend
from support.mock_runtime import PROJECT_DIR
from tests.engine.conftest import deployed, policy_pack

LOCAL = yaml.safe_load((PROJECT_DIR / "Pulumi.local.yaml").read_text())["config"]
VIOLATIONS = Path(__file__).with_name("policy_violations_program")


@pytest.fixture(scope="module")
def pack(tmp_path_factory: pytest.TempPathFactory, policy_virtualenv: Path) -> Path:
    destination = tmp_path_factory.mktemp("mtls-policy") / "policy"
    return policy_pack(PROJECT_DIR / "policy", destination, policy_virtualenv)


@pytest.fixture(scope="module")
def local(tmp_path_factory: pytest.TempPathFactory, cluster: LocalCluster) -> Iterator[Engine]:
    """The committed `local` stack, pointed at the local API server."""
    backend = LOCAL["mtls-ingress:ingress"]["backend"]
    install_backend(
        cluster.client(), LOCAL["mtls-ingress:namespace"], backend["service"], backend["port"]
    )
    with deployed(tmp_path_factory.mktemp("local"), cluster, stack="local", up=False) as engine:
        yield engine


def policy_reports(output: str) -> list[list[str]]:
    """Each policy report the CLI printed: its line (level, policy, resource type and name)
    and the lines under it (description and message)."""
    reports: list[list[str]] = []
    for line in output.splitlines():
        stripped = line.strip()
        if stripped.startswith(("- [mandatory]", "- [advisory]")):
            reports.append([re.sub(r"\s+", " ", stripped)])
        elif reports and stripped and line.startswith(" " * 10):
            reports[-1].append(stripped)
        elif not stripped and reports:
            reports.append([])
    return [report for report in reports if report]


def deferred(report: list[str]) -> bool:
    """A check that needs values the preview does not know yet: it runs in `up`."""
    return any("can't run policy" in line and "during preview" in line for line in report)


def policy_lines(output: str) -> list[str]:
    """The CLI's line for each violation: level, policy, and the resource's type and name."""
    return [report[0] for report in policy_reports(output) if not deferred(report)]


def test_the_local_stack_previews_and_deploys_within_every_policy(
    local: Engine, pack: Path
) -> None:
    preview = local.run("preview", "--policy-pack", str(pack))
    assert policy_lines(preview.stdout) == [], preview.stdout
    # A new stack's Secrets are computed from keys not yet generated: the CRL check waits.
    waiting = {report[0] for report in policy_reports(preview.stdout) if deferred(report)}
    assert all(" client-ca-crl " in line for line in waiting), waiting
    assert "mtls-ingress@v0.1.0" in preview.stdout
    up = local.run("up", "--yes", "--skip-preview", "--policy-pack", str(pack))
    # After `up` every value is known: the CRLs are parsed, every output scanned for keys.
    assert policy_lines(up.stdout) == [], up.stdout
    again = local.run("preview", "--expect-no-changes", "--policy-pack", str(pack))
    assert policy_lines(again.stdout) == [], again.stdout


def test_optional_client_verification_is_stopped_in_preview(local: Engine, pack: Path) -> None:
    local.run("config", "set", "--path", "ingress.verifyClient", "optional")
    try:
        preview = local.run("preview", "--policy-pack", str(pack), check=False)
    finally:
        local.run("config", "set", "--path", "ingress.verifyClient", "on")
    assert preview.returncode != 0
    lines = policy_lines(preview.stdout)
    assert len(lines) == 1 and "ingress-verify-client" in lines[0], preview.stdout
    assert "auth-tls-verify-client is 'optional'" in preview.stdout


@pytest.fixture(scope="module")
def violating(tmp_path_factory: pytest.TempPathFactory) -> Engine:
    root = tmp_path_factory.mktemp("violations")
    program = copy_program(VIOLATIONS, root / "program")
    rendered = root / "rendered"
    (program / "Pulumi.mistakes.yaml").write_text(
        yaml.safe_dump({"config": {"kubernetes:renderYamlToDirectory": str(rendered)}})
    )
    return new_engine(root, program, "mistakes")


def test_each_mistake_is_one_violation(violating: Engine, pack: Path) -> None:
    preview = violating.run("preview", "--policy-pack", str(pack), check=False)
    assert preview.returncode != 0
    found = policy_lines(preview.stdout)
    expected = {
        "key-strength": ["weak-rsa", "default-curve"],
        "leaf-validity": ["long-leaf"],
        "client-ca-crl": ["client-ca"],
        "ingress-verify-client": ["api"],
        "ingress-ca-from-stack": ["api"],
        "no-private-key-in-config-map": ["settings"],
        "no-private-key-in-rendered-manifest": ["settings", "server-tls"],
        "private-keys-are-secret": ["policy-violations-mistakes", "settings"],
    }
    assert len(found) == sum(len(names) for names in expected.values()), preview.stdout
    for policy, names in expected.items():
        for name in names:
            assert any(f" {policy} " in line and name in line for line in found), (
                policy,
                name,
                preview.stdout,
            )
    text = preview.stdout[preview.stdout.index("Policies:") : preview.stdout.index("Outputs:")]
    assert "key weak-rsa: RSA of 1024 bits" in text
    assert "ECDSA on P224 (ecdsaCurve is not set)" in text
    assert "no CRL of CN=Violations Client Issuing CA" in text
    assert "names payments/made-by-hand, which is not a Secret of this stack" in text
    assert "stack output leakedKey holds a private key in plain text" in text
    assert "sealedKey" not in text
