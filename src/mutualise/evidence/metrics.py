"""The published figures, as pure functions over named tables (no database access).

Every metric has the same shape, so every figure is traceable (DESIGN.md rule 5):

1. ``rows(tables)`` derives its *row table* from the named input tables: one row per thing counted
   (an organisation, a ledger entry, a contract, a re-tender outcome), with its dimension columns
   (year, sector, region, buyer, supplier class, ...) and its measure columns. Every measure is a
   column to add up: counts are columns of 1s, flags are 0 or 1, money is integer pence.
2. ``cube(rows)`` adds the measures up by every dimension: the pre-computed aggregate the dashboard
   reads (DESIGN: never raw tables per request).
3. ``present(cube, filters, view)`` keeps the cube rows the filters select, adds them up by the
   view's dimensions, and works out rates and shares from the sums, showing "3 of 4" and the count
   and leaving out a percentage over fewer cases than the small-group threshold.

So the rows behind any figure are the rows of the row table that match the filters and the
figure's dimension values and have a non-zero value of the measure; they add up to the figure.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from typing import Any

import pandas as pd

from mutualise.rules import load_yaml

NOT_KNOWN = "not-known"
FILTER_DIMENSIONS = ("year", "sector", "region", "buyer", "supplier_class")
Tables = Mapping[str, pd.DataFrame]


# -- settings (rules/evidence.yaml) ------------------------------------------------------------
@dataclass(frozen=True)
class Settings:
    small_group_threshold: int
    decided_outcomes: tuple[str, ...]
    captured_from_classes: tuple[str, ...]
    cpv_sectors: tuple[tuple[str, str], ...]
    supplier_classes: tuple[tuple[str, str], ...]
    version: str = ""


@cache
def settings() -> Settings:
    data = load_yaml("evidence.yaml")
    prefixes = sorted(
        ((str(i["prefix"]), i["sector"]) for i in data["cpv_sectors"]),
        key=lambda item: -len(item[0]),
    )
    return Settings(
        small_group_threshold=int(data["small_group_threshold"]),
        decided_outcomes=tuple(data["decided_outcomes"]),
        captured_from_classes=tuple(data["captured_from_classes"]),
        cpv_sectors=tuple(prefixes),
        supplier_classes=tuple((i["code"], i["name"]) for i in data["supplier_classes"]),
        version=str(data["version"]),
    )


def sector_for_cpv(cpv: str | None, rules: Settings | None = None) -> str:
    rules = rules or settings()
    code = (cpv or "").strip()
    for prefix, sector in rules.cpv_sectors:
        if code.startswith(prefix):
            return sector
    return "other" if code else NOT_KNOWN


# -- definitions -----------------------------------------------------------------------------
@dataclass(frozen=True)
class Measure:
    column: str
    label: str
    kind: str = "count"  # count | pence


@dataclass(frozen=True)
class Rate:
    """numerator / denominator, both measures; shown as "n of m" and a percentage."""

    column: str
    label: str
    numerator: str
    denominator: str


@dataclass(frozen=True)
class Share:
    """A measure as a share of its total within the view's first dimension (e.g. within a year)."""

    column: str
    label: str
    measure: str


@dataclass(frozen=True)
class View:
    key: str
    title: str
    by: tuple[str, ...]
    chart: dict[str, str] = field(default_factory=dict)  # x, y, colour (columns), mark


@dataclass(frozen=True)
class Metric:
    slug: str
    title: str
    group: str  # programme | contracts
    question: str
    definition: str
    sources: tuple[str, ...]
    row_table: str
    dimensions: tuple[str, ...]
    measures: tuple[Measure, ...]
    views: tuple[View, ...]
    rows: Callable[[Tables], pd.DataFrame]
    row_columns: tuple[str, ...]
    rates: tuple[Rate, ...] = ()
    shares: tuple[Share, ...] = ()
    no_data: str = "No data yet."

    @property
    def filters(self) -> tuple[str, ...]:
        return tuple(d for d in FILTER_DIMENSIONS if d in self.dimensions)

    def measure(self, column: str) -> Measure:
        for measure in self.measures:
            if measure.column == column:
                return measure
        raise KeyError(column)

    def view(self, key: str | None) -> View:
        for view in self.views:
            if view.key == key:
                return view
        return self.views[0]


@dataclass
class MetricResult:
    """A metric computed over one set of tables: its row table and its aggregate (the cube)."""

    metric: Metric
    rows: pd.DataFrame
    cube: pd.DataFrame
    has_data: bool
    note: str = ""

    @property
    def columns(self) -> list[str]:
        return list(self.cube.columns)

    @property
    def definition(self) -> str:
        return self.metric.definition

    @property
    def sources(self) -> tuple[str, ...]:
        return self.metric.sources


# -- helpers ---------------------------------------------------------------------------------
def _empty(columns: Sequence[str]) -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype="object") for c in columns})


