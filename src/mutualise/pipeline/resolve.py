# ruff: noqa: S608 - SQL is built from our own column names and quoted literals, never user text
"""Resolve every award supplier mention to an organisation, and classify it. No Django.

Reads the warehouse tables `award_suppliers` and `parties` (pipeline/flatten), the registers
loaded under registers/ (Companies House, FCA, charities, the programme's own organisations) and
the public bodies seen as buyers; writes under tables/:

    supplier_links/        one row per award supplier mention: organisation, class, evidence
    review_queue/          mentions between the review and accept thresholds, with candidates
    scale_disagreements/   mentions whose published details.scale disagrees with our class

and resolve/run.json (thresholds, rules version, the trained model, counts).

Steps (docs/supplier-resolution.md): 1. identifiers (GB-COH normalised, GB-CHC, GB-MPR and the
GB-MPR ↔ GB-COH crosswalk, public-body schemes; portal ids GB-CFS/GB-FTS are not identities);
2. Splink on normalised name + postcode + address line for the rest; 3. GB-PPON shared by
mentions carries a link to mentions without one; 4. officers' remembered review decisions
(decisions/review_decisions.parquet, written by the Django app) override steps 2–3; 5. the
ordered class rules. Everything runs as SQL in DuckDB except the Splink step, which runs on the
chosen engine.
"""

from __future__ import annotations

import os
import shutil
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import orjson

from mutualise.organisations.identifiers import PORTAL_SCHEMES, schemes
from mutualise.pipeline.classify import ClassRules, classification_sql, load_rules
from mutualise.pipeline.registers.loaders import register_organisations_sql
from mutualise.pipeline.registers.sql import prepare
from mutualise.pipeline.resolve_model import COMPARED, run_model
from mutualise.pipeline.warehouse import Warehouse

ENGINES = ("duckdb", "spark")
MATCHED_BY = ("identifier", "probabilistic", "review", "programme", "none")
OUTPUT_TABLES = ("supplier_links", "review_queue", "scale_disagreements")
DECISIONS_FILE = Path("decisions") / "review_decisions.parquet"
RUN_FILE = Path("resolve") / "run.json"
SAMPLE_ROWS = 50_000
CASE_INSENSITIVE_POSTCODE = r"(?i)\b[A-Z]{1,2}[0-9][A-Z0-9]? ?[0-9][A-Z]{2}\b"

Progress = Callable[[str, int, int], None]


class ResolveError(RuntimeError):
    """Resolution cannot run (no award suppliers, no registers); the message says what to do."""


@dataclass
class ResolveSummary:
    engine: str
    mentions: int = 0
    matched_by: dict[str, int] = field(default_factory=dict)
    classes: dict[str, int] = field(default_factory=dict)
    review_queue: int = 0
    scale_disagreements: int = 0
    organisations: int = 0
    thresholds: dict[str, float] = field(default_factory=dict)
    rules_version: str = ""
    seconds: float = 0.0
    stage_seconds: dict[str, float] = field(default_factory=dict)


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _one_row(connection: duckdb.DuckDBPyConnection, query: str) -> tuple[Any, ...]:
    """The one row of an aggregate query without GROUP BY (there is always exactly one)."""
    row = connection.execute(query).fetchone()
    assert row is not None
    return row


def decisions_path(warehouse: Warehouse) -> Path:
    return warehouse.root / DECISIONS_FILE


def table_path(warehouse: Warehouse, name: str) -> Path:
    return warehouse.table_dir(name)


def _identifier_sql() -> tuple[str, str]:
    """SQL for the normalised value and its validity, per scheme (identifier_schemes.yaml)."""
    value_cases = [
        "WHEN id_scheme = 'GB-COH' THEN company_number(id_raw)",
        "WHEN id_scheme = 'GB-SC' AND regexp_matches(id_raw, '^[0-9]+$') THEN 'SC' || lpad(id_raw, 6, '0')",
    ]
    valid_cases = ["WHEN id_scheme = 'GB-COH' THEN valid_company_number(id_value)"]
    for code, scheme in schemes().items():
        if code == "GB-COH":
            continue
        valid_cases.append(
            f"WHEN id_scheme = {_literal(code)} THEN regexp_matches(id_value, {_literal(scheme.pattern.pattern)})"
        )
    value = (
        "CASE "
        + " ".join(value_cases)
        + " ELSE upper(regexp_replace(id_raw, '[\\s.]', '', 'g')) END"
    )
    valid = "coalesce(CASE " + " ".join(valid_cases) + " ELSE false END, false)"
    return value, valid


