# ruff: noqa: S608 - statements are built from this module's constants and validated rules data, never user input
"""Re-tender chains: link each contract (award) to the procurement that replaced it.

No Django. The heavy lifting is SQL run by the engine (DuckDB by default, Spark with
``engine="spark"``); the statements are written once, with the few functions whose spelling
differs between the two engines (date arithmetic, arrays) filled in by a `Dialect`.

Steps (docs/contract-watch.md gives the rules and the reasons):
1. ``contract_facts``: one row per award with its buyer (normalised name, identifier, successor
   body), service (CPV, title and description tokens, lot), supplier and class, value, dates (end
   including extensions from amendments, renewal max extent), framework/call-off flags, and the
   process it belongs to when Find a Tender split one process over several ocids.
2. candidates: pairs blocked on buyer (name or identifier, after successions) and CPV division,
   with the successor's start inside a window around the predecessor's end.
3. scores: CPV similarity, title/description token Jaccard, timing against the end (original,
   extended and maximum extent), lot, annual value; confidence = weighted sum.
4. selection: mutual best pairs above the threshold, in two rounds (each predecessor gets at
   most one successor and each successor at most one predecessor).

Outputs: warehouse tables ``contract_facts`` and ``retender_links``.
"""

from __future__ import annotations

import os
import shutil
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.dataset as ds

from mutualise.pipeline.warehouse import Warehouse
from mutualise.rules import load_yaml

OUTCOME_RULES = "watch_outcomes.yaml"
SUCCESSIONS_FILE = "watch_buyer_successions.yaml"
PUBLIC_BODY_SCHEMES = ("GB-NHS", "GB-LAE", "GB-GOR", "GB-UKPRN", "GB-LAS", "GB-PLA", "GB-SHPE")
NAME_STOP_WORDS = (
    "the",
    "ltd",
    "limited",
    "cic",
    "plc",
    "llp",
    "community",
    "interest",
    "company",
    "uk",
    "and",
    "of",
    "t",
    "a",
    "co",
    "cio",
    "group",
    "trading",
    "as",
)
TEXT_STOP_WORDS = (
    "the",
    "and",
    "for",
    "of",
    "to",
    "in",
    "with",
    "provision",
    "services",
    "service",
    "contract",
    "runs",
    "years",
    "option",
    "extend",
    "lot",
)
SUPPLIER_LINK_COLUMNS = {
    "ocid": pa.string(),
    "award_id": pa.string(),
    "supplier_party_id": pa.string(),
    "organisation_identifier": pa.string(),
    "organisation_name": pa.string(),
    "supplier_class": pa.string(),
    "match_probability": pa.float64(),
}
# Supplier names that say the supplier is a public body (when no register or scheme says so).
PUBLIC_NAME = (
    "({name} LIKE '%council%' OR {name} LIKE '%nhs%' OR {name} LIKE '%national park authority%'"
    " OR {name} LIKE '%police%' OR {name} LIKE '%fire and rescue%' OR {name} LIKE '% authority%'"
    " OR {name} LIKE '%integrated care board%' OR {name} LIKE '%clinical commissioning group%')"
)
INPUT_TABLES = (
    "processes",
    "buyers",
    "tenders",
    "lots",
    "awards",
    "award_suppliers",
    "contracts",
    "amendments",
)


# -- dialects ---------------------------------------------------------------------------------
class Dialect:
    """SQL spelled for DuckDB; `SparkDialect` overrides what Spark spells differently."""

    name = "duckdb"

    def days(self, start: str, end: str) -> str:
        """Whole days from start to end (dates)."""
        return f"date_diff('day', {start}, {end})"

    def add_days(self, day: str, days: str) -> str:
        return f"CAST({day} + CAST({days} AS INTEGER) AS DATE)"

    def add_months(self, day: str, months: str) -> str:
        return f"CAST({day} + to_months(CAST({months} AS INTEGER)) AS DATE)"

    def array(self, items: tuple[str, ...]) -> str:
        return "[" + ", ".join(f"'{i}'" for i in items) + "]"

    def tokens(self, text: str, stop: tuple[str, ...]) -> str:
        return (
            f"list_filter(list_distinct(string_split(trim(regexp_replace(lower(coalesce({text}, '')), "
            f"'[^a-z0-9]+', ' ', 'g')), ' ')), lambda t: length(t) > 1 AND NOT list_contains("
            f"{self.array(stop)}, t))"
        )

    def jaccard(self, a: str, b: str) -> str:
        return (
            f"CASE WHEN len(list_distinct(list_concat({a}, {b}))) = 0 THEN 0.0 ELSE "
            f"CAST(len(list_intersect({a}, {b})) AS DOUBLE) / len(list_distinct(list_concat({a}, {b}))) END"
        )

    def normalise(self, text: str) -> str:
        return f"trim(regexp_replace(lower(coalesce({text}, '')), '[^a-z0-9]+', ' ', 'g'))"

    def contains(self, array: str, item: str) -> str:
        return f"coalesce(list_contains({array}, '{item}'), false)"

    def first(self, array: str) -> str:
        return f"{array}[1]"

    def ln(self, x: str) -> str:
        return f"ln({x})"

    def joined(self, tokens: str) -> str:
        """Tokens sorted and joined by spaces: a comparable form of a name."""
        return f"array_to_string(list_sort({tokens}), ' ')"

    def similarity(self, a: str, b: str) -> str:
        """1 − edit distance / longer length (0 when both are empty)."""
        return (
            f"CASE WHEN greatest(length({a}), length({b})) = 0 THEN 0.0 ELSE "
            f"1.0 - CAST(levenshtein({a}, {b}) AS DOUBLE) / greatest(length({a}), length({b})) END"
        )