def _table(tables: Tables, name: str, columns: Sequence[str]) -> pd.DataFrame:
    table = tables.get(name)
    if table is None or len(table) == 0:
        return _empty(columns)
    return table


def _text(series: pd.Series) -> pd.Series:
    return (
        series.astype("object")
        .where(series.notna() & (series.astype(str) != ""), NOT_KNOWN)
        .astype(str)
    )


def _year(series: pd.Series) -> pd.Series:
    dates = pd.to_datetime(series, errors="coerce")
    return dates.dt.year.fillna(0).astype("int64")


def _flag(mask: Any) -> Any:
    return pd.Series(mask).fillna(False).astype(bool).astype("int64").to_numpy()


def _pence(series: pd.Series) -> pd.Series:
    return pd.to_numeric(series, errors="coerce").fillna(0).astype("int64")


def public_name(kind: pd.Series, name: pd.Series, reference: pd.Series) -> pd.Series:
    """Live mutuals and other organisations are named; staff groups still deciding are not."""
    hidden = kind.astype(str) == "staff_group"
    label = "Staff group " + reference.astype(str)
    return name.astype(str).where(~hidden, label)


# -- row tables ------------------------------------------------------------------------------
def journey_rows(tables: Tables) -> pd.DataFrame:
    columns = ["organisation", "reference", "kind", "stage", "sector", "region", "stage_group"]
    organisations = _table(
        tables, "organisations", ["id", "name", "reference", "kind", "stage", "sector", "region"]
    )
    stages = _table(tables, "journey_stages", ["code", "name", "group", "position"])
    organisations = organisations[organisations["stage"].astype(str) != ""]
    if organisations.empty:
        return _empty([*columns, "organisations", "live", "pipeline"])
    groups = dict(zip(stages["code"], stages["group"], strict=False))
    out = pd.DataFrame(
        {
            "organisation": public_name(
                organisations["kind"], organisations["name"], organisations["reference"]
            ),
            "reference": organisations["reference"].astype(str),
            "kind": organisations["kind"].astype(str),
            "stage": organisations["stage"].astype(str),
            "sector": _text(organisations["sector"]),
            "region": _text(organisations["region"]),
        }
    )
    out["stage_group"] = out["stage"].map(groups).fillna("other")
    out["organisations"] = 1
    out["live"] = (out["stage_group"] == "live").astype("int64")
    out["pipeline"] = (out["stage_group"] == "pipeline").astype("int64")
    return out.sort_values(["stage", "reference"]).reset_index(drop=True)


def live_mutual_rows(tables: Tables) -> pd.DataFrame:
    rows = journey_rows(tables)
    organisations = _table(tables, "organisations", ["reference", "staff_count"])
    rows = rows[rows["live"] == 1]
    staff = dict(
        zip(organisations["reference"].astype(str), organisations["staff_count"], strict=False)
    )
    out = rows[["organisation", "reference", "sector", "region"]].copy()
    counts = pd.to_numeric(out["reference"].map(staff), errors="coerce")
    out["staff_count_reported"] = counts.notna().astype("int64")
    out["staff"] = counts.fillna(0).astype("int64")
    out["mutuals"] = 1
    return out.reset_index(drop=True)


def contracts_held_rows(tables: Tables) -> pd.DataFrame:
    columns = [
        "organisation",
        "reference",
        "sector",
        "region",
        "ocid",
        "award_id",
        "title",
        "buyer",
        "start_date",
        "end_date",
        "value_pence",
        "contracts",
    ]
    live = live_mutual_rows(tables)
    contracts = _table(tables, "contracts", ["supplier_reference", "start_date", "end_date"])
    as_of = _as_of(tables)
    if live.empty or contracts.empty:
        return _empty(columns)
    held = contracts[contracts["supplier_reference"].astype(str).isin(set(live["reference"]))]
    start = pd.to_datetime(held["start_date"], errors="coerce")
    end = pd.to_datetime(held["end_date"], errors="coerce")
    day = pd.Timestamp(as_of)
    held = held[(start.isna() | (start <= day)) & (end.isna() | (end >= day))]
    info = live.set_index("reference")
    out = pd.DataFrame(
        {
            "organisation": held["supplier_reference"].map(info["organisation"]),
            "reference": held["supplier_reference"].astype(str),
            "sector": held["supplier_reference"].map(info["sector"]),
            "region": held["supplier_reference"].map(info["region"]),
            "ocid": held["ocid"],
            "award_id": held["award_id"],
            "title": held["title"],
            "buyer": held["buyer"],
            "start_date": held["start_date"],
            "end_date": held["end_date"],
            "value_pence": _pence(held["value_pence"]),
        }
    )
    out["contracts"] = 1
    return out.reset_index(drop=True)