def _write_table(connection: duckdb.DuckDBPyConnection, query: str, target: Path) -> None:
    """Write a query's rows to target/part-0.parquet, swapping the folder in atomically."""
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = target.with_name(f".{target.name}-{uuid.uuid4().hex[:8]}")
    staging.mkdir()
    connection.execute(
        f"COPY ({query}) TO {_literal(str(staging / 'part-0.parquet'))} (FORMAT parquet, COMPRESSION zstd)"
    )
    old = target.with_name(f".{target.name}-old-{uuid.uuid4().hex[:8]}")
    if target.exists():
        os.replace(target, old)
    os.replace(staging, target)
    shutil.rmtree(old, ignore_errors=True)


def _level_case(column: str, levels: list[tuple[float, str]]) -> str:
    """The comparison level's label, found from its match weight (weights are unique per level)."""
    cases = " ".join(
        f"WHEN abs(mw_{column} - ({weight!r})) < 1e-6 THEN {_literal(label)}"
        for weight, label in levels
    )
    fallback = f"'match weight ' || round(mw_{column}, 2)::VARCHAR"
    return f"CASE {cases} ELSE {fallback} END" if cases else fallback


def resolve(
    warehouse_dir: Path | str | None = None,
    engine: str = "duckdb",
    *,
    progress: Progress | None = None,
    rules: ClassRules | None = None,
) -> ResolveSummary:
    """Resolve and classify every award supplier mention; write the output tables."""
    if engine not in ENGINES:
        raise ResolveError(f"unknown engine {engine!r}: choose one of {', '.join(ENGINES)}")
    started = time.perf_counter()
    report = progress or (lambda stage, done, total: None)
    rules = rules or load_rules()
    warehouse = Warehouse(warehouse_dir)
    summary = ResolveSummary(
        engine=engine,
        rules_version=rules.version,
        thresholds={
            "accept": rules.accept,
            "review": rules.review,
            "ambiguity_margin": rules.ambiguity_margin,
        },
    )
    paths = warehouse.table_paths()
    if "award_suppliers" not in paths or "parties" not in paths:
        raise ResolveError(
            f"no award_suppliers table in {warehouse.root}: run `mutualise ingest` first"
        )

    scratch = warehouse.root / "resolve" / f".scratch-{uuid.uuid4().hex[:8]}"
    scratch.mkdir(parents=True, exist_ok=True)
    connection = warehouse.connect()
    connection.execute(f"SET temp_directory = {_literal(str(scratch))}")
    connection.execute(
        f"SET memory_limit = {_literal(os.environ.get('MUTUALISE_DUCKDB_MEMORY', '2GB'))}"
    )
    connection.execute("SET enable_progress_bar = false")
    prepare(connection)
    stage_started = time.perf_counter()

    def stage(name: str, number: int) -> None:
        nonlocal stage_started
        now = time.perf_counter()
        summary.stage_seconds[name] = round(now - stage_started, 2)
        stage_started = now
        report(name, number, 6)

    try:
        _prepare_inputs(connection, warehouse, rules)
        stage("mentions", 1)
        _identifier_links(connection)
        stage("identifiers", 2)
        model = _probabilistic_links(connection, rules, engine)
        stage("probabilistic", 3)
        _combine(connection, warehouse, rules, model)
        stage("decisions", 4)
        _classify(connection, rules)
        stage("classes", 5)
        _write_outputs(connection, warehouse)
        stage("written", 6)
        summary.mentions = _one_row(connection, "SELECT count(*) FROM link")[0]
        summary.matched_by = dict(
            connection.execute(
                "SELECT matched_by, count(*) FROM link GROUP BY 1 ORDER BY 2 DESC"
            ).fetchall()
        )
        summary.classes = dict(
            connection.execute(
                "SELECT supplier_class, count(*) FROM link GROUP BY 1 ORDER BY 2 DESC"
            ).fetchall()
        )
        summary.organisations = _one_row(
            connection, "SELECT count(DISTINCT organisation_identifier) FROM link"
        )[0]
        summary.review_queue = _one_row(
            connection, "SELECT count(DISTINCT mention_key) FROM review_candidate"
        )[0]
        summary.scale_disagreements = _one_row(
            connection,
            f"SELECT count(*) FROM read_parquet({_literal(str(warehouse.table_dir('scale_disagreements') / '*.parquet'))})",
        )[0]
        summary.seconds = time.perf_counter() - started
        run = {
            "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "engine": engine,
            "rules_version": rules.version,
            "thresholds": summary.thresholds,
            "mentions": summary.mentions,
            "matched_by": summary.matched_by,
            "classes": summary.classes,
            "review_queue": summary.review_queue,
            "scale_disagreements": summary.scale_disagreements,
            "seconds": round(summary.seconds, 1),
            "stage_seconds": summary.stage_seconds,
            "model": model.get("parameters", {}),
        }
        run_path = warehouse.root / RUN_FILE
        run_path.parent.mkdir(parents=True, exist_ok=True)
        run_path.write_bytes(
            orjson.dumps(run, option=orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS)
        )
    finally:
        connection.close()
        shutil.rmtree(scratch, ignore_errors=True)
    return summary