class SparkDialect(Dialect):
    name = "spark"

    def days(self, start: str, end: str) -> str:
        return f"datediff({end}, {start})"

    def add_days(self, day: str, days: str) -> str:
        return f"date_add({day}, CAST({days} AS INT))"

    def add_months(self, day: str, months: str) -> str:
        return f"add_months({day}, CAST({months} AS INT))"

    def array(self, items: tuple[str, ...]) -> str:
        return "array(" + ", ".join(f"'{i}'" for i in items) + ")"

    def tokens(self, text: str, stop: tuple[str, ...]) -> str:
        return (
            f"filter(array_distinct(split(trim(regexp_replace(lower(coalesce({text}, '')), "
            f"'[^a-z0-9]+', ' ')), ' ')), t -> length(t) > 1 AND NOT array_contains("
            f"{self.array(stop)}, t))"
        )

    def jaccard(self, a: str, b: str) -> str:
        return (
            f"CASE WHEN size(array_union({a}, {b})) = 0 THEN 0.0 ELSE "
            f"CAST(size(array_intersect({a}, {b})) AS DOUBLE) / size(array_union({a}, {b})) END"
        )

    def normalise(self, text: str) -> str:
        return f"trim(regexp_replace(lower(coalesce({text}, '')), '[^a-z0-9]+', ' '))"

    def contains(self, array: str, item: str) -> str:
        return f"coalesce(array_contains({array}, '{item}'), false)"

    def first(self, array: str) -> str:
        return f"element_at({array}, 1)"

    def ln(self, x: str) -> str:
        return f"ln({x})"

    def joined(self, tokens: str) -> str:
        return f"array_join(array_sort({tokens}), ' ')"


DIALECTS = {"duckdb": Dialect(), "spark": SparkDialect()}


# -- parameters ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class ChainRules:
    days_before_end: int = 365
    days_after_end: int = 545
    weights: dict[str, float] = field(
        default_factory=lambda: {"cpv": 0.2, "text": 0.2, "timing": 0.35, "lot": 0.1, "value": 0.15}
    )
    threshold: float = 0.55
    split_ocid_days: int = 30


def chain_rules() -> ChainRules:
    data = load_yaml(OUTCOME_RULES)["chains"]
    weights = {k: float(v) for k, v in data["weights"].items()}
    if abs(sum(weights.values()) - 1.0) > 1e-6:
        raise ValueError(f"{OUTCOME_RULES}: chain weights must sum to 1")
    return ChainRules(
        int(data["days_before_end"]),
        int(data["days_after_end"]),
        weights,
        float(data["threshold"]),
        int(data["split_ocid_days"]),
    )


def buyer_successions() -> list[tuple[str, str]]:
    """(normalised predecessor buyer key, normalised successor key) from the data file."""
    data = load_yaml(SUCCESSIONS_FILE) or {}
    pairs = []
    for item in data.get("successions") or ():
        for before in item["predecessors"]:
            pairs.append((_normalise_name(before), _normalise_name(item["successor"])))
    # Follow chains of successions (A → B → C) to the last body.
    mapping = dict(pairs)
    resolved = []
    for before in mapping:
        after, seen = mapping[before], {before}
        while after in mapping and after not in seen:
            seen.add(after)
            after = mapping[after]
        resolved.append((before, after))
    return resolved


def _normalise_name(text: str) -> str:
    import re

    return re.sub(r"[^a-z0-9]+", " ", text.lower()).strip()