def fund_rows(tables: Tables) -> pd.DataFrame:
    columns = [
        "entry",
        "date",
        "year",
        "fund",
        "round",
        "award",
        "organisation",
        "sector",
        "region",
        "kind",
        "committed_pence",
        "paid_pence",
    ]
    ledger = _table(
        tables,
        "fund_ledger",
        [
            "id",
            "at",
            "fund",
            "round",
            "award",
            "organisation",
            "kind",
            "sector",
            "region",
            "amount_pence",
        ],
    )
    ledger = ledger[ledger["kind"].astype(str) != "allocation"]
    if ledger.empty:
        return _empty(columns)
    amount = _pence(ledger["amount_pence"])
    kind = ledger["kind"].astype(str)
    out = pd.DataFrame(
        {
            "entry": ledger["id"].astype("int64"),
            "date": pd.to_datetime(ledger["at"], utc=True).dt.strftime("%Y-%m-%d"),
            "year": _year(pd.to_datetime(ledger["at"], utc=True).dt.tz_localize(None)),
            "fund": ledger["fund"].astype(str),
            "round": ledger["round"].astype(str),
            "award": ledger["award"].astype(str),
            "organisation": ledger["organisation"].astype(str),
            "sector": _text(ledger["sector"]),
            "region": _text(ledger["region"]),
            "kind": kind,
            "committed_pence": amount.where(kind.isin(["commitment", "release"]), 0),
            "paid_pence": amount.where(kind.isin(["payment", "clawback"]), 0),
        }
    )
    return out.sort_values("entry").reset_index(drop=True)


def ambassador_rows(tables: Tables) -> pd.DataFrame:
    ambassadors = _table(tables, "ambassadors", ["id", "name", "active_groups", "engagements"])
    if ambassadors.empty:
        return _empty(["ambassador", "active_groups", "engagements_held", "ambassadors", "active"])
    active = pd.to_numeric(ambassadors["active_groups"], errors="coerce").fillna(0).astype("int64")
    out = pd.DataFrame(
        {
            "ambassador": ambassadors["name"].astype(str),
            "active_groups": active,
            "engagements_held": pd.to_numeric(ambassadors["engagements"], errors="coerce")
            .fillna(0)
            .astype("int64"),
            "ambassadors": 1,
            "active": (active > 0).astype("int64"),
        }
    )
    return out.sort_values("ambassador").reset_index(drop=True)


def engagement_rows(tables: Tables) -> pd.DataFrame:
    engagements = _table(
        tables,
        "engagements",
        ["id", "held_on", "ambassador", "organisation", "kind", "reference", "sector", "region"],
    )
    if engagements.empty:
        return _empty(
            [
                "engagement",
                "held_on",
                "year",
                "ambassador",
                "organisation",
                "sector",
                "region",
                "engagements",
            ]
        )
    out = pd.DataFrame(
        {
            "engagement": engagements["id"].astype("int64"),
            "held_on": pd.to_datetime(engagements["held_on"]).dt.strftime("%Y-%m-%d"),
            "year": _year(engagements["held_on"]),
            "ambassador": engagements["ambassador"].astype(str),
            "organisation": public_name(
                engagements["kind"], engagements["organisation"], engagements["reference"]
            ),
            "sector": _text(engagements["sector"]),
            "region": _text(engagements["region"]),
        }
    )
    out["engagements"] = 1
    return out.sort_values("engagement").reset_index(drop=True)


CONTRACT_COLUMNS = [
    "ocid",
    "award_id",
    "title",
    "buyer",
    "buyer_identifier",
    "supplier",
    "supplier_class",
    "cpv",
    "award_date",
    "start_date",
    "end_date",
    "value_pence",
    "reserved",
    "reservable",
    "sector",
    "region",
    "supplier_reference",
]


def contract_rows(tables: Tables) -> pd.DataFrame:
    columns = [
        "ocid",
        "award_id",
        "title",
        "buyer",
        "supplier",
        "supplier_class",
        "cpv",
        "sector",
        "region",
        "year",
        "award_date",
        "value_pence",
        "contracts",
        "reserved",
        "could_have_been_reserved",
        "could_have_been_reserved_won_by_large_firm",
    ]
    contracts = _table(tables, "contracts", CONTRACT_COLUMNS)
    if contracts.empty:
        return _empty(columns)
    reserved = contracts["reserved"].fillna(False).astype(bool)
    could = contracts["reservable"].fillna(False).astype(bool) & ~reserved
    supplier_class = _text(contracts["supplier_class"]).replace(NOT_KNOWN, "UNKNOWN")
    out = pd.DataFrame(
        {
            "ocid": contracts["ocid"].astype(str),
            "award_id": contracts["award_id"].astype(str),
            "title": contracts["title"].astype(str),
            "buyer": _text(contracts["buyer"]),
            "supplier": contracts["supplier"].astype(str),
            "supplier_class": supplier_class,
            "cpv": contracts["cpv"].astype(str),
            "sector": _text(contracts["sector"]),
            "region": _text(contracts["region"]),
            "year": _year(
                contracts["award_date"].where(
                    contracts["award_date"].notna(), contracts["start_date"]
                )
            ),
            "award_date": pd.to_datetime(contracts["award_date"])
            .dt.strftime("%Y-%m-%d")
            .fillna(""),
            "value_pence": _pence(contracts["value_pence"]),
        }
    )
    out["contracts"] = 1
    out["reserved"] = reserved.astype("int64").to_numpy()
    out["could_have_been_reserved"] = could.astype("int64").to_numpy()
    out["could_have_been_reserved_won_by_large_firm"] = (
        (could & (supplier_class == "LARGE_PRIVATE")).astype("int64").to_numpy()
    )
    return out.reset_index(drop=True)


