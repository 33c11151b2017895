"""Contract watch: load pipeline output, assess risk, send alerts, check reservations.

State changes happen only here. `load_from_warehouse` is idempotent and incremental: rows are keyed
by (ocid, award_id) and carry a hash of their content, so a re-run after an unchanged pipeline
run writes nothing, and a re-run after a new one updates only what changed. `send_due_alerts`
never sends the same event twice (a unique Alert row per contract, person and event, plus the
notification's dedupe key).
"""

from __future__ import annotations

import hashlib
import json
import operator
from dataclasses import dataclass, field
from datetime import date
from functools import reduce
from pathlib import Path
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from mutualise.core import audit
from mutualise.core.notifications import notify
from mutualise.core.nul import without_nul
from mutualise.core.permissions import can_view_organisation_private, is_programme_staff
from mutualise.core.roles import Role
from mutualise.organisations.identifiers import normalise as normalise_identifier
from mutualise.organisations.models import Identifier, Organisation, OrganisationKind
from mutualise.pipeline import reservation
from mutualise.rules import load_yaml
from mutualise.watch import risk as risk_rules
from mutualise.watch.models import (
    Alert,
    ContractOutcome,
    Notice,
    ReservationCheck,
    RetenderLink,
    WarehouseLoad,
    WatchedContract,
)

ALERTS_FILE = "watch_alerts.yaml"
BATCH = 2000
CONTRACT_FIELDS = (
    "process_ocid",
    "title",
    "cpv",
    "buyer_identifier",
    "buyer_name",
    "buyer_key",
    "supplier_identifier",
    "supplier_name",
    "supplier_class",
    "value_pence",
    "award_date",
    "start_date",
    "end_date",
    "original_end_date",
    "max_end_date",
    "has_renewal",
    "extended",
    "reserved",
    "procedure",
    "missed_reservation",
    "reservation_regime",
)


# -- reading the warehouse (no Django models) ------------------------------------------------------
def _read(warehouse_dir: Path, name: str, columns: list[str] | None = None) -> list[dict[str, Any]]:
    import pyarrow.dataset as ds

    folder = Path(warehouse_dir) / "tables" / name
    if not any(folder.glob("*.parquet")):
        return []
    table = ds.dataset(folder, format="parquet").to_table(columns=columns)
    return without_nul(table).to_pylist()


def warehouse_ready(warehouse_dir: Path) -> bool:
    return any((Path(warehouse_dir) / "tables" / "contract_facts").glob("*.parquet"))


def canonical_identifier(identifier: str | None) -> str:
    """'GB-COH-4142000' → 'GB-COH-04142000' (so OCDS ids meet the programme's register ids)."""
    if not identifier:
        return ""
    parts = identifier.split("-", 2)
    if len(parts) < 3:
        return identifier
    scheme = f"{parts[0]}-{parts[1]}"
    return f"{scheme}-{normalise_identifier(scheme, parts[2])}"


def _programme_organisations() -> dict[str, int]:
    """Prefixed identifier → organisation id, for programme organisations."""
    rows = Identifier.objects.filter(
        organisation__kind__in=[OrganisationKind.MUTUAL, OrganisationKind.STAFF_GROUP]
    ).values_list("scheme", "value", "organisation_id")
    return {f"{scheme}-{normalise_identifier(scheme, value)}": org for scheme, value, org in rows}


_term_months = reservation.contract_term_months
missed_reservation = reservation.missed_reservation


def _contract_values(row: dict[str, Any], organisations: dict[str, int]) -> dict[str, Any]:
    supplier = canonical_identifier(
        row.get("organisation_identifier") or row.get("supplier_identifier")
    )
    missed, regime = missed_reservation(row)
    values = {
        "process_ocid": row.get("process_ocid") or "",
        "title": row.get("title") or "",
        "cpv": row.get("cpv_id") or "",
        "buyer_identifier": row.get("buyer_identifier") or "",
        "buyer_name": (row.get("buyer_name") or "")[:300],
        "buyer_key": (row.get("buyer_key") or "")[:300],
        "supplier_identifier": supplier,
        "supplier_name": (row.get("organisation_name") or row.get("supplier_name") or "")[:300],
        "supplier_class": row.get("supplier_class") or "UNKNOWN",
        "value_pence": row.get("value_pence"),
        "award_date": row.get("award_date"),
        "start_date": row.get("start_date"),
        "end_date": row.get("end_date"),
        "original_end_date": row.get("original_end_date"),
        "max_end_date": row.get("max_end_date"),
        "has_renewal": row.get("has_renewal"),
        "extended": bool(row.get("extended")),
        "reserved": bool(row.get("reserved")),
        "procedure": (row.get("method_details") or "")[:200],
        "missed_reservation": missed,
        "reservation_regime": regime,
    }
    values["supplier_organisation_id"] = organisations.get(supplier)
    digest = json.dumps(values, sort_keys=True, default=str).encode()
    values["content_hash"] = hashlib.sha256(digest).hexdigest()
    return values