# -- step 0: inputs ------------------------------------------------------------------------------
def _prepare_inputs(
    connection: duckdb.DuckDBPyConnection, warehouse: Warehouse, rules: ClassRules
) -> None:
    value_sql, valid_sql = _identifier_sql()
    portal = "(" + ", ".join(_literal(s) for s in sorted(PORTAL_SCHEMES)) + ")"
    connection.execute(f"""
    CREATE TEMP TABLE mention AS
    WITH party AS (
        SELECT ocid, party_id, street_address, locality, postal_code, additional_identifiers
        FROM parties
        QUALIFY row_number() OVER (PARTITION BY ocid, party_id ORDER BY release_ids[1]) = 1
    ),
    base AS (
        SELECT s.ocid, s.award_id, s.supplier_id AS supplier_party_id, s.position,
               s.name AS supplier_name,
               nullif(trim(s.identifier_scheme), '') AS published_scheme,
               nullif(trim(s.identifier_id), '') AS published_id,
               lower(s.scale) AS published_scale, s.vcse AS published_vcse,
               coalesce(s.public_service_mission_organization, false) AS psm_flag,
               p.street_address, p.postal_code,
               (list_filter(p.additional_identifiers, lambda x: upper(x.scheme) = 'GB-PPON')[1]).id AS ppon
        FROM award_suppliers s
        LEFT JOIN party p ON p.ocid = s.ocid AND p.party_id = s.supplier_id
    ),
    identified AS (
        SELECT *,
            CASE WHEN published_scheme IS NOT NULL AND published_id IS NOT NULL
                 THEN upper(published_scheme) || '-' || published_id END AS supplier_identifier,
            CASE WHEN published_scheme IS NOT NULL AND published_id IS NOT NULL
                      AND upper(published_scheme) NOT IN {portal} THEN upper(published_scheme)
                 WHEN regexp_matches(coalesce(supplier_party_id, ''), '^GB-(COH|CHC|MPR)-.')
                      THEN regexp_extract(supplier_party_id, '^(GB-[A-Z]+)-', 1) END AS id_scheme,
            CASE WHEN published_scheme IS NOT NULL AND published_id IS NOT NULL
                      AND upper(published_scheme) NOT IN {portal} THEN trim(published_id)
                 WHEN regexp_matches(coalesce(supplier_party_id, ''), '^GB-(COH|CHC|MPR)-.')
                      THEN regexp_extract(supplier_party_id, '^GB-[A-Z]+-(.*)$', 1) END AS id_raw,
            coalesce(uk_postcode(postal_code), uk_postcode(street_address)) AS postcode,
            address_key(regexp_replace(split_part(street_address, ',', 1),
                                       {_literal(CASE_INSENSITIVE_POSTCODE)}, '', 'g')) AS address_line
        FROM base
    )
    SELECT *, {value_sql} AS id_value FROM identified""")
    reserved_sources = []
    paths = warehouse.table_paths()
    if "tenders" in paths:
        reserved_sources.append(
            "SELECT ocid FROM tenders WHERE list_contains(reserved_participation, 'publicService')"
        )
    if "lots" in paths:
        reserved_sources.append(
            "SELECT ocid FROM lots WHERE list_contains(reserved_participation, 'publicService')"
        )
    reserved = " UNION ".join(reserved_sources) or "SELECT NULL AS ocid WHERE false"
    connection.execute(f"CREATE TEMP TABLE reserved_process AS {reserved}")
    connection.execute("ALTER TABLE mention ADD COLUMN reserved_for_mutuals BOOLEAN")
    connection.execute(
        "UPDATE mention SET reserved_for_mutuals = ocid IN (SELECT ocid FROM reserved_process)"
    )
    connection.execute("ALTER TABLE mention ADD COLUMN id_valid BOOLEAN")
    connection.execute(f"UPDATE mention SET id_valid = {valid_sql}")
    connection.execute("""
    CREATE TEMP TABLE name_map AS
    SELECT supplier_name, normalise_name(supplier_name) AS name_normalised,
           legal_form_hint(supplier_name) AS name_form_hint
    FROM (SELECT DISTINCT supplier_name FROM mention WHERE supplier_name IS NOT NULL)""")
    connection.execute("""
    CREATE OR REPLACE TEMP TABLE mention AS
    SELECT m.*, coalesce(n.name_normalised, '') AS name_normalised, n.name_form_hint,
           array_to_string(list_slice(string_split(coalesce(n.name_normalised, ''), ' '), 1, 2), ' ') AS name_prefix,
           CASE WHEN m.id_valid THEN m.id_scheme || '-' || m.id_value END AS identity,
           md5(concat_ws('|', coalesce(n.name_normalised, ''), coalesce(m.postcode, ''),
                         CASE WHEN m.id_valid THEN m.id_scheme || '-' || m.id_value ELSE '' END)) AS mention_key
    FROM mention m LEFT JOIN name_map n USING (supplier_name)""")

    # Public bodies seen as buyers are a register too (their identifiers are published).
    public = "(" + ", ".join(_literal(s) for s in rules.public_body_schemes) + ")"
    buyers_exist = "buyers" in warehouse.table_paths()
    buyers_sql = (
        f"""
        SELECT 'buyers' AS register, upper(identifier_scheme) || '-' || upper(trim(identifier_id)) AS identifier,
               upper(identifier_scheme) AS scheme, upper(trim(identifier_id)) AS local_id,
               upper(identifier_scheme) || '-' || upper(trim(identifier_id)) AS canonical_identifier,
               any_value(name) AS name, normalise_name(any_value(name)) AS name_normalised,
               uk_postcode(mode(postal_code)) AS postcode,
               upper(identifier_scheme) IN {public} AS is_public_body
        FROM buyers
        WHERE nullif(identifier_scheme, '') IS NOT NULL AND nullif(identifier_id, '') IS NOT NULL
              AND upper(identifier_scheme) NOT IN {portal} AND name IS NOT NULL
        GROUP BY ALL"""
        if buyers_exist
        else "SELECT NULL AS register WHERE false"
    )
    connection.execute(f"CREATE TEMP TABLE buyer_register AS {buyers_sql}")
    connection.execute(f"""
    CREATE TEMP VIEW register AS
    SELECT * FROM ({register_organisations_sql(warehouse.root)})
    UNION ALL BY NAME SELECT * FROM buyer_register""")