def outcome_rows(tables: Tables) -> pd.DataFrame:
    columns = [
        "ocid",
        "award_id",
        "title",
        "buyer",
        "supplier",
        "supplier_class",
        "sector",
        "region",
        "year",
        "end_date",
        "outcome",
        "successor_supplier",
        "successor_class",
        "value_pence",
        "contracts",
        "decided",
        "retained",
        "captured",
        "captured_value_pence",
    ]
    outcomes = _table(tables, "contract_outcomes", ["ocid", "award_id", "outcome"])
    if outcomes.empty:
        return _empty(columns)
    rules = settings()
    outcome = outcomes["outcome"].astype(str)
    supplier_class = _text(outcomes["supplier_class"]).replace(NOT_KNOWN, "UNKNOWN")
    value = _pence(outcomes["value_pence"])
    captured = (outcome == "LOST_TO_LARGE_PRIVATE") & supplier_class.isin(
        rules.captured_from_classes
    )
    out = pd.DataFrame(
        {
            "ocid": outcomes["ocid"].astype(str),
            "award_id": outcomes["award_id"].astype(str),
            "title": outcomes["title"].astype(str),
            "buyer": _text(outcomes["buyer"]),
            "supplier": outcomes["supplier"].astype(str),
            "supplier_class": supplier_class,
            "sector": _text(outcomes["sector"]),
            "region": _text(outcomes["region"]),
            "year": _year(outcomes["end_date"]),
            "end_date": pd.to_datetime(outcomes["end_date"]).dt.strftime("%Y-%m-%d").fillna(""),
            "outcome": outcome,
            "successor_supplier": outcomes["successor_supplier"].fillna("").astype(str),
            "successor_class": outcomes["successor_class"].fillna("").astype(str),
            "value_pence": value,
        }
    )
    out["contracts"] = 1
    out["decided"] = outcome.isin(rules.decided_outcomes).astype("int64").to_numpy()
    out["retained"] = (outcome == "RETAINED").astype("int64").to_numpy()
    out["captured"] = captured.astype("int64").to_numpy()
    out["captured_value_pence"] = value.where(captured, 0).to_numpy()
    return out.reset_index(drop=True)


def _as_of(tables: Tables) -> date:
    info = tables.get("snapshot_info")
    if info is not None and len(info) and "as_of" in info:
        return pd.Timestamp(info["as_of"].iloc[0]).date()
    return date.today()