# -- the SQL --------------------------------------------------------------------------------------
def fact_steps(d: Dialect, rules: ChainRules) -> list[tuple[str, str]]:
    """Statements building `contract_facts` from the flattened tables."""
    public = ", ".join(f"'{s}'" for s in PUBLIC_BODY_SCHEMES)
    return [
        (
            "buyer_one",
            f"""
            SELECT ocid, name AS buyer_name, identifier_scheme, identifier_id,
                   {d.normalise("name")} AS buyer_name_key
            FROM (SELECT *, row_number() OVER (PARTITION BY ocid ORDER BY buyer_id) AS rn FROM buyers) b
            WHERE rn = 1""",
        ),
        (
            "process_info",
            """
            SELECT p.ocid, coalesce(t.title, p.title) AS title,
                   coalesce(t.description, p.description) AS description,
                   t.tender_id, t.cpv_id AS tender_cpv, t.status AS tender_status,
                   coalesce(t.procurement_method_details, p.procurement_method_details) AS method_details,
                   coalesce(t.procurement_method, p.procurement_method) AS method,
                   t.reserved_participation,
                   CAST(t.contract_period_start_date AS DATE) AS tender_start,
                   CAST(t.contract_period_end_date AS DATE) AS tender_end,
                   t.contract_period_duration_in_months AS tender_months,
                   CAST(p.first_release_date AS DATE) AS first_seen,
                   b.buyer_name, b.identifier_scheme AS buyer_scheme,
                   CASE WHEN b.identifier_scheme IS NOT NULL AND b.identifier_id IS NOT NULL
                        THEN concat(b.identifier_scheme, '-', b.identifier_id) END AS buyer_identifier,
                   coalesce(s.to_key, b.buyer_name_key) AS buyer_key,
                   CASE WHEN s.to_key IS NOT NULL THEN b.buyer_name_key END AS buyer_succeeded_from,
                   p.tags
            FROM (SELECT *, row_number() OVER (PARTITION BY ocid ORDER BY last_release_date DESC) AS key_rank
                  FROM processes) p
            LEFT JOIN (SELECT *, row_number() OVER (PARTITION BY ocid ORDER BY tender_id) AS rn
                       FROM tenders) t ON t.ocid = p.ocid AND t.rn = 1
            LEFT JOIN buyer_one b ON b.ocid = p.ocid
            LEFT JOIN buyer_successions s ON s.from_key = b.buyer_name_key
            WHERE p.key_rank = 1""",
        ),
        ("awarded_ocids", "SELECT DISTINCT ocid FROM awards"),
        # Find a Tender publishes some awards under a new ocid: the award ocid then has only a
        # skeleton tender. Its process is the ocid of the same buyer with the same tender id (or
        # title) and no awards of its own, first seen before the award.
        (
            "split_parent",
            f"""
            SELECT ocid, parent_ocid FROM (
              SELECT a.ocid, p.ocid AS parent_ocid,
                     row_number() OVER (PARTITION BY a.ocid ORDER BY
                        CASE WHEN a.tender_id = p.tender_id THEN 0 ELSE 1 END, p.first_seen DESC, p.ocid) AS rn
              FROM process_info a
              JOIN process_info p ON p.buyer_key = a.buyer_key AND p.ocid <> a.ocid
                   AND (p.tender_id = a.tender_id OR (p.title = a.title AND
                        {d.days("p.first_seen", "a.first_seen")} BETWEEN 0 AND 400))
              LEFT JOIN awarded_ocids w ON w.ocid = p.ocid
              WHERE a.description IS NULL AND a.tender_end IS NULL AND w.ocid IS NULL
                AND a.ocid IN (SELECT ocid FROM awarded_ocids)
                AND p.first_seen <= a.first_seen
            ) x WHERE rn = 1""",
        ),
        (
            "process_full",
            """
            SELECT a.ocid, coalesce(sp.parent_ocid, a.ocid) AS process_ocid,
                   sp.parent_ocid IS NOT NULL AS split_ocid,
                   a.title, coalesce(a.description, p.description) AS description,
                   coalesce(a.tender_cpv, p.tender_cpv) AS tender_cpv,
                   coalesce(a.method_details, p.method_details) AS method_details,
                   coalesce(a.method, p.method) AS method,
                   coalesce(a.reserved_participation, p.reserved_participation) AS reserved_participation,
                   coalesce(a.tender_start, p.tender_start) AS tender_start,
                   coalesce(a.tender_end, p.tender_end) AS tender_end,
                   coalesce(a.tender_months, p.tender_months) AS tender_months,
                   coalesce(p.first_seen, a.first_seen) AS process_first_seen,
                   a.buyer_name, a.buyer_scheme, a.buyer_identifier, a.buyer_key, a.buyer_succeeded_from
            FROM process_info a
            LEFT JOIN split_parent sp ON sp.ocid = a.ocid
            LEFT JOIN process_info p ON p.ocid = sp.parent_ocid""",
        ),
        (
            "lot_info",
            """
            SELECT ocid, lot_id, title AS lot_title, cpv_id AS lot_cpv,
                   CAST(contract_period_start_date AS DATE) AS lot_start,
                   CAST(contract_period_end_date AS DATE) AS lot_end,
                   has_renewal, CAST(renewal_max_extent_date AS DATE) AS renewal_max_extent
            FROM (SELECT *, row_number() OVER (PARTITION BY ocid, lot_id ORDER BY position) AS rn FROM lots) l
            WHERE rn = 1""",
        ),
        (
            "contract_period",
            """
            SELECT ocid, award_id, max(CAST(period_end_date AS DATE)) AS contract_end,
                   min(CAST(period_start_date AS DATE)) AS contract_start
            FROM contracts WHERE award_id IS NOT NULL GROUP BY ocid, award_id""",
        ),
        (
            "extension_amendments",
            """
            SELECT ocid, award_id, count(*) AS amendment_count,
                   max(CAST(date AS DATE)) AS last_amendment
            FROM (
              SELECT m.ocid, m.amends_id AS award_id, m.date, m.description, m.rationale
              FROM amendments m WHERE m.amends = 'award'
              UNION ALL
              SELECT m.ocid, c.award_id, m.date, m.description, m.rationale
              FROM amendments m JOIN contracts c ON c.ocid = m.ocid AND c.contract_id = m.amends_id
              WHERE m.amends = 'contract'
            ) x
            WHERE lower(coalesce(description, '')) LIKE '%extend%'
               OR lower(coalesce(rationale, '')) LIKE '%extend%'
               OR lower(coalesce(description, '')) LIKE '%extension%'
            GROUP BY ocid, award_id""",
        ),
        (
            "supplier_one",
            """
            SELECT * FROM (
              SELECT s.ocid, s.award_id, s.supplier_id, s.name AS supplier_name,
                     s.identifier_scheme AS supplier_scheme, s.identifier_id AS supplier_identifier_id,
                     s.scale, s.vcse, s.public_service_mission_organization AS psm_flag,
                     l.organisation_identifier, l.organisation_name, l.supplier_class AS linked_class,
                     l.match_probability,
                     row_number() OVER (PARTITION BY s.ocid, s.award_id ORDER BY s.position, s.supplier_id) AS rn
              FROM award_suppliers s
              LEFT JOIN supplier_links l ON l.ocid = s.ocid AND l.award_id = s.award_id
                   AND l.supplier_party_id = s.supplier_id
            ) x WHERE rn = 1""",
        ),
        (
            "contract_facts",
            f"""
            SELECT a.ocid, a.award_id, pf.process_ocid, pf.split_ocid,
                   pf.buyer_key, pf.buyer_name, pf.buyer_identifier, pf.buyer_scheme, pf.buyer_succeeded_from,
                   pf.title, pf.description, {d.first("a.related_lots")} AS lot_id, li.lot_title,
                   coalesce(li.lot_cpv, pf.tender_cpv) AS cpv_id,
                   substr(coalesce(li.lot_cpv, pf.tender_cpv), 1, 2) AS cpv_division,
                   pf.method_details, pf.method,
                   (lower(coalesce(pf.method_details, '')) LIKE '%framework agreement%'
                    AND lower(coalesce(pf.method_details, '')) NOT LIKE '%call%off%') AS is_framework,
                   (lower(coalesce(pf.method_details, '')) LIKE '%call%off%') AS is_call_off,
                   {d.contains("pf.reserved_participation", "publicService")} AS reserved,
                   CAST(a.date AS DATE) AS award_date,
                   a.value_amount_pence AS value_pence,
                   coalesce(CAST(a.contract_period_start_date AS DATE), cp.contract_start, li.lot_start,
                            pf.tender_start) AS start_date,
                   coalesce(li.lot_end, pf.tender_end) AS original_end_date,
                   coalesce(
                     CASE WHEN a.contract_period_end_date IS NULL THEN cp.contract_end
                          WHEN cp.contract_end IS NULL THEN CAST(a.contract_period_end_date AS DATE)
                          ELSE greatest(CAST(a.contract_period_end_date AS DATE), cp.contract_end) END,
                     li.lot_end, pf.tender_end,
                     {
                d.add_days(
                    d.add_months(
                        "CAST(a.contract_period_start_date AS DATE)",
                        "a.contract_period_duration_in_months",
                    ),
                    "-1",
                )
            }
                   ) AS end_date,
                   li.has_renewal, li.renewal_max_extent,
                   coalesce(ea.amendment_count, 0) AS extension_amendments,
                   su.supplier_id AS supplier_party_id, su.supplier_name,
                   CASE WHEN su.supplier_scheme IS NOT NULL AND su.supplier_identifier_id IS NOT NULL
                        THEN concat(su.supplier_scheme, '-', su.supplier_identifier_id) END AS supplier_identifier,
                   su.organisation_identifier, su.organisation_name,
                   CASE WHEN su.linked_class IS NOT NULL AND su.linked_class <> 'UNKNOWN' THEN su.linked_class
                        WHEN su.psm_flag THEN 'PUBLIC_SERVICE_MUTUAL'
                        WHEN su.supplier_scheme IN ({public}) THEN 'PUBLIC_BODY'
                        WHEN su.vcse THEN 'OTHER_SOCIAL_ENTERPRISE_OR_VCSE'
                        WHEN su.scale = 'large' THEN 'LARGE_PRIVATE'
                        WHEN su.scale = 'sme' THEN 'SME'
                        WHEN {PUBLIC_NAME.format(name="lower(su.supplier_name)")} THEN 'PUBLIC_BODY'
                        ELSE 'UNKNOWN' END AS supplier_class,
                   CASE WHEN su.linked_class IS NOT NULL AND su.linked_class <> 'UNKNOWN' THEN 'supplier_links'
                        WHEN su.supplier_id IS NULL THEN 'none' ELSE 'ocds_details' END AS class_source,
                   coalesce(su.match_probability, 0.0) AS class_probability,
                   {
                d.tokens(
                    "concat(coalesce(pf.title, ''), ' ', coalesce(pf.description, ''))",
                    TEXT_STOP_WORDS,
                )
            } AS text_tokens,
                   {d.tokens("li.lot_title", TEXT_STOP_WORDS)} AS lot_tokens,
                   {d.tokens("su.supplier_name", NAME_STOP_WORDS)} AS supplier_tokens
            FROM awards a
            JOIN process_full pf ON pf.ocid = a.ocid
            LEFT JOIN lot_info li ON li.ocid = pf.process_ocid AND li.lot_id = {
                d.first("a.related_lots")
            }
            LEFT JOIN contract_period cp ON cp.ocid = a.ocid AND cp.award_id = a.award_id
            LEFT JOIN extension_amendments ea ON ea.ocid = a.ocid AND ea.award_id = a.award_id
            LEFT JOIN supplier_one su ON su.ocid = a.ocid AND su.award_id = a.award_id
            WHERE a.award_id IS NOT NULL AND coalesce(a.status, 'active') NOT IN ('cancelled', 'unsuccessful')""",
        ),
        (
            "contract_facts_final",
            f"""
            SELECT *,
                   (extension_amendments > 0 OR (original_end_date IS NOT NULL AND end_date IS NOT NULL
                     AND end_date > {d.add_days("original_end_date", "1")})) AS extended,
                   CASE WHEN renewal_max_extent IS NOT NULL AND renewal_max_extent > end_date
                        THEN renewal_max_extent ELSE end_date END AS max_end_date,
                   CASE WHEN value_pence IS NOT NULL AND start_date IS NOT NULL AND end_date IS NOT NULL
                             AND {d.days("start_date", "end_date")} > 0
                        THEN CAST(value_pence AS DOUBLE) * 365.0 / greatest({d.days("start_date", "end_date")}, 365)
                   END AS annual_value_pence
            FROM (
              -- One row per (ocid, award_id) even when the flattened tables repeat an ocid.
              SELECT *, row_number() OVER (PARTITION BY ocid, award_id
                          ORDER BY end_date DESC, award_date DESC, supplier_party_id, process_ocid) AS key_rank
              FROM contract_facts
            ) deduplicated WHERE key_rank = 1""",
        ),
    ]