@dataclass
class LoadSummary:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    outcomes: int = 0
    links: int = 0
    notices: int = 0
    as_of: date | None = None
    skipped: str = ""
    extra: dict[str, int] = field(default_factory=dict)


def load_from_warehouse(warehouse_dir: Path | str | None = None, actor: Any = None) -> LoadSummary:
    """Upsert contracts, links, outcomes and notices from the warehouse (run after each pipeline run)."""
    from mutualise.pipeline.warehouse import resolve_dir

    if actor is not None and not is_programme_staff(actor):
        raise PermissionDenied("Only programme staff can load contract data")
    warehouse_dir = resolve_dir(warehouse_dir)
    summary = LoadSummary()
    if not warehouse_ready(warehouse_dir):
        summary.skipped = f"no contract_facts in {warehouse_dir}: run `mutualise chains` first"
        return summary
    facts = _read(warehouse_dir, "contract_facts")
    outcomes = _read(warehouse_dir, "contract_outcomes")
    links = _read(warehouse_dir, "retender_links")
    notices = _read(warehouse_dir, "retender_notices")
    now = timezone.now()
    organisations = _programme_organisations()
    with transaction.atomic():
        existing = {
            (o, a): (pk, h)
            for pk, o, a, h in WatchedContract.objects.values_list(
                "pk", "ocid", "award_id", "content_hash"
            )
        }
        to_create, to_update = [], []
        for row in facts:
            values = _contract_values(row, organisations)
            key = (row["ocid"], row["award_id"])
            if key not in existing:
                to_create.append(
                    WatchedContract(ocid=key[0], award_id=key[1], loaded_at=now, **values)
                )
            elif existing[key][1] != values["content_hash"]:
                to_update.append(
                    WatchedContract(
                        pk=existing[key][0], ocid=key[0], award_id=key[1], loaded_at=now, **values
                    )
                )
            else:
                summary.unchanged += 1
        WatchedContract.objects.bulk_create(to_create, batch_size=BATCH)
        WatchedContract.objects.bulk_update(
            to_update,
            [*CONTRACT_FIELDS, "supplier_organisation_id", "content_hash", "loaded_at"],
            batch_size=BATCH,
        )
        summary.created, summary.updated = len(to_create), len(to_update)
        ids = {
            (o, a): pk for pk, o, a in WatchedContract.objects.values_list("pk", "ocid", "award_id")
        }
        summary.links = _sync_links(links, ids)
        summary.outcomes, summary.as_of = _sync_outcomes(outcomes, ids)
        summary.notices = _sync_notices(notices, ids)
        load = WarehouseLoad.objects.create(
            warehouse=str(warehouse_dir),
            as_of=summary.as_of,
            created=summary.created,
            updated=summary.updated,
            unchanged=summary.unchanged,
            outcomes=summary.outcomes,
            links=summary.links,
            notices=summary.notices,
            loaded_at=now,
        )
        audit.record(
            actor=actor,
            action="watch.loaded",
            obj=load,
            after={
                "created": summary.created,
                "updated": summary.updated,
                "unchanged": summary.unchanged,
                "outcomes": summary.outcomes,
                "links": summary.links,
                "notices": summary.notices,
            },
        )
    return summary


def _sync_links(rows: list[dict[str, Any]], ids: dict[tuple[str, str], int]) -> int:
    wanted = {}
    for row in rows:
        predecessor = ids.get((row["predecessor_ocid"], row["predecessor_award_id"]))
        successor = ids.get((row["successor_ocid"], row["successor_award_id"]))
        if predecessor and successor:
            wanted[predecessor] = (successor, float(row["confidence"]), row["evidence"] or "")
    current = {
        p: (s, c, e)
        for p, s, c, e in RetenderLink.objects.values_list(
            "predecessor_id", "successor_id", "confidence", "evidence"
        )
    }
    RetenderLink.objects.exclude(predecessor_id__in=list(wanted)).delete()
    changed = [p for p, v in wanted.items() if current.get(p) != v]
    RetenderLink.objects.filter(predecessor_id__in=changed).delete()
    RetenderLink.objects.bulk_create(
        [
            RetenderLink(
                predecessor_id=p,
                successor_id=wanted[p][0],
                confidence=wanted[p][1],
                evidence=wanted[p][2],
            )
            for p in changed
        ],
        batch_size=BATCH,
    )
    return len(wanted)


