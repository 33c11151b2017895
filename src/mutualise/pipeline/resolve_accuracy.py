# ruff: noqa: S608 - SQL is built from our own column names and quoted literals, never user text
"""Accuracy of supplier resolution against the synthetic world's ground truth. No Django.

Truth: truth/supplier_mentions.parquet (one row per award supplier mention: ocid, award_id,
supplier_party_id, register_identifier = the organisation it really is, true_class). A link is
correct when our organisation_identifier equals the true register identifier. Precision counts
the links we made; recall counts the mentions whose organisation has an identifier.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

CLASS_ORDER = (
    "PUBLIC_SERVICE_MUTUAL",
    "OTHER_SOCIAL_ENTERPRISE_OR_VCSE",
    "SME",
    "LARGE_PRIVATE",
    "PUBLIC_BODY",
    "UNKNOWN",
)


@dataclass
class Accuracy:
    mentions: int = 0
    joined: int = 0
    links: int = 0
    correct_links: int = 0
    linkable: int = 0
    link_precision: float = 0.0
    link_recall: float = 0.0
    psm_precision: float = 0.0
    psm_recall: float = 0.0
    class_accuracy: float = 0.0
    confusion: dict[str, dict[str, int]] = field(default_factory=dict)
    by_matched_by: dict[str, tuple[int, int]] = field(default_factory=dict)


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _one_row(connection: duckdb.DuckDBPyConnection, query: str) -> tuple[Any, ...]:
    """The one row of an aggregate query without GROUP BY (there is always exactly one)."""
    row = connection.execute(query).fetchone()
    assert row is not None
    return row


def evaluate(links_dir: Path, truth_dir: Path) -> Accuracy:
    """Compare supplier_links (a folder of Parquet) with the world's truth."""
    connection = duckdb.connect()
    connection.execute(f"""
    CREATE TEMP TABLE j AS
    SELECT t.register_identifier AS truth_identifier, t.true_class, l.organisation_identifier,
           l.supplier_class, l.matched_by
    FROM read_parquet({_literal(str(truth_dir / "supplier_mentions.parquet"))}) t
    JOIN read_parquet({_literal(str(links_dir / "*.parquet"))}) l
      ON l.ocid = t.ocid AND l.award_id = t.award_id AND l.supplier_party_id = t.supplier_party_id""")
    result = Accuracy()
    result.mentions = _one_row(
        connection,
        f"SELECT count(*) FROM read_parquet({_literal(str(truth_dir / 'supplier_mentions.parquet'))})",
    )[0]
    (
        result.joined,
        result.links,
        result.correct_links,
        result.linkable,
        psm_tp,
        psm_fp,
        psm_fn,
        class_ok,
    ) = _one_row(
        connection,
        """
        SELECT count(*),
               count(organisation_identifier),
               count(*) FILTER (WHERE organisation_identifier = truth_identifier),
               count(*) FILTER (WHERE nullif(truth_identifier, '') IS NOT NULL),
               count(*) FILTER (WHERE supplier_class = 'PUBLIC_SERVICE_MUTUAL' AND true_class = 'PUBLIC_SERVICE_MUTUAL'),
               count(*) FILTER (WHERE supplier_class = 'PUBLIC_SERVICE_MUTUAL' AND true_class <> 'PUBLIC_SERVICE_MUTUAL'),
               count(*) FILTER (WHERE supplier_class <> 'PUBLIC_SERVICE_MUTUAL' AND true_class = 'PUBLIC_SERVICE_MUTUAL'),
               count(*) FILTER (WHERE supplier_class = true_class)
        FROM j""",
    )
    result.link_precision = result.correct_links / result.links if result.links else 0.0
    correct_linkable = _one_row(
        connection,
        "SELECT count(*) FROM j WHERE organisation_identifier = truth_identifier AND nullif(truth_identifier, '') IS NOT NULL",
    )[0]
    result.link_recall = correct_linkable / result.linkable if result.linkable else 0.0
    result.psm_precision = psm_tp / (psm_tp + psm_fp) if psm_tp + psm_fp else 0.0
    result.psm_recall = psm_tp / (psm_tp + psm_fn) if psm_tp + psm_fn else 0.0
    result.class_accuracy = class_ok / result.joined if result.joined else 0.0
    for true_class, predicted, count in connection.execute(
        "SELECT true_class, supplier_class, count(*) FROM j GROUP BY ALL"
    ).fetchall():
        result.confusion.setdefault(true_class, {})[predicted] = count
    for matched_by, links, correct in connection.execute("""
            SELECT matched_by, count(organisation_identifier),
                   count(*) FILTER (WHERE organisation_identifier = truth_identifier)
            FROM j GROUP BY 1 ORDER BY 1""").fetchall():
        result.by_matched_by[matched_by] = (links, correct)
    connection.close()
    return result


def confusion_text(accuracy: Accuracy) -> str:
    """The confusion matrix of classes as a text table (rows: truth, columns: ours)."""
    short = {
        "PUBLIC_SERVICE_MUTUAL": "PSM",
        "OTHER_SOCIAL_ENTERPRISE_OR_VCSE": "VCSE",
        "SME": "SME",
        "LARGE_PRIVATE": "LARGE",
        "PUBLIC_BODY": "PUBLIC",
        "UNKNOWN": "UNKNOWN",
    }
    lines = ["truth \\ ours".ljust(14) + "".join(short[c].rjust(9) for c in CLASS_ORDER)]
    for true_class in CLASS_ORDER:
        row = accuracy.confusion.get(true_class)
        if not row:
            continue
        lines.append(
            short[true_class].ljust(14) + "".join(str(row.get(c, 0)).rjust(9) for c in CLASS_ORDER)
        )
    return "\n".join(lines)