def link_steps(d: Dialect, rules: ChainRules) -> list[tuple[str, str]]:
    w = rules.weights
    pair_columns = """
        p.ocid AS predecessor_ocid, p.award_id AS predecessor_award_id,
        s.ocid AS successor_ocid, s.award_id AS successor_award_id, s.process_ocid AS successor_process_ocid,
        p.buyer_key, p.cpv_id AS predecessor_cpv, s.cpv_id AS successor_cpv,
        p.end_date AS predecessor_end, p.original_end_date AS predecessor_original_end,
        p.max_end_date AS predecessor_max_end, p.extended AS predecessor_extended,
        coalesce(s.start_date, s.award_date) AS successor_start, s.award_date AS successor_award_date,
        p.text_tokens AS p_text, s.text_tokens AS s_text, p.lot_id AS p_lot, s.lot_id AS s_lot,
        p.lot_tokens AS p_lot_tokens, s.lot_tokens AS s_lot_tokens,
        p.annual_value_pence AS p_value, s.annual_value_pence AS s_value,
        s.is_call_off AS s_call_off, p.is_call_off AS p_call_off, s.split_ocid AS successor_split_ocid"""
    window = (
        f"s.successor_start >= {d.add_days('p.end_date', str(-rules.days_before_end))} "
        f"AND s.successor_start <= {d.add_days('p.latest_end', str(rules.days_after_end))} "
        "AND s.successor_start > coalesce(p.start_date, p.award_date) "
        "AND s.process_ocid <> p.process_ocid AND NOT p.is_framework AND NOT s.is_framework"
    )
    return [
        (
            "chain_input",
            "SELECT *, coalesce(start_date, award_date) AS successor_start, "
            "CASE WHEN max_end_date > end_date THEN max_end_date ELSE end_date END AS latest_end "
            "FROM contract_facts_final WHERE end_date IS NOT NULL AND buyer_key <> ''",
        ),
        (
            "candidates",
            f"""
            SELECT {pair_columns}, 'name' AS blocked_on
            FROM chain_input p JOIN chain_input s
              ON s.buyer_key = p.buyer_key AND s.cpv_division = p.cpv_division
            WHERE {window}
            UNION ALL
            SELECT {pair_columns}, 'identifier' AS blocked_on
            FROM chain_input p JOIN chain_input s
              ON s.buyer_identifier = p.buyer_identifier AND s.cpv_division = p.cpv_division
            WHERE p.buyer_identifier IS NOT NULL AND s.buyer_key <> p.buyer_key AND {window}""",
        ),
        (
            "gaps",
            f"""
            SELECT *,
                   least(abs({d.days("predecessor_end", "successor_start")} - 1),
                         coalesce(abs({d.days("predecessor_original_end", "successor_start")} - 1), 100000),
                         coalesce(abs({d.days("predecessor_max_end", "successor_start")} - 1), 100000)) AS gap_days,
                   {d.days("predecessor_end", "successor_start")} - 1 AS gap_after_end
            FROM candidates""",
        ),
        (
            "scored_parts",
            f"""
            SELECT *,
                   CASE WHEN predecessor_cpv = successor_cpv THEN 1.0
                        WHEN substr(predecessor_cpv, 1, 5) = substr(successor_cpv, 1, 5) THEN 0.85
                        WHEN substr(predecessor_cpv, 1, 4) = substr(successor_cpv, 1, 4) THEN 0.7
                        WHEN substr(predecessor_cpv, 1, 3) = substr(successor_cpv, 1, 3) THEN 0.5
                        ELSE 0.3 END AS cpv_score,
                   {d.jaccard("p_text", "s_text")} AS text_score,
                   greatest(0.0, 1.0 - greatest(gap_days - 7, 0) / 180.0) AS timing_score,
                   CASE WHEN p_lot IS NULL AND s_lot IS NULL THEN 1.0
                        WHEN p_lot = s_lot THEN 1.0
                        WHEN p_lot IS NULL OR s_lot IS NULL THEN 0.5
                        ELSE 0.5 * {d.jaccard("p_lot_tokens", "s_lot_tokens")} END AS lot_score,
                   CASE WHEN p_value > 0 AND s_value > 0
                        THEN greatest(0.0, 1.0 - abs({d.ln("s_value / p_value")}) / {d.ln("4.0")})
                        ELSE 0.5 END AS value_score
            FROM gaps""",
        ),
        (
            "scored",
            f"""
            SELECT *,
                   round((CASE WHEN s_call_off AND NOT p_call_off THEN 0.8 ELSE 1.0 END) * (
                     {w["cpv"]} * cpv_score + {w["text"]} * text_score + {w["timing"]} * timing_score
                     + {w["lot"]} * lot_score + {w["value"]} * value_score), 4) AS confidence
            FROM scored_parts""",
        ),
        ("round_one", _mutual_best("scored", rules)),
        (
            "remaining",
            """
            SELECT s.* FROM scored s
            LEFT JOIN round_one a ON a.predecessor_ocid = s.predecessor_ocid
                 AND a.predecessor_award_id = s.predecessor_award_id
            LEFT JOIN round_one b ON b.successor_ocid = s.successor_ocid
                 AND b.successor_award_id = s.successor_award_id
            WHERE a.predecessor_ocid IS NULL AND b.successor_ocid IS NULL""",
        ),
        ("round_two", _mutual_best("remaining", rules)),
        (
            "retender_links",
            """
            SELECT predecessor_ocid, predecessor_award_id, successor_ocid, successor_award_id,
                   successor_process_ocid, buyer_key, confidence, cpv_score, round(text_score, 4) AS text_score,
                   round(timing_score, 4) AS timing_score, round(lot_score, 4) AS lot_score,
                   round(value_score, 4) AS value_score, gap_after_end AS gap_days, blocked_on, link_round,
                   concat('same buyer (', blocked_on, ': ', buyer_key, ')',
                          '; CPV ', coalesce(predecessor_cpv, '?'), ' -> ', coalesce(successor_cpv, '?'),
                          ' (', CAST(cpv_score AS STRING), ')',
                          '; title/description similarity ', CAST(round(text_score, 2) AS STRING),
                          '; starts ', CAST(gap_after_end AS STRING), ' days after the predecessor end ',
                          CAST(predecessor_end AS STRING),
                          CASE WHEN predecessor_extended THEN ' (after extension)' ELSE '' END,
                          '; lot ', coalesce(p_lot, '-'), ' -> ', coalesce(s_lot, '-'),
                          '; annual value score ', CAST(round(value_score, 2) AS STRING),
                          CASE WHEN successor_split_ocid
                               THEN concat('; split ocid, process ', successor_process_ocid) ELSE '' END,
                          CASE WHEN s_call_off THEN '; successor is a framework call-off' ELSE '' END
                   ) AS evidence
            FROM (SELECT *, 1 AS link_round FROM round_one UNION ALL SELECT *, 2 AS link_round FROM round_two) x""",
        ),
    ]


