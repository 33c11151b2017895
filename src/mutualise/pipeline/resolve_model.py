# ruff: noqa: S608 - SQL is built from our own column names and quoted literals, never user text
"""The probabilistic step of supplier resolution: one Splink model, DuckDB or Spark backend.

Left: distinct unresolved supplier mentions (normalised name, postcode, address line). Right:
register rows sharing at least one blocking key with some mention. One settings object serves
both backends; the model is trained on each backend (u by random sampling with a fixed seed, m
by expectation maximisation on two blocking rules) and predicts pairs above the review
threshold. The result is a pyarrow table of scored pairs with the agreement level of each field.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import tempfile
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

MODEL_COLUMNS = ("uid", "name_normalised", "name_prefix", "postcode", "address_line")
COMPARED = ("name_normalised", "postcode", "address_line")
U_SEED = 20261127


@dataclass
class ModelRun:
    engine: str
    pairs: pa.Table
    parameters: dict[str, Any] = field(default_factory=dict)
    levels: dict[str, list[tuple[float, str]]] = field(default_factory=dict)


def settings(probability_two_random_records_match: float) -> Any:
    import splink.comparison_library as cl
    from splink import SettingsCreator, block_on

    return SettingsCreator(
        link_type="link_only",
        unique_id_column_name="uid",
        probability_two_random_records_match=probability_two_random_records_match,
        blocking_rules_to_generate_predictions=[
            block_on("name_normalised"),
            block_on("postcode"),
            block_on("name_prefix"),
        ],
        comparisons=[
            cl.JaroWinklerAtThresholds("name_normalised", [0.95, 0.88]),
            cl.PostcodeComparison("postcode"),
            cl.ExactMatch("address_line"),
        ],
        retain_matching_columns=False,
        retain_intermediate_calculation_columns=True,
        additional_columns_to_retain=[],
    )


def _train_and_predict(linker: Any, review_threshold: float) -> Any:
    from splink import block_on
    from splink.internals.exceptions import SplinkException

    linker.training.estimate_u_using_random_sampling(max_pairs=1e6, seed=U_SEED)
    for rule in ("postcode", "name_prefix"):
        try:
            linker.training.estimate_parameters_using_expectation_maximisation(block_on(rule))
        except SplinkException as exc:  # too few pairs on this data: keep the other session's m
            logging.getLogger(__name__).warning("EM blocked on %s could not train: %s", rule, exc)
    return linker.inference.predict(
        threshold_match_probability=review_threshold, warning_mode="never"
    )


def _parameters(linker: Any) -> tuple[dict[str, Any], dict[str, list[tuple[float, str]]]]:
    """The trained model, and per compared column each level's match weight and label."""
    import math

    model = linker.misc.save_model_to_json()
    levels: dict[str, list[tuple[float, str]]] = {}
    for comparison in model["comparisons"]:
        column = comparison["output_column_name"]
        levels[column] = []
        for level in comparison["comparison_levels"]:
            label = level.get("label_for_charts", "")
            if level.get("is_null_level"):
                levels[column].append((0.0, f"{label} (no evidence)"))
                continue
            m, u = level.get("m_probability"), level.get("u_probability")
            if m and u:
                levels[column].append((math.log2(m / u), label))
    return model, levels


def _spark_with_splink_functions() -> Any:
    """A Spark session (as pipeline.engines makes them) with Splink's similarity functions jar."""
    from pyspark.sql import SparkSession
    from splink.backends.spark import similarity_jar_location

    return (
        SparkSession.builder.appName("mutualise-resolve")
        .master(os.environ.get("SPARK_MASTER", "local[2]"))
        .config("spark.jars", similarity_jar_location())
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.driver.memory", os.environ.get("SPARK_DRIVER_MEMORY", "2g"))
        .config("spark.sql.shuffle.partitions", os.environ.get("SPARK_SHUFFLE_PARTITIONS", "4"))
        .config("spark.ui.enabled", "false")
        .getOrCreate()
    )


