"""A data snapshot: the inputs of every published figure, frozen and named by their content.

The aggregates and row tables themselves are Parquet files under var/evidence/<snapshot_id>/
(docs/adr/0009-evidence-snapshots.md); this row records that they exist and which is current.
"""

from __future__ import annotations

from django.db import models


class Snapshot(models.Model):
    snapshot_id = models.CharField(
        max_length=40, unique=True, help_text="The content hash of the input tables."
    )
    created_at = models.DateTimeField(help_text="When this content was first computed.")
    confirmed_at = models.DateTimeField(
        db_index=True,
        help_text="The last refresh that produced this content: the newest is current.",
    )
    as_of = models.DateField(help_text="The date the figures describe.")
    row_counts = models.JSONField(default=dict, help_text="Rows in each input table.")
    metrics = models.JSONField(default=dict, help_text="Each metric: has data, note.")

    class Meta:
        ordering = ["-confirmed_at", "-id"]

    def __str__(self) -> str:
        return f"Data snapshot {self.snapshot_id}"