def _mutual_best(source: str, rules: ChainRules) -> str:
    return f"""
        SELECT * FROM (
          SELECT *,
            row_number() OVER (PARTITION BY predecessor_ocid, predecessor_award_id
                               ORDER BY confidence DESC, gap_days, successor_ocid, successor_award_id) AS rank_p,
            row_number() OVER (PARTITION BY successor_ocid, successor_award_id
                               ORDER BY confidence DESC, gap_days, predecessor_ocid, predecessor_award_id) AS rank_s
          FROM {source} WHERE confidence >= {rules.threshold}
        ) x WHERE rank_p = 1 AND rank_s = 1"""


# -- running on an engine -----------------------------------------------------------------------
class SqlRunner:
    """Runs named statements on DuckDB or Spark and writes chosen results to the warehouse."""

    def __init__(self, engine: str, warehouse: Warehouse) -> None:
        self.engine = engine
        self.warehouse = warehouse
        self.dialect = DIALECTS[engine]
        self.connection: Any = None
        self.spark: Any = None

    def __enter__(self) -> SqlRunner:
        if self.engine == "duckdb":
            import duckdb

            self.connection = duckdb.connect()
            self.connection.execute("SET TimeZone = 'UTC'")
            self.connection.execute("SET enable_progress_bar = false")
            # Bounded by default (DuckDB would take 80% of the machine); past it, it spills.
            memory = os.environ.get("MUTUALISE_DUCKDB_MEMORY", "2GB")
            self.connection.execute("SET memory_limit = ?", [memory])
            scratch = self.warehouse.root / "tmp"
            scratch.mkdir(parents=True, exist_ok=True)
            self.connection.execute(f"SET temp_directory = '{scratch}'")
        else:
            from mutualise.pipeline.engines import spark_session

            self.spark = spark_session("mutualise-chains")
        return self

    def __exit__(self, *exc: object) -> None:
        if self.connection is not None:
            self.connection.close()

    # tables ---------------------------------------------------------------------------------
    def register_parquet(self, name: str, folder: Path) -> None:
        if self.engine == "duckdb":
            pattern = str(folder / "*.parquet").replace("'", "''")
            self.connection.execute(
                f"CREATE OR REPLACE VIEW {name} AS SELECT * FROM read_parquet('{pattern}')"
            )
        else:
            self.spark.read.parquet(str(folder)).createOrReplaceTempView(name)

    def register_arrow(self, name: str, table: pa.Table) -> None:
        if self.engine == "duckdb":
            self.connection.register(f"{name}_arrow", table)
            self.connection.execute(
                f"CREATE OR REPLACE TEMP TABLE {name} AS SELECT * FROM {name}_arrow"
            )
        else:
            frame = (
                self.spark.createDataFrame(table.to_pandas(), schema=_spark_schema(table.schema))
                if table.num_rows
                else self.spark.createDataFrame([], _spark_schema(table.schema))
            )
            frame.createOrReplaceTempView(name)

    def run(self, name: str, sql: str) -> None:
        if self.engine == "duckdb":
            self.connection.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS {sql}")
        else:
            # A local checkpoint cuts the lineage: each step's plan stays small instead of
            # inlining every earlier step (which exhausts the driver's memory).
            frame = self.spark.sql(sql).localCheckpoint(eager=True)
            frame.createOrReplaceTempView(name)

    def arrow(self, sql: str) -> pa.Table:
        if self.engine == "duckdb":
            return self.connection.sql(sql).to_arrow_table()
        frame = self.spark.sql(sql)
        return pa.Table.from_pandas(frame.toPandas(), preserve_index=False)

    def write(
        self, name: str, sql: str | None = None, order_by: str = "", drop: tuple[str, ...] = ()
    ) -> int:
        """Write a statement's rows (default: the temp table `name`) as warehouse table `name`."""
        query = sql or f"SELECT * FROM {name}"
        if drop:
            if self.engine == "duckdb":
                query = f"SELECT * EXCLUDE ({', '.join(drop)}) FROM ({query}) d"
            else:
                view = f"drop_{uuid.uuid4().hex[:8]}"
                self.spark.sql(query).drop(*drop).createOrReplaceTempView(view)
                query = f"SELECT * FROM {view}"
        if order_by:
            query = f"SELECT * FROM ({query}) q ORDER BY {order_by}"
        target = self.warehouse.table_dir(name)
        target.parent.mkdir(parents=True, exist_ok=True)
        staging = target.with_name(f".{name}-{uuid.uuid4().hex[:8]}")
        staging.mkdir()
        if self.engine == "duckdb":
            path = str(staging / "part-0.parquet").replace("'", "''")
            self.connection.execute(
                f"COPY ({query}) TO '{path}' (FORMAT PARQUET, COMPRESSION ZSTD)"
            )
        else:
            staging.rmdir()
            self.spark.sql(query).coalesce(1).write.option("compression", "zstd").parquet(
                str(staging)
            )
            for extra in [*staging.glob(".*.crc"), *staging.glob("_SUCCESS")]:
                extra.unlink()
        old = target.with_name(f".{name}-old-{uuid.uuid4().hex[:8]}")
        if target.exists():
            os.replace(target, old)
        os.replace(staging, target)
        shutil.rmtree(old, ignore_errors=True)
        return ds.dataset(target, format="parquet").count_rows()


