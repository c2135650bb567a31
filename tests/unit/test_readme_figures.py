"""The README's performance figures are those of bench/results.md: one `make bench` run."""

from __future__ import annotations

import re

from support.mock_runtime import PROJECT_DIR

README = (PROJECT_DIR / "README.md").read_text()
RESULTS = (PROJECT_DIR / "bench" / "results.md").read_text()
# How the README labels rows that bench/results.md writes more tersely.
LABELS = {"ECDSA_P256 (default)": "ECDSA_P256", "`PULUMI_SKIP_CHECKPOINTS=true`": "skipped"}


def _performance_section() -> str:
    start = README.index("\n## Performance\n")
    return README[start : README.index("\n## ", start + 1)]


def _rows(text: str) -> list[str]:
    return [line for line in text.splitlines() if re.match(r"\| [^-]", line)]


def test_every_table_row_of_the_performance_section_is_a_row_of_the_results() -> None:
    results = set(_rows(RESULTS))
    rows = _rows(_performance_section())
    assert len(rows) > 30
    for row in rows:
        for label, written in LABELS.items():
            row = row.replace(label, written)
        assert row in results, row


def test_the_readme_names_the_run_the_results_come_from() -> None:
    date = re.search(r"^(\d{4}-\d\d-\d\d \d\d:\d\d UTC)", RESULTS.split("\n", 3)[2])
    assert date is not None
    assert f"one `make bench` run:\n{date.group(1)}" in _performance_section()
