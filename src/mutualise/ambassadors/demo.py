"""Demo data for ambassadors, created through the services: profiles, one confirmed match run,
some accepted matches with engagements (one with an overdue follow-up) and ratings.

Idempotent: profiles are saved (no change the second time) and the matching part runs only
while no match exists yet.
"""

from __future__ import annotations

import random
from datetime import timedelta
from typing import Any

from django.utils import timezone

from mutualise.ambassadors import services
from mutualise.ambassadors.matching_rules import load_rules, topics_in_text
from mutualise.ambassadors.models import ProposedMatch
from mutualise.core.models import User
from mutualise.core.roles import Role
from mutualise.organisations.models import Organisation


def seed_demo(programme: dict[str, Any], seed: int) -> None:
    rng = random.Random(f"ambassadors-{seed}")
    rules = load_rules()
    topics = list(rules.topic_codes)
    organisations = {
        o.reference: o
        for o in Organisation.objects.filter(
            reference__in=[a["leads_organisation"] for a in programme["ambassadors"]]
        )
    }
    for item in programme["ambassadors"]:
        user = User.objects.filter(username=item["key"]).first()
        if user is None or not user.has_role(Role.AMBASSADOR):
            continue
        excluded = topics_in_text(item.get("excluded_topics") or "", rules)
        offered = [t for t in rng.sample(topics, rng.randint(3, 6)) if t not in excluded]
        services.save_profile(
            user,
            {
                "leads_organisation": organisations.get(item["leads_organisation"]),
                "sectors": item["sectors"],
                "stages": item["stages"],
                "regions": item["regions"],
                "capacity": item["capacity"],
                "topics_offered": offered,
                "excluded_topics": sorted(excluded),
            },
            actor=user,
        )

    if ProposedMatch.objects.exists():
        return
    officer = User.objects.filter(username__startswith="off-").order_by("username").first()
    if officer is None:
        return
    run = services.run_matching(actor=officer)
    if not run.result:
        return
    matches = services.confirm_run(run, actor=officer)
    today = timezone.localdate()
    for number, match in enumerate(matches):
        ambassador = match.profile.user
        if number % 4 == 3:
            services.decline_match(
                match, "I am supporting another group in the same area.", actor=ambassador
            )
            continue
        if number % 4 == 2:
            continue  # left waiting for an answer
        try:
            accepted = services.accept_match(match, actor=ambassador)
        except services.AmbassadorError:
            continue
        held_on = today - timedelta(days=rng.randint(10, 40))
        engagement = services.log_engagement(
            accepted,
            actor=ambassador,
            held_on=held_on,
            topics=sorted(rng.sample(topics, 2)),
            actions_agreed="Share our business plan template; introduce the finance director.",
            notes="First meeting: went through the group's stage and what it needs next.",
            follow_up_on=held_on + timedelta(days=rng.choice([7, 14, 60])),
        )
        member = User.objects.filter(
            role_assignments__organisation=accepted.organisation,
            role_assignments__role=Role.STAFF_GROUP_MEMBER,
        ).first()
        if member is not None and number % 2 == 0:
            services.rate_engagement(
                engagement, rng.randint(3, 5), "Practical and encouraging.", actor=member
            )
