"""Offline OCDS validation with libcoveocds, against the files shipped in `pipeline/schema`.

libcoveocds normally downloads the standard and every extension a package names. Here its schema
object (`OfflineSchema`) is built from what the project ships: the OCDS 1.1.5 standard (schemas
and codelists, handed to libcoveocds as an in-memory ZIP of the standard's layout) and the release
schema already patched with the UK extension, whose codelist additions are applied too. Nothing
is fetched: extensions named in the data are not applied (see docs/adr/0003-pipeline-engines.md).

Releases (and records) are validated by libcoveocds in packages of ours of up to `CHUNK`, however
they were packaged, so memory stays bounded and small packages do not each pay libcoveocds' fixed
cost; a publisher's package metadata is checked apart, against the shipped package schema
(jsonschema, Draft 4, with format checks).
"""

from __future__ import annotations

import collections
import csv
import functools
import io
import json
import re
import warnings
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from jsonschema import Draft4Validator, FormatChecker
from libcoveocds.common_checks import common_checks_ocds
from libcoveocds.config import LibCoveOCDSConfig
from libcoveocds.lib.api import context_api_transform
from libcoveocds.schema import SchemaOCDS

from mutualise.pipeline.jsonio import BadInput, expand_paths, iter_values
from mutualise.pipeline.schema import STANDARD_DIR, UK_EXTENSION_DIR, release_schema

MAX_EXAMPLES = 3
CHUNK = 1_000  # releases (or records) validated as one package
STANDARD_TAG = "1__1__5"
# Definitions the UK extension refers to but which come from extensions it depends on, which are
# not shipped (ocds_location_extension): accepted as any object, so they are not checked.
UNSHIPPED_DEFINITIONS = ("Location",)


@dataclass
class ValidationReport:
    files: int = 0
    releases: int = 0
    valid_releases: int = 0
    unreadable: int = 0
    # (JSON path with array indexes replaced by "*", check) → number of releases
    errors: collections.Counter = field(default_factory=collections.Counter)
    examples: dict[tuple[str, str], list[str]] = field(default_factory=dict)
    # Errors in a publisher's package metadata: (path, check) → number of packages
    package_errors: collections.Counter = field(default_factory=collections.Counter)
    # libcoveocds' additional checks and codes outside open codelists: reported, not errors
    warnings: collections.Counter = field(default_factory=collections.Counter)

    @property
    def ok(self) -> bool:
        return (
            self.releases > 0
            and self.valid_releases == self.releases
            and not self.unreadable
            and not self.package_errors
        )

    def add_example(self, key: tuple[str, str], example: str) -> None:
        examples = self.examples.setdefault(key, [])
        if len(examples) < MAX_EXAMPLES:
            examples.append(example)


# -- libcoveocds, offline -------------------------------------------------------------------------
@functools.cache
def _standard_zip() -> bytes:
    """The shipped standard laid out as the standard repository's ZIP (`<top>/schema/...`)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(f"standard-{STANDARD_TAG}/", "")
        for path in sorted(STANDARD_DIR.rglob("*")):
            if path.is_file() and path.suffix in {".json", ".csv"}:
                name = path.relative_to(STANDARD_DIR).as_posix()
                archive.write(path, f"standard-{STANDARD_TAG}/schema/{name}")
    return buffer.getvalue()


@functools.cache
def _uk_codelists() -> dict[str, set[str]]:
    """The UK extension's codelists: '+name.csv' adds codes, 'name.csv' is a new codelist."""
    codelists = {}
    for path in sorted((UK_EXTENSION_DIR / "codelists").glob("*.csv")):
        with path.open(newline="", encoding="utf-8") as handle:
            codelists[path.name] = {
                row["Code"] for row in csv.DictReader(handle) if row.get("Code")
            }
    return codelists


