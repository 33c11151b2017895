# ruff: noqa: S608 - statements are built from this module's constants and validated rules data, never user input
"""What happened at re-tender: one outcome (DOMAIN.md §3) per ended contract of interest.

No Django; SQL on DuckDB or Spark through the same runner as `chains`. Reads the warehouse tables
``contract_facts`` and ``retender_links`` (run `chains` first) and writes:

- ``retender_notices``: planning or tender notices with no award yet, matched to the contract they
  would replace (same buyer and CPV division, similar title/description, published around the
  contract's end) — the early warning for the mutual and the PENDING evidence;
- ``contract_outcomes``: one row per contract of interest, with the outcome, its confidence, the
  reason in words and the rows behind it (predecessor, successor, notice, amendments).

The rules, in the order they are tried (docs/contract-watch.md):
1. a successor link exists and its supplier is the same organisation → RETAINED;
2. a successor link exists and its supplier is the buyer itself → INSOURCED;
3. a successor link exists → LOST_TO_LARGE_PRIVATE / LOST_TO_SME_OR_VCSE (SME, VCSE or another
   mutual) / LOST_TO_PUBLIC_BODY by the successor's class, UNKNOWN when that class is unknown;
4. no successor, the end date was extended (amendment or end after the planned end) and the
   contract is still running on the as-of date → EXTENDED;
5. no successor and still running → not an ended contract: no outcome row;
6. no successor, ended, and a matching open planning/tender notice → PENDING;
7. no successor, ended at least `presume_insourced_after_days` ago → INSOURCED (presumed; low
   confidence, because the data cannot show an in-house service);
8. otherwise UNKNOWN.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from mutualise.pipeline.chains import (
    OUTCOME_RULES,
    TEXT_STOP_WORDS,
    Dialect,
    SqlRunner,
    open_runner,
)
from mutualise.rules import load_yaml

OUTCOMES = (
    "RETAINED",
    "LOST_TO_LARGE_PRIVATE",
    "LOST_TO_SME_OR_VCSE",
    "LOST_TO_PUBLIC_BODY",
    "INSOURCED",
    "ACQUIRED",
    "WOUND_UP",
    "EXTENDED",
    "PENDING",
    "UNKNOWN",
)
CLASSES = (
    "PUBLIC_SERVICE_MUTUAL",
    "OTHER_SOCIAL_ENTERPRISE_OR_VCSE",
    "SME",
    "LARGE_PRIVATE",
    "PUBLIC_BODY",
    "UNKNOWN",
)
EXPORT_COLUMNS = (
    "ocid",
    "award_id",
    "buyer_identifier",
    "supplier_organisation_identifier",
    "supplier_class",
    "end_date",
    "successor_ocid",
    "successor_award_id",
    "successor_organisation_identifier",
    "successor_class",
    "outcome",
    "confidence",
)


@dataclass(frozen=True)
class OutcomeRules:
    presume_insourced_after_days: int = 180
    insourced_confidence: float = 0.5
    pending_tender_window_days: int = 540
    classes_of_interest: tuple[str, ...] = tuple(c for c in CLASSES if c != "UNKNOWN")


def outcome_rules() -> OutcomeRules:
    data = load_yaml(OUTCOME_RULES)["outcomes"]
    classes = data.get("classes_of_interest", "all")
    if classes == "all":
        chosen = tuple(c for c in CLASSES if c != "UNKNOWN")
    else:
        chosen = tuple(classes)
        unknown = set(chosen) - set(CLASSES)
        if unknown:
            raise ValueError(f"{OUTCOME_RULES}: unknown supplier classes {sorted(unknown)}")
    return OutcomeRules(
        int(data["presume_insourced_after_days"]),
        float(data["insourced_confidence"]),
        int(data["pending_tender_window_days"]),
        chosen,
    )


def outcome_steps(d: Dialect, rules: OutcomeRules, as_of: str) -> list[tuple[str, str]]:
    classes = ", ".join(f"'{c}'" for c in rules.classes_of_interest)
    window = rules.pending_tender_window_days
    as_of_sql = f"CAST('{as_of}' AS DATE)"
    name_tokens = d.tokens("{x}", ("the", "ltd", "limited", "cic", "plc", "llp", "uk", "and", "of"))
    return [
        (
            "facts",
            f"""
            SELECT *, {d.tokens("concat(coalesce(title, ''), ' ', coalesce(description, ''))", TEXT_STOP_WORDS)} AS text_tokens,
                   {name_tokens.format(x="buyer_name")} AS buyer_tokens
            FROM contract_facts""",
        ),
        # Processes with a planning or tender notice and no award, that are not the skeleton half
        # of a split ocid.
        (
            "open_notices",
            f"""
            SELECT pr.ocid AS notice_ocid, coalesce(t.title, pr.title) AS notice_title,
                   coalesce(t.description, pr.description) AS notice_description,
                   t.cpv_id AS notice_cpv, substr(t.cpv_id, 1, 2) AS notice_cpv_division,
                   CAST(pr.first_release_date AS DATE) AS notice_published,
                   CASE WHEN {d.contains("pr.tags", "tender")} THEN 'tender' ELSE 'planning' END AS notice_stage,
                   t.status AS notice_status,
                   {d.normalise("pr.buyer_name")} AS notice_buyer_name_key,
                   {d.tokens("concat(coalesce(t.title, pr.title, ''), ' ', coalesce(t.description, pr.description, ''))", TEXT_STOP_WORDS)} AS notice_tokens
            FROM processes pr
            LEFT JOIN (SELECT *, row_number() OVER (PARTITION BY ocid ORDER BY tender_id) AS rn FROM tenders) t
                 ON t.ocid = pr.ocid AND t.rn = 1
            WHERE pr.ocid NOT IN (SELECT ocid FROM awards WHERE ocid IS NOT NULL)
              AND pr.ocid NOT IN (SELECT process_ocid FROM contract_facts WHERE process_ocid IS NOT NULL)
              AND coalesce(t.status, 'active') NOT IN ('cancelled', 'unsuccessful', 'withdrawn', 'complete')
              AND ({d.contains("pr.tags", "tender")} OR {d.contains("pr.tags", "planning")})""",
        ),
        (
            "notice_candidates",
            f"""
            SELECT f.ocid, f.award_id, n.notice_ocid, n.notice_title, n.notice_cpv, n.notice_published,
                   n.notice_stage,
                   {d.jaccard("f.text_tokens", "n.notice_tokens")} AS notice_score,
                   {d.days("f.end_date", "n.notice_published")} AS days_from_end
            FROM facts f JOIN open_notices n
              ON n.notice_buyer_name_key = f.buyer_key AND n.notice_cpv_division = f.cpv_division
            WHERE NOT f.is_framework AND f.end_date IS NOT NULL
              AND n.notice_published > f.award_date
              AND n.notice_published >= {d.add_days("f.end_date", str(-window))}
              AND n.notice_published <= {d.add_days("f.end_date", str(window))}""",
        ),
        (
            "retender_notices",
            """
            SELECT ocid, award_id, notice_ocid, notice_title, notice_cpv, notice_published, notice_stage,
                   round(notice_score, 4) AS notice_score, days_from_end, rn AS notice_rank
            FROM (SELECT *, row_number() OVER (PARTITION BY ocid, award_id
                         ORDER BY notice_score DESC, abs(days_from_end), notice_ocid) AS rn
                  FROM notice_candidates WHERE notice_score >= 0.5) x
            WHERE rn <= 3""",
        ),
        ("best_notice", "SELECT * FROM retender_notices WHERE notice_rank = 1"),
        (
            "joined",
            f"""
            SELECT p.ocid, p.award_id, p.buyer_identifier, p.buyer_name, p.buyer_key,
                   p.supplier_party_id, p.supplier_name,
                   coalesce(p.organisation_identifier, p.supplier_identifier) AS supplier_organisation_identifier,
                   p.supplier_class, p.class_source, p.end_date, p.original_end_date, p.extended,
                   p.extension_amendments, p.cpv_id, p.title, p.value_pence,
                   l.successor_ocid, l.successor_award_id, l.confidence AS link_confidence, l.evidence AS link_evidence,
                   s.supplier_name AS successor_supplier_name,
                   coalesce(s.organisation_identifier, s.supplier_identifier) AS successor_organisation_identifier,
                   s.supplier_class AS successor_class, s.class_source AS successor_class_source,
                   s.class_probability AS successor_class_probability,
                   n.notice_ocid, n.notice_stage, n.notice_published, n.notice_score,
                   (l.successor_ocid IS NOT NULL AND (
                      (p.organisation_identifier IS NOT NULL AND p.organisation_identifier = s.organisation_identifier)
                      OR (p.supplier_identifier IS NOT NULL AND p.supplier_identifier = s.supplier_identifier)
                      OR (p.supplier_party_id IS NOT NULL AND p.supplier_party_id = s.supplier_party_id
                          AND {d.jaccard("p.supplier_tokens", "s.supplier_tokens")} >= 0.3)
                      OR {d.jaccard("p.supplier_tokens", "s.supplier_tokens")} >= 0.5
                      OR {d.similarity(d.joined("p.supplier_tokens"), d.joined("s.supplier_tokens"))} >= 0.85
                   )) AS same_supplier,
                   (l.successor_ocid IS NOT NULL AND s.supplier_class = 'PUBLIC_BODY'
                      AND {d.jaccard(name_tokens.format(x="s.supplier_name"), "p.buyer_tokens")} >= 0.8) AS successor_is_buyer,
                   {d.days("p.end_date", as_of_sql)} AS days_since_end
            FROM facts p
            LEFT JOIN retender_links l ON l.predecessor_ocid = p.ocid AND l.predecessor_award_id = p.award_id
            LEFT JOIN facts s ON s.ocid = l.successor_ocid AND s.award_id = l.successor_award_id
            LEFT JOIN best_notice n ON n.ocid = p.ocid AND n.award_id = p.award_id
            WHERE p.supplier_class IN ({classes}) AND NOT p.is_framework AND p.end_date IS NOT NULL""",
        ),
        (
            "decided",
            f"""
            SELECT *,
              CASE
                WHEN successor_ocid IS NOT NULL AND same_supplier THEN 'RETAINED'
                WHEN successor_ocid IS NOT NULL AND successor_is_buyer THEN 'INSOURCED'
                WHEN successor_ocid IS NOT NULL AND successor_class = 'LARGE_PRIVATE' THEN 'LOST_TO_LARGE_PRIVATE'
                WHEN successor_ocid IS NOT NULL AND successor_class IN
                     ('SME', 'OTHER_SOCIAL_ENTERPRISE_OR_VCSE', 'PUBLIC_SERVICE_MUTUAL') THEN 'LOST_TO_SME_OR_VCSE'
                WHEN successor_ocid IS NOT NULL AND successor_class = 'PUBLIC_BODY' THEN 'LOST_TO_PUBLIC_BODY'
                WHEN successor_ocid IS NOT NULL THEN 'UNKNOWN'
                WHEN days_since_end < 0 AND extended THEN 'EXTENDED'
                WHEN days_since_end < 0 THEN 'RUNNING'
                WHEN notice_ocid IS NOT NULL THEN 'PENDING'
                WHEN days_since_end >= {rules.presume_insourced_after_days} THEN 'INSOURCED'
                ELSE 'UNKNOWN' END AS outcome
            FROM joined""",
        ),
        (
            "contract_outcomes",
            f"""
            SELECT ocid, award_id, buyer_identifier, buyer_name, supplier_party_id, supplier_name,
                   supplier_organisation_identifier, supplier_class, class_source, end_date, original_end_date,
                   extended, cpv_id, title, value_pence,
                   successor_ocid, successor_award_id, successor_supplier_name,
                   successor_organisation_identifier, successor_class,
                   notice_ocid, notice_published, outcome,
                   round(CASE
                     WHEN outcome = 'RETAINED' THEN link_confidence
                     WHEN outcome IN ('LOST_TO_LARGE_PRIVATE', 'LOST_TO_SME_OR_VCSE', 'LOST_TO_PUBLIC_BODY')
                       THEN link_confidence * (CASE WHEN successor_class_source = 'supplier_links'
                                                    THEN greatest(successor_class_probability, 0.5) ELSE 0.8 END)
                     WHEN outcome = 'INSOURCED' AND successor_ocid IS NOT NULL THEN link_confidence * 0.8
                     WHEN outcome = 'INSOURCED' THEN {rules.insourced_confidence}
                     WHEN outcome = 'EXTENDED' THEN 0.9
                     WHEN outcome = 'PENDING' THEN notice_score
                     ELSE 0.0 END, 4) AS confidence,
                   CASE
                     WHEN outcome = 'RETAINED' THEN concat('the successor contract went to the same supplier (',
                          coalesce(successor_supplier_name, '?'), ')')
                     WHEN outcome = 'INSOURCED' AND successor_ocid IS NOT NULL
                       THEN 'the successor contract was awarded to the buyer itself'
                     WHEN outcome LIKE 'LOST_TO_%' THEN concat('the successor contract went to ',
                          coalesce(successor_supplier_name, '?'), ', class ', successor_class,
                          ' (from ', successor_class_source, ')')
                     WHEN outcome = 'UNKNOWN' AND successor_ocid IS NOT NULL
                       THEN concat('a successor was found but the class of its supplier is unknown (',
                                   coalesce(successor_supplier_name, '?'), ')')
                     WHEN outcome = 'EXTENDED' THEN concat('extended to ', CAST(end_date AS STRING),
                          '; still running on ', '{as_of}', ' and no successor award yet')
                     WHEN outcome = 'PENDING' THEN concat('ended ', CAST(end_date AS STRING), '; ', notice_stage,
                          ' notice ', notice_ocid, ' published ', CAST(notice_published AS STRING),
                          ' has no award yet')
                     WHEN outcome = 'INSOURCED' THEN concat('ended ', CAST(end_date AS STRING), ', ',
                          CAST(days_since_end AS STRING), ' days before ', '{as_of}',
                          ', with no successor procurement or notice: presumed taken in-house')
                     ELSE concat('ended ', CAST(end_date AS STRING), ' with no successor found yet')
                   END AS reason,
                   concat('contract ', ocid, ' / ', award_id,
                          CASE WHEN successor_ocid IS NOT NULL
                               THEN concat('; successor ', successor_ocid, ' / ', successor_award_id,
                                           ' (link confidence ', CAST(link_confidence AS STRING), ')') ELSE '' END,
                          CASE WHEN notice_ocid IS NOT NULL THEN concat('; notice ', notice_ocid) ELSE '' END,
                          CASE WHEN extension_amendments > 0
                               THEN concat('; ', CAST(extension_amendments AS STRING), ' extension amendment(s)')
                               ELSE '' END) AS source_rows,
                   '{as_of}' AS as_of
            FROM decided WHERE outcome <> 'RUNNING'""",
        ),
    ]


@dataclass
class OutcomesSummary:
    engine: str
    as_of: str
    outcomes: dict[str, int]
    notices: int
    seconds: float


def default_as_of(runner: SqlRunner) -> str:
    """The data snapshot: the latest release date in the warehouse (today if there is none)."""
    value = (
        runner.arrow("SELECT CAST(max(last_release_date) AS DATE) AS d FROM processes")
        .column(0)[0]
        .as_py()
    )
    return (value or date.today()).isoformat()


def build_outcomes(
    runner: SqlRunner,
    as_of: str | None = None,
    rules: OutcomeRules | None = None,
    progress: Callable[[str], None] | None = None,
) -> OutcomesSummary:
    from mutualise.pipeline.chains import register_inputs

    started = time.monotonic()
    rules = rules or outcome_rules()
    for name in ("contract_facts", "retender_links"):
        folder = runner.warehouse.table_dir(name)
        if not any(folder.glob("*.parquet")):
            raise FileNotFoundError(
                f"no {name} in {runner.warehouse.root}: run `mutualise chains` first"
            )
    register_inputs(runner)
    runner.register_parquet("contract_facts", runner.warehouse.table_dir("contract_facts"))
    runner.register_parquet("retender_links", runner.warehouse.table_dir("retender_links"))
    as_of = as_of or default_as_of(runner)
    date.fromisoformat(as_of)
    for name, sql in outcome_steps(runner.dialect, rules, as_of):
        if progress:
            progress(name)
        runner.run(name, sql)
    notices = runner.write("retender_notices", order_by="ocid, award_id, notice_ocid")
    runner.write("contract_outcomes", order_by="ocid, award_id")
    counts = runner.arrow(
        "SELECT outcome, count(*) AS n FROM contract_outcomes GROUP BY outcome ORDER BY outcome"
    )
    outcomes = dict(zip(counts.column(0).to_pylist(), counts.column(1).to_pylist(), strict=True))
    return OutcomesSummary(runner.engine, as_of, outcomes, notices, time.monotonic() - started)


def run_outcomes(
    warehouse_dir: Path | None = None,
    engine: str = "duckdb",
    as_of: str | None = None,
    progress: Callable[[str], None] | None = None,
) -> OutcomesSummary:
    with open_runner(warehouse_dir, engine) as runner:
        return build_outcomes(runner, as_of, progress=progress)


def export_outcomes(out_path: Path, warehouse_dir: Path | None = None) -> int:
    """Write `contract_outcomes` as CSV with the published columns; return the rows written."""
    import csv
    import os

    import pyarrow.dataset as ds

    from mutualise.core.csvsafe import safe_row
    from mutualise.pipeline.warehouse import Warehouse

    folder = Warehouse(warehouse_dir).table_dir("contract_outcomes")
    if not any(folder.glob("*.parquet")):
        raise FileNotFoundError(
            f"no contract_outcomes in {folder.parent.parent}: run `mutualise outcomes` first"
        )
    table = ds.dataset(folder, format="parquet").to_table(columns=list(EXPORT_COLUMNS))
    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    temporary = out_path.with_name(f".{out_path.name}.tmp")
    rows = 0
    with temporary.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(EXPORT_COLUMNS)
        for record in table.sort_by([("ocid", "ascending"), ("award_id", "ascending")]).to_pylist():
            writer.writerow(
                safe_row(
                    record[c].isoformat() if isinstance(record[c], date) else record[c]
                    for c in EXPORT_COLUMNS
                )
            )
            rows += 1
    os.replace(temporary, out_path)
    return rows