def _spark_schema(schema: pa.Schema) -> Any:
    from pyspark.sql import types as T

    mapping = {
        pa.string(): T.StringType(),
        pa.float64(): T.DoubleType(),
        pa.int64(): T.LongType(),
        pa.bool_(): T.BooleanType(),
        pa.date32(): T.DateType(),
    }
    return T.StructType(
        [T.StructField(f.name, mapping.get(f.type, T.StringType()), True) for f in schema]
    )


def _empty(columns: dict[str, pa.DataType]) -> pa.Table:
    return pa.schema(list(columns.items())).empty_table()


def register_inputs(runner: SqlRunner) -> None:
    """The flattened tables, supplier_links (or an empty stand-in) and buyer successions."""
    paths = runner.warehouse.table_paths()
    missing = [name for name in INPUT_TABLES if name not in paths]
    if missing:
        raise FileNotFoundError(
            f"warehouse {runner.warehouse.root} has no {', '.join(missing)}: run the pipeline first"
        )
    for name in INPUT_TABLES:
        runner.register_parquet(name, runner.warehouse.table_dir(name))
    links_dir = runner.warehouse.table_dir("supplier_links")
    if any(links_dir.glob("*.parquet")):
        runner.register_parquet("supplier_links_raw", links_dir)
        runner.run(
            "supplier_links",
            "SELECT " + ", ".join(SUPPLIER_LINK_COLUMNS) + " FROM supplier_links_raw",
        )
    else:
        runner.register_arrow("supplier_links", _empty(SUPPLIER_LINK_COLUMNS))
    successions = buyer_successions()
    runner.register_arrow(
        "buyer_successions",
        pa.table(
            {
                "from_key": pa.array([a for a, _ in successions], pa.string()),
                "to_key": pa.array([b for _, b in successions], pa.string()),
            }
        ),
    )


