"""Read the database into the plain facts matching works on, and the officer's dashboard lists.

Queries only: nothing here changes state.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime

from django.db.models import Avg, Count, Q
from django.utils import timezone

from mutualise.ambassadors.matching import AmbassadorFacts, GroupFacts, MatchingProblem
from mutualise.ambassadors.matching_rules import MatchingRules, load_rules, topics_in_text
from mutualise.ambassadors.models import (
    ACTIVE_STATUSES,
    AmbassadorProfile,
    AmbassadorRequest,
    DeclaredConflict,
    EngagementRating,
    MatchStatus,
    PairConstraint,
    PairRule,
    ProposedMatch,
)
from mutualise.core.roles import Role
from mutualise.organisations.models import Identifier, Organisation, OrganisationKind

GROUP_KINDS = (OrganisationKind.STAFF_GROUP, OrganisationKind.MUTUAL)
CLOSED_STAGES = ("WITHDRAWN", "OUTCOME")


def active_ambassadors():  # type: ignore[no-untyped-def]
    """Profiles whose user still holds the ambassador role."""
    return (
        AmbassadorProfile.objects.filter(
            user__role_assignments__role=Role.AMBASSADOR, user__is_active=True
        )
        .distinct()
        .select_related("user", "leads_organisation", "leads_organisation__parent_body")
        .prefetch_related("away_periods")
    )


def groups_needing_ambassador():  # type: ignore[no-untyped-def]
    """Groups that want an ambassador and have none proposed or accepted."""
    requested = AmbassadorRequest.objects.filter(fulfilled_at__isnull=True).values(
        "organisation_id"
    )
    wants = (Q(journey__needs_ambassador=True) & ~Q(journey__stage__in=CLOSED_STAGES)) | Q(
        pk__in=requested
    )
    busy = ProposedMatch.objects.filter(status__in=ACTIVE_STATUSES).values("organisation_id")
    return (
        Organisation.objects.filter(kind__in=GROUP_KINDS)
        .filter(wants)
        .exclude(pk__in=busy)
        .select_related("journey", "parent_body")
        .order_by("name")
    )


@dataclass(frozen=True)
class WaitingGroup:
    organisation: Organisation
    waiting_since: datetime
    days: int
    too_long: bool
    requested: bool


def waiting_groups(
    rules: MatchingRules | None = None, now: datetime | None = None
) -> list[WaitingGroup]:
    """Every group needing an ambassador, with how long it has waited (longest first)."""
    rules = rules or load_rules()
    now = now or timezone.now()
    organisations = list(groups_needing_ambassador())
    ids = [o.pk for o in organisations]
    request_since: dict[int, datetime] = {}
    for organisation_id, at in AmbassadorRequest.objects.filter(
        organisation_id__in=ids, fulfilled_at__isnull=True
    ).values_list("organisation_id", "requested_at"):
        request_since[organisation_id] = min(at, request_since.get(organisation_id, at))
    last_closed: dict[int, datetime] = {}
    for organisation_id, decided, ended in ProposedMatch.objects.filter(
        organisation_id__in=ids
    ).values_list("organisation_id", "decided_at", "ended_at"):
        for moment in (decided, ended):
            if moment is not None:
                last_closed[organisation_id] = max(moment, last_closed.get(organisation_id, moment))
    result = []
    for organisation in organisations:
        journey = getattr(organisation, "journey", None)
        since = (
            request_since.get(organisation.pk)
            or last_closed.get(organisation.pk)
            or (journey.stage_entered_at if journey is not None else None)
            or organisation.created_at
        )
        days = max(0, (now - since).days)
        result.append(
            WaitingGroup(
                organisation,
                since,
                days,
                days > rules.waiting_too_long_days,
                organisation.pk in request_since,
            )
        )
    result.sort(key=lambda w: (-w.days, w.organisation.name))
    return result


def stated_needs_text(organisation: Organisation) -> str:
    journey = getattr(organisation, "journey", None)
    parts = [journey.stated_needs if journey is not None else ""]
    parts += list(
        organisation.ambassador_requests.filter(fulfilled_at__isnull=True).values_list(
            "note", flat=True
        )
    )
    return "\n".join(p for p in parts if p)


def group_facts(
    organisation: Organisation, rules: MatchingRules, needs_text: str = ""
) -> GroupFacts:
    journey = getattr(organisation, "journey", None)
    parent = organisation.parent_body
    return GroupFacts(
        id=organisation.pk,
        name=organisation.name,
        sector=organisation.sector,
        stage=journey.stage if journey is not None else "",
        region=organisation.region,
        parent_body_id=organisation.parent_body_id,
        parent_body_type=parent.public_body_type if parent is not None else "",
        needs=topics_in_text(needs_text, rules),
    )


def ambassador_facts(
    profiles: list[AmbassadorProfile], rules: MatchingRules, today: date
) -> list[AmbassadorFacts]:
    ids = [p.pk for p in profiles]
    active = dict(
        ProposedMatch.objects.filter(profile_id__in=ids, status__in=ACTIVE_STATUSES)
        .values_list("profile_id")
        .annotate(n=Count("id"))
    )
    past: dict[int, dict[str, tuple[float, int]]] = defaultdict(dict)
    for profile_id, sector, mean, count in (
        EngagementRating.objects.filter(engagement__match__profile_id__in=ids)
        .values_list("engagement__match__profile_id", "engagement__match__organisation__sector")
        .annotate(mean=Avg("rating"), count=Count("id"))
    ):
        if sector:
            past[profile_id][sector] = (float(mean), int(count))
    memberships: dict[int, set[int]] = defaultdict(set)
    from mutualise.core.models import RoleAssignment

    for user_id, organisation_id in RoleAssignment.objects.filter(
        user_id__in=[p.user_id for p in profiles], organisation__isnull=False
    ).values_list("user_id", "organisation_id"):
        memberships[user_id].add(organisation_id)
    clients = client_bodies([p.leads_organisation_id for p in profiles if p.leads_organisation_id])
    facts = []
    for profile in profiles:
        led = profile.leads_organisation
        parent = led.parent_body if led is not None else None
        own = set(memberships[profile.user_id])
        if led is not None:
            own.add(led.pk)
        facts.append(
            AmbassadorFacts(
                id=profile.pk,
                name=profile.name,
                sectors=frozenset(profile.sectors),
                stages=frozenset(profile.stages),
                regions=frozenset(profile.regions),
                led_organisation_id=led.pk if led is not None else None,
                led_parent_body_id=led.parent_body_id if led is not None else None,
                led_parent_body_type=parent.public_body_type if parent is not None else "",
                organisation_ids=frozenset(own),
                client_body_ids=frozenset(clients.get(profile.leads_organisation_id or 0, ())),
                capacity=profile.capacity,
                active_groups=active.get(profile.pk, 0),
                available=profile.unavailable_reason(today) is None,
                topics_offered=frozenset(profile.topics_offered),
                excluded_topics=frozenset(profile.excluded_topics),
                past_ratings=dict(past.get(profile.pk, {})),
            )
        )
    return facts


def client_bodies(mutual_ids: list[int]) -> dict[int, set[int]]:
    """Mutual id → ids of the programme's public bodies that buy from it (contract watch)."""
    from mutualise.watch.models import WatchedContract
    from mutualise.watch.services import canonical_identifier

    buyers: dict[int, set[str]] = defaultdict(set)
    for mutual_id, buyer in (
        WatchedContract.objects.filter(supplier_organisation_id__in=mutual_ids)
        .exclude(buyer_identifier="")
        .values_list("supplier_organisation_id", "buyer_identifier")
        .distinct()
    ):
        buyers[mutual_id].add(canonical_identifier(buyer))
    if not buyers:
        return {}
    body_of = {
        canonical_identifier(f"{scheme}-{value}"): organisation_id
        for scheme, value, organisation_id in Identifier.objects.filter(
            organisation__kind=OrganisationKind.PUBLIC_BODY
        ).values_list("scheme", "value", "organisation_id")
    }
    return {
        mutual_id: {body_of[buyer] for buyer in identifiers if buyer in body_of}
        for mutual_id, identifiers in buyers.items()
    }