# -- step 1: identifiers -----------------------------------------------------------------------
def _identifier_links(connection: duckdb.DuckDBPyConnection) -> None:
    connection.execute("""
    CREATE TEMP TABLE identity_link AS
    WITH ids AS (SELECT DISTINCT identity FROM mention WHERE identity IS NOT NULL),
    hits AS (
        SELECT ids.identity, r.canonical_identifier, r.register, r.name, 0 AS how
        FROM ids JOIN register r ON r.identifier = ids.identity
        UNION ALL
        SELECT ids.identity, r.canonical_identifier, r.register, r.name, 1 AS how
        FROM ids JOIN register r ON r.linked_identifier = ids.identity AND r.register = 'fca'
    ),
    best AS (
        SELECT * FROM hits
        QUALIFY row_number() OVER (
            PARTITION BY identity
            ORDER BY how, CASE register WHEN 'companies_house' THEN 0 WHEN 'fca' THEN 1
                                        WHEN 'charities' THEN 2 WHEN 'programme' THEN 3 ELSE 4 END) = 1
    )
    SELECT ids.identity, coalesce(b.canonical_identifier, ids.identity) AS organisation_identifier,
           b.register, b.name IS NOT NULL AS in_register, b.how
    FROM ids LEFT JOIN best b USING (identity)""")
    # The programme's own organisations by exact normalised name, when that name belongs to one
    # organisation only across every register (no other organisation could be meant).
    connection.execute("""
    CREATE TEMP TABLE programme_name_link AS
    WITH names AS (SELECT DISTINCT name_normalised FROM mention WHERE identity IS NULL AND name_normalised <> ''),
    owners AS (
        SELECT r.name_normalised, count(DISTINCT r.canonical_identifier) AS organisations,
               any_value(r.canonical_identifier) FILTER (WHERE r.register = 'programme') AS programme_identifier
        FROM register r JOIN names USING (name_normalised)
        GROUP BY 1
    )
    SELECT name_normalised, programme_identifier AS organisation_identifier
    FROM owners WHERE organisations = 1 AND programme_identifier IS NOT NULL""")


