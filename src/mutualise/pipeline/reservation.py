"""Can a contract be reserved for public service mutuals? Pure rules, no database.

The regimes (PCR 2015 regulation 77 until 23 February 2025, Procurement Act 2023 section 33 from
24 February 2025), their CPV lists, maximum terms, procedures, organisation conditions, cool-off
and exclusions are versioned data in ``rules/reservation_*.yaml|csv`` (DOMAIN.md §4). This module
evaluates them and names every condition with pass, fail, unknown or not checked and its reason.

Decision (docs/adr/0008-contract-watch.md): a condition that *cannot be confirmed* from the data
the product holds (``unknown``: e.g. the section 33 CPV list has not been loaded yet) makes the
contract NOT ELIGIBLE — a reservation that cannot be confirmed cannot be relied on. A condition
that was *not checked* because an optional input was not given (no supplier, no procedure) does
not block eligibility; the result says it was not checked.
"""

from __future__ import annotations

import calendar
import csv
import itertools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import cache
from pathlib import Path
from typing import Any

from mutualise.core.csvsafe import safe_row
from mutualise.rules import RULES_DIR, RulesError, load_csv, load_yaml, require_keys

REGIMES_FILE = "reservation_regimes.yaml"
PASS, FAIL, UNKNOWN, NOT_CHECKED = "pass", "fail", "unknown", "not_checked"
STATUS_LABELS = {PASS: "Pass", FAIL: "Fail", UNKNOWN: "Cannot confirm", NOT_CHECKED: "Not checked"}
ONE_DAY = timedelta(days=1)
# ASCII digits only: `\d` alone also takes Arabic-Indic and other digits, which are no CPV code.
CPV_PATTERN = re.compile(r"^(\d{8})(?:-\d)?$", re.ASCII)
# The real lists are a few hundred rows (tens of kB); a bigger file is not a CPV list, and this
# keeps `load-cpv` from reading an arbitrarily large file into memory.
MAX_CPV_LIST_BYTES = 5 * 1024 * 1024


class ReservationInputError(ValueError):
    """The question cannot be asked: a CPV code, term, date or procedure is not valid."""


# -- the data --------------------------------------------------------------------------------
@dataclass(frozen=True)
class CpvRange:
    code_from: str
    code_to: str
    description: str

    def contains(self, code: str) -> bool:
        return int(self.code_from) <= int(code) <= int(self.code_to)


@dataclass(frozen=True)
class Exclusion:
    key: str
    label: str
    buyer_schemes: tuple[str, ...]
    cpv_ranges: tuple[tuple[str, str], ...]
    reason: str


@dataclass(frozen=True)
class Regime:
    name: str
    title: str
    starts_on: date
    ends_on: date | None
    maximum_term_months: int
    cool_off_years: int
    cpv_list_file: str
    cpv_ranges: tuple[CpvRange, ...]
    procedures_allowed: tuple[str, ...]
    procedure_reason: str
    organisation_conditions: tuple[tuple[str, str], ...]
    exclusions: tuple[Exclusion, ...]

    @property
    def cpv_list_loaded(self) -> bool:
        return bool(self.cpv_ranges)

    def applies_on(self, day: date) -> bool:
        return self.starts_on <= day and (self.ends_on is None or day <= self.ends_on)


@dataclass(frozen=True)
class Rules:
    version: str
    comparable_cpv_digits: int
    regimes: tuple[Regime, ...]
    procedure_synonyms: dict[str, str]

    def regime_for(self, day: date) -> Regime | None:
        for regime in self.regimes:
            if regime.applies_on(day):
                return regime
        return None

    def regime_named(self, name: str) -> Regime:
        for regime in self.regimes:
            if regime.name == name:
                return regime
        raise RulesError(f"{REGIMES_FILE}: no regime named {name!r}")


def _date(value: Any, where: str) -> date:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError as exc:
        raise RulesError(f"{REGIMES_FILE}: {where} is not a date: {value!r}") from exc


def read_cpv_list(path: Path) -> tuple[CpvRange, ...]:
    """Read and validate a CPV list file (columns code_from, code_to, description, source)."""
    return _cpv_ranges(path.name, _read_cpv_rows(path))