# -- the metrics -----------------------------------------------------------------------------
CLASS_CHART = {"x": "year", "y": "share_of_value", "colour": "supplier_class", "mark": "bar"}
METRICS: tuple[Metric, ...] = (
    Metric(
        slug="mutuals-by-stage",
        title="Mutuals live and in the pipeline, by stage",
        group="programme",
        question="How many public service mutuals are live, and how many staff groups are on "
        "their way?",
        definition="Each staff group or mutual with a spin-out journey is counted once, at the "
        "stage its journey is in on the snapshot date. Live means the stages Live, Grow "
        "and diversify, Re-tender and Re-tender outcome; the pipeline is every stage "
        "from Explore to Shadow operation (rules/journey.yaml). Withdrawn groups are "
        "counted in their own row.",
        sources=("organisations", "journey_stages"),
        row_table="journey_rows",
        dimensions=("stage_group", "stage", "sector", "region"),
        measures=(
            Measure("organisations", "Organisations"),
            Measure("live", "Live mutuals"),
            Measure("pipeline", "In the pipeline"),
        ),
        views=(
            View(
                "stage", "By stage", ("stage",), {"x": "stage", "y": "organisations", "mark": "bar"}
            ),
            View("sector", "By sector", ("sector",)),
            View("region", "By region", ("region",)),
        ),
        rows=journey_rows,
        row_columns=("organisation", "reference", "stage", "stage_group", "sector", "region"),
        no_data="No data yet: no spin-out journeys have been recorded.",
    ),
    Metric(
        slug="staff-employed",
        title="Staff employed by live mutuals",
        group="programme",
        question="How many people work for the live mutuals?",
        definition="The sum of the staff numbers the live mutuals have recorded. Mutuals that have "
        "not recorded a staff number count as 0 and are shown in the count of mutuals "
        "reporting, so a gap in the data is visible rather than hidden.",
        sources=("organisations", "journey_stages"),
        row_table="live_mutual_rows",
        dimensions=("sector", "region"),
        measures=(
            Measure("staff", "Staff employed"),
            Measure("mutuals", "Live mutuals"),
            Measure("staff_count_reported", "Mutuals reporting staff numbers"),
        ),
        views=(
            View("sector", "By sector", ("sector",), {"x": "sector", "y": "staff", "mark": "bar"}),
            View("region", "By region", ("region",)),
        ),
        rows=live_mutual_rows,
        row_columns=("organisation", "reference", "sector", "region", "staff"),
        no_data="No data yet: no mutuals are live.",
    ),
    Metric(
        slug="contract-value-held",
        title="Contract value held by live mutuals",
        group="programme",
        question="How much public-service contract value do the live mutuals hold?",
        definition="The total value (as published in the award notice) of the contracts running "
        "on the snapshot date whose supplier is a live mutual of the programme, matched "
        "by register identifier in contract watch.",
        sources=("contracts", "organisations", "journey_stages"),
        row_table="contracts_held_rows",
        dimensions=("sector", "region"),
        measures=(
            Measure("value_pence", "Contract value", "pence"),
            Measure("contracts", "Contracts"),
        ),
        views=(
            View(
                "sector",
                "By sector",
                ("sector",),
                {"x": "sector", "y": "value_pence", "mark": "bar"},
            ),
            View("region", "By region", ("region",)),
        ),
        rows=contracts_held_rows,
        row_columns=(
            "organisation",
            "ocid",
            "award_id",
            "title",
            "buyer",
            "start_date",
            "end_date",
            "value_pence",
            "sector",
            "region",
        ),
        no_data="No data yet: contract watch has not matched any running contract to a live "
        "mutual.",
    ),
    Metric(
        slug="fund-money",
        title="Support fund money committed and paid",
        group="programme",
        question="How much support-fund money has been committed to groups, and how much paid?",
        definition="Sums over the fund's append-only ledger. Committed is the sum of award "
        "commitments less commitments released; paid is the sum of payments less "
        "payments clawed back. Budget allocations are not shown. Sector and region are "
        "those of the organisation that holds the award.",
        sources=("fund_ledger",),
        row_table="fund_rows",
        dimensions=("round", "year", "sector", "region"),
        measures=(
            Measure("committed_pence", "Committed", "pence"),
            Measure("paid_pence", "Paid", "pence"),
        ),
        views=(
            View(
                "round",
                "By round",
                ("round",),
                {"x": "round", "y": "committed_pence", "mark": "bar"},
            ),
            View("sector", "By sector", ("sector",)),
            View("region", "By region", ("region",)),
        ),
        rows=fund_rows,
        row_columns=(
            "entry",
            "date",
            "fund",
            "round",
            "award",
            "organisation",
            "kind",
            "committed_pence",
            "paid_pence",
            "sector",
            "region",
        ),
        no_data="No data yet: the fund has made no awards.",
    ),
    Metric(
        slug="ambassadors",
        title="Ambassadors active",
        group="programme",
        question="How many ambassadors are helping groups?",
        definition="Every ambassador with a profile is counted. An ambassador is active on the "
        "snapshot date when at least one group has accepted them and the match has not "
        "ended.",
        sources=("ambassadors",),
        row_table="ambassador_rows",
        dimensions=(),
        measures=(Measure("ambassadors", "Ambassadors"), Measure("active", "Active")),
        rates=(Rate("active_rate", "Active", "active", "ambassadors"),),
        views=(View("all", "All ambassadors", ()),),
        rows=ambassador_rows,
        row_columns=("ambassador", "active_groups", "engagements_held"),
        no_data="No data yet: no ambassadors have profiles.",
    ),
    Metric(
        slug="engagements",
        title="Ambassador engagements held",
        group="programme",
        question="How often have ambassadors met their groups?",
        definition="Each meeting or call an ambassador logged with a group counts once, in the "
        "year it was held. Sector and region are those of the group.",
        sources=("engagements",),
        row_table="engagement_rows",
        dimensions=("year", "sector", "region"),
        measures=(Measure("engagements", "Engagements held"),),
        views=(
            View("year", "By year", ("year",), {"x": "year", "y": "engagements", "mark": "bar"}),
            View("sector", "By sector", ("sector",)),
        ),
        rows=engagement_rows,
        row_columns=("engagement", "held_on", "ambassador", "organisation", "sector", "region"),
        no_data="No data yet: no engagements have been logged.",
    ),
    Metric(
        slug="contract-share",
        title="Share of public-service contract value by supplier class",
        group="contracts",
        question="Who wins public-service contract value: mutuals, other social enterprises, "
        "SMEs, large firms or public bodies?",
        definition="Each contract award in contract watch counts once, in the year it was awarded "
        "(or started, when no award date is published), with the value published in "
        "the award notice. A supplier class's share is its value divided by the value "
        "of all awards in the same year. The supplier class comes from supplier "
        "resolution (register match, else the notice's own SME and VCSE flags). The "
        "sector is worked out from the contract's CPV code (rules/evidence.yaml); the "
        "region is the buyer's.",
        sources=("contracts",),
        row_table="contract_rows",
        dimensions=("year", "sector", "region", "buyer", "supplier_class"),
        measures=(
            Measure("value_pence", "Contract value", "pence"),
            Measure("contracts", "Contracts"),
        ),
        shares=(Share("share_of_value", "Share of the year's value", "value_pence"),),
        views=(
            View("year", "By year and supplier class", ("year", "supplier_class"), CLASS_CHART),
            View("sector", "By sector and supplier class", ("sector", "supplier_class")),
            View("region", "By region and supplier class", ("region", "supplier_class")),
        ),
        rows=contract_rows,
        row_columns=(
            "ocid",
            "award_id",
            "title",
            "buyer",
            "supplier",
            "supplier_class",
            "cpv",
            "award_date",
            "value_pence",
            "sector",
            "region",
        ),
        no_data="No data yet: contract watch has not loaded any contracts.",
    ),
    Metric(
        slug="retender-outcomes",
        title="Re-tender outcomes by incumbent supplier class",
        group="contracts",
        question="When a contract is re-tendered, how often does the incumbent keep it: mutuals "
        "against SMEs, VCSEs and large firms?",
        definition="Each ended contract in contract watch with an outcome counts once, under the "
        "class of the supplier that held it and the year it ended. Retention is the "
        "number retained out of the number with a decided outcome (kept, lost, taken "
        "in-house, acquired or wound up); extended, pending and unknown outcomes are "
        "counted but not in the rate. Below the small-group threshold only the counts "
        "are shown.",
        sources=("contract_outcomes",),
        row_table="outcome_rows",
        dimensions=("year", "sector", "region", "buyer", "supplier_class", "outcome"),
        measures=(
            Measure("contracts", "Contracts with an outcome"),
            Measure("decided", "Decided"),
            Measure("retained", "Retained"),
        ),
        rates=(Rate("retention_rate", "Retention", "retained", "decided"),),
        views=(
            View(
                "class",
                "By incumbent supplier class",
                ("supplier_class",),
                {"x": "supplier_class", "y": "retention_rate", "mark": "bar"},
            ),
            View("outcome", "By outcome", ("supplier_class", "outcome")),
        ),
        rows=outcome_rows,
        row_columns=(
            "ocid",
            "award_id",
            "title",
            "buyer",
            "supplier",
            "supplier_class",
            "end_date",
            "outcome",
            "successor_supplier",
            "successor_class",
            "value_pence",
        ),
        no_data="No data yet: contract watch has no re-tender outcomes.",
    ),
    Metric(
        slug="captured-by-large-firms",
        title="Contracts captured by large firms, over time",
        group="contracts",
        question="How many contracts held by mutuals, social enterprises and SMEs went to a large "
        "private firm at re-tender?",
        definition="A contract is captured when it was held by a public service mutual, another "
        "social enterprise or VCSE, or an SME, and its re-tender went to a large "
        "private firm. Counted in the year the contract ended; the value is the value "
        "of the contract that was lost.",
        sources=("contract_outcomes",),
        row_table="outcome_rows",
        dimensions=("year", "sector", "region", "buyer", "supplier_class", "outcome"),
        measures=(
            Measure("captured", "Contracts captured"),
            Measure("captured_value_pence", "Value captured", "pence"),
        ),
        views=(
            View("year", "By year", ("year",), {"x": "year", "y": "captured", "mark": "bar"}),
            View("class", "By incumbent supplier class", ("supplier_class",)),
        ),
        rows=outcome_rows,
        row_columns=(
            "ocid",
            "award_id",
            "title",
            "buyer",
            "supplier",
            "supplier_class",
            "end_date",
            "successor_supplier",
            "value_pence",
        ),
        no_data="No data yet: contract watch has no re-tender outcomes.",
    ),
    Metric(
        slug="reservations",
        title="Use of reservations for mutuals",
        group="contracts",
        question="How often do buyers reserve contracts for mutuals, and how many more could "
        "they have reserved?",
        definition="Reserved: the award notice says participation was reserved for public "
        "service mutuals. Could have been reserved: not reserved, but its CPV code is "
        "on the reservable list of the regime in force on the award date (PCR 2015 "
        "regulation 77 or Procurement Act 2023 section 33) and its term is within that "
        "regime's maximum. The organisation conditions and the 3-year rule are not "
        "checked here, so this is an upper bound.",
        sources=("contracts",),
        row_table="contract_rows",
        dimensions=("year", "sector", "region", "buyer", "supplier_class"),
        measures=(
            Measure("contracts", "Contracts"),
            Measure("reserved", "Reserved"),
            Measure("could_have_been_reserved", "Could have been reserved"),
            Measure("could_have_been_reserved_won_by_large_firm", "Of which won by a large firm"),
        ),
        views=(
            View(
                "year",
                "By year",
                ("year",),
                {"x": "year", "y": "could_have_been_reserved", "mark": "bar"},
            ),
            View("class", "By supplier class", ("supplier_class",)),
        ),
        rows=contract_rows,
        row_columns=(
            "ocid",
            "award_id",
            "title",
            "buyer",
            "supplier",
            "supplier_class",
            "cpv",
            "award_date",
            "value_pence",
        ),
        no_data="No data yet: contract watch has not loaded any contracts.",
    ),
)
METRICS_BY_SLUG = {metric.slug: metric for metric in METRICS}
ROW_TABLES: dict[str, Callable[[Tables], pd.DataFrame]] = {
    metric.row_table: metric.rows for metric in METRICS
}


