from __future__ import annotations

from pathlib import Path

from mutualise.pipeline.validate import validate


def test_validate_reports_schema_errors_offline(samples: Path) -> None:
    report = validate(
        samples / "cfserver1-2019-2025" / "contracts-finder-2025-01-to-03.releases.jsonl"
    )
    assert report.releases == 200 and report.valid_releases >= 190
    # The known invalid URL ("http://Contract Finder") is reported with where it was found.
    assert any(path.endswith("documents/*/url") for path, _ in report.errors)