def _shipped_schema(uri: str) -> Any:
    """Resolve a schema URL of the standard to the shipped file; refuse any other URL."""
    prefix = f"https://standard.open-contracting.org/schema/{STANDARD_TAG}/"
    name = uri.split("#", 1)[0].removeprefix(prefix)
    if name == "release-schema.json":
        return OfflineSchema.extended_release_schema()
    shipped = STANDARD_DIR / name
    if not uri.startswith(prefix) or "/" in name or not shipped.is_file():
        raise ValueError(f"not a schema shipped with mutualise: {uri}")
    return json.loads(shipped.read_text(encoding="utf-8"))


class OfflineSchema(SchemaOCDS):
    """libcoveocds' schema object, built from the shipped files only."""

    def __init__(self, record_package: bool) -> None:
        config = LibCoveOCDSConfig({"standard_zip": _standard_zip(), "context": "api"})
        # Always OCDS 1.1 (the version shipped), and no extensions named by the data (they would
        # be fetched; the schema below is already extended): the same object serves every package.
        key = "records" if record_package else "releases"
        super().__init__("1.1", {key: []}, config, record_pkg=record_package)

    @staticmethod
    def extended_release_schema() -> dict[str, Any]:
        schema = release_schema()
        for name in UNSHIPPED_DEFINITIONS:
            schema["definitions"].setdefault(name, {"type": "object"})
        return schema

    @functools.lru_cache  # noqa: B019 - the object lives as long as the process (see _schema)
    def get_schema_obj(self, *, deref: bool = False, proxies: bool = False) -> Any:
        import jsonref

        schema = self.extended_release_schema()
        if deref:
            schema = jsonref.replace_refs(schema, **self._jsonref_kwarg(proxies=proxies))
        return schema

    @staticmethod
    def _jsonref_kwarg(*, proxies: bool = False) -> dict[str, Any]:
        # The package schemas refer to the standard's other schemas by URL: read the shipped ones.
        return {**SchemaOCDS._jsonref_kwarg(proxies=proxies), "loader": _shipped_schema}

    @functools.lru_cache  # noqa: B019
    def process_codelists(self) -> None:
        super().process_codelists()
        for name, codes in _uk_codelists().items():
            patched = self.extended_codelists.get(name[1:])
            if name.startswith("+") and patched is not None:
                patched |= codes
            elif name.startswith("-") and patched is not None:
                patched -= codes
            elif not name.startswith(("+", "-")):
                self.extended_codelists[name] = set(codes)


@functools.cache
def _schema(record_package: bool) -> OfflineSchema:
    """Built once per process: building it parses the standard and dereferences the schema."""
    return OfflineSchema(record_package)


def _check(package: dict[str, Any], record_package: bool) -> dict[str, Any]:
    schema = _schema(record_package)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # libcove's own deprecation notices
        context = common_checks_ocds({"file_type": "json"}, "", package, schema, cache=False)
    context_api_transform(context)
    return context


# -- what is validated --------------------------------------------------------------------------
@dataclass
class _Package:
    """Up to CHUNK items (releases or records), checked by libcoveocds in one package of ours."""

    key: str  # "releases" or "records"
    items: list[Any] = field(default_factory=list)
    positions: list[str] = field(default_factory=list)


@dataclass
class _Metadata:
    """A publisher's package without its releases or records: its metadata is checked apart."""

    key: str
    metadata: dict[str, Any]
    position: str


def _wrapper(path: Path) -> dict[str, Any]:
    return {
        "uri": path.resolve().as_uri(),
        "publishedDate": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "publisher": {"name": "mutualise validate"},
        "version": "1.1",
    }


