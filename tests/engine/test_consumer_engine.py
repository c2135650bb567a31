"""The components as another team uses them: `pip install` of this repository into the team's
own virtualenv (no `components` package, no checkout on the path), then the real engine runs
their program, whose dynamic providers unpickle from the installed `mtls_ingress`."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography import x509

from localkube.engine import Engine, new_engine
from support.mock_runtime import PROJECT_DIR
from tests.engine.conftest import python_in, virtualenv


@pytest.fixture(scope="module")
def consumer(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    root = tmp_path_factory.mktemp("consumer")
    # What `pip install <repository>` reads, copied so the build leaves nothing in the checkout.
    package = root / "package"
    shutil.copytree(PROJECT_DIR / "components", package / "components")
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(PROJECT_DIR / name, package / name)
    # The plugins built here are those of requirements.txt's pins: keep the SDKs on them.
    venv = virtualenv(root / "venv", str(package), "-c", str(PROJECT_DIR / "requirements.txt"))
    program = root / "program"
    program.mkdir()
    source = Path(__file__).with_name("consumer_program")
    for name in ("Pulumi.yaml", "__main__.py"):
        text = (source / name).read_text().replace("VIRTUALENV", str(venv))
        (program / name).write_text(text)
    engine = new_engine(root, program, "team")
    del engine.environment["PYTHONPATH"]  # only what the team installed
    yield engine
    engine.run("destroy", "--yes", "--skip-preview", check=False)


def _python(engine: Engine, code: str) -> subprocess.CompletedProcess[str]:
    return python_in(engine.program.parent / "venv", code, engine.environment)


def test_the_package_installs_as_mtls_ingress_only(consumer: Engine) -> None:
    assert _python(consumer, "import mtls_ingress, mtls_ingress.pki").returncode == 0
    assert _python(consumer, "import components").returncode != 0
    names = _python(consumer, "import mtls_ingress; print(' '.join(mtls_ingress.__all__))")
    exported = set(names.stdout.split())
    assert {"CertificateAuthority", "ClientCertificate", "MtlsIngress"} <= exported
    # The stack program is a part of its own (mtls_ingress.program), not a component.
    assert "MtlsIngressStack" not in exported


def test_a_consumer_stack_previews_and_deploys(consumer: Engine) -> None:
    consumer.run("preview")
    consumer.run("up", "--yes", "--skip-preview")
    outputs = consumer.outputs(show_secrets=True)
    crl = x509.load_pem_x509_crl(outputs["crl"].encode())
    assert [entry.serial_number for entry in crl] == [int(outputs["bobSerial"])]
    assert "PRIVATE KEY" in outputs["aliceKey"]
    assert "PRIVATE KEY" not in consumer.run("stack", "export").stdout
    consumer.run("preview", "--expect-no-changes")
