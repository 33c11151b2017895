"""Read the named input tables of the metrics from the app database (read only).

Each function returns a pandas DataFrame with plain columns; metrics.py never sees a model.
A source app that is not there yet (not installed, or its tables not created) gives an empty
table, and the metric then says plainly that there is no data yet.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date

import numpy as np
import pandas as pd
from django.db import DatabaseError

from mutualise.evidence.metrics import CONTRACT_COLUMNS, NOT_KNOWN, sector_for_cpv, settings

log = logging.getLogger(__name__)


def _safe(name: str, function: Callable[[], pd.DataFrame]) -> pd.DataFrame:
    try:
        return function()
    except (ImportError, LookupError, DatabaseError) as exc:  # a source that is not there yet
        log.warning("evidence: table %s not available: %s", name, exc)
        return pd.DataFrame()


def journey_stages() -> pd.DataFrame:
    from mutualise.journeys.workflow import load_workflow

    workflow = load_workflow()
    rows = []
    for position, stage in enumerate(workflow.stages):
        group = (
            "live"
            if stage.code in workflow.live_stages
            else "pipeline"
            if stage.code in workflow.pipeline_stages
            else "withdrawn"
        )
        rows.append(
            {"code": stage.code, "name": stage.staff_name, "group": group, "position": position}
        )
    return pd.DataFrame(rows)


def organisations() -> pd.DataFrame:
    from mutualise.organisations.models import Organisation

    rows = (
        Organisation.objects.exclude(kind="public_body")
        .values_list(
            "id",
            "name",
            "reference",
            "kind",
            "sector",
            "region",
            "staff_count",
            "annual_income_pence",
            "journey__stage",
            "parent_body__name",
        )
        .order_by("id")
    )
    frame = pd.DataFrame.from_records(
        list(rows),
        columns=[
            "id",
            "name",
            "reference",
            "kind",
            "sector",
            "region",
            "staff_count",
            "annual_income_pence",
            "stage",
            "parent_body",
        ],
    )
    frame["stage"] = frame["stage"].fillna("")
    frame["reference"] = frame["reference"].where(
        frame["reference"] != "", "id-" + frame["id"].astype(str)
    )
    return frame


def fund_ledger() -> pd.DataFrame:
    from mutualise.fund.models import LedgerEntry

    rows = LedgerEntry.objects.values_list(
        "id",
        "at",
        "round__fund__name",
        "round__name",
        "award__application__reference",
        "award__application__organisation__name",
        "kind",
        "amount_pence",
        "award__application__organisation__sector",
        "award__application__organisation__region",
    ).order_by("id")
    frame = pd.DataFrame.from_records(
        list(rows),
        columns=[
            "id",
            "at",
            "fund",
            "round",
            "award",
            "organisation",
            "kind",
            "amount_pence",
            "sector",
            "region",
        ],
    )
    frame["round"] = frame["fund"].astype(str) + ": " + frame["round"].astype(str)
    return frame


def ambassadors() -> pd.DataFrame:
    from django.db.models import Count, Q

    from mutualise.ambassadors.models import AmbassadorProfile

    rows = AmbassadorProfile.objects.annotate(
        active_groups=Count("matches", filter=Q(matches__status="accepted"), distinct=True),
        engagements=Count("matches__engagements", distinct=True),
    ).values_list("id", "user__full_name", "user__username", "active_groups", "engagements")
    frame = pd.DataFrame.from_records(
        list(rows), columns=["id", "full_name", "username", "active_groups", "engagements"]
    )
    frame["name"] = frame["full_name"].where(frame["full_name"].fillna("") != "", frame["username"])
    return frame.drop(columns=["full_name", "username"])


def engagements() -> pd.DataFrame:
    from mutualise.ambassadors.models import Engagement

    rows = Engagement.objects.values_list(
        "id",
        "held_on",
        "match__profile__user__full_name",
        "match__organisation__name",
        "match__organisation__kind",
        "match__organisation__reference",
        "match__organisation__sector",
        "match__organisation__region",
    ).order_by("id")
    return pd.DataFrame.from_records(
        list(rows),
        columns=[
            "id",
            "held_on",
            "ambassador",
            "organisation",
            "kind",
            "reference",
            "sector",
            "region",
        ],
    )


def _buyer_regions() -> tuple[dict[str, str], dict[str, str]]:
    """Public bodies' regions, by prefixed identifier and by lower-case name."""
    from mutualise.organisations.models import Identifier, Organisation

    by_identifier = {
        f"{scheme}-{value}": region
        for scheme, value, region in Identifier.objects.filter(
            organisation__kind="public_body"
        ).values_list("scheme", "value", "organisation__region")
    }
    by_name = {
        name.strip().lower(): region
        for name, region in Organisation.objects.filter(kind="public_body").values_list(
            "name", "region"
        )
    }
    return by_identifier, by_name


