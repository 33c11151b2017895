"""The "state of the programme" report: HTML and PDF (WeasyPrint), charts as SVG.

Reproducible: everything in it comes from one named snapshot and the period, so the same
snapshot always gives byte-identical HTML (no clock, no random ids).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.template.loader import render_to_string
from django.utils.safestring import mark_safe

from mutualise.evidence import charts, services
from mutualise.evidence.metrics import METRICS, Filters, headline_columns, settings


class ReportError(ValueError):
    """The report cannot be written (no snapshot, bad period, unwritable folder)."""


@dataclass
class ReportFiles:
    html: Path
    pdf: Path
    snapshot_id: str


def parse_period(period: str) -> int:
    text = (period or "").strip()
    if not (text.isdigit() and len(text) == 4 and 1990 <= int(text) <= 2100):
        raise ReportError(f"--period must be a year like 2025, not {period!r}")
    return int(text)


def render_html(snapshot_id: str, year: int) -> str:
    snapshot = services.get_snapshot(snapshot_id)
    info = services.manifest(snapshot_id)
    sections: list[dict[str, Any]] = []
    for metric in METRICS:
        period_applies = "year" in metric.dimensions
        filters = Filters(year_from=year, year_to=year) if period_applies else Filters()
        presented = services.present(snapshot_id, metric.slug, filters, metric.views[0].key)
        columns = headline_columns(metric)
        rows = [
            {"labels": [r.labels[n] for n in presented.view.by], "cells": [c.text for c in r.cells]}
            for r in presented.rows
        ]
        svg = ""
        if presented.rows and presented.view.chart:
            svg = charts.to_svg(charts.spec(presented))
            svg = svg[svg.find("<svg") :]  # drop any XML declaration: inline in the HTML
        sections.append(
            {
                "metric": metric,
                "view": presented.view,
                "rows": rows,
                "headers": [services.label_heading(n) for n in presented.view.by]
                + [label for _, label in columns],
                "by_count": len(presented.view.by),
                "has_data": bool(info["metrics"].get(metric.slug, {}).get("has_data")),
                "note": info["metrics"].get(metric.slug, {}).get("note", ""),
                "scope": f"Contracts and events in {year}"
                if period_applies
                else f"As on {snapshot.as_of:%-d %B %Y}",
                "svg": mark_safe(svg),  # noqa: S308 - produced by vl-convert from our own spec
                "suppressed": presented.suppressed_any,
            }
        )
    return render_to_string(
        "evidence/report.html",
        {
            "snapshot": snapshot,
            "year": year,
            "sections": sections,
            "threshold": settings().small_group_threshold,
            "input_rows": info["input_rows"],
            "rules_version": info.get("rules_version", ""),
        },
    )


def write_report(period: str, out_dir: Path | str, snapshot_id: str | None = None) -> ReportFiles:
    year = parse_period(period)
    if snapshot_id is None:
        current = services.current_snapshot()
        if current is None:
            raise ReportError("no data snapshot yet: run `mutualise evidence refresh` first")
        snapshot_id = current.snapshot_id
    try:
        services.get_snapshot(snapshot_id)
    except services.EvidenceError as exc:
        raise ReportError(str(exc)) from exc
    out = Path(out_dir)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ReportError(f"cannot write to {out}: {exc.strerror}") from exc
    html = render_html(snapshot_id, year)
    html_path, pdf_path = out / "report.html", out / "report.pdf"
    html_path.write_text(html, encoding="utf-8")
    from weasyprint import HTML

    HTML(string=html, base_url=str(out)).write_pdf(pdf_path)
    return ReportFiles(html_path, pdf_path, snapshot_id)