def get_metric(slug: str) -> Metric:
    return METRICS_BY_SLUG[slug]


# -- computing -------------------------------------------------------------------------------
def cube(metric: Metric, rows: pd.DataFrame) -> pd.DataFrame:
    """The measures added up by every dimension of the metric."""
    measures = [m.column for m in metric.measures]
    if rows.empty:
        return _empty([*metric.dimensions, *measures])
    frame = rows[[*metric.dimensions, *measures]].copy()
    for column in measures:
        frame[column] = frame[column].astype("int64")
    if not metric.dimensions:
        return frame[measures].sum().to_frame().T.astype("int64")
    return (
        frame.groupby(list(metric.dimensions), dropna=False, sort=True)[measures]
        .sum()
        .reset_index()
    )


def compute(metric: Metric, tables: Tables, row_table: pd.DataFrame | None = None) -> MetricResult:
    rows = metric.rows(tables) if row_table is None else row_table
    aggregate = cube(metric, rows)
    has_data = not rows.empty
    return MetricResult(metric, rows, aggregate, has_data, "" if has_data else metric.no_data)


def compute_all(tables: Tables) -> dict[str, MetricResult]:
    row_tables: dict[str, pd.DataFrame] = {}
    results = {}
    for metric in METRICS:
        if metric.row_table not in row_tables:
            row_tables[metric.row_table] = metric.rows(tables)
        results[metric.slug] = compute(metric, tables, row_tables[metric.row_table])
    return results


