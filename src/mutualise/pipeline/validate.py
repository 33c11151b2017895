"""Offline OCDS schema conformance: every release checked against the shipped 1.1.5 release
schema patched with the UK extension.

libcoveocds is not used here: it fetches the UK extension (and its dependencies) by URL and
cannot be pointed at a local extension, so it cannot run without a network (see
docs/adr/0003-pipeline-engines.md). jsonschema with the locally patched schema gives the same
schema errors offline; libcoveocds' additional checks are not reproduced.
"""

from __future__ import annotations

import collections
import functools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jsonschema import Draft4Validator, FormatChecker

from mutualise.pipeline.jsonio import BadInput, expand_paths, iter_values
from mutualise.pipeline.schema import release_schema

MAX_EXAMPLES = 3


@dataclass
class ValidationReport:
    files: int = 0
    releases: int = 0
    valid_releases: int = 0
    unreadable: int = 0
    # (JSON path with array indexes replaced by "*", message kind) → number of releases
    errors: collections.Counter = field(default_factory=collections.Counter)
    examples: dict[tuple[str, str], list[str]] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.releases > 0 and self.valid_releases == self.releases and not self.unreadable


@functools.cache
def _validator() -> Draft4Validator:
    return Draft4Validator(release_schema(), format_checker=FormatChecker())


def _releases(value: Any) -> list[Any]:
    if isinstance(value, list):
        return [release for item in value for release in _releases(item)]
    if not isinstance(value, dict):
        return [value]
    if "records" in value:
        found: list[Any] = []
        for record in value["records"] or []:
            found.extend(_releases(record))
        return found
    if "releases" in value:
        releases = [
            r
            for r in value["releases"] or []
            if not (isinstance(r, dict) and "url" in r and "tag" not in r)
        ]
        if "ocid" in value and not releases and isinstance(value.get("compiledRelease"), dict):
            return [value["compiledRelease"]]
        return releases
    return [value]


def _pattern(error: Any) -> tuple[str, str]:
    path = "/".join("*" if isinstance(part, int) else str(part) for part in error.absolute_path)
    return path or "(release)", error.validator


def validate(path: Path) -> ValidationReport:
    """Check every release in a file or directory against the patched release schema."""
    report = ValidationReport()
    validator = _validator()
    for file in expand_paths([Path(path)]):
        report.files += 1
        for value in iter_values(file):
            if isinstance(value, BadInput):
                report.unreadable += 1
                continue
            position, document = value
            for release in _releases(document):
                report.releases += 1
                seen: set[tuple[str, str]] = set()
                for error in validator.iter_errors(release):
                    key = _pattern(error)
                    if key not in seen:
                        seen.add(key)
                        report.errors[key] += 1
                        examples = report.examples.setdefault(key, [])
                        if len(examples) < MAX_EXAMPLES:
                            examples.append(f"{position.describe()}: {error.message[:200]}")
                if not seen:
                    report.valid_releases += 1
    return report