def _sync_outcomes(
    rows: list[dict[str, Any]], ids: dict[tuple[str, str], int]
) -> tuple[int, date | None]:
    wanted: dict[int, dict[str, Any]] = {}
    as_of = None
    for row in rows:
        contract = ids.get((row["ocid"], row["award_id"]))
        if not contract:
            continue
        as_of = date.fromisoformat(str(row["as_of"]))
        wanted[contract] = {
            "outcome": row["outcome"],
            "confidence": float(row["confidence"] or 0.0),
            "reason": row["reason"] or "",
            "source_rows": row["source_rows"] or "",
            "successor_ocid": row.get("successor_ocid") or "",
            "successor_award_id": row.get("successor_award_id") or "",
            "successor_class": row.get("successor_class") or "",
            "successor_supplier_name": (row.get("successor_supplier_name") or "")[:300],
            "as_of": as_of,
        }
    fields = list(next(iter(wanted.values()), {}).keys())
    current = (
        {o["contract_id"]: o for o in ContractOutcome.objects.values("contract_id", *fields)}
        if fields
        else {}
    )
    ContractOutcome.objects.exclude(contract_id__in=list(wanted)).delete()
    changed = [
        c
        for c, v in wanted.items()
        if c not in current or any(current[c][k] != v[k] for k in fields)
    ]
    ContractOutcome.objects.filter(contract_id__in=changed).delete()
    ContractOutcome.objects.bulk_create(
        [ContractOutcome(contract_id=c, **wanted[c]) for c in changed], batch_size=BATCH
    )
    return len(wanted), as_of


def _sync_notices(rows: list[dict[str, Any]], ids: dict[tuple[str, str], int]) -> int:
    """Notices are added and updated, never deleted here (an alert may point at one)."""
    current = {
        (c, n): (pk, s)
        for pk, c, n, s in Notice.objects.values_list("pk", "contract_id", "notice_ocid", "score")
    }
    new, count = [], 0
    for row in rows:
        contract = ids.get((row["ocid"], row["award_id"]))
        if not contract:
            continue
        count += 1
        key = (contract, row["notice_ocid"])
        score = float(row["notice_score"])
        if key in current:
            if current[key][1] != score:
                Notice.objects.filter(pk=current[key][0]).update(score=score)
            continue
        new.append(
            Notice(
                contract_id=contract,
                notice_ocid=row["notice_ocid"],
                stage=row["notice_stage"] or "",
                title=row.get("notice_title") or "",
                cpv=row.get("notice_cpv") or "",
                published_on=row.get("notice_published"),
                score=score,
            )
        )
    Notice.objects.bulk_create(new, batch_size=BATCH)
    return count


# -- risk and the timeline ------------------------------------------------------------------------
def today() -> date:
    return timezone.localdate()


@dataclass(frozen=True)
class OtherContracts:
    """What a list of rows needs to know about other contracts, read in two queries for the whole
    list (the radar has hundreds of rows and the contracts table millions of contracts)."""

    lost_to_large_firms: dict[tuple[str, str], set[int]]
    reserved_awards: dict[tuple[str, str], list[WatchedContract]]

    @classmethod
    def of(cls, contracts: list[WatchedContract]) -> OtherContracts:
        buyers = {c.buyer_key for c in contracts}
        suppliers = {c.supplier_identifier for c in contracts if c.supplier_identifier}
        services = {(c.buyer_key, c.cpv[:2]) for c in contracts if c.buyer_key and c.cpv}
        lost: dict[tuple[str, str], set[int]] = {}
        if services:
            # One condition per (buyer, CPV division) on the page, so PostgreSQL reads those
            # buyers' contracts by index rather than joining every outcome to every contract.
            same_service = reduce(
                operator.or_,
                (Q(contract__buyer_key=b, contract__cpv__startswith=d) for b, d in services),
            )
            for contract_id, buyer, cpv in ContractOutcome.objects.filter(
                same_service, outcome="LOST_TO_LARGE_PRIVATE"
            ).values_list("contract_id", "contract__buyer_key", "contract__cpv"):
                lost.setdefault((buyer, cpv[:2]), set()).add(contract_id)
        reserved: dict[tuple[str, str], list[WatchedContract]] = {}
        for award in WatchedContract.objects.filter(
            reserved=True,
            award_date__isnull=False,
            supplier_identifier__in=suppliers,
            buyer_key__in=buyers,
        ):
            reserved.setdefault((award.supplier_identifier, award.buyer_key), []).append(award)
        return cls(lost, reserved)