# -- filters and presentation ------------------------------------------------------------------
@dataclass(frozen=True)
class Filters:
    year_from: int | None = None
    year_to: int | None = None
    sector: str = ""
    region: str = ""
    buyer: str = ""
    supplier_class: str = ""

    def applied_to(self, metric: Metric) -> dict[str, Any]:
        """The filters that apply to this metric, as {dimension: condition}."""
        applied: dict[str, Any] = {}
        if "year" in metric.dimensions and (self.year_from or self.year_to):
            applied["year"] = (self.year_from, self.year_to)
        for name in ("sector", "region", "buyer", "supplier_class"):
            value = getattr(self, name)
            if value and name in metric.dimensions:
                applied[name] = value
        return applied

    def query(self) -> dict[str, str]:
        out = {}
        if self.year_from:
            out["year_from"] = str(self.year_from)
        if self.year_to:
            out["year_to"] = str(self.year_to)
        for name in ("sector", "region", "buyer", "supplier_class"):
            if getattr(self, name):
                out[name] = getattr(self, name)
        return out


def select(
    frame: pd.DataFrame, metric: Metric, filters: Filters, keys: Mapping[str, Any] | None = None
) -> pd.DataFrame:
    """The rows of a cube or row table that the filters and the figure's keys select."""
    mask = pd.Series(True, index=frame.index)
    for name, condition in filters.applied_to(metric).items():
        if name == "year":
            low, high = condition
            if low:
                mask &= frame["year"] >= low
            if high:
                mask &= frame["year"] <= high
        elif name == "buyer":
            mask &= frame["buyer"].str.contains(condition, case=False, regex=False)
        else:
            mask &= frame[name] == condition
    for name, value in (keys or {}).items():
        column = frame[name]
        mask &= (column == int(value)) if name == "year" else (column.astype(str) == str(value))
    return frame[mask]


@dataclass
class Cell:
    column: str
    value: Any
    text: str
    measure: str = ""  # the measure whose rows are behind this cell
    numerator: int | None = None
    denominator: int | None = None
    suppressed: bool = False