# -- step 2: Splink -----------------------------------------------------------------------------
def _probabilistic_links(
    connection: duckdb.DuckDBPyConnection, rules: ClassRules, engine: str
) -> dict[str, Any]:
    connection.execute("""
    CREATE TEMP TABLE probe AS
    SELECT mention_key AS uid, any_value(name_normalised) AS name_normalised,
           any_value(name_prefix) AS name_prefix, any_value(postcode) AS postcode,
           mode(address_line) AS address_line
    FROM mention
    WHERE identity IS NULL AND name_normalised <> ''
      AND name_normalised NOT IN (SELECT name_normalised FROM programme_name_link)
    GROUP BY mention_key""")
    connection.execute("""
    CREATE TEMP TABLE candidate AS
    WITH r AS (
        SELECT register || ':' || identifier AS uid, canonical_identifier, register, name,
               name_normalised,
               array_to_string(list_slice(string_split(name_normalised, ' '), 1, 2), ' ') AS name_prefix,
               postcode, address_line
        FROM register WHERE coalesce(name_normalised, '') <> ''
    )
    SELECT * FROM r
    WHERE name_normalised IN (SELECT name_normalised FROM probe)
       OR postcode IN (SELECT postcode FROM probe WHERE postcode IS NOT NULL)
       OR name_prefix IN (SELECT name_prefix FROM probe)""")
    # A random sample of the whole register beside the candidates, so that the u probabilities
    # (chance agreement) are estimated on the register as it is, not on rows chosen for agreeing.
    connection.execute(f"""
    INSERT INTO candidate
    SELECT * FROM (
        SELECT register || ':' || identifier AS uid, canonical_identifier, register, name, name_normalised,
               array_to_string(list_slice(string_split(name_normalised, ' '), 1, 2), ' ') AS name_prefix,
               postcode, address_line
        FROM register WHERE coalesce(name_normalised, '') <> ''
        USING SAMPLE reservoir({SAMPLE_ROWS} ROWS) REPEATABLE (42)
    ) WHERE uid NOT IN (SELECT uid FROM candidate)""")
    left = connection.sql("SELECT * FROM probe ORDER BY uid").to_arrow_table()
    right = connection.sql(
        "SELECT uid, name_normalised, name_prefix, postcode, address_line FROM candidate ORDER BY uid"
    ).to_arrow_table()
    run = run_model(left, right, rules.review, engine)
    pairs = run.pairs  # noqa: F841 - read by DuckDB's replacement scan below
    gammas = ", ".join(f"mw_{c}" for c in COMPARED)
    connection.execute(
        f"CREATE TEMP TABLE pair AS SELECT uid_l, uid_r, match_probability, match_weight, {gammas} FROM pairs"
    )
    evidence = ", ".join(
        [
            f"{_literal(column)}, {_level_case(column, run.levels.get(column, []))}"
            for column in COMPARED
        ]
        + ["'match_weight', round(match_weight, 2)"]
    )
    connection.execute(f"""
    CREATE TEMP TABLE scored AS
    WITH joined AS (
        SELECT p.uid_l AS mention_key, c.canonical_identifier, c.register, c.name,
               p.match_probability, p.match_weight,
               json_object({evidence}) AS evidence
        FROM pair p
        JOIN candidate c ON c.uid = p.uid_r
    ),
    per_organisation AS (
        SELECT * FROM joined
        QUALIFY row_number() OVER (PARTITION BY mention_key, canonical_identifier
                                   ORDER BY match_probability DESC, register) = 1
    )
    SELECT *, row_number() OVER (PARTITION BY mention_key ORDER BY match_probability DESC,
                                 canonical_identifier) AS candidate_rank
    FROM per_organisation""")
    connection.execute(f"""
    CREATE TEMP TABLE probable_link AS
    WITH first AS (SELECT * FROM scored WHERE candidate_rank = 1),
    second AS (SELECT mention_key, match_probability AS second_probability FROM scored WHERE candidate_rank = 2)
    SELECT f.mention_key, f.canonical_identifier AS organisation_identifier, f.register,
           f.match_probability, f.evidence,
           CASE WHEN f.match_probability >= {rules.accept}
                     AND (s.second_probability IS NULL
                          OR f.match_probability - s.second_probability > {rules.ambiguity_margin})
                THEN 'accept' ELSE 'review' END AS outcome
    FROM first f LEFT JOIN second s USING (mention_key)""")
    return {"parameters": run.parameters, "levels": run.levels}