def _read_cpv_rows(path: Path) -> list[dict[str, str]]:
    """The rows of a CPV list file; RulesError, saying why, for anything that is not one."""
    if not path.is_file():
        raise RulesError(f"{path} is not a file")
    if path.stat().st_size > MAX_CPV_LIST_BYTES:
        raise RulesError(f"{path} is bigger than {MAX_CPV_LIST_BYTES // 2**20} MB: not a CPV list")
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            rows = list(csv.DictReader(handle))
    except UnicodeDecodeError as exc:
        raise RulesError(f"{path} is not UTF-8 text (byte {exc.start}): save it as UTF-8") from None
    except csv.Error as exc:
        raise RulesError(f"{path} is not a readable CSV file: {exc}") from None
    for number, row in enumerate(rows, start=2):
        if None in row or None in row.values():
            raise RulesError(
                f"{path.name}: row {number} does not have as many columns as the header"
            )
        if any("\x00" in value for value in row.values()):
            raise RulesError(f"{path.name}: row {number} contains a NUL character")
    return rows


def _cpv_ranges(name: str, rows: Iterable[dict[str, str]]) -> tuple[CpvRange, ...]:
    ranges = []
    for number, row in enumerate(rows, start=2):
        require_keys(name, f"row {number}", row, ["code_from", "code_to", "description"])
        low, high = (
            normalise_cpv(row["code_from"]),
            normalise_cpv(row["code_to"] or row["code_from"]),
        )
        if low is None or high is None or int(low) > int(high):
            raise RulesError(f"{name}: row {number} is not a CPV code or range: {row}")
        ranges.append(CpvRange(low, high, row["description"].strip()))
    return tuple(ranges)


def _regime(item: dict[str, Any]) -> Regime:
    require_keys(
        REGIMES_FILE,
        f"regime {item.get('name')}",
        item,
        [
            "name",
            "title",
            "starts_on",
            "maximum_term_months",
            "cool_off_years",
            "cpv_list",
            "procedures_allowed",
            "organisation_conditions",
        ],
    )
    exclusions = tuple(
        Exclusion(
            key=e["key"],
            label=e["label"],
            buyer_schemes=tuple(e.get("buyer_schemes") or ()),
            cpv_ranges=tuple((str(a), str(b)) for a, b in e.get("cpv_ranges") or ()),
            reason=e["reason"],
        )
        for e in item.get("exclusions") or ()
    )
    return Regime(
        name=item["name"],
        title=item["title"],
        starts_on=_date(item["starts_on"], f"{item['name']}.starts_on"),
        ends_on=_date(item["ends_on"], f"{item['name']}.ends_on") if item.get("ends_on") else None,
        maximum_term_months=int(item["maximum_term_months"]),
        cool_off_years=int(item["cool_off_years"]),
        cpv_list_file=item["cpv_list"],
        cpv_ranges=_cpv_ranges(item["cpv_list"], load_csv(item["cpv_list"])),
        procedures_allowed=tuple(item["procedures_allowed"]),
        procedure_reason=" ".join(str(item.get("procedure_reason", "")).split()),
        organisation_conditions=tuple(
            (c["key"], c["label"]) for c in item["organisation_conditions"]
        ),
        exclusions=exclusions,
    )


@cache
def load_rules() -> Rules:
    data = load_yaml(REGIMES_FILE)
    require_keys(REGIMES_FILE, "the file", data, ["version", "regimes", "comparable_cpv_digits"])
    regimes = tuple(sorted((_regime(item) for item in data["regimes"]), key=lambda r: r.starts_on))
    for earlier, later in itertools.pairwise(regimes):
        if earlier.ends_on is None or earlier.ends_on >= later.starts_on:
            raise RulesError(f"{REGIMES_FILE}: regimes {earlier.name} and {later.name} overlap")
    synonyms: dict[str, str] = {}
    for name, spellings in (data.get("procedure_synonyms") or {}).items():
        synonyms[_procedure_key(name)] = name
        for spelling in spellings:
            synonyms[_procedure_key(spelling)] = name
    return Rules(str(data["version"]), int(data["comparable_cpv_digits"]), regimes, synonyms)


