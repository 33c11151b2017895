"""The synthetic support programme: public bodies, staff groups and mutuals, ambassadors, staff.

`generate_programme(seed, size)` returns plain JSON-able data (see docs/synthetic-world.md for the
shape). It is deterministic for a seed and never imports Django: the Django loader reads its
output. Journey evidence is consistent with each group's stage: a group at stage S holds all the
evidence needed to have left every earlier stage, and about half the groups also hold the
evidence to leave S (the other half lack it, so officers see refusals).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from mutualise.synth.names import (
    PLACE_HEADS,
    IdentifierPool,
    email_for,
    person_name,
    place_names,
)

SNAPSHOT_DATE = date(2026, 11, 1)

STAGES = (
    "EXPLORE",
    "OPTIONS_APPRAISAL",
    "BUSINESS_CASE",
    "PARENT_BODY_DECISION",
    "LEGAL_FORM_AND_GOVERNANCE",
    "CONTRACT_AND_TRANSFER",
    "SHADOW_OPERATION",
    "LIVE",
    "GROW_AND_DIVERSIFY",
    "RETENDER",
    "OUTCOME",
    "WITHDRAWN",
)
LIVE_STAGES = ("LIVE", "GROW_AND_DIVERSIFY", "RETENDER", "OUTCOME")
PRE_LIVE_STAGES = STAGES[:7]

ENGLAND_REGIONS = (
    "north-east",
    "north-west",
    "yorkshire-humber",
    "east-midlands",
    "west-midlands",
    "east-of-england",
    "london",
    "south-east",
    "south-west",
)
OTHER_NATIONS = ("scotland", "wales", "northern-ireland")
REGIONS = ENGLAND_REGIONS + OTHER_NATIONS

SECTORS = (
    "health",
    "social-care",
    "childrens-services",
    "youth-services",
    "libraries-culture",
    "leisure",
    "education",
    "employment",
    "housing",
    "back-office",
)

LEGAL_FORMS = (
    "none",
    "cic_guarantee",
    "cic_shares",
    "company_guarantee",
    "company_shares",
    "community_benefit_society",
    "cooperative_society",
    "cio",
)
COMPANY_FORMS = ("cic_guarantee", "cic_shares", "company_guarantee", "company_shares")
SOCIETY_FORMS = ("community_benefit_society", "cooperative_society")

RETENDER_OUTCOMES = (
    "RETAINED",
    "LOST_TO_LARGE_PRIVATE",
    "LOST_TO_SME_OR_VCSE",
    "LOST_TO_PUBLIC_BODY",
    "INSOURCED",
    "ACQUIRED",
    "WOUND_UP",
    "EXTENDED",
)
OUTCOME_WEIGHTS = (45, 15, 10, 8, 8, 4, 4, 6)

# Stage sizes for the small programme (60 groups); the large programme is 10 times each.
STAGE_COUNTS = {
    "EXPLORE": 6,
    "OPTIONS_APPRAISAL": 5,
    "BUSINESS_CASE": 5,
    "PARENT_BODY_DECISION": 4,
    "LEGAL_FORM_AND_GOVERNANCE": 4,
    "CONTRACT_AND_TRANSFER": 4,
    "SHADOW_OPERATION": 3,
    "LIVE": 8,
    "GROW_AND_DIVERSIFY": 6,
    "RETENDER": 5,
    "OUTCOME": 6,
    "WITHDRAWN": 4,
}
BODY_COUNTS = {"local-authority": 15, "nhs": 5, "central-government": 2, "other-public": 2}
PEOPLE_COUNTS = {"small": (10, 3, 4), "large": (50, 6, 8)}
SIZES = {"small": 1, "large": 10}

# What each sector's service is called, and how a mutual in it names itself.
SECTOR_SERVICE = {
    "health": (
        "Community Health Services",
        (
            "Community Health Partnership",
            "Health and Care",
            "Community Healthcare",
            "Therapy Services",
        ),
    ),
    "social-care": (
        "Adult Social Care",
        ("Care Partnership", "Independent Living", "Support Services", "Living Well"),
    ),
    "childrens-services": (
        "Children's Services",
        ("Children and Families Partnership", "Family Services", "Early Years"),
    ),
    "youth-services": (
        "Youth Service",
        ("Youth Partnership", "Young People's Services", "Youth Works"),
    ),
    "libraries-culture": (
        "Libraries",
        (
            "Libraries and Archives",
            "Discover Libraries",
            "Library and Learning",
            "Culture and Heritage",
        ),
    ),
    "leisure": ("Leisure Services", ("Leisure Trust", "Active Communities", "Sport and Leisure")),
    "education": (
        "Adult Learning",
        ("Learning Partnership", "Adult and Community Learning", "Skills Academy"),
    ),
    "employment": (
        "Employment Support",
        ("Employment and Skills", "Pathways to Work", "Work Routes"),
    ),
    "housing": (
        "Housing Support",
        ("Housing Support", "Homes and Support Services", "Tenancy Support"),
    ),
    "back-office": (
        "Business Services",
        ("Business Services", "Shared Services", "Audit and Advisory", "Pensions Services"),
    ),
}
SPONSOR_ROLES = {
    "health": "Director of Community Services",
    "social-care": "Director of Adult Social Services",
    "childrens-services": "Director of Children's Services",
    "youth-services": "Head of Youth Services",
    "libraries-culture": "Head of Libraries and Culture",
    "leisure": "Head of Leisure",
    "education": "Head of Adult Learning",
    "employment": "Head of Employment and Skills",
    "housing": "Director of Housing",
    "back-office": "Chief Operating Officer",
}
NEEDS = {
    "EXPLORE": "Help testing staff appetite and finding a senior sponsor.",
    "OPTIONS_APPRAISAL": "An independent view of the options appraisal.",
    "BUSINESS_CASE": "Financial modelling, pensions advice and TUPE advice for the business case.",
    "PARENT_BODY_DECISION": "Support presenting the business case to cabinet.",
    "LEGAL_FORM_AND_GOVERNANCE": "Legal advice on the legal form and the staff-ownership model.",
    "CONTRACT_AND_TRANSFER": "Contract negotiation, pension admission and the transfer agreement.",
    "SHADOW_OPERATION": "Board development and back-office set-up during shadow running.",
    "LIVE": "Commercial skills and winning contracts beyond the parent body.",
    "GROW_AND_DIVERSIFY": "Bid writing and new markets.",
    "RETENDER": "Preparing for the re-tender of the anchor contract.",
    "OUTCOME": "Learning from the re-tender.",
    "WITHDRAWN": "",
}
DIVERSIFICATION_PLANS = (
    "Bid for neighbouring councils' contracts and sell training.",
    "Grow traded services to schools and GP practices.",
    "Win contracts from the integrated care board and charitable trusts.",
    "Open a social enterprise café and room hire; bid for public health contracts.",
)
CENTRAL_DEPARTMENTS = (
    "Department for Communities and Public Services",
    "Ministry for Skills and Work",
    "Office for Care Standards",
    "Department for Local Services",
    "Agency for Civil Service Pensions",
    "Department for Libraries and Heritage",
)
EXCLUDED_TOPICS = ("", "", "pensions", "procurement law", "property", "TUPE", "")


@dataclass
class _Body:
    key: str
    name: str
    kind: str
    region: str
    place: str
    code: str


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value else None


def _days(rng: random.Random, low: int, high: int) -> timedelta:
    return timedelta(days=rng.randint(low, high))


def _public_bodies(
    rng: random.Random, scale: int, places: list[str], pool: IdentifierPool
) -> list[_Body]:
    bodies: list[_Body] = []
    departments = list(CENTRAL_DEPARTMENTS)
    number = 0
    for kind, count in BODY_COUNTS.items():
        for i in range(count * scale):
            number += 1
            place = places.pop()
            region = rng.choice(ENGLAND_REGIONS)
            if kind == "local-authority":
                style = rng.randrange(6)
                if region == "london":
                    name = f"London Borough of {place}"
                elif style == 0:
                    name = f"{place} County Council"
                elif style == 1:
                    name = f"{place} Metropolitan Borough Council"
                elif style == 2:
                    name = f"{place} District Council"
                elif style == 3:
                    name = f"{place} Borough Council"
                else:
                    name = f"{place} City Council"
                code = pool.local_authority_code()
            elif kind == "nhs":
                style = rng.randrange(4)
                if style == 0:
                    name = f"NHS {place} Integrated Care Board"
                elif style == 1:
                    name = f"{place} Teaching Hospitals NHS Foundation Trust"
                else:
                    name = f"{place} Community Health NHS Trust"
                code = pool.nhs_code()
            elif kind == "central-government":
                if i < len(departments):
                    name = departments[i]
                else:
                    name = f"{place} Regional Office for Public Services"
                region = "london"
                code = pool.government_code()
            else:
                name = rng.choice(
                    (
                        f"{place} Fire and Rescue Authority",
                        f"{place} Combined Authority",
                        f"{place} National Park Authority",
                    )
                )
                code = pool.government_code()
            bodies.append(_Body(f"pb-{number:03d}", name, kind, region, place, code))
    return bodies


def _sector_for(rng: random.Random, body: _Body) -> str:
    if body.kind == "nhs":
        return rng.choice(("health", "health", "health", "social-care", "childrens-services"))
    if body.kind == "central-government":
        return rng.choice(("back-office", "back-office", "employment", "education"))
    if body.kind == "other-public":
        return rng.choice(("back-office", "leisure", "youth-services"))
    return rng.choice(SECTORS[1:])


def _legal_form(rng: random.Random, sector: str) -> str:
    if sector == "leisure":
        return rng.choice(
            ("community_benefit_society", "community_benefit_society", "cic_guarantee", "cio")
        )
    if sector == "back-office":
        return rng.choice(("company_shares", "company_shares", "cic_shares", "company_guarantee"))
    return rng.choices(
        (
            "cic_guarantee",
            "cic_shares",
            "company_guarantee",
            "company_shares",
            "community_benefit_society",
            "cooperative_society",
            "cio",
        ),
        weights=(40, 12, 14, 6, 12, 8, 8),
    )[0]


def _legal_name(rng: random.Random, base: str, legal_form: str) -> str:
    if legal_form.startswith("cic"):
        return f"{base} {rng.choice(('CIC', 'CIC', 'C.I.C.', 'Community Interest Company'))}"
    if legal_form in COMPANY_FORMS:
        return f"{base} Limited"
    if legal_form == "cooperative_society":
        return f"{base} Co-operative Limited"
    if legal_form == "community_benefit_society":
        return f"{base} Limited"
    return base


def _register_identifiers(
    rng: random.Random, legal_form: str, pool: IdentifierPool
) -> list[dict[str, str]]:
    if legal_form in COMPANY_FORMS:
        identifiers = [
            {"scheme": "GB-COH", "id": pool.company_number(leading_zero=rng.random() < 0.3)}
        ]
        if legal_form == "company_guarantee" and rng.random() < 0.4:
            identifiers.append({"scheme": "GB-CHC", "id": pool.charity_number()})
        return identifiers
    if legal_form in SOCIETY_FORMS:
        return [{"scheme": "GB-MPR", "id": pool.society_number()}]
    if legal_form == "cio":
        return [{"scheme": "GB-CHC", "id": pool.charity_number()}]
    return []


def _control(rng: random.Random, legal_form: str) -> dict[str, Any]:
    """Employee control as data: votes, board seats, trust stake (at least one is set)."""
    board = rng.randint(6, 12)
    mode = rng.randrange(4)
    vote = f"{rng.choice((25, 33.33, 40, 50, 51, 75, 100)):.2f}"
    staff_seats = rng.randint(2, max(2, board // 2))
    result: dict[str, Any] = {
        "staff_vote_share_percent": None,
        "staff_board_seats": None,
        "board_seats": None,
        "employee_trust_stake_percent": None,
    }
    if legal_form == "company_shares" and mode == 0:
        result["employee_trust_stake_percent"] = f"{rng.choice((25, 27.5, 33, 49, 51)):.2f}"
        result["board_seats"] = board
        return result
    if mode in (0, 1):
        result["staff_vote_share_percent"] = vote
    if mode in (0, 2, 3):
        result["staff_board_seats"] = staff_seats
        result["board_seats"] = board
    if mode == 3:
        result["staff_vote_share_percent"] = vote
    return result


def _empty_journey(started_on: date) -> dict[str, Any]:
    return {
        "started_on": started_on.isoformat(),
        "senior_sponsor_name": "",
        "senior_sponsor_role": "",
        "options_appraisal_choice": "",
        "business_case_completed_on": None,
        "parent_body_decision_date": None,
        "parent_body_decision_reference": "",
        "procurement_route": "",
        "service_contract_reference": "",
        "service_contract_start": None,
        "contract_end_date": None,
        "shadow_operation_started_on": None,
        "go_live_date": None,
        "diversification_plan": "",
        "retender_outcome": "",
        "stated_needs": "",
    }


def _build_organisation(
    rng: random.Random,
    number: int,
    stage: str,
    has_exit_evidence: bool,
    body: _Body,
    pool: IdentifierPool,
    used_names: set[str],
) -> dict[str, Any]:
    sector = _sector_for(rng, body)
    service, brands = SECTOR_SERVICE[sector]
    region = body.region if rng.random() < 0.92 else rng.choice(REGIONS)
    if body.kind == "central-government":
        region = rng.choice(ENGLAND_REGIONS)
    # How far the group has got: index of the last stage whose exit evidence it holds.
    withdrawn_at = rng.randrange(0, 6) if stage == "WITHDRAWN" else None
    stage_index = STAGES.index(stage) if withdrawn_at is None else withdrawn_at
    reached = stage_index + (1 if has_exit_evidence else 0)  # stages fully evidenced

    def done(step: str) -> bool:
        return STAGES.index(step) < reached

    is_live = stage in LIVE_STAGES
    # Timeline: live groups went live between 2012 and 2024; others started recently.
    route = rng.choices(("direct_award", "competition", "reservation"), (5, 3, 2))[0]
    term_years = rng.randint(3, 7)
    if is_live:
        if stage == "OUTCOME":
            go_live = date(2012, 4, 1) + _days(rng, 0, 365 * 6)
        elif stage == "RETENDER":
            contract_end_target = SNAPSHOT_DATE + _days(rng, -60, 540)
            go_live = contract_end_target - timedelta(days=365 * term_years)
        else:
            go_live = SNAPSHOT_DATE - _days(rng, 180, 365 * term_years - 540)
        if route == "reservation" and go_live < date(2025, 2, 24):
            term_years = min(term_years, 3)  # PCR 2015 reg 77: at most 3 years
            if stage == "RETENDER":
                go_live = contract_end_target - timedelta(days=365 * term_years)
            elif stage != "OUTCOME":
                go_live = SNAPSHOT_DATE - _days(rng, 180, 365 * term_years - 540)
        started_on = go_live - _days(rng, 540, 1100)
    else:
        started_on = SNAPSHOT_DATE - _days(rng, 60 + 120 * stage_index, 200 + 180 * stage_index)
        go_live = None
    cursor = started_on

    def step_date(low: int, high: int) -> date:
        nonlocal cursor
        cursor = cursor + _days(rng, low, high)
        return min(cursor, SNAPSHOT_DATE - timedelta(days=1)) if not is_live else cursor

    journey = _empty_journey(started_on)
    if done("EXPLORE") or stage_index > 0:
        journey["senior_sponsor_name"] = person_name(rng)
        journey["senior_sponsor_role"] = SPONSOR_ROLES[sector]
    elif rng.random() < 0.5:
        journey["senior_sponsor_role"] = SPONSOR_ROLES[sector]
    if done("OPTIONS_APPRAISAL"):
        journey["options_appraisal_choice"] = "mutual"
    elif stage_index == STAGES.index("OPTIONS_APPRAISAL") and rng.random() < 0.5:
        journey["options_appraisal_choice"] = rng.choice(("in_house", "council_company"))
    if done("BUSINESS_CASE"):
        journey["business_case_completed_on"] = _iso(step_date(60, 200))
    if done("PARENT_BODY_DECISION"):
        decided = step_date(30, 120)
        journey["parent_body_decision_date"] = decided.isoformat()
        journey["parent_body_decision_reference"] = (
            f"{'Cabinet' if body.kind == 'local-authority' else 'Board'} decision "
            f"{body.code}/{decided.year}/{rng.randint(1, 199):03d}"
        )

    # Legal form and governance.
    legal_form = "none"
    identifiers: list[dict[str, str]] = []
    control: dict[str, Any] = {
        "staff_vote_share_percent": None,
        "staff_board_seats": None,
        "board_seats": None,
        "employee_trust_stake_percent": None,
    }
    base = f"{body.place} {rng.choice(brands)}"
    while base in used_names:
        base = f"{rng.choice(PLACE_HEADS)}{body.place.lower()} {rng.choice(brands)}"
    used_names.add(base)
    at_legal = stage_index == STAGES.index("LEGAL_FORM_AND_GOVERNANCE")
    if done("LEGAL_FORM_AND_GOVERNANCE") or (at_legal and rng.random() < 0.5):
        legal_form = _legal_form(rng, sector)
        identifiers = _register_identifiers(rng, legal_form, pool)
        if done("LEGAL_FORM_AND_GOVERNANCE"):
            control = _control(rng, legal_form)
    if legal_form != "none":
        name = _legal_name(rng, base, legal_form)
    else:
        patterns = (
            f"{body.place} {service} staff group",
            f"{body.place} {service} mutual project",
            f"{body.place} {service} spin-out group",
            f"Staff of {body.place} {service}",
        )
        name = next((p for p in patterns if p not in used_names), "")
        suffix = 2
        while not name:
            candidate = f"{body.place} {service} staff group {suffix}"
            name = "" if candidate in used_names else candidate
            suffix += 1
        used_names.add(name)

    if done("CONTRACT_AND_TRANSFER"):
        journey["procurement_route"] = route
        start = go_live if go_live else step_date(60, 200)
        journey["service_contract_reference"] = (
            f"{body.code}/{start.year}/{rng.randint(1, 9999):04d}"
        )
        journey["service_contract_start"] = start.isoformat()
    elif stage_index == STAGES.index("CONTRACT_AND_TRANSFER") and rng.random() < 0.5:
        journey["procurement_route"] = rng.choice(("direct_award", "competition"))
    if done("SHADOW_OPERATION"):
        if go_live:
            journey["shadow_operation_started_on"] = (go_live - _days(rng, 60, 120)).isoformat()
        else:
            journey["shadow_operation_started_on"] = _iso(step_date(20, 90))
    if is_live:
        assert go_live is not None
        journey["go_live_date"] = go_live.isoformat()
        end = go_live + timedelta(days=365 * term_years) - timedelta(days=1)
        if stage != "RETENDER" or has_exit_evidence:
            journey["contract_end_date"] = end.isoformat()
    if stage in ("GROW_AND_DIVERSIFY", "RETENDER", "OUTCOME") and (
        stage != "GROW_AND_DIVERSIFY" or has_exit_evidence
    ):
        journey["diversification_plan"] = rng.choice(DIVERSIFICATION_PLANS)
    if stage == "OUTCOME":
        journey["retender_outcome"] = rng.choices(RETENDER_OUTCOMES, OUTCOME_WEIGHTS)[0]
    journey["stated_needs"] = NEEDS[stage]

    staff_count = rng.randint(20, 900) if (stage_index >= 2 or is_live) else None
    income = None
    if is_live and staff_count:
        income = staff_count * rng.randint(30_000, 45_000) * 100
    spun_out = go_live if is_live else None
    description = f"Staff-led {service.lower()} " + (
        f"spun out of {body.name} in {go_live.year}." if go_live else f"within {body.name}."
    )
    return {
        "key": f"org-{number:03d}",
        "name": name,
        "kind": "mutual" if is_live else "staff_group",
        "stage": stage,
        "sector": sector,
        "region": region,
        "parent_body": body.key,
        "legal_form": legal_form,
        "identifiers": identifiers,
        "spun_out_on": _iso(spun_out),
        "staff_count": staff_count,
        "annual_income_pence": income,
        **control,
        "left_public_sector": is_live,
        "delivers_public_services": True,
        "has_social_mission": True,
        "delivers_in_england": region in ENGLAND_REGIONS,
        "description": description,
        "services_delivered": f"{service} for {body.name}",
        "journey": journey,
    }


def generate_programme(seed: int, size: str = "small") -> dict[str, Any]:
    """The programme's world: public bodies, groups and mutuals with journeys, and people."""
    if size not in SIZES:
        raise ValueError(f"size must be one of {', '.join(SIZES)}, not {size!r}")
    scale = SIZES[size]
    rng = random.Random(f"mutualise-programme:{seed}:{size}")
    pool = IdentifierPool(random.Random(f"mutualise-programme-ids:{seed}:{size}"))
    places = place_names()
    rng.shuffle(places)
    bodies = _public_bodies(rng, scale, places, pool)
    body_weights = [
        {"local-authority": 6, "nhs": 5, "central-government": 2, "other-public": 1}[b.kind]
        for b in bodies
    ]

    plan: list[tuple[str, bool]] = []
    for stage in STAGES:
        count = STAGE_COUNTS[stage] * scale
        flags = [i % 2 == 0 for i in range(count)]
        rng.shuffle(flags)
        plan.extend((stage, flag) for flag in flags)
    rng.shuffle(plan)

    organisations = []
    used_names: set[str] = set()
    for number, (stage, has_exit_evidence) in enumerate(plan, start=1):
        body = rng.choices(bodies, body_weights)[0]
        organisations.append(
            _build_organisation(rng, number, stage, has_exit_evidence, body, pool, used_names)
        )

    n_ambassadors, n_officers, n_assessors = PEOPLE_COUNTS[size]
    live = [o for o in organisations if o["stage"] in LIVE_STAGES]
    leaders = rng.sample(live, min(n_ambassadors, len(live)))
    emails: set[str] = set()

    def unique_email(name: str) -> str:
        email = email_for(name)
        n = 2
        while email in emails:
            email = email_for(f"{name} {n}")
            n += 1
        emails.add(email)
        return email

    ambassadors = []
    for i, org in enumerate(leaders, start=1):
        name = person_name(rng)
        sectors = sorted({org["sector"], *rng.sample(SECTORS, rng.randint(0, 2))})
        ambassadors.append(
            {
                "key": f"amb-{i:02d}",
                "full_name": name,
                "email": unique_email(name),
                "leads_organisation": org["key"],
                "sectors": sectors,
                "stages": sorted(rng.sample(STAGES[:10], rng.randint(2, 5)), key=STAGES.index),
                "regions": sorted({org["region"], *rng.sample(ENGLAND_REGIONS, rng.randint(0, 2))}),
                "capacity": rng.randint(1, 4),
                "excluded_topics": rng.choice(EXCLUDED_TOPICS),
            }
        )
    officers = []
    for i in range(1, n_officers + 1):
        name = person_name(rng)
        officers.append({"key": f"off-{i}", "full_name": name, "email": unique_email(name)})
    assessors = []
    for i in range(1, n_assessors + 1):
        name = person_name(rng)
        assessors.append({"key": f"ass-{i}", "full_name": name, "email": unique_email(name)})

    identifier_scheme = {
        "local-authority": "GB-LAE",
        "nhs": "GB-NHS",
        "central-government": "GB-GOR",
        "other-public": "GB-GOR",
    }
    return {
        "seed": seed,
        "size": size,
        "public_bodies": [
            {
                "key": b.key,
                "name": b.name,
                "public_body_type": b.kind,
                "region": b.region,
                "identifiers": [{"scheme": identifier_scheme[b.kind], "id": b.code}],
            }
            for b in bodies
        ],
        "organisations": organisations,
        "ambassadors": ambassadors,
        "officers": officers,
        "assessors": assessors,
    }