def declared_conflicts() -> dict[tuple[int, int], str]:
    return {
        (
            organisation_id,
            profile_id,
        ): f"{ConflictLabel.get(kind, kind)}{': ' + note if note else ''}"
        for organisation_id, profile_id, kind, note in DeclaredConflict.objects.values_list(
            "organisation_id", "profile_id", "kind", "note"
        )
    }


ConflictLabel = {
    "competing_bid": "competing bid",
    "employer_link": "employer link",
    "other": "conflict of interest",
}


def pair_rules() -> tuple[frozenset[tuple[int, int]], frozenset[tuple[int, int]]]:
    pins: set[tuple[int, int]] = set()
    forbids: set[tuple[int, int]] = set()
    for organisation_id, profile_id, rule in PairConstraint.objects.values_list(
        "organisation_id", "profile_id", "rule"
    ):
        (pins if rule == PairRule.PIN else forbids).add((organisation_id, profile_id))
    return frozenset(pins), frozenset(forbids)


def build_problem(rules: MatchingRules | None = None, today: date | None = None) -> MatchingProblem:
    """Everything the matcher needs, as plain data."""
    rules = rules or load_rules()
    today = today or timezone.localdate()
    organisations = list(groups_needing_ambassador())
    needs: dict[int, list[str]] = defaultdict(list)
    for organisation_id, note in AmbassadorRequest.objects.filter(
        organisation_id__in=[o.pk for o in organisations], fulfilled_at__isnull=True
    ).values_list("organisation_id", "note"):
        needs[organisation_id].append(note)
    groups = []
    for organisation in organisations:
        journey = getattr(organisation, "journey", None)
        text = "\n".join(
            [journey.stated_needs if journey is not None else "", *needs[organisation.pk]]
        )
        groups.append(group_facts(organisation, rules, text))
    ambassadors = ambassador_facts(list(active_ambassadors()), rules, today)
    pins, forbids = pair_rules()
    return MatchingProblem(
        groups,
        ambassadors,
        rules,
        pins=pins,
        forbids=forbids,
        declared_conflicts=declared_conflicts(),
    )


def accepted_matches_for(profile: AmbassadorProfile):  # type: ignore[no-untyped-def]
    return profile.matches.filter(status=MatchStatus.ACCEPTED).select_related(
        "organisation", "organisation__journey"
    )