def _packages(path: Path) -> Iterator[_Package | _Metadata | BadInput]:
    """The file's releases and records, pooled in packages of up to CHUNK.

    Small packages (an API page, or one package per line) are pooled too: libcoveocds costs
    about 20 ms per package whatever its size, as it walks the whole schema each time.
    """
    pools = {"releases": _Package("releases"), "records": _Package("records")}

    def add(key: str, item: Any, where: str) -> Iterator[_Package]:
        pool = pools[key]
        pool.items.append(item)
        pool.positions.append(where)
        if len(pool.items) >= CHUNK:
            pools[key] = _Package(key)
            yield pool

    for value in iter_values(path):
        if isinstance(value, BadInput):
            yield value
            continue
        position, document = value
        where = position.describe()
        if isinstance(document, dict) and isinstance(document.get("records"), list):
            yield _Metadata("records", _without(document, "records"), where)
            for index, record in enumerate(document["records"]):
                yield from add("records", record, f"{where} record {index}")
        elif isinstance(document, dict) and isinstance(document.get("releases"), list):
            if "ocid" in document:  # a record on its own
                yield from add("records", document, where)
                continue
            yield _Metadata("releases", _without(document, "releases"), where)
            for index, release in enumerate(document["releases"]):
                yield from add("releases", release, f"{where} release {index}")
        elif isinstance(document, list):
            for index, release in enumerate(document):
                yield from add("releases", release, f"{where} item {index}")
        else:
            yield from add("releases", document, where)
    yield from (pool for pool in pools.values() if pool.items)


def _without(document: dict[str, Any], key: str) -> dict[str, Any]:
    return {name: value for name, value in document.items() if name != key}


@functools.cache
def _metadata_validator(key: str) -> Draft4Validator:
    """The shipped package schema, with its releases (or records) accepted as any array."""
    name = "record-package-schema.json" if key == "records" else "release-package-schema.json"
    schema = json.loads((STANDARD_DIR / name).read_text(encoding="utf-8"))
    schema["properties"][key] = {"type": "array"}
    return Draft4Validator(schema, format_checker=FormatChecker())


def _record_metadata(report: ValidationReport, package: _Metadata) -> None:
    validator = _metadata_validator(package.key)
    seen: set[tuple[str, str]] = set()
    for error in validator.iter_errors({**package.metadata, package.key: []}):
        path = "/".join(str(part) for part in error.absolute_path)
        key = (_pattern(path) or "(package)", str(error.validator))
        if key not in seen:
            seen.add(key)
            report.package_errors[key] += 1
            report.add_example(key, f"{package.position}: {error.message[:200]}")


# -- the report ---------------------------------------------------------------------------------
_INDEX = re.compile(r"^(releases|records)/(\d+)(?:/(.*))?$")


def _pattern(path: str) -> str:
    return "/".join("*" if part.isdigit() else part for part in path.split("/") if part)


def _record(report: ValidationReport, package: _Package, context: dict[str, Any]) -> None:
    invalid: set[int] = set()
    seen: set[tuple[int, str, str]] = set()
    for error in context.get("validation_errors", []):
        path = str(error.get("path", ""))
        check = str(error.get("type", ""))
        message = f"{error.get('description', '')} ({str(error.get('value', ''))[:80]})"
        match = _INDEX.match(path)
        if match is None or match.group(1) != package.key:
            continue  # the metadata of our own package
        index = int(match.group(2))
        key = (_pattern(match.group(3) or "") or f"({package.key[:-1]})", check)
        invalid.add(index)
        if (index, *key) not in seen:
            seen.add((index, *key))
            report.errors[key] += 1
            report.add_example(key, f"{package.positions[index]}: {message}"[:300])
    report.releases += len(package.items)
    report.valid_releases += len(package.items) - len(invalid)
    for check, found in (context.get("additional_checks") or {}).items():
        report.warnings[check] += len(found)
    for where, detail in (context.get("additional_open_codelist_values") or {}).items():
        where = _pattern(where).removeprefix(f"{package.key}/*/").removeprefix(f"{package.key}/")
        report.warnings[f"code outside the open codelist at {where}"] += int(detail.get("count", 1))


def validate(path: Path) -> ValidationReport:
    """Check every release (or record) in a file or directory with libcoveocds, offline."""
    report = ValidationReport()
    for file in expand_paths([Path(path)]):
        report.files += 1
        for package in _packages(file):
            if isinstance(package, BadInput):
                report.unreadable += 1
            elif isinstance(package, _Metadata):
                _record_metadata(report, package)
            else:
                document = {**_wrapper(file), package.key: package.items}
                _record(report, package, _check(document, package.key == "records"))
    return report
