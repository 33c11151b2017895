"""Ground-truth tables of the synthetic world, written as Parquet in batches."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

STRING = pa.string()

SCHEMAS: dict[str, pa.Schema] = {
    "supplier_mentions": pa.schema(
        [
            ("ocid", STRING),
            ("release_id", STRING),
            ("award_id", STRING),
            ("kind", STRING),
            ("chain_id", STRING),
            ("supplier_party_id", STRING),
            ("supplier_name", STRING),
            ("organisation_key", STRING),
            ("register_identifier", STRING),
            ("true_class", STRING),
            ("published_scheme", STRING),
            ("published_identifier", STRING),
            ("name_noise", STRING),
            ("published_scale", STRING),
            ("true_scale", STRING),
            ("published_vcse", pa.bool_()),
            ("psm_flag", pa.bool_()),
            ("postcode_in_street", pa.bool_()),
        ]
    ),
    "predecessors": pa.schema(
        [
            ("ocid", STRING),
            ("award_id", STRING),
            ("process_ocid", STRING),
            ("chain_id", STRING),
            ("lot", pa.int32()),
            ("predecessor_ocid", STRING),
            ("predecessor_award_id", STRING),
            ("predecessor_process_ocid", STRING),
            ("award_date", STRING),
        ]
    ),
    "outcomes": pa.schema(
        [
            ("ocid", STRING),
            ("award_id", STRING),
            ("chain_id", STRING),
            ("lot", pa.int32()),
            ("supplier_key", STRING),
            ("supplier_class", STRING),
            ("contract_end", STRING),
            ("final_end", STRING),
            ("was_extended", pa.bool_()),
            ("outcome", STRING),
            ("successor_key", STRING),
            ("programme_key", STRING),
        ]
    ),
    "reservations": pa.schema(
        [
            ("ocid", STRING),
            ("award_id", STRING),
            ("process_ocid", STRING),
            ("buyer_key", STRING),
            ("cpv", STRING),
            ("regime", STRING),
            ("term_years", pa.int32()),
            ("supplier_key", STRING),
            ("supplier_class", STRING),
            ("repeat_within_3_years", pa.bool_()),
        ]
    ),
    "organisations": pa.schema(
        [
            ("key", STRING),
            ("name", STRING),
            ("class", STRING),
            ("role", STRING),
            ("legal_form", STRING),
            ("size", STRING),
            ("identifiers", pa.list_(STRING)),
            ("register_identifier", STRING),
            ("postcode", STRING),
            ("region", STRING),
            ("trading_name", STRING),
            ("in_companies_house_file", pa.bool_()),
            ("programme_key", STRING),
            ("programme_stage", STRING),
        ]
    ),
}


class TruthWriter:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        self.writers: dict[str, pq.ParquetWriter] = {}
        self.counts: dict[str, int] = {name: 0 for name in SCHEMAS}

    def write(self, table: str, rows: list[dict[str, Any]]) -> None:
        schema = SCHEMAS[table]
        if table not in self.writers:
            self.writers[table] = pq.ParquetWriter(
                self.folder / f"{table}.parquet", schema, compression="zstd"
            )
        columns = {name: [row.get(name) for row in rows] for name in schema.names}
        self.writers[table].write_table(pa.table(columns, schema=schema))
        self.counts[table] += len(rows)

    def close(self) -> dict[str, int]:
        for table, schema in SCHEMAS.items():
            if table not in self.writers:  # empty tables are still written, with their schema
                pq.write_table(
                    schema.empty_table(), self.folder / f"{table}.parquet", compression="zstd"
                )
        for writer in self.writers.values():
            writer.close()
        return dict(self.counts)
