# ruff: noqa: S608 - SQL is built from our own column names and quoted literals, never user text
"""Load the bulk register files into Parquet under {warehouse}/registers/<register>/.

Each register folder holds, after a successful load:

    organisations.parquet   one row per organisation in the common shape (COMMON_COLUMNS)
    quarantine.parquet      rows that could not be used: file, line, reason, the raw values
    load.json               the files loaded (name, size, sha256), counts, when

A load checks every file's header first (a wrong header stops the load before anything is
read), reads with DuckDB into a staging folder and swaps the folder in with one rename, so a
failed load leaves the previous one untouched. Loading the same files again (same hashes) does
nothing. `register_organisations()` gives the common view of every loaded register plus the
programme's own organisations (registers/programme.parquet, written by the Django side).

Line numbers are physical lines for one-line records (the header is line 1); the register
files put one record per line.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import shutil
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import orjson

from mutualise.pipeline.registers.formats import (
    CHARITY_KEYS,
    COMPANIES_HOUSE_COLUMNS,
    FCA_COLUMNS,
    RegisterFormatError,
    check_charity_json,
    check_csv_header,
)
from mutualise.pipeline.registers.sql import prepare
from mutualise.pipeline.warehouse import Warehouse

REGISTERS = {"companies-house": "companies_house", "fca": "fca", "charities": "charities"}
PROGRAMME_FILE = "programme.parquet"
BUYERS_REGISTER = "buyers"

# The common shape of every register row (also written by the programme export).
COMMON_COLUMNS: dict[str, str] = {
    "register": "VARCHAR",
    "identifier": "VARCHAR",  # GB-COH-01234567
    "scheme": "VARCHAR",
    "local_id": "VARCHAR",
    "canonical_identifier": "VARCHAR",  # the organisation this row belongs to
    "linked_identifier": "VARCHAR",  # charity → company; society → its RS/IP company number
    "name": "VARCHAR",
    "name_normalised": "VARCHAR",
    "postcode": "VARCHAR",
    "address_line": "VARCHAR",
    "address": "VARCHAR",
    "legal_form": "VARCHAR",
    "status": "VARCHAR",
    "sic": "VARCHAR",
    "size_signal": "VARCHAR",  # Accounts.AccountCategory, or a charity income band
    "is_cic": "BOOLEAN",
    "is_society": "BOOLEAN",
    "is_charity": "BOOLEAN",
    "is_cio": "BOOLEAN",
    "is_guarantee": "BOOLEAN",
    "is_plc": "BOOLEAN",
    "is_public_body": "BOOLEAN",
    "programme_reference": "VARCHAR",
    "programme_kind": "VARCHAR",
    "registered_on": "DATE",
    "source_file": "VARCHAR",
    "source_line": "BIGINT",
}

Progress = Callable[[str, int, int], None]


class RegisterLoadError(RuntimeError):
    """The load could not complete; nothing was changed."""


@dataclass
class LoadSummary:
    register: str
    files: list[str]
    rows_read: int = 0
    rows_loaded: int = 0
    rows_quarantined: int = 0
    already_loaded: bool = False
    reasons: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0


def register_dir(warehouse: Warehouse, register: str) -> Path:
    return warehouse.root / "registers" / REGISTERS.get(register, register)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 22), b""):
            digest.update(block)
    return digest.hexdigest()


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _common_select(values: dict[str, str]) -> str:
    """SELECT list in COMMON_COLUMNS order; missing columns are typed NULLs."""
    parts = []
    for name, kind in COMMON_COLUMNS.items():
        expression = values.get(name, "NULL")
        parts.append(f"CAST({expression} AS {kind}) AS {name}")
    return ",\n    ".join(parts)


# -- Companies House -------------------------------------------------------------------------
def _companies_house_sql(files: list[Path]) -> tuple[str, str]:
    """(staging SELECT with a `reason` column per row, rejects-aware) for the CSV parts."""
    names = "[" + ", ".join(_literal(n) for n in COMPANIES_HOUSE_COLUMNS) + "]"
    reads = []
    for path in files:
        reads.append(f"""
        SELECT {_literal(path.name)} AS source_file, row_number() OVER () + 1 AS source_line, *
        FROM read_csv({_literal(str(path))}, header = true, all_varchar = true, names = {names},
                      quote = '"', escape = '"', delim = ',', strict_mode = false,
                      null_padding = false, ignore_errors = true, store_rejects = true,
                      rejects_table = 'rejects', rejects_scan = 'rejects_scan',
                      parallel = true)""")
    raw = " UNION ALL ".join(reads)
    staging = f"""
    WITH raw AS ({raw}),
    typed AS (
        SELECT *,
            company_number(trim("CompanyNumber")) AS number,
            uk_date("IncorporationDate") AS incorporated,
            uk_date("DissolutionDate") AS dissolved
        FROM raw
    )
    SELECT *,
        CASE
            WHEN nullif(trim("CompanyName"), '') IS NULL THEN 'company name is empty'
            WHEN NOT valid_company_number(number)
                THEN 'company number ' || coalesce('''' || "CompanyNumber" || '''', 'missing')
                     || ' is not a Companies House number (8 digits, or 2 letters and 6 digits)'
            WHEN nullif(trim("IncorporationDate"), '') IS NOT NULL AND incorporated IS NULL
                THEN 'incorporation date ''' || "IncorporationDate" || ''' is not a real dd/mm/yyyy date'
            WHEN incorporated > current_date + INTERVAL 1 DAY OR incorporated < DATE '1800-01-01'
                THEN 'incorporation date ''' || "IncorporationDate" || ''' is impossible'
            WHEN nullif(trim("DissolutionDate"), '') IS NOT NULL AND dissolved IS NULL
                THEN 'dissolution date ''' || "DissolutionDate" || ''' is not a real dd/mm/yyyy date'
            WHEN row_number() OVER (PARTITION BY number ORDER BY source_file, source_line) > 1
                THEN 'company number ' || number || ' appears more than once'
        END AS reason
    FROM typed"""
    category = "upper(coalesce(\"CompanyCategory\", ''))"
    common = _common_select(
        {
            "register": "'companies_house'",
            "identifier": "'GB-COH-' || number",
            "scheme": "'GB-COH'",
            "local_id": "number",
            "canonical_identifier": "'GB-COH-' || number",
            "name": 'trim("CompanyName")',
            "name_normalised": 'normalise_name("CompanyName")',
            "postcode": 'uk_postcode("RegAddress.PostCode")',
            "address_line": 'address_key("RegAddress.AddressLine1")',
            "address": "concat_ws(', ', nullif(\"RegAddress.AddressLine1\", ''), nullif(\"RegAddress.AddressLine2\", ''), "
            "nullif(\"RegAddress.PostTown\", ''), nullif(\"RegAddress.County\", ''), "
            "nullif(\"RegAddress.PostCode\", ''))",
            "legal_form": '"CompanyCategory"',
            "status": '"CompanyStatus"',
            "sic": "nullif(\"SICCode.SicText_1\", '')",
            "size_signal": "nullif(upper(trim(\"Accounts.AccountCategory\")), '')",
            "is_cic": f"{category} LIKE '%COMMUNITY INTEREST%'",
            "is_society": f"{category} IN ('REGISTERED SOCIETY', 'INDUSTRIAL AND PROVIDENT SOCIETY') "
            "OR left(number, 2) IN ('IP', 'RS', 'SP', 'NP')",
            "is_charity": f"{category} LIKE '%CHARITABLE INCORPORATED%' OR left(number, 2) IN ('CE', 'CS')",
            "is_cio": f"{category} LIKE '%CHARITABLE INCORPORATED%'",
            "is_guarantee": f"{category} LIKE '%GUAR%' OR {category} LIKE '%LBG%'",
            "is_plc": f"{category} = 'PUBLIC LIMITED COMPANY'",
            "is_public_body": "false",
            "registered_on": "incorporated",
            "source_file": "source_file",
            "source_line": "source_line",
        }
    )
    return staging, common


# -- FCA Mutuals Public Register ---------------------------------------------------------------
def _fca_sql(files: list[Path]) -> tuple[str, str]:
    names = "[" + ", ".join(_literal(n) for n in FCA_COLUMNS) + "]"
    reads = [
        f"""
        SELECT {_literal(path.name)} AS source_file, row_number() OVER () + 1 AS source_line, *
        FROM read_csv({_literal(str(path))}, header = true, all_varchar = true, names = {names},
                      quote = '"', escape = '"', delim = ',', strict_mode = false,
                      ignore_errors = true, store_rejects = true,
                      rejects_table = 'rejects', rejects_scan = 'rejects_scan')"""
        for path in files
    ]
    staging = f"""
    WITH raw AS ({" UNION ALL ".join(reads)}),
    typed AS (
        SELECT *,
            upper(regexp_replace(coalesce("Full Registation Number", ''), '\\s', '', 'g')) AS number,
            uk_date("Registration Date") AS registered,
            uk_date("Deregistration Date") AS deregistered
        FROM raw
    )
    SELECT *,
        CASE
            WHEN nullif(trim("Society Name"), '') IS NULL THEN 'society name is empty'
            WHEN NOT regexp_matches(number, '^[0-9]{{1,6}}[A-Z]{{1,2}}$')
                THEN 'registration number ''' || coalesce("Full Registation Number", '')
                     || ''' is not an FCA society number (digits then a letter suffix, e.g. 10008R)'
            WHEN nullif(trim("Registration Date"), '') IS NOT NULL AND registered IS NULL
                THEN 'registration date ''' || "Registration Date" || ''' is not a real dd/mm/yyyy date'
            WHEN registered > current_date + INTERVAL 1 DAY OR registered < DATE '1800-01-01'
                THEN 'registration date ''' || "Registration Date" || ''' is impossible'
            WHEN row_number() OVER (PARTITION BY number ORDER BY source_file, source_line) > 1
                THEN 'registration number ' || number || ' appears more than once'
        END AS reason
    FROM typed"""
    digits = "regexp_extract(number, '^([0-9]+)', 1)"
    suffix = "regexp_extract(number, '([A-Z]+)$', 1)"
    # GB-MPR ↔ GB-COH crosswalk (docs/supplier-resolution.md): Companies House indexes societies
    # as IP + 5-digit number + suffix (registered before the 2014 Act, 1 Aug 2014) or RS + 6-digit
    # number after it. Used only as a candidate: it links when Companies House holds that number.
    crosswalk = (
        f"CASE WHEN registered < DATE '2014-08-01' AND length({digits}) <= 5 "
        f"THEN 'GB-COH-IP' || lpad({digits}, 5, '0') || left({suffix}, 1) "
        f"WHEN length({digits}) <= 6 THEN 'GB-COH-RS' || lpad({digits}, 6, '0') END"
    )
    classification = "upper(coalesce(\"Reporting Classification\", ''))"
    common = _common_select(
        {
            "register": "'fca'",
            "identifier": "'GB-MPR-' || number",
            "scheme": "'GB-MPR'",
            "local_id": "number",
            "canonical_identifier": "'GB-MPR-' || number",
            "linked_identifier": crosswalk,
            "name": 'trim("Society Name")',
            "name_normalised": 'normalise_name("Society Name")',
            "postcode": 'uk_postcode("Society Address")',
            "address_line": "address_key(split_part(\"Society Address\", ',', 1))",
            "address": '"Society Address"',
            "legal_form": 'coalesce(nullif("Reporting Classification", \'\'), "Registered As")',
            "status": '"Society Status"',
            "sic": "nullif(\"Standard Industrial Classification Code (SIC)\", '')",
            "is_cic": "false",
            "is_society": "true",
            "is_charity": f"{classification} LIKE '%CHARIT%'",
            "is_cio": "false",
            "is_guarantee": "false",
            "is_plc": "false",
            "is_public_body": "false",
            "registered_on": "registered",
            "source_file": "source_file",
            "source_line": "source_line",
        }
    )
    return staging, common


# -- Charity Commission ---------------------------------------------------------------------------
def _charities_sql(files: list[Path]) -> tuple[str, str]:
    columns = "{" + ", ".join(f"{_literal(k)}: 'VARCHAR'" for k in CHARITY_KEYS) + "}"
    reads = [
        f"""
        SELECT {_literal(path.name)} AS source_file, row_number() OVER () AS source_line, *
        FROM read_json({_literal(str(path))}, format = 'array', columns = {columns},
                       maximum_object_size = 16777216)"""
        for path in files
    ]
    staging = f"""
    WITH raw AS ({" UNION ALL ".join(reads)}),
    typed AS (
        SELECT *,
            regexp_replace(coalesce(registered_charity_number, ''), '\\.0$', '') AS number,
            try_cast(left(date_of_registration, 10) AS DATE) AS registered,
            coalesce(try_cast(linked_charity_number AS BIGINT), 0) AS subsidiary
        FROM raw
    )
    SELECT *,
        CASE
            WHEN nullif(trim(charity_name), '') IS NULL THEN 'charity name is empty'
            WHEN NOT regexp_matches(number, '^[0-9]{{6,7}}$')
                THEN 'charity number ''' || coalesce(registered_charity_number, '')
                     || ''' is not a registered charity number (6 or 7 digits)'
            WHEN nullif(date_of_registration, '') IS NOT NULL AND registered IS NULL
                THEN 'registration date ''' || date_of_registration || ''' is not a real date'
            WHEN registered > current_date + INTERVAL 1 DAY OR registered < DATE '1800-01-01'
                THEN 'registration date ''' || date_of_registration || ''' is impossible'
            WHEN subsidiary > 0 THEN 'linked charity ' || subsidiary || ' of charity ' || number
                                     || ' (a subsidiary, not an organisation of its own)'
            WHEN row_number() OVER (PARTITION BY number ORDER BY source_file, source_line) > 1
                THEN 'charity number ' || number || ' appears more than once'
        END AS reason
    FROM typed"""
    company = "nullif(company_number(charity_company_registration_number), '')"
    common = _common_select(
        {
            "register": "'charities'",
            "identifier": "'GB-CHC-' || number",
            "scheme": "'GB-CHC'",
            "local_id": "number",
            "canonical_identifier": f"CASE WHEN valid_company_number({company}) THEN 'GB-COH-' || {company} "
            "ELSE 'GB-CHC-' || number END",
            "linked_identifier": f"CASE WHEN valid_company_number({company}) THEN 'GB-COH-' || {company} END",
            "name": "trim(charity_name)",
            "name_normalised": "normalise_name(charity_name)",
            "postcode": "uk_postcode(charity_contact_postcode)",
            "address_line": "address_key(charity_contact_address1)",
            "address": "concat_ws(', ', charity_contact_address1, charity_contact_address2, charity_contact_postcode)",
            "legal_form": "charity_type",
            "status": "charity_registration_status",
            "size_signal": "CASE WHEN try_cast(latest_income AS DOUBLE) >= 10000000 THEN 'INCOME OVER 10M' "
            "WHEN try_cast(latest_income AS DOUBLE) IS NOT NULL THEN 'INCOME UNDER 10M' END",
            "is_cic": "false",
            "is_society": "false",
            "is_charity": "true",
            "is_cio": "lower(coalesce(charity_is_cio, '')) = 'true'",
            "is_guarantee": f"{company} IS NOT NULL",
            "is_plc": "false",
            "is_public_body": "false",
            "registered_on": "registered",
            "source_file": "source_file",
            "source_line": "source_line",
        }
    )
    return staging, common


BUILDERS = {"companies-house": _companies_house_sql, "fca": _fca_sql, "charities": _charities_sql}


def check_files(register: str, paths: list[Path]) -> list[Path]:
    """Expand folders and check every file's header; raise RegisterFormatError on the first bad one."""
    if register not in REGISTERS:
        raise RegisterFormatError(
            f"unknown register {register!r}: choose one of {', '.join(REGISTERS)}"
        )
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            pattern = "*.json" if register == "charities" else "*.csv"
            files.extend(sorted(path.glob(pattern)))
        elif path.exists():
            files.append(path)
        else:
            raise RegisterFormatError(f"{path} does not exist")
    if not files:
        raise RegisterFormatError(f"no {register} files found in {', '.join(map(str, paths))}")
    for path in files:
        if register == "companies-house":
            check_csv_header(
                path, COMPANIES_HOUSE_COLUMNS, "Companies House Free Company Data Product"
            )
        elif register == "fca":
            check_csv_header(path, FCA_COLUMNS, "FCA Mutuals Public Register (SocietyList.csv)")
        else:
            check_charity_json(path)
    return files


def load_register(
    register: str,
    paths: list[Path],
    warehouse_dir: Path | str | None = None,
    *,
    force: bool = False,
    progress: Progress | None = None,
) -> LoadSummary:
    """Load one register's files (all parts of one snapshot), replacing the previous load."""
    started = time.perf_counter()
    report = progress or (lambda stage, done, total: None)
    files = check_files(register, [Path(p) for p in paths])
    warehouse = Warehouse(warehouse_dir)
    target = register_dir(warehouse, register)
    summary = LoadSummary(register=register, files=[str(p) for p in files])

    report("hashing", 0, len(files))
    fingerprints = []
    for index, path in enumerate(files, start=1):
        fingerprints.append(
            {"name": path.name, "size": path.stat().st_size, "sha256": _sha256(path)}
        )
        report("hashing", index, len(files))
    target.parent.mkdir(parents=True, exist_ok=True)
    with _exclusive(target):
        _recover(target)
        manifest_path = target / "load.json"
        if not force and manifest_path.exists():
            previous = orjson.loads(manifest_path.read_bytes())
            if previous.get("files") == fingerprints:
                summary.already_loaded = True
                summary.rows_loaded = previous.get("rows_loaded", 0)
                summary.rows_quarantined = previous.get("rows_quarantined", 0)
                summary.rows_read = previous.get("rows_read", 0)
                summary.reasons = previous.get("reasons", {})
                summary.seconds = time.perf_counter() - started
                return summary

        staging = target.with_name(f".{target.name}-{uuid.uuid4().hex[:8]}")
        staging.mkdir()
        try:
            _load_into(register, files, staging, summary, report)
            summary.seconds = time.perf_counter() - started
            manifest = {
                "register": register,
                "files": fingerprints,
                "loaded_at": datetime.now(UTC).isoformat(timespec="seconds"),
                "rows_read": summary.rows_read,
                "rows_loaded": summary.rows_loaded,
                "rows_quarantined": summary.rows_quarantined,
                "reasons": summary.reasons,
                "seconds": round(summary.seconds, 1),
            }
            (staging / "load.json").write_bytes(orjson.dumps(manifest, option=orjson.OPT_INDENT_2))
            old = target.with_name(f".{target.name}-old-{uuid.uuid4().hex[:8]}")
            if target.exists():
                os.replace(target, old)
            os.replace(staging, target)
            shutil.rmtree(old, ignore_errors=True)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        return summary


@contextlib.contextmanager
def _exclusive(target: Path) -> Iterator[None]:
    """Hold the register's lock file: one load of a register at a time, so whatever staging
    folders exist when a load starts belong to no running load."""
    with (target.parent / f".{target.name}.lock").open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _recover(target: Path) -> None:
    """Tidy up after a load that was killed: put back the previous load if the kill came between
    the two renames of the swap, and delete the staging folders killed loads left behind."""
    leftovers = sorted(target.parent.glob(f".{target.name}-*"), key=lambda p: p.stat().st_mtime)
    if not target.exists():
        previous = [p for p in leftovers if "-old-" in p.name and (p / "load.json").exists()]
        if previous:
            os.replace(previous[-1], target)
    for folder in leftovers:
        shutil.rmtree(folder, ignore_errors=True)


def _connection(scratch: Path) -> duckdb.DuckDBPyConnection:
    connection = duckdb.connect()
    connection.execute(f"SET temp_directory = {_literal(str(scratch / 'tmp'))}")
    connection.execute(
        f"SET memory_limit = {_literal(os.environ.get('MUTUALISE_DUCKDB_MEMORY', '3GB'))}"
    )
    connection.execute("SET preserve_insertion_order = true")
    connection.execute("SET enable_progress_bar = false")
    return prepare(connection)


def _load_into(
    register: str, files: list[Path], staging: Path, summary: LoadSummary, report: Progress
) -> None:
    staging_sql, common_sql = BUILDERS[register](files)
    connection = _connection(staging)
    try:
        report("reading", 0, 3)
        all_rows = staging / "_rows.parquet"
        try:
            connection.execute(
                f"COPY ({staging_sql}) TO {_literal(str(all_rows))} (FORMAT parquet)"
            )
        except duckdb.Error as exc:
            # DuckDB's message runs to several lines (context, a caret): the first says what.
            reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            raise RegisterLoadError(f"could not read the {register} files: {reason}") from exc
        report("reading", 1, 3)
        rows = f"read_parquet({_literal(str(all_rows))})"
        connection.execute(
            f"COPY (SELECT {common_sql} FROM {rows} WHERE reason IS NULL) "
            f"TO {_literal(str(staging / 'organisations.parquet'))} (FORMAT parquet, COMPRESSION zstd)"
        )
        report("reading", 2, 3)
        rejects = _rejects(connection)
        raw_columns = [c for c in connection.execute(f"DESCRIBE SELECT * FROM {rows}").fetchall()]
        value_columns = [
            name for name, *_ in raw_columns if name not in ("source_file", "source_line", "reason")
        ][:6]
        values = ", ".join(f'"{name}"' for name in value_columns)
        connection.execute(f"""
            COPY (
                SELECT source_file AS file, source_line AS line, reason,
                       to_json(struct_pack({values})) AS raw_values
                FROM {rows} WHERE reason IS NOT NULL
                UNION ALL
                SELECT file, line, reason, raw_values FROM ({rejects})
                ORDER BY file, line
            ) TO {_literal(str(staging / "quarantine.parquet"))} (FORMAT parquet)""")
        report("reading", 3, 3)
        loaded = connection.execute(
            f"SELECT count(*) FROM read_parquet({_literal(str(staging / 'organisations.parquet'))})"
        ).fetchone()
        assert loaded is not None  # count(*) always returns one row
        summary.rows_loaded = loaded[0]
        reasons = connection.execute(f"""
            SELECT regexp_replace(reason, '''[^'']*''', '…', 'g') AS kind, count(*)
            FROM read_parquet({_literal(str(staging / "quarantine.parquet"))}) GROUP BY 1 ORDER BY 2 DESC
        """).fetchall()
        summary.reasons = {kind: count for kind, count in reasons}
        summary.rows_quarantined = sum(summary.reasons.values())
        summary.rows_read = summary.rows_loaded + summary.rows_quarantined
    finally:
        connection.close()
        all_path = staging / "_rows.parquet"
        if all_path.exists():
            all_path.unlink()
        shutil.rmtree(staging / "tmp", ignore_errors=True)


def _rejects(connection: duckdb.DuckDBPyConnection) -> str:
    """CSV lines DuckDB could not parse (wrong number of fields, bad quoting), if any."""
    try:
        connection.execute("SELECT 1 FROM rejects LIMIT 1")
    except duckdb.Error:
        return "SELECT NULL::VARCHAR AS file, NULL::BIGINT AS line, NULL::VARCHAR AS reason, NULL::VARCHAR AS raw_values WHERE false"
    return """
        SELECT parse_filename(s.file_path) AS file, r.line::BIGINT AS line,
               'malformed line: ' || r.error_type || ' (' || r.error_message || ')' AS reason,
               to_json(struct_pack(csv_line := r.csv_line)) AS raw_values
        FROM rejects r JOIN rejects_scan s USING (scan_id, file_id)"""


# -- the common view ------------------------------------------------------------------------
def loaded_registers(warehouse_dir: Path | str | None = None) -> dict[str, Any]:
    """What is loaded: register → its load.json (programme → its row count)."""
    warehouse = Warehouse(warehouse_dir)
    result: dict[str, Any] = {}
    for register in REGISTERS:
        manifest = register_dir(warehouse, register) / "load.json"
        if manifest.exists():
            result[register] = orjson.loads(manifest.read_bytes())
    programme = warehouse.root / "registers" / PROGRAMME_FILE
    if programme.exists():
        result["programme"] = {"file": str(programme)}
    return result


def register_files(warehouse_dir: Path | str | None = None) -> list[Path]:
    """The Parquet files that make up `register_organisations`."""
    warehouse = Warehouse(warehouse_dir)
    files = []
    for register in REGISTERS:
        path = register_dir(warehouse, register) / "organisations.parquet"
        if path.exists():
            files.append(path)
    programme = warehouse.root / "registers" / PROGRAMME_FILE
    if programme.exists():
        files.append(programme)
    return files


def register_organisations_sql(warehouse_dir: Path | str | None = None) -> str:
    """A SELECT over every loaded register in the common shape (union by name)."""
    files = register_files(warehouse_dir)
    if not files:
        return "SELECT " + _common_select({}) + " WHERE false"
    parts = [
        f"SELECT {', '.join(COMMON_COLUMNS)} FROM read_parquet({_literal(str(p))})" for p in files
    ]
    return " UNION ALL ".join(parts)