def clear_cache() -> None:
    """Forget loaded rules (after `reservation load-cpv` replaced a list)."""
    load_rules.cache_clear()
    load_csv.cache_clear()
    load_yaml.cache_clear()


def install_cpv_list(regime_name: str, source: Path) -> int:
    """Validate a CPV list file and install it as a regime's list; return the rows loaded."""
    rules = load_rules()
    regime = rules.regime_named(regime_name)
    rows = _read_cpv_rows(source)
    ranges = _cpv_ranges(source.name, rows)
    if not ranges:
        raise RulesError(f"{source} has no CPV rows")
    target = RULES_DIR / regime.cpv_list_file
    temporary = target.with_suffix(".csv.tmp")
    try:
        with temporary.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(["code_from", "code_to", "description", "source"])
            for row in rows:
                code_from = normalise_cpv(row["code_from"])
                code_to = normalise_cpv(row.get("code_to") or row["code_from"])
                description = row["description"].strip()
                source_text = (row.get("source") or "").strip()
                writer.writerow(safe_row([code_from, code_to, description, source_text]))
        temporary.replace(target)
    finally:
        temporary.unlink(missing_ok=True)  # a failed write leaves no half-written file behind
    clear_cache()
    return len(ranges)


# -- normalising inputs ----------------------------------------------------------------------
def normalise_cpv(code: Any) -> str | None:
    """'85323000-9' → '85323000'. None for anything that is not an 8-digit CPV code."""
    if code is None:
        return None
    match = CPV_PATTERN.match(str(code).strip().replace(" ", ""))
    return match.group(1) if match else None


def _procedure_key(text: str) -> str:
    return re.sub(r"[^a-z]+", "-", text.lower()).strip("-")


def normalise_procedure(text: str | None, rules: Rules | None = None) -> str | None:
    if text is None or not str(text).strip():
        return None
    rules = rules or load_rules()
    name = rules.procedure_synonyms.get(_procedure_key(str(text)))
    if name is None:
        known = ", ".join(sorted(set(rules.procedure_synonyms.values())))
        raise ReservationInputError(f"unknown procedure {text!r}: use one of {known}")
    return name


def identifier_scheme(identifier: str | None) -> str | None:
    """'GB-NHS-RX1' → 'GB-NHS'; 'GB-COH-01234567' → 'GB-COH'."""
    if not identifier:
        return None
    parts = identifier.split("-")
    return "-".join(parts[:2]) if len(parts) >= 3 else None


def add_years(day: date, years: int) -> date:
    """The same calendar day `years` later; 29 February becomes 28 February."""
    year = day.year + years
    if day.month == 2 and day.day == 29 and not calendar.isleap(year):
        return date(year, 2, 28)
    return day.replace(year=year)


def add_months(day: date, months: int) -> date:
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def term_months(start: date, end: date) -> int:
    """Months a contract runs, counting its last day: 1 Apr 2022 to 31 Mar 2025 is 36."""
    after = end + ONE_DAY
    months = (after.year - start.year) * 12 + after.month - start.month
    if add_months(start, months) > after:
        months -= 1
    if add_months(start, months) < after:
        months += 1  # a part month counts as a month of term
    return months


# -- the question and the answer -------------------------------------------------------------
@dataclass(frozen=True)
class SupplierFacts:
    """What is known about the organisation that would bid (None = not known)."""

    identifier: str
    name: str = ""
    public_service_mission: bool | None = None
    profits_reinvested: bool | None = None
    employee_ownership: bool | None = None


@dataclass(frozen=True)
class PriorAward:
    """An earlier award, for the cool-off: who bought what from whom, and was it reserved."""

    buyer_identifier: str
    supplier_identifier: str
    cpv_codes: tuple[str, ...]
    award_date: date
    reserved: bool
    ocid: str = ""
    award_id: str = ""