def large_firm_history(contract: WatchedContract, others: OtherContracts | None = None) -> bool:
    """Did this buyer give this service (CPV division) to a large firm at an earlier re-tender?"""
    if not (contract.buyer_key and contract.cpv):
        return False
    others = others or OtherContracts.of([contract])
    return bool(
        others.lost_to_large_firms.get((contract.buyer_key, contract.cpv[:2]), set())
        - {contract.pk}
    )


def next_reservation(
    contract: WatchedContract, on: date | None = None, others: OtherContracts | None = None
) -> reservation.ReservationResult | None:
    """Could the next contract (same service, same buyer, awarded at this one's end) be reserved?"""
    if not contract.cpv or not contract.end_date:
        return None
    day = on or contract.end_date
    term = _term_months(contract.start_date, contract.end_date) or 36
    regime = reservation.load_rules().regime_for(day)
    if regime is not None:
        term = min(term, regime.maximum_term_months)
    prior = (
        tuple(
            reservation.PriorAward(
                buyer_identifier=c.buyer_identifier or c.buyer_key,
                supplier_identifier=c.supplier_identifier,
                cpv_codes=(c.cpv,),
                award_date=c.award_date,
                reserved=True,
                ocid=c.ocid,
                award_id=c.award_id,
            )
            for c in (others or OtherContracts.of([contract])).reserved_awards.get(
                (contract.supplier_identifier, contract.buyer_key), []
            )
            if c.award_date is not None
        )
        if contract.supplier_identifier
        else ()
    )
    try:
        question = reservation.make_question(
            [contract.cpv],
            term,
            day,
            supplier=reservation.SupplierFacts(
                contract.supplier_identifier or "unknown",
                contract.supplier_name,
                **supplier_conditions(contract.supplier_organisation),
            ),
            buyer_identifier=contract.buyer_identifier or contract.buyer_key,
            prior_awards=prior,
        )
    except reservation.ReservationInputError:
        return None
    return reservation.check(question)


def supplier_conditions(organisation: Organisation | None) -> dict[str, bool | None]:
    """The organisation conditions of reg 77 / s33 from the programme's record (None = not known)."""
    if organisation is None:
        return {}
    votes = organisation.staff_vote_share_percent
    seats, board = organisation.staff_board_seats, organisation.board_seats
    trust = organisation.employee_trust_stake_percent
    known = [v for v in (votes, seats, trust) if v is not None]
    control: bool | None = None
    if known:
        control = bool(
            (votes is not None and votes > 50)
            or (seats is not None and board and seats * 2 > board)
            or (trust is not None and trust > 50)
        )
    not_for_profit = {
        "cic_guarantee": True,
        "cic_shares": True,
        "community_benefit_society": True,
        "cooperative_society": True,
        "cio": True,
        "charity": True,
        "company_guarantee": True,
        "plc": False,
    }.get(organisation.legal_form)
    mission = (
        organisation.delivers_public_services
        if organisation.has_social_mission is not False
        else False
    )
    return {
        "public_service_mission": mission,
        "profits_reinvested": not_for_profit,
        "employee_ownership": control,
    }


@dataclass
class TimelineRow:
    contract: WatchedContract
    risk: risk_rules.Risk
    next_reservation: reservation.ReservationResult | None
    notices: list[Notice]
    horizons: list[tuple[int, date]]


def timeline(user: Any, organisation: Organisation) -> list[TimelineRow]:
    """The organisation's contracts that have not ended, soonest first, with risk and reasons."""
    if not can_view_organisation_private(user, organisation.pk):
        raise PermissionDenied("You cannot see this organisation's contracts")
    on = today()
    contracts = (
        WatchedContract.objects.filter(supplier_organisation=organisation)
        .select_related("supplier_organisation")
        .order_by("end_date")
    )
    return _rows([c for c in contracts if c.end_date is None or c.end_date >= on], on)


def _rows(contracts: list[WatchedContract], on: date) -> list[TimelineRow]:
    others = OtherContracts.of(contracts)
    horizons = alert_horizons()
    return [_row(c, on, others, horizons) for c in contracts]