@dataclass
class PresentedRow:
    keys: dict[str, Any]
    labels: dict[str, str]
    cells: list[Cell]


@dataclass
class Presented:
    metric: Metric
    view: View
    rows: list[PresentedRow]
    totals: dict[str, int]
    suppressed_any: bool = False

    def records(self) -> list[dict[str, Any]]:
        """Plain records (for charts, CSV and the API)."""
        records = []
        for row in self.rows:
            record: dict[str, Any] = dict(row.keys)
            for name, label in row.labels.items():
                record[f"{name}_label"] = label
            for cell in row.cells:
                record[cell.column] = cell.value
                if cell.denominator is not None:
                    record[f"{cell.column}_numerator"] = cell.numerator
                    record[f"{cell.column}_denominator"] = cell.denominator
                    record[f"{cell.column}_suppressed"] = cell.suppressed
            records.append(record)
        return records


def format_count(value: int) -> str:
    return f"{value:,}"


def format_pence(value: int) -> str:
    pounds, pence = divmod(abs(int(value)), 100)
    sign = "-" if value < 0 else ""
    return f"{sign}£{pounds:,}" if pence == 0 else f"{sign}£{pounds:,}.{pence:02d}"


def format_rate(numerator: int, denominator: int, threshold: int) -> tuple[str, float | None, bool]:
    """'3 of 4 (fewer than 5: no percentage)' or '45 of 60 (75%)'; (text, rate, suppressed)."""
    if denominator == 0:
        return "0 of 0 (no cases)", None, True
    if denominator < threshold:
        return f"{numerator:,} of {denominator:,} (too few to give a percentage)", None, True
    rate = numerator / denominator
    return f"{numerator:,} of {denominator:,} ({rate:.0%})", round(rate, 4), False


def present(
    metric: Metric,
    cube_frame: pd.DataFrame,
    filters: Filters | None = None,
    view_key: str | None = None,
    labeller: Callable[[str, Any], str] | None = None,
    threshold: int | None = None,
) -> Presented:
    filters = filters or Filters()
    view = metric.view(view_key)
    threshold = settings().small_group_threshold if threshold is None else threshold
    labeller = labeller or (lambda name, value: str(value))
    measures = [m.column for m in metric.measures]
    chosen = select(cube_frame, metric, filters) if len(cube_frame) else cube_frame
    if chosen.empty:
        return Presented(metric, view, [], {m: 0 for m in measures})
    if view.by:
        grouped = chosen.groupby(list(view.by), sort=True)[measures].sum().reset_index()
        grouped = grouped[(grouped[measures] != 0).any(axis=1)]
    else:
        grouped = chosen[measures].sum().to_frame().T
    totals = {m: int(chosen[m].sum()) for m in measures}
    share_totals: dict[str, dict[Any, int]] = {}
    for share in metric.shares:
        if view.by:
            share_totals[share.column] = grouped.groupby(view.by[0])[share.measure].sum().to_dict()
    presented = Presented(metric, view, [], totals)
    for record in grouped.to_dict("records"):
        keys = {name: (int(record[name]) if name == "year" else record[name]) for name in view.by}
        labels = {name: labeller(name, value) for name, value in keys.items()}
        cells = []
        for measure in metric.measures:
            value = int(record[measure.column])
            text = format_pence(value) if measure.kind == "pence" else format_count(value)
            cells.append(Cell(measure.column, value, text, measure=measure.column))
        for share in metric.shares:
            total = share_totals.get(share.column, {}).get(keys[view.by[0]], 0) if view.by else 0
            part = int(record[share.measure])
            text, rate, suppressed = format_rate(part, total, 1)
            text = f"{rate:.1%}" if rate is not None else "no value published"
            cells.append(
                Cell(
                    share.column,
                    rate,
                    text,
                    measure=share.measure,
                    numerator=part,
                    denominator=total,
                    suppressed=suppressed,
                )
            )
        for rate_def in metric.rates:
            numerator, denominator = (
                int(record[rate_def.numerator]),
                int(record[rate_def.denominator]),
            )
            text, rate, suppressed = format_rate(numerator, denominator, threshold)
            presented.suppressed_any |= suppressed and denominator > 0
            cells.append(
                Cell(
                    rate_def.column,
                    rate,
                    text,
                    measure=rate_def.numerator,
                    numerator=numerator,
                    denominator=denominator,
                    suppressed=suppressed,
                )
            )
        presented.rows.append(PresentedRow(keys, labels, cells))
    return presented


def headline_columns(metric: Metric) -> list[tuple[str, str]]:
    """(column, label) of every cell a presented row carries, in order."""
    columns = [(m.column, m.label) for m in metric.measures]
    columns += [(s.column, s.label) for s in metric.shares]
    columns += [(r.column, r.label) for r in metric.rates]
    return columns