@dataclass(frozen=True)
class ReservationQuestion:
    cpv_codes: tuple[str, ...]
    maximum_term_months: int
    award_date: date
    procedure: str | None = None
    procurement_started_on: date | None = None
    supplier: SupplierFacts | None = None
    buyer_identifier: str | None = None
    prior_awards: tuple[PriorAward, ...] = ()


@dataclass(frozen=True)
class Condition:
    key: str
    label: str
    status: str
    reason: str

    @property
    def status_label(self) -> str:
        return STATUS_LABELS[self.status]


@dataclass(frozen=True)
class ReservationResult:
    regime: Regime | None
    eligible: bool
    conditions: tuple[Condition, ...]
    rules_version: str
    cool_off_ends_on: date | None = None
    eligible_again_on: date | None = None
    blocking_award: PriorAward | None = None
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def verdict(self) -> str:
        return "ELIGIBLE" if self.eligible else "NOT ELIGIBLE"

    @property
    def failed(self) -> tuple[Condition, ...]:
        return tuple(c for c in self.conditions if c.status in (FAIL, UNKNOWN))


def make_question(
    cpv_codes: Sequence[str],
    maximum_term_months: Any,
    award_date: Any,
    procedure: str | None = None,
    **others: Any,
) -> ReservationQuestion:
    """Validate raw inputs (from the command line, a form or OCDS); raise ReservationInputError."""
    if not cpv_codes:
        raise ReservationInputError("give at least one CPV code")
    codes = []
    for code in cpv_codes:
        normal = normalise_cpv(code)
        if normal is None:
            raise ReservationInputError(f"{code!r} is not a CPV code (8 digits, optionally -n)")
        if normal not in codes:
            codes.append(normal)
    try:
        term = int(maximum_term_months)
    except (TypeError, ValueError) as exc:
        raise ReservationInputError("the maximum term must be a whole number of months") from exc
    if term < 1 or term > 1200:
        raise ReservationInputError("the maximum term must be from 1 to 1200 months")
    if isinstance(award_date, date):
        day = award_date
    else:
        try:
            day = date.fromisoformat(str(award_date))
        except ValueError as exc:
            raise ReservationInputError(f"{award_date!r} is not a date (YYYY-MM-DD)") from exc
    return ReservationQuestion(
        cpv_codes=tuple(codes),
        maximum_term_months=term,
        award_date=day,
        procedure=normalise_procedure(procedure),
        **others,
    )


def _in_ranges(code: str, ranges: Iterable[tuple[str, str]]) -> bool:
    return any(int(low) <= int(code) <= int(high) for low, high in ranges)


def comparable(a: Sequence[str], b: Sequence[str], digits: int) -> bool:
    """Two contracts are for the same services when they share a CPV prefix of `digits`."""
    return bool({c[:digits] for c in a} & {c[:digits] for c in b})


def check(question: ReservationQuestion, rules: Rules | None = None) -> ReservationResult:
    """Evaluate every condition of the regime that applies; see the module docstring."""
    rules = rules or load_rules()
    decided_on = question.procurement_started_on or question.award_date
    regime = rules.regime_for(decided_on)
    conditions: list[Condition] = []
    basis = "procurement start" if question.procurement_started_on else "award date"
    if regime is None:
        conditions.append(
            Condition(
                "regime",
                "A reservation regime applies",
                FAIL,
                f"no reservation regime applies on {decided_on:%d %B %Y} ({basis})",
            )
        )
        return ReservationResult(None, False, tuple(conditions), rules.version)
    conditions.append(
        Condition(
            "regime",
            "A reservation regime applies",
            PASS,
            f"{regime.title} applies to procurements from {regime.starts_on:%d %B %Y}"
            + (f" to {regime.ends_on:%d %B %Y}" if regime.ends_on else "")
            + f" ({basis} {decided_on:%d %B %Y})",
        )
    )
    conditions.append(_cpv_condition(question, regime))
    term = question.maximum_term_months
    if term <= regime.maximum_term_months:
        conditions.append(
            Condition(
                "maximum_term",
                "Maximum term",
                PASS,
                f"{term} months is within the {regime.maximum_term_months}-month limit",
            )
        )
    else:
        conditions.append(
            Condition(
                "maximum_term",
                "Maximum term",
                FAIL,
                f"{term} months is more than the {regime.maximum_term_months}-month limit",
            )
        )
    conditions.append(_procedure_condition(question, regime))
    conditions.extend(_exclusion_conditions(question, regime))
    conditions.extend(_organisation_conditions(question, regime))
    cool_off, ends_on, again_on, blocking = _cool_off_condition(question, regime, rules)
    conditions.append(cool_off)
    eligible = all(c.status in (PASS, NOT_CHECKED) for c in conditions)
    notes: tuple[str, ...] = ()
    if any(c.status == UNKNOWN for c in conditions):
        notes = ("A condition that cannot be confirmed from the data held counts as not met.",)
    return ReservationResult(
        regime, eligible, tuple(conditions), rules.version, ends_on, again_on, blocking, notes
    )