def _row(
    contract: WatchedContract, on: date, others: OtherContracts, horizon_months: list[int]
) -> TimelineRow:
    result = next_reservation(contract, others=others)
    reservable = (
        None
        if result is None
        else (
            True
            if result.eligible
            else None
            if any(c.status == reservation.UNKNOWN and c.key == "cpv" for c in result.conditions)
            else False
        )
    )
    income = (
        contract.supplier_organisation.annual_income_pence
        if contract.supplier_organisation
        else None
    )
    facts = risk_rules.RiskFacts(
        today=on,
        end_date=contract.end_date,
        value_pence=contract.value_pence,
        start_date=contract.start_date,
        annual_income_pence=income,
        reservable_next=reservable,
        large_firm_history=large_firm_history(contract, others),
        options_left=(
            contract.has_renewal
            if contract.has_renewal is not None
            else (False if contract.extended else None)
        ),
    )
    horizons = (
        [(m, reservation.add_months(contract.end_date, -m)) for m in horizon_months]
        if contract.end_date
        else []
    )
    return TimelineRow(
        contract, risk_rules.assess(facts), result, list(contract.notices.all()), horizons
    )


RISK_ORDER = {"high": 0, "medium": 1, "low": 2}


def radar(user: Any, months: int = 24) -> list[TimelineRow]:
    """Every programme mutual's contracts ending in the next `months`, highest risk first."""
    if not is_programme_staff(user):
        raise PermissionDenied("Only programme staff can see the re-tender radar")
    on = today()
    until = reservation.add_months(on, months)
    contracts = (
        WatchedContract.objects.filter(
            supplier_organisation_id__in=list(
                Organisation.objects.filter(kind=OrganisationKind.MUTUAL).values_list(
                    "pk", flat=True
                )
            ),
            end_date__gte=on,
            end_date__lte=until,
        )
        .select_related("supplier_organisation")
        .prefetch_related("notices")
    )
    rows = _rows(list(contracts), on)
    rows.sort(key=lambda r: (RISK_ORDER.get(r.risk.level, 3), -r.risk.score, r.contract.end_date))
    return rows


def outcome_history(user: Any, organisation_ids: list[int] | None = None) -> list[ContractOutcome]:
    """Past re-tender outcomes of programme mutuals' contracts, latest end first."""
    if not is_programme_staff(user):
        raise PermissionDenied("Only programme staff can see outcome history")
    # The mutuals' ids first, so PostgreSQL starts from their few contracts (the index on
    # supplier_organisation) instead of planning a join across every outcome and contract.
    mutuals = Organisation.objects.filter(kind=OrganisationKind.MUTUAL)
    if organisation_ids is not None:
        mutuals = mutuals.filter(pk__in=organisation_ids)
    query = ContractOutcome.objects.filter(
        contract__supplier_organisation_id__in=list(mutuals.values_list("pk", flat=True))
    )
    return list(
        query.select_related("contract", "contract__supplier_organisation").order_by(
            "-contract__end_date"
        )[:200]
    )


# -- alerts -------------------------------------------------------------------------------------------
def alert_horizons() -> list[int]:
    return sorted((int(m) for m in load_yaml(ALERTS_FILE)["horizons_months"]), reverse=True)


def _recipients(organisation: Organisation) -> list[Any]:
    from mutualise.core.models import User

    return list(
        User.objects.filter(
            role_assignments__organisation=organisation,
            role_assignments__role=Role.MUTUAL_LEADER.value,
            is_active=True,
        ).distinct()
    )


def due_events(contract: WatchedContract, on: date) -> list[tuple[str, str, str]]:
    """(event, subject, body) due for a contract on a day: the tightest horizon passed, notices."""
    events = []
    if contract.end_date and contract.end_date >= on:
        passed = [
            m for m in alert_horizons() if reservation.add_months(contract.end_date, -m) <= on
        ]
        if passed:
            months = min(passed)
            events.append(
                (
                    f"horizon-{months}",
                    f"Contract ends within {months} months: {contract.title or contract.ocid}",
                    f"Your contract with {contract.buyer_name} ({contract.ocid}) ends on "
                    f"{contract.end_date:%d %B %Y}. Plan for the re-tender now.",
                )
            )
    if load_yaml(ALERTS_FILE).get("notice_alerts", True):
        for notice in contract.notices.all():
            events.append(
                (
                    f"notice:{notice.notice_ocid}",
                    f"{contract.buyer_name} published a {notice.stage} notice for your service",
                    f"{notice.title} ({notice.notice_ocid}), published "
                    f"{notice.published_on:%d %B %Y}"
                    if notice.published_on
                    else notice.title,
                )
            )
    return events