# -- steps 3 and 4: PPON, decisions, combine ------------------------------------------------------
def _combine(
    connection: duckdb.DuckDBPyConnection,
    warehouse: Warehouse,
    rules: ClassRules,
    model: dict[str, Any],
) -> None:
    decisions = decisions_path(warehouse)
    if decisions.exists():
        connection.execute(f"""
        CREATE TEMP TABLE decision AS
        SELECT mention_key, decision, nullif(organisation_identifier, '') AS organisation_identifier, decided_by,
               decided_at
        FROM read_parquet({_literal(str(decisions))})
        QUALIFY row_number() OVER (PARTITION BY mention_key ORDER BY decided_at DESC) = 1""")
    else:
        connection.execute("""CREATE TEMP TABLE decision (mention_key VARCHAR, decision VARCHAR,
            organisation_identifier VARCHAR, decided_by VARCHAR, decided_at TIMESTAMPTZ)""")
    connection.execute("""
    CREATE TEMP TABLE first_pass AS
    SELECT m.*,
        CASE WHEN i.identity IS NOT NULL THEN i.organisation_identifier
             WHEN g.organisation_identifier IS NOT NULL THEN g.organisation_identifier
             WHEN p.outcome = 'accept' THEN p.organisation_identifier END AS organisation_identifier,
        CASE WHEN i.identity IS NOT NULL THEN 'identifier'
             WHEN g.organisation_identifier IS NOT NULL THEN 'programme'
             WHEN p.outcome = 'accept' AND p.register = 'programme' THEN 'programme'
             WHEN p.outcome = 'accept' THEN 'probabilistic'
             ELSE 'none' END AS matched_by,
        CASE WHEN i.identity IS NOT NULL OR g.organisation_identifier IS NOT NULL THEN 1.0
             ELSE p.match_probability END AS match_probability,
        CASE WHEN i.identity IS NOT NULL THEN json_object(
                 'identifier', m.identity,
                 'found_in', coalesce(i.register, 'no loaded register (valid identifier kept)'),
                 'via', CASE WHEN i.how = 1 THEN 'GB-MPR to GB-COH crosswalk' ELSE 'identifier' END)
             WHEN g.organisation_identifier IS NOT NULL THEN json_object(
                 'programme_name', m.name_normalised,
                 'rule', 'exact normalised name of a programme organisation, held by no other organisation')
             ELSE p.evidence END AS evidence,
        p.outcome AS probabilistic_outcome
    FROM mention m
    LEFT JOIN identity_link i ON i.identity = m.identity
    LEFT JOIN programme_name_link g ON g.name_normalised = m.name_normalised AND m.identity IS NULL
    LEFT JOIN probable_link p ON p.mention_key = m.mention_key AND m.identity IS NULL""")
    # GB-PPON: a Procurement Act organisation number shared with resolved mentions carries the link.
    connection.execute("""
    CREATE TEMP TABLE ppon_link AS
    SELECT ppon, any_value(organisation_identifier) AS organisation_identifier
    FROM first_pass
    WHERE ppon IS NOT NULL AND matched_by = 'identifier'
    GROUP BY ppon HAVING count(DISTINCT organisation_identifier) = 1""")
    connection.execute("""
    CREATE TEMP TABLE link_raw AS
    SELECT f.* REPLACE (
        CASE WHEN d.decision IN ('accept', 'choose') AND f.matched_by <> 'identifier' THEN d.organisation_identifier
             WHEN d.decision = 'reject' AND f.matched_by <> 'identifier' THEN NULL
             WHEN f.matched_by = 'none' AND pp.organisation_identifier IS NOT NULL THEN pp.organisation_identifier
             ELSE f.organisation_identifier END AS organisation_identifier,
        CASE WHEN d.decision IN ('accept', 'choose') AND f.matched_by <> 'identifier' THEN 'review'
             WHEN d.decision = 'reject' AND f.matched_by <> 'identifier' THEN 'none'
             WHEN f.matched_by = 'none' AND pp.organisation_identifier IS NOT NULL THEN 'identifier'
             ELSE f.matched_by END AS matched_by,
        CASE WHEN d.decision IS NOT NULL AND f.matched_by <> 'identifier'
                  THEN json_object('review_decision', d.decision, 'decided_by', d.decided_by,
                                   'decided_at', d.decided_at::VARCHAR, 'model', f.evidence)
             WHEN f.matched_by = 'none' AND pp.organisation_identifier IS NOT NULL
                  THEN json_object('identifier', 'GB-PPON-' || f.ppon, 'via', 'GB-PPON shared with an identified mention')
             ELSE f.evidence END AS evidence,
        CASE WHEN f.matched_by = 'none' AND d.decision IS NULL AND pp.organisation_identifier IS NOT NULL
             THEN 1.0 ELSE f.match_probability END AS match_probability
    ), d.decision AS review_decision
    FROM first_pass f
    LEFT JOIN decision d USING (mention_key)
    LEFT JOIN ppon_link pp ON pp.ppon = f.ppon""")
    connection.execute("""
    CREATE TEMP TABLE review_candidate AS
    SELECT s.mention_key, s.candidate_rank, s.canonical_identifier AS organisation_identifier,
           s.name AS candidate_name, s.register, s.match_probability, s.evidence
    FROM scored s
    JOIN probable_link p USING (mention_key)
    WHERE p.outcome = 'review' AND s.candidate_rank <= 5
      AND s.mention_key NOT IN (SELECT mention_key FROM decision)
      AND s.mention_key NOT IN (SELECT mention_key FROM link_raw WHERE matched_by = 'identifier')""")