def _cpv_condition(question: ReservationQuestion, regime: Regime) -> Condition:
    label = "Services are all reservable (CPV codes)"
    if not regime.cpv_list_loaded:
        return Condition(
            "cpv",
            label,
            UNKNOWN,
            f"CPV list for this regime not loaded; cannot confirm ({regime.cpv_list_file} "
            "is empty until the reservable services list is loaded from the regulations)",
        )
    outside = [c for c in question.cpv_codes if not any(r.contains(c) for r in regime.cpv_ranges)]
    if outside:
        return Condition(
            "cpv",
            label,
            FAIL,
            f"not on the reservable list: {', '.join(outside)} (the contract must be "
            "exclusively for reservable services)",
        )
    return Condition(
        "cpv", label, PASS, f"every code is on the reservable list: {', '.join(question.cpv_codes)}"
    )


def _procedure_condition(question: ReservationQuestion, regime: Regime) -> Condition:
    label = "Procedure"
    allowed = ", ".join(regime.procedures_allowed)
    if question.procedure is None:
        return Condition(
            "procedure", label, NOT_CHECKED, f"no procedure given; it must be one of: {allowed}"
        )
    if question.procedure in regime.procedures_allowed:
        return Condition("procedure", label, PASS, f"{question.procedure} is allowed")
    return Condition(
        "procedure", label, FAIL, f"{question.procedure} is not allowed: {regime.procedure_reason}"
    )


def _exclusion_conditions(question: ReservationQuestion, regime: Regime) -> list[Condition]:
    conditions = []
    scheme = identifier_scheme(question.buyer_identifier)
    for exclusion in regime.exclusions:
        label = f"Not excluded: {exclusion.label}"
        codes_hit = [c for c in question.cpv_codes if _in_ranges(c, exclusion.cpv_ranges)]
        if not codes_hit:
            conditions.append(
                Condition(exclusion.key, label, PASS, "the services are not in scope of it")
            )
        elif scheme is None:
            conditions.append(
                Condition(exclusion.key, label, NOT_CHECKED, "no buyer given; " + exclusion.reason)
            )
        elif scheme in exclusion.buyer_schemes:
            conditions.append(
                Condition(
                    exclusion.key,
                    label,
                    FAIL,
                    f"{exclusion.reason} (buyer {question.buyer_identifier}, "
                    f"CPV {', '.join(codes_hit)})",
                )
            )
        else:
            conditions.append(
                Condition(
                    exclusion.key, label, PASS, f"the buyer ({scheme}) is not a health commissioner"
                )
            )
    return conditions


def _organisation_conditions(question: ReservationQuestion, regime: Regime) -> list[Condition]:
    supplier = question.supplier
    conditions = []
    for key, label in regime.organisation_conditions:
        if supplier is None:
            conditions.append(Condition(key, label, NOT_CHECKED, "no supplier given"))
            continue
        value = getattr(supplier, key, None)
        who = supplier.name or supplier.identifier
        if value is True:
            conditions.append(Condition(key, label, PASS, f"{who}: met on the programme's record"))
        elif value is False:
            conditions.append(
                Condition(key, label, FAIL, f"{who}: not met on the programme's record")
            )
        else:
            conditions.append(
                Condition(
                    key, label, UNKNOWN, f"{who}: not known from the data held; cannot confirm"
                )
            )
    return conditions