def send_due_alerts(on: date | None = None) -> int:
    """Send every due alert that has not been sent. Safe to run as often as you like."""
    on = on or today()
    sent = 0
    contracts = (
        WatchedContract.objects.filter(supplier_organisation__isnull=False, end_date__gte=on)
        .select_related("supplier_organisation")
        .prefetch_related("notices")
    )
    for contract in contracts:
        if contract.supplier_organisation is None:  # excluded by the query; narrows the type
            continue
        people = _recipients(contract.supplier_organisation)
        if not people:
            continue
        for event, subject, body in due_events(contract, on):
            for person in people:
                sent += _send(contract, person, event, subject, body)
    return sent


def _send(contract: WatchedContract, person: Any, event: str, subject: str, body: str) -> int:
    try:
        with transaction.atomic():
            alert, created = Alert.objects.get_or_create(
                contract=contract, user=person, event=event, defaults={"sent_at": timezone.now()}
            )
            if not created:
                return 0
            notify(
                person,
                subject,
                body,
                essential=True,
                dedupe_key=f"watch:{contract.ocid}:{contract.award_id}:{event}:{person.pk}"[:200],
            )
            audit.record(
                actor=None,
                action="watch.alert_sent",
                obj=alert,
                organisation=contract.supplier_organisation,
                after={"event": event},
            )
    except IntegrityError:
        return 0
    return 1


# -- reservation checks from the form -----------------------------------------------------------------
def check_reservation(
    user: Any,
    *,
    cpv_codes: list[str],
    maximum_term_months: int,
    award_date: date,
    procedure: str | None,
    supplier_identifier: str = "",
    buyer_identifier: str = "",
) -> tuple[ReservationCheck, reservation.ReservationResult]:
    """Run the check for someone signed in and keep it (the record says what was asked and answered)."""
    if not user.is_authenticated:
        raise PermissionDenied("Sign in to check a reservation")
    supplier = None
    prior: tuple[reservation.PriorAward, ...] = ()
    if supplier_identifier:
        identifier = canonical_identifier(supplier_identifier)
        organisation = _organisation_for(identifier)
        supplier = reservation.SupplierFacts(
            identifier,
            organisation.name if organisation else "",
            **supplier_conditions(organisation),
        )
        prior = tuple(
            reservation.PriorAward(
                c.buyer_identifier,
                c.supplier_identifier,
                (c.cpv,),
                c.award_date,
                True,
                c.ocid,
                c.award_id,
            )
            for c in WatchedContract.objects.filter(
                supplier_identifier=identifier, reserved=True, award_date__isnull=False
            )
            if c.award_date is not None
        )
    question = reservation.make_question(
        cpv_codes,
        maximum_term_months,
        award_date,
        procedure=procedure,
        supplier=supplier,
        buyer_identifier=buyer_identifier or None,
        prior_awards=prior,
    )
    result = reservation.check(question)
    with transaction.atomic():
        record = ReservationCheck.objects.create(
            checked_by=user,
            cpv_codes=" ".join(question.cpv_codes),
            maximum_term_months=question.maximum_term_months,
            award_date=question.award_date,
            procedure=question.procedure or "",
            supplier_identifier=supplier.identifier if supplier else "",
            buyer_identifier=buyer_identifier,
            regime=result.regime.name if result.regime else "",
            eligible=result.eligible,
            rules_version=result.rules_version,
            conditions=[
                {"key": c.key, "label": c.label, "status": c.status, "reason": c.reason}
                for c in result.conditions
            ],
        )
        audit.record(
            actor=user,
            action="watch.reservation_checked",
            obj=record,
            after={"eligible": result.eligible, "regime": record.regime},
        )
    return record, result


def _organisation_for(identifier: str) -> Organisation | None:
    parts = identifier.split("-", 2)
    if len(parts) < 3:
        return None
    found = (
        Identifier.objects.filter(scheme=f"{parts[0]}-{parts[1]}", value=parts[2])
        .select_related("organisation")
        .first()
    )
    return found.organisation if found else None


def missed_reservations(user: Any) -> list[WatchedContract]:
    if not is_programme_staff(user):
        raise PermissionDenied("Only programme staff can see this report")
    return list(
        WatchedContract.objects.filter(missed_reservation=True).order_by("-award_date")[:500]
    )