# -- step 5: names and classes ----------------------------------------------------------------------
def _classify(connection: duckdb.DuckDBPyConnection, rules: ClassRules) -> None:
    connection.execute("""
    CREATE TEMP TABLE organisation_register AS
    SELECT r.canonical_identifier AS organisation_identifier,
        bool_or(r.programme_kind IN ('mutual', 'staff_group')) AS programme_mutual,
        bool_or(r.programme_kind = 'public_body') AS programme_public_body,
        bool_or(r.programme_kind = 'social_enterprise') AS programme_social_enterprise,
        bool_or(r.register IN ('companies_house', 'fca', 'charities')) AS has_register_entry,
        bool_or(r.is_cic) AS is_cic, bool_or(r.is_society) AS is_society,
        bool_or(r.is_charity) AS is_charity, bool_or(r.is_cio) AS is_cio,
        bool_or(r.is_guarantee) AS is_guarantee, bool_or(r.is_plc) AS is_plc,
        bool_or(r.is_public_body) AS is_public_body,
        max(r.size_signal) FILTER (WHERE r.register = 'companies_house') AS size_signal,
        coalesce(max(r.name) FILTER (WHERE r.register = 'programme'),
                 max(r.name) FILTER (WHERE r.identifier = r.canonical_identifier),
                 max(r.name)) AS register_name,
        coalesce(max(r.name_normalised) FILTER (WHERE r.identifier = r.canonical_identifier),
                 max(r.name_normalised)) AS register_name_normalised
    FROM register r
    WHERE r.canonical_identifier IN (SELECT DISTINCT organisation_identifier FROM link_raw
                                     WHERE organisation_identifier IS NOT NULL)
    GROUP BY 1""")
    facts_organisation = """
        SELECT l.organisation_identifier AS subject,
            any_value(r.programme_mutual) AS programme_mutual,
            any_value(coalesce(r.programme_public_body, false) OR coalesce(r.is_public_body, false)) AS programme_public_body,
            any_value(r.programme_social_enterprise) AS programme_social_enterprise,
            regexp_extract(l.organisation_identifier, '^([A-Z]+(?:-[A-Z]+)?)-', 1) AS canonical_scheme,
            coalesce(any_value(r.register_name_normalised), mode(l.name_normalised)) AS name_normalised,
            any_value(r.has_register_entry) AS has_register_entry,
            any_value(r.is_cic) AS is_cic, any_value(r.is_society) AS is_society,
            any_value(r.is_charity) AS is_charity, any_value(r.is_cio) AS is_cio,
            any_value(r.is_guarantee) AS is_guarantee, any_value(r.is_plc) AS is_plc,
            any_value(r.size_signal) AS size_signal,
            count(*) FILTER (WHERE l.psm_flag) AS psm_count,
            count(*) FILTER (WHERE l.reserved_for_mutuals) AS reserved_wins,
            count(*) AS awards,
            count(*) FILTER (WHERE l.published_vcse) AS vcse_true,
            count(l.published_vcse) AS vcse_known,
            count(*) FILTER (WHERE l.published_scale = 'large') AS scale_large,
            count(*) FILTER (WHERE l.published_scale = 'sme') AS scale_sme,
            mode(l.name_form_hint) AS name_form_hint,
            coalesce(any_value(r.register_name), mode(l.supplier_name)) AS organisation_name
        FROM link_raw l LEFT JOIN organisation_register r USING (organisation_identifier)
        WHERE l.organisation_identifier IS NOT NULL
        GROUP BY l.organisation_identifier"""
    facts_unresolved = """
        SELECT 'mention:' || mention_key AS subject,
            false AS programme_mutual, false AS programme_public_body, false AS programme_social_enterprise,
            NULL AS canonical_scheme, any_value(name_normalised) AS name_normalised,
            false AS has_register_entry, NULL::BOOLEAN AS is_cic, NULL::BOOLEAN AS is_society,
            NULL::BOOLEAN AS is_charity, NULL::BOOLEAN AS is_cio, NULL::BOOLEAN AS is_guarantee,
            NULL::BOOLEAN AS is_plc, NULL AS size_signal,
            count(*) FILTER (WHERE psm_flag) AS psm_count,
            count(*) FILTER (WHERE reserved_for_mutuals) AS reserved_wins,
            count(*) AS awards,
            count(*) FILTER (WHERE published_vcse) AS vcse_true,
            count(published_vcse) AS vcse_known,
            count(*) FILTER (WHERE published_scale = 'large') AS scale_large,
            count(*) FILTER (WHERE published_scale = 'sme') AS scale_sme,
            mode(name_form_hint) AS name_form_hint,
            NULL AS organisation_name
        FROM link_raw WHERE organisation_identifier IS NULL
        GROUP BY mention_key"""
    connection.execute(f"""
    CREATE TEMP TABLE subject_class AS
    {classification_sql(f"{facts_organisation} UNION ALL BY NAME {facts_unresolved}", rules)}""")
    connection.execute("""
    CREATE TEMP TABLE link AS
    SELECT l.*, c.organisation_name, c.supplier_class, c.class_reason, c.class_rule
    FROM link_raw l
    JOIN subject_class c ON c.subject = coalesce(l.organisation_identifier, 'mention:' || l.mention_key)""")


