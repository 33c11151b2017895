"""One small programme for the permission matrix: two public bodies, group A (a live mutual
with a member and a leader; it owns one object of every kind a URL takes an id for) and group B
(a staff group with a member of its own), and one person in each role.

Everything is created through the apps' services where a service exists, so the objects are in
the states real use puts them in."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

# The people the matrix asks about. "other_*" are someone else's: the member of another group,
# an ambassador not matched with group A, an assessor not assigned to group A's application.
ROLES = (
    "anonymous",
    "staff_group_member",
    "mutual_leader",
    "other_group_member",
    "ambassador",
    "other_ambassador",
    "assessor",
    "other_assessor",
    "programme_officer",
    "administrator",
)

PDF = b"%PDF-1.7\n%test\n"


def build_world() -> dict[str, Any]:
    from mutualise.ambassadors import services as ambassador_services
    from mutualise.ambassadors.models import Engagement, MatchStatus, ProposedMatch
    from mutualise.evidence.metrics import METRICS
    from mutualise.evidence.services import refresh_snapshot
    from mutualise.fund import services as fund_services
    from mutualise.fund.models import Application
    from mutualise.fund.rules import application_form
    from mutualise.journeys import readiness
    from mutualise.journeys import services as journey_services
    from mutualise.suppliers.models import ReviewItem, SupplierMention, SupplierOrganisation
    from mutualise.watch.models import WatchedContract
    from tests.ambassadors.factories import AmbassadorProfileFactory
    from tests.factories import (
        IdentifierFactory,
        JourneyFactory,
        OrganisationFactory,
        PublicBodyFactory,
        UserFactory,
        grant,
    )
    from tests.fund.factories import GOOD_ANSWERS, make_round
    from tests.journeys.factories import submitted_assessment

    body_a = PublicBodyFactory(name="Matrix Borough Council")
    body_b = PublicBodyFactory(name="Matrix NHS Trust", public_body_type="nhs")
    group_a = OrganisationFactory(
        name="Matrix Community Mutual", kind="mutual", parent_body=body_a, reference="mx-a"
    )
    group_b = OrganisationFactory(name="Matrix Staff Group", parent_body=body_b, reference="mx-b")
    journey_a = JourneyFactory(organisation=group_a, stage="LIVE")
    journey_b = JourneyFactory(organisation=group_b, stage="EXPLORE")
    identifier_a = IdentifierFactory(organisation=group_a)

    def person(username: str, role: str | None, organisation: Any = None) -> Any:
        user = UserFactory(username=f"matrix-{username}")
        return grant(user, role, organisation) if role else user

    users = {
        "staff_group_member": person("member", "staff_group_member", group_a),
        "mutual_leader": person("leader", "mutual_leader", group_a),
        "other_group_member": person("other-member", "staff_group_member", group_b),
        "assessor": person("assessor", "assessor"),
        "other_assessor": person("other-assessor", "assessor"),
        "programme_officer": person("officer", "programme_officer"),
        "administrator": person("administrator", "administrator"),
    }
    officer = users["programme_officer"]
    member = users["staff_group_member"]
    other_member = users["other_group_member"]

    # ambassadors: one matched (accepted) with group A, one with no group
    profile = AmbassadorProfileFactory(user=UserFactory(username="matrix-ambassador"))
    other_profile = AmbassadorProfileFactory(user=UserFactory(username="matrix-other-ambassador"))
    users["ambassador"] = profile.user
    users["other_ambassador"] = other_profile.user
    for user in users.values():
        user.__dict__.pop("_role_cache", None)

    # readiness: one submitted attempt and one draft, both group A's
    submitted = submitted_assessment(journey_a, 2)
    draft = journey_services.start_assessment(journey_a, actor=member)
    question_code = readiness.load_questionnaire(draft.questionnaire_version).questions[0].code

    # the fund: a round with group A's application assessed, approved and paid against a
    # milestone; a second round with group A's draft; group B's own draft (for crossed ids)
    fund_round = make_round(officer, name="Matrix round")
    draft_round = make_round(officer, fund=fund_round.fund, name="Matrix round two")
    application = fund_services.start_application(
        actor=member, fund_round=fund_round, organisation=group_a
    )
    for slug, value in GOOD_ANSWERS.items():
        application = fund_services.save_answer(
            actor=member, application=application, slug=slug, value=value
        )
    attachment = fund_services.add_attachment(
        actor=member, application=application, upload=SimpleUploadedFile("plan.pdf", PDF)
    )
    application = fund_services.submit_application(
        actor=member, application=application, declaration_name="A Member", confirmed=True
    )
    assignment = fund_services.assign_assessor(
        actor=officer, application=application, assessor=users["assessor"]
    )
    application = Application.objects.get(pk=application.pk)
    if application.status != "in_assessment":
        application = fund_services.start_assessment(actor=officer, application=application)
    criteria = list(application.round.criteria.all())
    fund_services.save_scores(
        actor=users["assessor"],
        assignment=assignment,
        scores={c.pk: (3, "Sound") for c in criteria},
        complete=True,
    )
    score = assignment.scores.first()
    award = fund_services.approve_application(
        actor=officer, application=application, amount_pence=1_000_000
    )
    milestone = fund_services.add_milestone(
        actor=officer, award=award, title="Business plan", amount_pence=500_000
    )
    draft_application = fund_services.start_application(
        actor=member, fund_round=draft_round, organisation=group_a
    )
    draft_attachment = fund_services.add_attachment(
        actor=member, application=draft_application, upload=SimpleUploadedFile("a.pdf", PDF)
    )
    application_b = fund_services.start_application(
        actor=other_member, fund_round=draft_round, organisation=group_b
    )
    fund_slug = application_form().questions[0].slug

    # ambassadors: group A's accepted match, an engagement, a run, a pair rule, time away
    match = ProposedMatch.objects.create(
        organisation=group_a,
        profile=profile,
        status=MatchStatus.ACCEPTED,
        decided_at=timezone.now(),
    )
    engagement = Engagement.objects.create(
        match=match,
        held_on=timezone.localdate() - dt.timedelta(days=7),
        actions_agreed="Draft the business plan",
        follow_up_on=timezone.localdate() - dt.timedelta(days=1),
        logged_by=profile.user,
    )
    pair_rule = ambassador_services.set_pair_rule(group_b, other_profile, "forbid", actor=officer)
    away = ambassador_services.add_away_period(
        profile,
        timezone.localdate() + dt.timedelta(days=30),
        timezone.localdate() + dt.timedelta(days=40),
        "Holiday",
        actor=profile.user,
    )
    run = ambassador_services.run_matching(actor=officer)

    # contract watch: a contract held by group A
    WatchedContract.objects.create(
        ocid="ocds-matrix-1",
        award_id="1",
        title="Matrix community nursing",
        cpv="85100000",
        buyer_name="Matrix Borough Council",
        supplier_organisation=group_a,
        supplier_name=group_a.name,
        supplier_class="PUBLIC_SERVICE_MUTUAL",
        value_pence=1_000_000_00,
        award_date=dt.date(2023, 3, 1),
        start_date=dt.date(2023, 4, 1),
        end_date=timezone.localdate() + dt.timedelta(days=200),
        content_hash="x",
        loaded_at=timezone.now(),
    )

    # suppliers: an uncertain mention in the review queue and a resolved supplier
    supplier = SupplierOrganisation.objects.create(
        identifier="GB-COH-04142000", name="MATRIX LIMITED", supplier_class="SME"
    )
    SupplierMention.objects.create(
        ocid="ocds-matrix-2",
        award_id="1",
        supplier_name="Matrix Ltd",
        mention_key="m" * 32,
        organisation=supplier,
        supplier_class="SME",
        matched_by="identifier",
    )
    review = ReviewItem.objects.create(
        mention_key="r" * 32,
        supplier_name="Matrix Care",
        postcode="AB1 2CD",
        mentions=1,
        candidates=[],
    )

    # the public figures: a snapshot of all the above
    refresh_snapshot(as_of=timezone.localdate())

    return {
        "users": users,
        # values the URL kwargs are filled from (the matrix names them)
        "organisation_a": group_a.pk,
        "organisation_b": group_b.pk,
        "identifier_a": identifier_a.pk,
        "journey_a": journey_a.pk,
        "journey_b": journey_b.pk,
        "draft_assessment_a": draft.pk,
        "submitted_assessment_a": submitted.pk,
        "question_code": question_code,
        "fund": fund_round.fund_id,
        "round": fund_round.pk,
        "application_a": application.pk,
        "draft_application_a": draft_application.pk,
        "application_b": application_b.pk,
        "attachment_a": attachment.pk,
        "draft_attachment_a": draft_attachment.pk,
        "fund_question": fund_slug,
        "score_a": score.pk,
        "assignment_a": assignment.pk,
        "award_a": award.pk,
        "milestone_a": milestone.pk,
        "run": run.pk,
        "pair_rule": pair_rule.pk,
        "match_a": match.pk,
        "engagement_a": engagement.pk,
        "away_period": away.pk,
        "review_item": review.mention_key,
        "supplier": supplier.identifier,
        "metric": METRICS[0].slug,
        "file_format": "csv",
    }