def _cool_off_condition(
    question: ReservationQuestion, regime: Regime, rules: Rules
) -> tuple[Condition, date | None, date | None, PriorAward | None]:
    label = f"No comparable reserved award in the {regime.cool_off_years} years before the award"
    if question.supplier is None or not question.buyer_identifier:
        return (
            Condition("cool_off", label, NOT_CHECKED, "needs both a supplier and a buyer"),
            None,
            None,
            None,
        )
    # The period is the cool_off_years ending on the award date: an earlier award on exactly the
    # same calendar day N years before is outside it; the day after is inside it.
    window_start = add_years(question.award_date, -regime.cool_off_years)
    blocking: PriorAward | None = None
    for prior in question.prior_awards:
        if not prior.reserved or prior.buyer_identifier != question.buyer_identifier:
            continue
        if prior.supplier_identifier != question.supplier.identifier:
            continue
        if not comparable(prior.cpv_codes, question.cpv_codes, rules.comparable_cpv_digits):
            continue
        if window_start < prior.award_date <= question.award_date and (
            blocking is None or prior.award_date > blocking.award_date
        ):
            blocking = prior
    if blocking is None:
        return (
            Condition(
                "cool_off",
                label,
                PASS,
                f"no reserved award for the same services by this buyer since "
                f"{window_start:%d %B %Y}",
            ),
            None,
            None,
            None,
        )
    again = add_years(blocking.award_date, regime.cool_off_years)
    ends = again - ONE_DAY
    return (
        Condition(
            "cool_off",
            label,
            FAIL,
            f"reserved award {blocking.ocid or ''} {blocking.award_id or ''} on "
            f"{blocking.award_date:%d %B %Y}; the cool-off ends on {ends:%d %B %Y}".replace(
                "  ", " "
            ),
        ),
        ends,
        again,
        blocking,
    )


def cool_off_end(last_reserved_award: date, regime: Regime) -> tuple[date, date]:
    """(last day of the cool-off, first day a new reserved award is allowed)."""
    again = add_years(last_reserved_award, regime.cool_off_years)
    return again - ONE_DAY, again


def is_reservable_cpv(cpv: str | None, day: date, rules: Rules | None = None) -> bool | None:
    """True/False under the regime on `day`; None when that regime's list is not loaded."""
    rules = rules or load_rules()
    regime = rules.regime_for(day)
    code = normalise_cpv(cpv)
    if regime is None or code is None:
        return False
    if not regime.cpv_list_loaded:
        return None
    return any(r.contains(code) for r in regime.cpv_ranges)


def cpv_ranges_sql(rules: Rules | None = None) -> list[tuple[str, str, str, str]]:
    """(regime, starts_on, code_from, code_to) rows for SQL joins in the pipeline."""
    rules = rules or load_rules()
    return [
        (r.name, r.starts_on.isoformat(), c.code_from, c.code_to)
        for r in rules.regimes
        for c in r.cpv_ranges
    ]


def contract_term_months(start: date | None, end: date | None) -> int | None:
    if start is None or end is None or end < start:
        return None
    return term_months(start, end)


def missed_reservation(row: dict[str, Any]) -> tuple[bool, str]:
    """A contract_facts row won by a large firm, not reserved, that the rules would have allowed
    to be reserved (CPV, term, regime, exclusions): (missed?, regime name)."""
    award_day = row.get("award_date") or row.get("start_date")
    if (
        row.get("supplier_class") != "LARGE_PRIVATE"
        or row.get("reserved")
        or not row.get("cpv_id")
        or award_day is None
    ):
        return False, ""
    term = contract_term_months(row.get("start_date"), row.get("end_date"))
    if term is None:
        return False, ""
    try:
        question = make_question(
            [row["cpv_id"]], term, award_day, buyer_identifier=row.get("buyer_identifier")
        )
    except ReservationInputError:
        return False, ""
    result = check(question)
    return result.eligible, result.regime.name if result.regime else ""