def reservable(cpv: pd.Series, award: pd.Series, start: pd.Series, end: pd.Series) -> np.ndarray:
    """CPV on the reservable list of the regime in force on the award date, term within its
    maximum (vectorised; the rules come from rules/reservation_*.yaml|csv)."""
    from mutualise.pipeline import reservation

    rules = reservation.load_rules()
    award_day = pd.to_datetime(award.where(award.notna(), start), errors="coerce")
    start_day = pd.to_datetime(start, errors="coerce")
    end_day = pd.to_datetime(end, errors="coerce")
    after = end_day + pd.Timedelta(days=1)
    months = (
        (after.dt.year - start_day.dt.year) * 12
        + after.dt.month
        - start_day.dt.month
        + (after.dt.day > start_day.dt.day).astype("float64")
    )
    code = pd.to_numeric(cpv.astype(str).str.slice(0, 8), errors="coerce")
    result = np.zeros(len(cpv), dtype=bool)
    for regime in rules.regimes:
        if not regime.cpv_list_loaded:
            continue  # a list that is not loaded cannot confirm a reservation
        in_force = award_day >= pd.Timestamp(regime.starts_on)
        if regime.ends_on is not None:
            in_force &= award_day <= pd.Timestamp(regime.ends_on)
        on_list = pd.Series(False, index=cpv.index)
        for cpv_range in regime.cpv_ranges:
            on_list |= (code >= int(cpv_range.code_from)) & (code <= int(cpv_range.code_to))
        term_ok = months.notna() & (months <= regime.maximum_term_months)
        result |= (in_force & on_list & term_ok).fillna(False).to_numpy(dtype=bool)
    return result


def contracts() -> pd.DataFrame:
    from mutualise.watch.models import WatchedContract

    fields = [
        "ocid",
        "award_id",
        "title",
        "buyer_name",
        "buyer_identifier",
        "supplier_name",
        "supplier_class",
        "cpv",
        "award_date",
        "start_date",
        "end_date",
        "value_pence",
        "reserved",
        "supplier_organisation__reference",
        "supplier_organisation_id",
    ]
    rows = WatchedContract.objects.order_by("id").values_list(*fields)
    frame = pd.DataFrame.from_records(rows.iterator(chunk_size=20_000), columns=fields)
    if frame.empty:
        return pd.DataFrame(columns=CONTRACT_COLUMNS)
    frame = frame.rename(columns={"buyer_name": "buyer", "supplier_name": "supplier"})
    reference = frame.pop("supplier_organisation__reference").fillna("")
    org_id = frame.pop("supplier_organisation_id")
    frame["supplier_reference"] = reference.where(
        reference != "", ("id-" + org_id.astype("Int64").astype(str)).where(org_id.notna(), "")
    )
    rules = settings()
    cpvs = frame["cpv"].fillna("").astype(str)
    sector_of = {code: sector_for_cpv(code, rules) for code in cpvs.unique()}
    frame["sector"] = cpvs.map(sector_of)
    by_identifier, by_name = _buyer_regions()
    region = frame["buyer_identifier"].map(by_identifier)
    region = region.where(
        region.notna(), frame["buyer"].fillna("").str.strip().str.lower().map(by_name)
    )
    frame["region"] = region.astype("object").fillna(NOT_KNOWN).replace("", NOT_KNOWN)
    frame["reservable"] = reservable(
        frame["cpv"].fillna(""), frame["award_date"], frame["start_date"], frame["end_date"]
    )
    return frame[CONTRACT_COLUMNS]


def contract_outcomes() -> pd.DataFrame:
    from mutualise.watch.models import ContractOutcome

    fields = [
        "contract__ocid",
        "contract__award_id",
        "contract__title",
        "contract__buyer_name",
        "contract__buyer_identifier",
        "contract__supplier_name",
        "contract__supplier_class",
        "contract__cpv",
        "contract__end_date",
        "contract__value_pence",
        "outcome",
        "successor_supplier_name",
        "successor_class",
        "as_of",
    ]
    rows = ContractOutcome.objects.order_by("contract_id").values_list(*fields)
    frame = pd.DataFrame.from_records(
        rows.iterator(chunk_size=20_000),
        columns=[
            "ocid",
            "award_id",
            "title",
            "buyer",
            "buyer_identifier",
            "supplier",
            "supplier_class",
            "cpv",
            "end_date",
            "value_pence",
            "outcome",
            "successor_supplier",
            "successor_class",
            "as_of",
        ],
    )
    if frame.empty:
        return frame
    rules = settings()
    frame["sector"] = frame["cpv"].fillna("").map(lambda c: sector_for_cpv(c, rules))
    by_identifier, by_name = _buyer_regions()
    region = frame["buyer_identifier"].map(by_identifier)
    region = region.where(
        region.notna(), frame["buyer"].fillna("").str.strip().str.lower().map(by_name)
    )
    frame["region"] = region.astype("object").fillna(NOT_KNOWN).replace("", NOT_KNOWN)
    return frame


def as_of() -> date:
    """The date the figures describe: the latest contract-watch load's as-of date, else today."""
    from django.utils import timezone

    try:
        from mutualise.watch.models import WarehouseLoad

        load = WarehouseLoad.objects.exclude(as_of=None).order_by("-loaded_at").first()
        if load is not None and load.as_of is not None:
            return load.as_of
    except (ImportError, DatabaseError):
        pass
    return timezone.localdate()


GATHERERS: dict[str, Callable[[], pd.DataFrame]] = {
    "journey_stages": journey_stages,
    "organisations": organisations,
    "fund_ledger": fund_ledger,
    "ambassadors": ambassadors,
    "engagements": engagements,
    "contracts": contracts,
    "contract_outcomes": contract_outcomes,
}


def gather(as_of_day: date | None = None) -> dict[str, pd.DataFrame]:
    tables = {name: _safe(name, function) for name, function in GATHERERS.items()}
    tables["snapshot_info"] = pd.DataFrame({"as_of": [(as_of_day or as_of()).isoformat()]})
    return tables