def splink_memory() -> str:
    """DuckDB's memory limit for Splink (MUTUALISE_SPLINK_MEMORY, default 1GB): resolve's own
    connection has MUTUALISE_DUCKDB_MEMORY (default 2GB), so the two stay under 4 GB together."""
    value = os.environ.get("MUTUALISE_SPLINK_MEMORY", "1GB")
    if not re.fullmatch(r"\d+(\.\d+)?\s*[KMGT]i?B", value, flags=re.IGNORECASE):
        raise ValueError(f"MUTUALISE_SPLINK_MEMORY must be a size such as 1GB, not {value!r}")
    return value


def run_model(
    left: pa.Table, right: pa.Table, review_threshold: float, engine: str = "duckdb"
) -> ModelRun:
    """Score left × right pairs (blocked) with a model trained on this backend."""
    logging.getLogger("splink").setLevel(logging.ERROR)
    if left.num_rows == 0 or right.num_rows == 0:
        return ModelRun(
            engine,
            pa.table(
                {
                    "uid_l": pa.array([], pa.string()),
                    "uid_r": pa.array([], pa.string()),
                    "match_probability": pa.array([], pa.float64()),
                    "match_weight": pa.array([], pa.float64()),
                    **{f"mw_{c}": pa.array([], pa.float64()) for c in COMPARED},
                }
            ),
        )
    left = left.select(list(MODEL_COLUMNS))
    right = right.select(list(MODEL_COLUMNS))
    prior = 1.0 / max(right.num_rows, 1)
    if engine == "duckdb":
        import duckdb
        from splink import DuckDBAPI, Linker

        connection = duckdb.connect()
        connection.execute("SET enable_progress_bar = false")
        # Splink's own connection: without a limit DuckDB may take 80% of the machine's memory
        # (12 GB RSS for 1M distinct mentions against 5M register rows); with one it spills.
        connection.execute(f"SET memory_limit = '{splink_memory()}'")
        scratch = tempfile.mkdtemp(prefix="mutualise-splink-")
        connection.execute(f"SET temp_directory = '{scratch}'")
        db_api = DuckDBAPI(connection)
        frames = [
            db_api.register(left, table_name="mentions_left"),
            db_api.register(right, table_name="register_right"),
        ]
        linker = Linker(frames, settings(prior), log_level=logging.ERROR)
        predictions = _train_and_predict(linker, review_threshold)
        present = {
            row[0] for row in connection.execute(f"DESCRIBE {predictions.physical_name}").fetchall()
        }
        columns = ", ".join(
            [
                "uid_l",
                "uid_r",
                "match_probability",
                "match_weight",
                *[
                    f"mw_{c}" if f"mw_{c}" in present else f"0.0::DOUBLE AS mw_{c}"
                    for c in COMPARED
                ],
            ]
        )
        pairs = connection.sql(
            f"SELECT {columns} FROM {predictions.physical_name}"
        ).to_arrow_table()
    elif engine == "spark":
        from splink import Linker, SparkAPI

        spark = _spark_with_splink_functions()
        if not spark.sparkContext.getCheckpointDir():  # Splink breaks lineage with checkpoints
            spark.sparkContext.setCheckpointDir(
                tempfile.mkdtemp(prefix="mutualise-splink-checkpoints-")
            )
        spark_api = SparkAPI(spark_session=spark)
        frames = [
            spark_api.register(spark.createDataFrame(left.to_pandas()), table_name="mentions_left"),
            spark_api.register(
                spark.createDataFrame(right.to_pandas()), table_name="register_right"
            ),
        ]
        linker = Linker(frames, settings(prior), log_level=logging.ERROR)
        predictions = _train_and_predict(linker, review_threshold)
        from pyspark.sql import functions

        frame = predictions.as_spark_dataframe()
        frame = frame.select(
            "uid_l",
            "uid_r",
            "match_probability",
            "match_weight",
            *[
                functions.col(f"mw_{c}")
                if f"mw_{c}" in frame.columns
                else functions.lit(0.0).alias(f"mw_{c}")
                for c in COMPARED
            ],
        )
        pairs = pa.Table.from_pandas(frame.toPandas(), preserve_index=False)
    else:
        raise ValueError(f"unknown engine {engine!r}: choose duckdb or spark")
    model, levels = _parameters(linker)
    if engine == "duckdb":
        connection.close()
        shutil.rmtree(scratch, ignore_errors=True)
    return ModelRun(engine, pairs, model, levels)