@dataclass
class ChainsSummary:
    engine: str
    contracts: int = 0
    candidates: int = 0
    links: int = 0
    seconds: float = 0.0
    supplier_links_used: bool = False


@contextmanager
def open_runner(warehouse_dir: Path | None, engine: str) -> Iterator[SqlRunner]:
    if engine not in DIALECTS:
        raise ValueError(f"unknown engine {engine!r}: choose duckdb or spark")
    warehouse = Warehouse(warehouse_dir)
    with SqlRunner(engine, warehouse) as runner:
        yield runner


def build_chains(
    runner: SqlRunner,
    rules: ChainRules | None = None,
    progress: Callable[[str], None] | None = None,
) -> ChainsSummary:
    rules = rules or chain_rules()
    summary = ChainsSummary(engine=runner.engine)
    started = time.monotonic()
    register_inputs(runner)
    summary.supplier_links_used = any(
        runner.warehouse.table_dir("supplier_links").glob("*.parquet")
    )
    for name, sql in fact_steps(runner.dialect, rules) + link_steps(runner.dialect, rules):
        if progress:
            progress(name)
        runner.run(name, sql)
    summary.contracts = runner.write(
        "contract_facts",
        "SELECT * FROM contract_facts_final",
        order_by="ocid, award_id",
        drop=("text_tokens", "lot_tokens", "key_rank"),
    )
    summary.links = runner.write(
        "retender_links", order_by="predecessor_ocid, predecessor_award_id"
    )
    summary.candidates = int(
        runner.arrow("SELECT count(*) AS n FROM candidates").column(0)[0].as_py()
    )
    summary.seconds = time.monotonic() - started
    return summary


def run_chains(
    warehouse_dir: Path | None = None,
    engine: str = "duckdb",
    progress: Callable[[str], None] | None = None,
) -> ChainsSummary:
    """Build `contract_facts` and `retender_links` in the warehouse."""
    with open_runner(warehouse_dir, engine) as runner:
        return build_chains(runner, progress=progress)
