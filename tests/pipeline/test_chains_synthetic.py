"""Chains and outcomes on a small synthetic world, against its truth; Spark parity on the same."""

from pathlib import Path

import duckdb
import pytest

from mutualise.pipeline.chains import run_chains
from mutualise.pipeline.outcomes import EXPORT_COLUMNS, export_outcomes, run_outcomes


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> tuple[Path, Path]:
    from mutualise.pipeline.run import run_pipeline
    from mutualise.synth.world import generate_world

    root = tmp_path_factory.mktemp("chains")
    generate_world(root / "world", releases=3000, seed=11)
    run_pipeline([root / "world" / "ocds"], warehouse_dir=root / "wh")
    run_chains(root / "wh")
    run_outcomes(root / "wh")
    return root / "world", root / "wh"


def test_links_meet_the_accuracy_targets(world):
    world_dir, wh = world
    c = duckdb.connect()
    truth = f"read_parquet('{world_dir}/truth/predecessors.parquet')"
    links = f"read_parquet('{wh}/tables/retender_links/*.parquet')"
    found = c.execute(f"SELECT count(*) FROM {links}").fetchone()[0]
    expected = c.execute(
        f"SELECT count(*) FROM {truth} WHERE predecessor_ocid IS NOT NULL"
    ).fetchone()[0]
    correct = c.execute(f"""SELECT count(*) FROM {links} l JOIN {truth} t ON t.ocid = l.successor_ocid
        AND t.award_id = l.successor_award_id AND t.predecessor_ocid = l.predecessor_ocid
        AND t.predecessor_award_id = l.predecessor_award_id""").fetchone()[0]
    assert correct / found >= 0.95
    assert correct / expected >= 0.90


def test_each_link_has_confidence_and_evidence_and_is_one_to_one(world):
    _, wh = world
    c = duckdb.connect()
    rows = c.execute(
        f"SELECT count(*), count(DISTINCT predecessor_ocid || predecessor_award_id), "
        f"count(DISTINCT successor_ocid || successor_award_id), min(confidence), "
        f"min(length(evidence)) FROM read_parquet('{wh}/tables/retender_links/*.parquet')"
    ).fetchone()
    assert rows[0] == rows[1] == rows[2]
    assert rows[3] >= 0.65 and rows[4] > 20


def test_outcomes_use_the_domain_vocabulary_and_mostly_agree_with_truth(world):
    world_dir, wh = world
    c = duckdb.connect()
    outcomes = f"read_parquet('{wh}/tables/contract_outcomes/*.parquet')"
    values = {r[0] for r in c.execute(f"SELECT DISTINCT outcome FROM {outcomes}").fetchall()}
    assert values <= {
        "RETAINED",
        "LOST_TO_LARGE_PRIVATE",
        "LOST_TO_SME_OR_VCSE",
        "LOST_TO_PUBLIC_BODY",
        "INSOURCED",
        "EXTENDED",
        "PENDING",
        "UNKNOWN",
    }
    assert (
        c.execute(
            f"SELECT count(*) FROM {outcomes} WHERE reason IS NULL OR source_rows IS NULL"
        ).fetchone()[0]
        == 0
    )
    agree, total = (
        c.execute(f"""SELECT sum((o.outcome = t.outcome)::int), count(*) FROM {outcomes} o
        JOIN read_parquet('{world_dir}/truth/outcomes.parquet') t USING (ocid, award_id)""").fetchone()
    )
    assert agree / total >= 0.75


def test_export_outcomes_columns(world, tmp_path):
    _, wh = world
    out = tmp_path / "outcomes.csv"
    rows = export_outcomes(out, wh)
    lines = out.read_text().splitlines()
    assert lines[0].split(",") == list(EXPORT_COLUMNS)
    assert len(lines) == rows + 1 and rows > 0


def test_rerunning_chains_gives_the_same_links(world):
    _, wh = world
    c = duckdb.connect()
    query = (
        f"SELECT * FROM read_parquet('{wh}/tables/retender_links/*.parquet') "
        "ORDER BY predecessor_ocid, predecessor_award_id"
    )
    before = c.execute(query).fetchall()
    run_chains(wh)
    assert c.execute(query).fetchall() == before


@pytest.mark.spark
@pytest.mark.xdist_group("spark")
def test_spark_gives_the_same_chains_and_outcomes(tmp_path, spark_session):
    """Parity on a tiny world (Spark on this machine is slow; this proves the SQL, not speed)."""
    import shutil

    from mutualise.pipeline.run import run_pipeline
    from mutualise.synth.world import generate_world

    generate_world(tmp_path / "world", releases=600, seed=3)
    run_pipeline([tmp_path / "world" / "ocds"], warehouse_dir=tmp_path / "wh")
    run_chains(tmp_path / "wh")
    run_outcomes(tmp_path / "wh")
    shutil.copytree(tmp_path / "wh", tmp_path / "spark")
    run_chains(tmp_path / "spark", engine="spark")
    run_outcomes(tmp_path / "spark", engine="spark")
    c = duckdb.connect()
    for table, columns in (
        (
            "retender_links",
            "predecessor_ocid, predecessor_award_id, successor_ocid, "
            "successor_award_id, round(confidence, 3), evidence",
        ),
        ("contract_outcomes", "ocid, award_id, outcome, round(confidence, 3), reason"),
    ):
        duck, spark = (
            c.execute(
                f"SELECT {columns} FROM read_parquet('{tmp_path}/{where}/tables/{table}/*.parquet') "
                "ORDER BY ALL"
            ).fetchall()
            for where in ("wh", "spark")
        )
        assert duck and spark == duck, table