def _write_outputs(connection: duckdb.DuckDBPyConnection, warehouse: Warehouse) -> None:
    _write_table(
        connection,
        """
        SELECT ocid, award_id, supplier_party_id, position, supplier_name,
               coalesce(supplier_identifier, '') AS supplier_identifier, mention_key,
               organisation_identifier, organisation_name, supplier_class, class_reason, class_rule,
               round(match_probability, 6) AS match_probability, matched_by, evidence,
               postcode, address_line, name_normalised, ppon, published_scale, published_vcse, psm_flag,
               review_decision
        FROM link ORDER BY ocid, award_id, position""",
        warehouse.table_dir("supplier_links"),
    )
    _write_table(
        connection,
        """
        WITH mention_summary AS (
            SELECT mention_key, mode(supplier_name) AS supplier_name, any_value(postcode) AS postcode,
                   mode(address_line) AS address_line, count(*) AS mentions,
                   min(ocid) AS example_ocid, min(award_id) AS example_award_id,
                   any_value(supplier_identifier) AS supplier_identifier
            FROM link GROUP BY mention_key
        )
        SELECT r.mention_key, m.supplier_name, coalesce(m.supplier_identifier, '') AS supplier_identifier,
               m.postcode, m.address_line, m.mentions, m.example_ocid, m.example_award_id,
               r.candidate_rank, r.organisation_identifier, r.candidate_name AS organisation_name,
               r.register, round(r.match_probability, 6) AS match_probability, r.evidence
        FROM review_candidate r JOIN mention_summary m USING (mention_key)
        ORDER BY m.mentions DESC, r.mention_key, r.candidate_rank""",
        warehouse.table_dir("review_queue"),
    )
    _write_table(
        connection,
        """
        SELECT ocid, award_id, supplier_party_id, supplier_name, organisation_identifier, organisation_name,
               supplier_class, class_reason, published_scale,
               CASE WHEN supplier_class = 'LARGE_PRIVATE' THEN 'large' ELSE 'sme' END AS scale_implied_by_class
        FROM link
        WHERE published_scale IN ('sme', 'large')
          AND supplier_class IN ('SME', 'LARGE_PRIVATE')
          AND published_scale <> CASE WHEN supplier_class = 'LARGE_PRIVATE' THEN 'large' ELSE 'sme' END
        ORDER BY ocid, award_id""",
        warehouse.table_dir("scale_disagreements"),
    )


# -- reading the outputs --------------------------------------------------------------------------
def read_table(name: str, warehouse_dir: Path | str | None = None) -> Any:
    """One output table as a pyarrow Table (empty if resolve has not run)."""
    if name not in OUTPUT_TABLES:
        raise ValueError(f"not a resolve output: {name!r}")
    folder = Warehouse(warehouse_dir).table_dir(name)
    if not any(folder.glob("*.parquet")):
        raise ResolveError(f"no {name} table in {folder.parent}: run `mutualise resolve` first")
    with duckdb.connect() as connection:
        return connection.sql(
            f"SELECT * FROM read_parquet({_literal(str(folder / '*.parquet'))})"
        ).to_arrow_table()
