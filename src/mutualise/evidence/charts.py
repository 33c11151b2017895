"""Vega-Lite specifications of the figures, and their SVG rendering (vl-convert, no browser).

The page shows the SVG as an image beside the data table, so charts need no JavaScript and
nothing inline (the CSP is strict); the specification is served too, for anyone who wants to
re-draw the chart.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from mutualise.evidence.metrics import Filters, Presented, Rate, Share

FONT = "Arial"


def _field_title(presented: Presented, column: str) -> str:
    metric = presented.metric
    for measure in metric.measures:
        if measure.column == column:
            return measure.label + (" (£)" if measure.kind == "pence" else "")
    items: tuple[Rate | Share, ...] = (*metric.rates, *metric.shares)
    for item in items:
        if item.column == column:
            return item.label + " (%)"
    return column.replace("_", " ").capitalize()


def spec(presented: Presented) -> dict[str, Any]:
    """A Vega-Lite v5 specification of the presented view, with its data inline."""
    metric, view = presented.metric, presented.view
    chart = view.chart or {
        "x": view.by[0] if view.by else "",
        "y": metric.measures[0].column,
        "mark": "bar",
    }
    x, y, colour = chart.get("x", ""), chart["y"], chart.get("colour", "")
    pence = any(m.column == y and m.kind == "pence" for m in metric.measures)
    items: tuple[Rate | Share, ...] = (*metric.rates, *metric.shares)
    percent = any(item.column == y for item in items)
    values = []
    for row in presented.rows:
        record: dict[str, Any] = {}
        for name in view.by:
            record[name] = row.labels[name]
        for cell in row.cells:
            if cell.column == y:
                value = cell.value
                if value is not None and pence:
                    value = value / 100
                if value is not None and percent:
                    value = round(value * 100, 2)
                record["value"] = value
        values.append(record)
    encoding: dict[str, Any] = {
        "y": {"field": "value", "type": "quantitative", "title": _field_title(presented, y)},
    }
    if x:
        encoding["x"] = {
            "field": x,
            "type": "ordinal",
            "title": x.replace("_", " ").capitalize(),
            "sort": None,
            "axis": {"labelAngle": -40, "labelLimit": 160},
        }
    if colour and colour in view.by:
        encoding["color"] = {
            "field": colour,
            "type": "nominal",
            "title": colour.replace("_", " ").capitalize(),
            "scale": {"scheme": "tableau10"},
        }
    return {
        "$schema": "https://vega.github.io/schema/vega-lite/v5.json",
        "title": f"{metric.title} ({view.title.lower()})",
        "width": 560,
        "height": 260,
        "data": {"values": values},
        "mark": {"type": chart.get("mark", "bar")},
        "encoding": encoding,
        "config": {
            "font": FONT,
            "axis": {"labelFontSize": 12, "titleFontSize": 13},
            "legend": {"labelFontSize": 12, "titleFontSize": 13, "labelLimit": 260},
            "title": {"fontSize": 15},
        },
    }


def to_svg(chart_spec: dict[str, Any]) -> str:
    import vl_convert

    return vl_convert.vegalite_to_svg(chart_spec)


@lru_cache(maxsize=512)
def svg_for(snapshot_id: str, slug: str, filters: Filters, view_key: str | None) -> str:
    from mutualise.evidence.services import present

    return to_svg(spec(present(snapshot_id, slug, filters, view_key)))
