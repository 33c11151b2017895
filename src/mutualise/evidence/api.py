"""The read-only open data API (django-ninja; OpenAPI at /api/docs).

It serves the same stored snapshot as the dashboard: the figures' tables, the rows behind them
(paged), and the programme's own contracts as an OCDS release package. Errors are JSON with a
status code.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from django.http import HttpRequest
from ninja import NinjaAPI, Query, Schema
from ninja.errors import HttpError
from pydantic import Field, WithJsonSchema
from pydantic.json_schema import JsonDict

from mutualise.evidence import services
from mutualise.evidence.metrics import METRICS

api = NinjaAPI(
    title="Mutualise open data",
    version="1",
    description="Read-only figures of the public service mutuals programme and contract watch, "
    "from a named data snapshot. Money is integer pence.",
    urls_namespace="api",
)


class ErrorOut(Schema):
    """A refused request (400) or a missing figure or snapshot (404)."""

    detail: str


class ValidationErrorOut(Schema):
    """A parameter of the wrong type (422): one entry per bad parameter, as pydantic reports it."""

    detail: list[dict[str, Any]]


ERRORS: dict[int, Any] = {400: ErrorOut, 404: ErrorOut, 422: ValidationErrorOut}

# The values the routes accept, written into the document so that clients (and schemathesis)
# know them. The routes check them themselves and answer any other value with a JSON 400 (a
# figure that does not exist: 404), as they always have, so these are documentation only.
Slug = Annotated[str, WithJsonSchema({"type": "string", "enum": [m.slug for m in METRICS]})]
View = Annotated[
    str,
    WithJsonSchema(
        {"type": "string", "enum": ["", *dict.fromkeys(v.key for m in METRICS for v in m.views)]}
    ),
]
Measure = Annotated[
    str,
    WithJsonSchema(
        {
            "type": "string",
            "enum": ["", *dict.fromkeys(x.column for m in METRICS for x in m.measures)],
        }
    ),
]
Page = Annotated[int, WithJsonSchema({"type": "integer", "minimum": 1})]
PageSize = Annotated[int, WithJsonSchema({"type": "integer", "minimum": 1, "maximum": 1000})]
YEAR: JsonDict = {"minimum": 1990, "maximum": 2100}


def _choices(name: str) -> Callable[[JsonDict], None]:
    """The filter's known values, read when the document is built (they come from reference
    data, not from code)."""

    def document(schema: JsonDict) -> None:
        schema["enum"] = ["", *(value for value, _ in services.choices(name))]

    return document


class FilterParams(Schema):
    year_from: int | None = Field(None, json_schema_extra=YEAR)
    year_to: int | None = Field(None, json_schema_extra=YEAR)
    sector: str = Field("", json_schema_extra=_choices("sector"))
    region: str = Field("", json_schema_extra=_choices("region"))
    buyer: str = ""
    supplier_class: str = Field("", json_schema_extra=_choices("supplier_class"))


class SnapshotOut(Schema):
    snapshot_id: str
    as_of: str
    created_at: str
    input_rows: dict[str, int]


class MetricOut(Schema):
    slug: str
    title: str
    question: str
    definition: str
    sources: list[str]
    dimensions: list[str]
    measures: list[str]
    views: list[str]
    filters: list[str]
    has_data: bool
    note: str


class TableOut(Schema):
    snapshot_id: str
    metric: str
    view: str
    filters: dict[str, Any]
    rows: list[dict[str, Any]]


class RowsOut(Schema):
    snapshot_id: str
    metric: str
    measure: str
    total_rows: int
    measure_sum: int
    page: int
    pages: int
    columns: list[str]
    rows: list[list[Any]]


def _snapshot() -> Any:
    snapshot = services.current_snapshot()
    if snapshot is None:
        raise HttpError(404, "No data yet: no data snapshot has been taken")
    return snapshot


def _filters(params: FilterParams) -> Any:
    try:
        return services.parse_filters(
            {k: ("" if v is None else str(v)) for k, v in params.dict().items()}
        )
    except services.EvidenceError as exc:
        raise HttpError(400, str(exc)) from exc


def _metric(slug: str) -> Any:
    try:
        return services.get_metric(slug)
    except services.EvidenceError as exc:
        raise HttpError(404, str(exc)) from exc


@api.get(
    "/snapshot", response={200: SnapshotOut, 404: ErrorOut}, summary="The current data snapshot"
)
def snapshot(request: HttpRequest) -> dict[str, Any]:
    current = _snapshot()
    return {
        "snapshot_id": current.snapshot_id,
        "as_of": current.as_of.isoformat(),
        "created_at": current.created_at.isoformat(),
        "input_rows": current.row_counts,
    }


@api.get("/metrics", response=list[MetricOut], summary="Every published figure and its definition")
def metric_list(request: HttpRequest) -> list[dict[str, Any]]:
    current = services.current_snapshot()
    info = services.manifest(current.snapshot_id)["metrics"] if current else {}
    return [
        {
            "slug": m.slug,
            "title": m.title,
            "question": m.question,
            "definition": m.definition,
            "sources": list(m.sources),
            "dimensions": list(m.dimensions),
            "measures": [x.column for x in m.measures],
            "views": [v.key for v in m.views],
            "filters": list(m.filters),
            "has_data": bool(info.get(m.slug, {}).get("has_data")),
            "note": info.get(m.slug, {}).get("note", "No data yet."),
        }
        for m in METRICS
    ]


@api.get(
    "/metrics/{slug}", response={200: TableOut, **ERRORS}, summary="A figure's table, filtered"
)
def metric_table(
    request: HttpRequest, slug: Slug, filters: Query[FilterParams], view: View = ""
) -> dict[str, Any]:
    metric = _metric(slug)
    current = _snapshot()
    chosen = _filters(filters)
    if view and view not in {v.key for v in metric.views}:
        raise HttpError(400, f"view must be one of {', '.join(v.key for v in metric.views)}")
    presented = services.present(current.snapshot_id, slug, chosen, view or None)
    return {
        "snapshot_id": current.snapshot_id,
        "metric": slug,
        "view": presented.view.key,
        "filters": {
            k: list(v) if isinstance(v, tuple) else v for k, v in chosen.applied_to(metric).items()
        },
        "rows": presented.records(),
    }


@api.get(
    "/metrics/{slug}/rows",
    response={200: RowsOut, **ERRORS},
    summary="The rows behind a figure, paged",
)
def metric_rows(
    request: HttpRequest,
    slug: Slug,
    filters: Query[FilterParams],
    measure: Measure = "",
    page: Page = 1,
    page_size: PageSize = 100,
) -> dict[str, Any]:
    metric = _metric(slug)
    current = _snapshot()
    chosen = _filters(filters)
    if not 1 <= page_size <= 1000 or page < 1:
        raise HttpError(400, "page must be 1 or more and page_size between 1 and 1000")
    try:
        keys = services.parse_keys(metric, request.GET)
        result = services.rows_behind(
            current.snapshot_id, slug, chosen, keys, measure, page, page_size
        )
    except services.EvidenceError as exc:
        raise HttpError(400, str(exc)) from exc
    return {
        "snapshot_id": current.snapshot_id,
        "metric": slug,
        "measure": result.measure,
        "total_rows": result.total_rows,
        "measure_sum": result.measure_sum,
        "page": result.page,
        "pages": result.pages,
        "columns": result.columns,
        "rows": [[_plain(v) for v in row] for row in result.rows],
    }


def _plain(value: Any) -> Any:
    if value is None or isinstance(value, (int, float, str, bool)):
        return value
    return str(value)


@api.get("/ocds/programme-contracts", summary="The programme's own contracts as OCDS")
def programme_contracts(request: HttpRequest) -> dict[str, Any]:
    from mutualise.evidence.ocds import programme_release_package

    return programme_release_package(request.build_absolute_uri("/"))
