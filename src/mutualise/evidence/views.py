"""The public evidence pages: dashboard, one figure, the rows behind a figure, downloads, charts.

All public (no sign-in). Filters live in the query string, so any view can be shared. Pages read
only the stored snapshot (services.py); nothing here touches the programme's tables.
"""

from __future__ import annotations

import json
from collections import OrderedDict
from collections.abc import Callable
from functools import wraps
from typing import Any
from urllib.parse import urlencode

from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from mutualise.evidence import charts, services
from mutualise.evidence.metrics import Filters, Presented, headline_columns, settings

FORMATS = ("csv", "json", "parquet")
_page_cache: OrderedDict[tuple[str, str], tuple[bytes, str, int]] = OrderedDict()
PAGE_CACHE_SIZE = 2000


def cached_public_page(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Keep the bytes of a page shown to signed-out visitors, per snapshot and full address.

    The pages depend only on the snapshot and the query string (no per-user content when signed
    out), so a new snapshot is a new key and nothing stale is ever served."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        snapshot = services.current_snapshot()
        if request.user.is_authenticated or snapshot is None:
            return view(request, *args, **kwargs)
        key = (snapshot.snapshot_id, request.get_full_path())
        hit = _page_cache.get(key)
        if hit is not None:
            content, content_type, status = hit
            return HttpResponse(content, content_type=content_type, status=status)
        response = view(request, *args, **kwargs)
        if response.status_code in (200, 400) and not response.streaming:
            _page_cache[key] = (response.content, response["Content-Type"], response.status_code)
            while len(_page_cache) > PAGE_CACHE_SIZE:
                _page_cache.popitem(last=False)
        return response

    return wrapper


def _query(filters: Filters, **extra: Any) -> str:
    params = {**filters.query(), **{k: v for k, v in extra.items() if v not in (None, "")}}
    return urlencode(params)


def table_context(presented: Presented, filters: Filters) -> dict[str, Any]:
    """Rows of a GOV.UK table where every figure links to the rows behind it."""
    metric, view = presented.metric, presented.view
    headers = [services.label_heading(name) for name in view.by]
    columns = headline_columns(metric)
    headers += [label for _, label in columns]
    rows = []
    for row in presented.rows:
        keys = {f"k_{name}": value for name, value in row.keys.items()}
        where = ", ".join(row.labels[name] for name in view.by) or "all"
        cells = []
        for cell in row.cells:
            href = f"/evidence/rows/{metric.slug}/?{_query(filters, measure=cell.measure, **keys)}"
            numeric = cell.denominator is None or not cell.suppressed or cell.denominator == 0
            cells.append(
                {
                    "text": cell.text,
                    "href": href,
                    "numeric": numeric,
                    "hidden": f" – {_label_of(metric, cell.column)}, {where}: "
                    "see the rows behind this figure",
                }
            )
        rows.append({"labels": [row.labels[name] for name in view.by], "cells": cells})
    return {"headers": headers, "rows": rows, "by_count": len(view.by)}


def _label_of(metric: Any, column: str) -> str:
    for name, label in headline_columns(metric):
        if name == column:
            return label
    return column


def _filter_context(filters: Filters) -> dict[str, Any]:
    return {
        "filters": filters,
        "sector_choices": services.choices("sector"),
        "region_choices": services.choices("region"),
        "class_choices": services.choices("supplier_class"),
        "query": _query(filters),
    }


def _snapshot_or_none() -> Any:
    return services.current_snapshot()


def _error_page(
    request: HttpRequest,
    message: str,
    template: str = "evidence/dashboard.html",
    context: dict[str, Any] | None = None,
) -> HttpResponse:
    context = {
        **(context or {}),
        "error": message,
        "filters": Filters(),
        **_filter_context(Filters()),
    }
    return render(request, template, context, status=400)


@require_GET
@cached_public_page
def dashboard(request: HttpRequest) -> HttpResponse:
    try:
        filters = services.parse_filters(request.GET)
    except services.EvidenceError as exc:
        return _error_page(
            request, str(exc), context={"snapshot": _snapshot_or_none(), "sections": []}
        )
    snapshot = _snapshot_or_none()
    sections = []
    if snapshot is not None:
        for item in services.dashboard(snapshot.snapshot_id, filters):
            presented = item.views[0]
            sections.append(
                {
                    "figure": item,
                    "metric": item.metric,
                    "view": presented.view,
                    "table": table_context(presented, filters),
                    "presented": presented,
                    "query": _query(filters),
                    "chart": bool(presented.rows),
                    "chart_query": _query(filters, view=presented.view.key),
                }
            )
    context = {
        "snapshot": snapshot,
        "sections": sections,
        "threshold": settings().small_group_threshold,
        **_filter_context(filters),
    }
    return render(request, "evidence/dashboard.html", context)


@require_GET
@cached_public_page
def figure_detail(request: HttpRequest, slug: str) -> HttpResponse:
    snapshot = _snapshot_or_none()
    try:
        metric = services.get_metric(slug)
        filters = services.parse_filters(request.GET)
    except services.EvidenceError as exc:
        if "no figure" in str(exc):
            raise Http404(str(exc)) from exc
        return _error_page(request, str(exc), context={"snapshot": snapshot, "sections": []})
    views = []
    figure = None
    if snapshot is not None:
        figure = services.figure(snapshot.snapshot_id, slug, filters)
        for presented in figure.views:
            views.append(
                {
                    "view": presented.view,
                    "table": table_context(presented, filters),
                    "chart": bool(presented.rows) and bool(presented.view.chart),
                    "chart_query": _query(filters, view=presented.view.key),
                    "download_query": _query(filters, view=presented.view.key),
                }
            )
    return render(
        request,
        "evidence/figure.html",
        {
            "metric": metric,
            "snapshot": snapshot,
            "figure": figure,
            "views": views,
            "threshold": settings().small_group_threshold,
            **_filter_context(filters),
        },
    )


@require_GET
def rows(request: HttpRequest, slug: str) -> HttpResponse:
    snapshot = _snapshot_or_none()
    try:
        metric = services.get_metric(slug)
    except services.EvidenceError as exc:
        raise Http404(str(exc)) from exc
    try:
        filters = services.parse_filters(request.GET)
        keys = services.parse_keys(metric, request.GET)
        page_number = int(request.GET.get("page") or 1)
        page = (
            services.rows_behind(
                snapshot.snapshot_id,
                slug,
                filters,
                keys,
                request.GET.get("measure", ""),
                page_number,
            )
            if snapshot is not None
            else None
        )
    except (services.EvidenceError, ValueError) as exc:
        return render(
            request,
            "evidence/rows.html",
            {"metric": metric, "error": str(exc), "snapshot": snapshot, "page": None},
            status=400,
        )
    key_query = {f"k_{name}": value for name, value in keys.items()}
    measure = page.measure if page else ""
    base = _query(filters, measure=measure, **key_query)
    context = {
        "metric": metric,
        "snapshot": snapshot,
        "page": page,
        "filters": filters,
        "keys": [
            (services.label_heading(n), services.label(n, int(v) if n == "year" else v))
            for n, v in keys.items()
        ],
        "applied": [
            (services.label_heading(n), _describe(n, c))
            for n, c in filters.applied_to(metric).items()
        ],
        "measure_label": _label_of(metric, measure) if page else "",
        "measure_total": (
            services.metrics.format_pence(page.measure_sum)
            if page and metric.measure(page.measure).kind == "pence"
            else f"{page.measure_sum:,}"
            if page
            else ""
        ),
        "base_query": base,
        "headers": [c.replace("_", " ").capitalize() for c in (page.columns if page else [])],
        "previous": f"?{base}&page={page.page - 1}" if page and page.page > 1 else "",
        "next": f"?{base}&page={page.page + 1}" if page and page.page < page.pages else "",
    }
    return render(request, "evidence/rows.html", context)


def _describe(name: str, condition: Any) -> str:
    if name == "year":
        low, high = condition
        return f"{low or 'any'} to {high or 'any'}"
    if name == "buyer":
        return f"name contains “{condition}”"
    return services.label(name, condition)


def _download(content: bytes, content_type: str, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@require_GET
def rows_download(request: HttpRequest, slug: str, file_format: str) -> HttpResponse:
    snapshot = _snapshot_or_none()
    if snapshot is None:
        raise Http404("no data snapshot yet")
    try:
        metric = services.get_metric(slug)
        filters = services.parse_filters(request.GET)
        keys = services.parse_keys(metric, request.GET)
        content, content_type = services.export_rows(
            snapshot.snapshot_id, slug, filters, keys, request.GET.get("measure", ""), file_format
        )
    except services.EvidenceError as exc:
        return JsonResponse({"error": str(exc)}, status=400)
    return _download(content, content_type, f"{slug}-rows-{snapshot.snapshot_id}.{file_format}")


@require_GET
def table_download(request: HttpRequest, slug: str, file_format: str) -> HttpResponse:
    snapshot = _snapshot_or_none()
    if snapshot is None:
        raise Http404("no data snapshot yet")
    try:
        services.get_metric(slug)
        filters = services.parse_filters(request.GET)
        content, content_type = services.export_table(
            snapshot.snapshot_id, slug, filters, request.GET.get("view"), file_format
        )
    except services.EvidenceError as exc:
        return JsonResponse({"error": str(exc)}, status=400)
    return _download(content, content_type, f"{slug}-{snapshot.snapshot_id}.{file_format}")


def _chart_inputs(request: HttpRequest, slug: str) -> tuple[Any, Filters]:
    snapshot = _snapshot_or_none()
    if snapshot is None:
        raise Http404("no data snapshot yet")
    try:
        services.get_metric(slug)
        return snapshot, services.parse_filters(request.GET)
    except services.EvidenceError as exc:
        raise Http404(str(exc)) from exc


@require_GET
def chart_spec(request: HttpRequest, slug: str) -> HttpResponse:
    snapshot, filters = _chart_inputs(request, slug)
    presented = services.present(snapshot.snapshot_id, slug, filters, request.GET.get("view"))
    body = json.dumps(charts.spec(presented), indent=1)
    return HttpResponse(body, content_type="application/json")


@require_GET
@cached_public_page
def chart_svg(request: HttpRequest, slug: str) -> HttpResponse:
    snapshot, filters = _chart_inputs(request, slug)
    svg = charts.svg_for(snapshot.snapshot_id, slug, filters, request.GET.get("view") or None)
    response = HttpResponse(svg, content_type="image/svg+xml")
    response["Cache-Control"] = "public, max-age=300"
    return response


@require_GET
def programme_contracts_ocds(request: HttpRequest) -> HttpResponse:
    from mutualise.evidence.ocds import programme_release_package

    package = programme_release_package(request.build_absolute_uri("/"))
    response = HttpResponse(json.dumps(package, indent=1), content_type="application/json")
    response["Content-Disposition"] = 'attachment; filename="programme-contracts-ocds.json"'
    return response
