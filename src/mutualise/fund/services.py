"""The only place the fund changes. Each service checks permission, validates, changes state in
one transaction, writes the audit event and queues notifications.

Money rules (see ledger.py): every approval, reduction, payment and clawback locks the round row
(SELECT … FOR UPDATE on PostgreSQL; SQLite's IMMEDIATE transactions serialise writers) and only
then reads the ledger sums, so two officers acting at the same moment cannot overspend a round.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone

from mutualise.core import audit
from mutualise.core.models import User
from mutualise.core.notifications import notify, site_url
from mutualise.fund import ledger
from mutualise.fund.eligibility import Outcome, RoundParameters, evaluate
from mutualise.fund.models import (
    AffiliationKind,
    Application,
    AssessorAffiliation,
    AssessorAssignment,
    Attachment,
    Award,
    Criterion,
    Fund,
    FundRound,
    InformationRequest,
    LedgerEntry,
    Milestone,
    Score,
    round_balance,
)
from mutualise.fund.money import format_pence
from mutualise.fund.permissions import (
    APPLICANT_ROLES,
    can_apply_for,
    is_applicant,
    is_assessor,
    require_officer,
)
from mutualise.fund.rules import application_form, criteria_template, eligibility_rules
from mutualise.fund.uploads import UploadRefused, check_upload
from mutualise.organisations.models import Organisation


class Refused(Exception):
    """The rules do not allow this; ``reasons`` are shown to the person as they are."""

    def __init__(self, reasons: list[str] | str) -> None:
        reasons = [reasons] if isinstance(reasons, str) else list(reasons)
        super().__init__("; ".join(reasons))
        self.reasons = reasons


def _link(obj: Any) -> str:
    """An absolute address for emails."""
    return site_url(obj.get_absolute_url())


def _day(moment: dt.datetime) -> str:
    local = timezone.localtime(moment)
    return f"{local.day} {local:%B %Y}"


def _lock_round(round_id: int) -> FundRound:
    return FundRound.objects.select_for_update().select_related("fund").get(pk=round_id)


def _lock_application(application_id: int) -> Application:
    return (
        Application.objects.select_for_update()
        .select_related("round", "organisation")
        .get(pk=application_id)
    )


def _applicants(organisation_id: int) -> list[User]:
    return list(
        User.objects.filter(
            role_assignments__organisation_id=organisation_id,
            role_assignments__role__in=[r.value for r in APPLICANT_ROLES],
        ).distinct()
    )


def _notify_applicants(
    application: Application, subject: str, body: str, *, essential: bool, key: str
) -> None:
    for user in _applicants(application.organisation_id):
        notify(
            user,
            subject,
            body,
            essential=essential,
            dedupe_key=f"fund:{key}:{application.pk}:{user.pk}",
        )


# ---- funds and rounds ---------------------------------------------------------------------


def create_fund(*, actor: User, name: str, description: str = "") -> Fund:
    require_officer(actor)
    name = name.strip()
    if not name:
        raise Refused("Enter a name for the fund")
    with transaction.atomic():
        if Fund.objects.filter(name__iexact=name).exists():
            raise Refused("A fund with this name already exists")
        fund = Fund.objects.create(name=name, description=description.strip(), created_by=actor)
        audit.record(actor=actor, action="fund.created", obj=fund, after={"name": name})
    return fund


def _check_round_fields(fields: dict[str, Any]) -> list[str]:
    problems = []
    if not str(fields.get("name", "")).strip():
        problems.append("Enter a name for the round")
    opens_at, closes_at = fields.get("opens_at"), fields.get("closes_at")
    if opens_at and closes_at and closes_at <= opens_at:
        problems.append("The close date must be after the open date")
    for key, label in (("budget_pence", "budget"), ("maximum_award_pence", "maximum award")):
        value = fields.get(key)
        if not isinstance(value, int) or isinstance(value, bool):
            problems.append(f"The {label} must be a whole number of pence")
        elif value <= 0:
            problems.append(f"The {label} must be more than £0")
    if (
        isinstance(fields.get("budget_pence"), int)
        and isinstance(fields.get("maximum_award_pence"), int)
        and fields["maximum_award_pence"] > fields["budget_pence"]
    ):
        problems.append("The maximum award cannot be more than the round's budget")
    share = fields.get("min_match_share_percent")
    if share is not None and not (Decimal(0) <= Decimal(share) <= Decimal(100)):
        problems.append("The minimum cash match share must be between 0 and 100")
    params = RoundParameters(
        rule_codes=tuple(fields.get("eligibility_rules", ())),
        years_since_go_live=int(fields.get("years_since_go_live") or 0),
        minimum_words=int(fields.get("minimum_words") or 0),
        min_match_share_percent=share,
        subsidy_cap_pence=fields.get("subsidy_cap_pence"),
    )
    problems.extend(params.problems())
    criteria = fields.get("criteria") or []
    if not criteria:
        problems.append("Add at least one assessment criterion")
    for title, _guidance, weight in criteria:
        if not str(title).strip():
            problems.append("Every criterion needs a title")
        if not isinstance(weight, int) or weight < 1:
            problems.append(
                f"The weight of {title or 'a criterion'} must be a whole number, 1 or more"
            )
    return problems


ROUND_FIELDS = (
    "name",
    "description",
    "opens_at",
    "closes_at",
    "maximum_award_pence",
    "eligibility_rules",
    "years_since_go_live",
    "minimum_words",
    "min_match_share_percent",
    "subsidy_cap_pence",
)


def default_criteria() -> list[tuple[str, str, int]]:
    return [(c.title, c.guidance, c.weight) for c in criteria_template().criteria]


def create_round(*, actor: User, fund: Fund, **fields: Any) -> FundRound:
    """Create a round and allocate its budget in the ledger. ``criteria`` is [(title, guidance,
    weight)]; the default template from rules/fund_criteria.yaml is used when it is not given."""
    require_officer(actor)
    fields.setdefault("criteria", default_criteria())
    fields.setdefault("years_since_go_live", 5)
    fields.setdefault("minimum_words", 20)
    problems = _check_round_fields(fields)
    if problems:
        raise Refused(problems)
    with transaction.atomic():
        if FundRound.objects.filter(fund=fund, name=fields["name"].strip()).exists():
            raise Refused("This fund already has a round with this name")
        fund_round = FundRound.objects.create(
            fund=fund,
            created_by=actor,
            eligibility_rules_version=eligibility_rules().version,
            **{
                key: (fields[key].strip() if isinstance(fields.get(key), str) else fields.get(key))
                for key in ROUND_FIELDS
                if key in fields
            },
        )
        _replace_criteria(fund_round, fields["criteria"])
        LedgerEntry.objects.create(
            round=fund_round,
            kind=ledger.ALLOCATION,
            amount_pence=fields["budget_pence"],
            created_by=actor,
            reason="Budget allocated when the round was created",
        )
        audit.record(
            actor=actor,
            action="fund.round_created",
            obj=fund_round,
            after={
                **{k: fields.get(k) for k in ROUND_FIELDS},
                "budget_pence": fields["budget_pence"],
                "criteria": fields["criteria"],
            },
        )
    return fund_round


def _replace_criteria(fund_round: FundRound, criteria: list[tuple[str, str, int]]) -> None:
    fund_round.criteria.all().delete()
    Criterion.objects.bulk_create(
        [
            Criterion(
                round=fund_round,
                position=i,
                title=title.strip(),
                guidance=guidance.strip(),
                weight=weight,
            )
            for i, (title, guidance, weight) in enumerate(criteria)
        ]
    )


def update_round(
    *, actor: User, fund_round: FundRound, reason: str = "", **fields: Any
) -> FundRound:
    """Change a round. A new budget is an allocation entry for the difference; it cannot go below
    what is already committed. Criteria cannot change once an assessor has scored."""
    require_officer(actor)
    with transaction.atomic():
        locked = _lock_round(fund_round.pk)
        balance = round_balance(locked.pk)
        merged = {key: getattr(locked, key) for key in ROUND_FIELDS}
        merged["budget_pence"] = balance.budget
        merged["criteria"] = [(c.title, c.guidance, c.weight) for c in locked.criteria.all()]
        merged.update(fields)
        problems = _check_round_fields(merged)
        new_budget = merged["budget_pence"]
        if isinstance(new_budget, int) and new_budget < balance.committed:
            problems.append(
                f"The budget cannot be less than the {format_pence(balance.committed)} already "
                "committed to awards"
            )
        criteria_changed = merged["criteria"] != [
            (c.title, c.guidance, c.weight) for c in locked.criteria.all()
        ]
        if criteria_changed and Score.objects.filter(criterion__round=locked).exists():
            problems.append("The criteria cannot change after assessors have started scoring")
        if problems:
            raise Refused(problems)
        before = {key: getattr(locked, key) for key in ROUND_FIELDS}
        before["budget_pence"] = balance.budget
        for key in ROUND_FIELDS:
            if key in fields:
                value = fields[key]
                setattr(locked, key, value.strip() if isinstance(value, str) else value)
        locked.save()
        if criteria_changed:
            _replace_criteria(locked, merged["criteria"])
        if new_budget != balance.budget:
            LedgerEntry.objects.create(
                round=locked,
                kind=ledger.ALLOCATION,
                amount_pence=new_budget - balance.budget,
                created_by=actor,
                reason=reason or "Budget changed by an officer",
            )
        after = {key: getattr(locked, key) for key in ROUND_FIELDS}
        after["budget_pence"] = new_budget
        audit.record(
            actor=actor, action="fund.round_changed", obj=locked, before=before, after=after
        )
    return locked


# ---- applications -------------------------------------------------------------------------


def _new_reference(fund_round: FundRound) -> str:
    return f"F{fund_round.pk}-{secrets.token_hex(3).upper()}"


def start_application(
    *, actor: User, fund_round: FundRound, organisation: Organisation
) -> Application:
    if not can_apply_for(actor, organisation):
        raise PermissionDenied("You cannot apply for this organisation")
    fund_round = FundRound.objects.get(pk=fund_round.pk)
    if not fund_round.is_open():
        raise Refused("This round is not open for applications")
    with transaction.atomic():
        existing = (
            Application.objects.filter(round=fund_round, organisation=organisation)
            .exclude(status="withdrawn")
            .first()
        )
        if existing is not None:
            return existing
        application = Application.objects.create(
            round=fund_round,
            organisation=organisation,
            reference=_new_reference(fund_round),
            form_version=application_form().version,
            created_by=actor,
        )
        audit.record(
            actor=actor,
            action="fund.application_started",
            obj=application,
            organisation=organisation,
            after={"round": fund_round.pk},
        )
    return application


def _require_editable(actor: User, application: Application) -> None:
    if not is_applicant(actor, application):
        raise PermissionDenied("Only the applicant can change this application")
    if not application.is_editable:
        raise Refused("This application has been submitted and can no longer be changed")
    if application.status == "draft" and not application.round.is_open():
        raise Refused("This round has closed, so the application can no longer be changed")


def save_answer(*, actor: User, application: Application, slug: str, value: Any) -> Application:
    """Store one answer (already cleaned by the form: money in pence, dates as ISO text)."""
    question = application_form().question(slug)
    with transaction.atomic():
        locked = _lock_application(application.pk)
        _require_editable(actor, locked)
        if question.kind == "money" and (not isinstance(value, int) or value < 0):
            raise Refused("Enter an amount in pounds and pence, £0 or more")
        before = locked.answers.get(slug)
        if isinstance(value, dt.date):
            value = value.isoformat()
        answers = dict(locked.answers)
        answers[slug] = value
        locked.answers = answers
        if slug == "project_title":
            locked.project_title = str(value)[:300]
        if slug == "amount_requested":
            locked.amount_requested_pence = value
        locked.updated_at = timezone.now()
        locked.save(
            update_fields=["answers", "project_title", "amount_requested_pence", "updated_at"]
        )
        if before != value:
            audit.record(
                actor=actor,
                action="fund.answer_saved",
                obj=locked,
                organisation=locked.organisation,
                before={slug: before},
                after={slug: value},
            )
    return locked


def add_attachment(
    *,
    actor: User,
    application: Application,
    upload: UploadedFile,
    payment: LedgerEntry | None = None,
) -> Attachment:
    """Check the file (size, extension, real type) BEFORE it is stored; refuse with the reason."""
    form = application_form()
    assert upload.file is not None  # an uploaded file always wraps a stream
    try:
        checked = check_upload(
            upload.name or "", upload.size or 0, upload.file, max_bytes=form.max_attachment_bytes
        )
    except UploadRefused as exc:
        raise Refused(str(exc)) from exc
    with transaction.atomic():
        locked = _lock_application(application.pk)
        if payment is None:
            _require_editable(actor, locked)
            if locked.attachments.filter(payment__isnull=True).count() >= form.max_attachments:
                raise Refused(f"You can upload up to {form.max_attachments} files")
        else:
            require_officer(actor)
        digest = hashlib.sha256()
        for chunk in upload.chunks():
            digest.update(chunk)
        upload.seek(0)
        attachment = Attachment(
            application=locked,
            payment=payment,
            original_name=(upload.name or "file")[:255],
            kind=checked.kind,
            content_type=checked.content_type,
            size_bytes=checked.size,
            sha256=digest.hexdigest(),
            uploaded_by=actor,
        )
        attachment.file.save(upload.name or f"file.{checked.extension}", upload, save=False)
        stored_name = attachment.file.name
        assert stored_name is not None  # FieldFile.save has just set it
        try:
            attachment.save()
            audit.record(
                actor=actor,
                action="fund.attachment_added",
                obj=attachment,
                organisation=locked.organisation,
                after={
                    "name": attachment.original_name,
                    "size": checked.size,
                    "kind": checked.kind,
                    "sha256": attachment.sha256,
                },
            )
        except Exception:
            attachment.file.storage.delete(stored_name)
            raise
    return attachment


def remove_attachment(*, actor: User, attachment: Attachment) -> None:
    with transaction.atomic():
        locked = _lock_application(attachment.application_id)
        _require_editable(actor, locked)
        if attachment.payment_id is not None:
            raise PermissionDenied("Payment evidence cannot be removed")
        name, stored = attachment.original_name, attachment.file.name
        assert stored is not None  # the file field is required
        audit.record(
            actor=actor,
            action="fund.attachment_removed",
            obj=attachment,
            organisation=locked.organisation,
            before={"name": name},
        )
        attachment.delete()
        storage = attachment.file.storage
        transaction.on_commit(lambda: storage.delete(stored))


def missing_answers(application: Application) -> list[str]:
    answers = application.answers
    return [
        q.slug
        for q in application_form().questions
        if q.is_shown(answers) and answers.get(q.slug) in (None, "")
    ]


def check_eligibility(application: Application, today: dt.date | None = None) -> Outcome:
    return evaluate(
        application.answers, application.round.parameters(), today or timezone.localdate()
    )


def submit_application(
    *, actor: User, application: Application, declaration_name: str, confirmed: bool
) -> Application:
    """Submit (or resubmit after a request for more information). Refuses with every reason."""
    with transaction.atomic():
        locked = _lock_application(application.pk)
        if not is_applicant(actor, locked):
            raise PermissionDenied("Only the applicant can submit this application")
        if not locked.is_editable:
            raise Refused("This application has already been submitted")
        resubmission = locked.status == "more_information_requested"
        problems = []
        if not resubmission and not locked.round.is_open():
            problems.append(
                f"This round closed on {_day(locked.round.closes_at)}. "
                "Applications can no longer be submitted"
            )
        for slug in missing_answers(locked):
            problems.append(f'Answer "{application_form().question(slug).label}"')
        outcome = check_eligibility(locked)
        problems.extend(r.explanation for r in outcome.failures if r.answered)
        if resubmission and locked.information_requests.filter(answered_at__isnull=True).exists():
            problems.append("Answer the programme's question before you send the application back")
        if not confirmed:
            problems.append("Confirm the declaration to submit the application")
        if not declaration_name.strip():
            problems.append("Enter your full name to sign the declaration")
        if problems:
            raise Refused(problems)
        before = {"status": locked.status}
        locked.submit()
        now = timezone.now()
        locked.submitted_at = now
        locked.declaration_name = declaration_name.strip()[:200]
        locked.declared_at = now
        locked.updated_at = now
        locked.save()
        audit.record(
            actor=actor,
            action="fund.application_submitted",
            obj=locked,
            organisation=locked.organisation,
            before=before,
            after={
                "status": locked.status,
                "declaration_name": locked.declaration_name,
                "eligibility": [r.code for r in outcome.results],
            },
        )
        count = locked.information_requests.count()
        _notify_applicants(
            locked,
            f"Application {locked.reference} received",
            f"We have received the application from {locked.organisation.name} to "
            f"{locked.round}.\n\nReference: {locked.reference}\nAmount requested: "
            f"{format_pence(locked.amount_requested_pence)}\n\nYou can follow its progress at "
            f"{_link(locked)}",
            essential=False,
            key=f"submitted-{count}",
        )
    return locked


def withdraw_application(*, actor: User, application: Application) -> Application:
    with transaction.atomic():
        locked = _lock_application(application.pk)
        if not is_applicant(actor, locked):
            raise PermissionDenied("Only the applicant can withdraw this application")
        if locked.status not in {
            "draft",
            "submitted",
            "in_assessment",
            "more_information_requested",
        }:
            raise Refused("This application has been decided and cannot be withdrawn")
        before = {"status": locked.status}
        locked.withdraw()
        locked.updated_at = timezone.now()
        locked.save()
        audit.record(
            actor=actor,
            action="fund.application_withdrawn",
            obj=locked,
            organisation=locked.organisation,
            before=before,
            after={"status": "withdrawn"},
        )
    return locked


def answer_information_request(
    *, actor: User, application: Application, answer: str
) -> InformationRequest:
    with transaction.atomic():
        locked = _lock_application(application.pk)
        if not is_applicant(actor, locked):
            raise PermissionDenied("Only the applicant can answer")
        if locked.status != "more_information_requested":
            raise Refused("There is no open question on this application")
        if not answer.strip():
            raise Refused("Enter your answer")
        request = locked.information_requests.filter(answered_at__isnull=True).last()
        if request is None:
            raise Refused("There is no open question on this application")
        request.answer = answer.strip()
        request.answered_by = actor
        request.answered_at = timezone.now()
        request.save()
        audit.record(
            actor=actor,
            action="fund.information_answered",
            obj=locked,
            organisation=locked.organisation,
            after={"answer": request.answer},
        )
    return request


# ---- assessment ---------------------------------------------------------------------------


def _is_ambassador_to(user: User, organisation: Organisation) -> bool:
    """Asks the ambassadors app, if it provides the check; no app means no link."""
    try:
        from mutualise.ambassadors.services import is_ambassador_to
    except (ImportError, AttributeError):
        return False
    try:
        return bool(is_ambassador_to(user, organisation))
    except (AttributeError, TypeError):
        return False


def assessor_conflicts(assessor: User, application: Application) -> list[str]:
    """Every reason this person cannot assess this application, in plain words."""
    organisation = application.organisation
    reasons = []
    for assignment in assessor.role_assignments.filter(organisation=organisation):
        reasons.append(
            f"{assessor.display_name} is a {assignment.get_role_display().lower()} "
            f"of {organisation.name}, the applicant"
        )
    if _is_ambassador_to(assessor, organisation):
        reasons.append(f"{assessor.display_name} is an ambassador to {organisation.name}")
    linked = [organisation.pk]
    if organisation.parent_body_id:
        linked.append(organisation.parent_body_id)
    for affiliation in AssessorAffiliation.objects.filter(
        user=assessor, organisation_id__in=linked
    ).select_related("organisation"):
        if affiliation.organisation_id == organisation.parent_body_id:
            reasons.append(
                f"{assessor.display_name} is recorded as {affiliation.get_relationship_display().lower()} "
                f"of {affiliation.organisation.name}, the applicant's parent body"
            )
        else:
            reasons.append(
                f"{assessor.display_name} is recorded as {affiliation.get_relationship_display().lower()} "
                f"of {affiliation.organisation.name}, the applicant"
            )
    return reasons


def record_affiliation(
    *, actor: User, user: User, organisation: Organisation, relationship: str, note: str = ""
) -> AssessorAffiliation:
    require_officer(actor)
    if relationship not in AffiliationKind.values:
        raise Refused("Choose how the person is linked to the organisation")
    with transaction.atomic():
        affiliation, created = AssessorAffiliation.objects.get_or_create(
            user=user,
            organisation=organisation,
            relationship=relationship,
            defaults={"note": note.strip(), "recorded_by": actor},
        )
        if created:
            audit.record(
                actor=actor,
                action="fund.affiliation_recorded",
                obj=affiliation,
                organisation=organisation,
                after={"user": user.username, "relationship": relationship},
            )
    return affiliation


def assign_assessor(*, actor: User, application: Application, assessor: User) -> AssessorAssignment:
    require_officer(actor)
    with transaction.atomic():
        locked = _lock_application(application.pk)
        if locked.status not in {"submitted", "in_assessment"}:
            raise Refused(
                f"Assessors can be assigned only to submitted applications; this one is "
                f"{locked.staff_status.lower()}"
            )
        if not is_assessor(assessor):
            raise Refused(f"{assessor.display_name} is not an assessor")
        conflicts = assessor_conflicts(assessor, locked)
        if conflicts:
            raise Refused(
                [f"{assessor.display_name} cannot assess this application: {c}" for c in conflicts]
            )
        try:
            with transaction.atomic():
                assignment = AssessorAssignment.objects.create(
                    application=locked, assessor=assessor, assigned_by=actor
                )
        except IntegrityError as exc:
            raise Refused(f"{assessor.display_name} is already assigned") from exc
        before = {"status": locked.status}
        if locked.status == "submitted":
            locked.start_assessment()
            locked.save()
        audit.record(
            actor=actor,
            action="fund.assessor_assigned",
            obj=locked,
            organisation=locked.organisation,
            before=before,
            after={"status": locked.status, "assessor": assessor.username},
        )
        notify(
            assessor,
            f"Application {locked.reference} to assess",
            f"You have been asked to assess {locked.reference} ({locked.round}).\n\n"
            f"{_link(assignment)}",
            essential=False,
            dedupe_key=f"fund:assigned:{assignment.pk}",
        )
    return assignment


def start_assessment(*, actor: User, application: Application) -> Application:
    """Move a submitted (or resubmitted) application back into assessment."""
    require_officer(actor)
    with transaction.atomic():
        locked = _lock_application(application.pk)
        if locked.status != "submitted":
            raise Refused("Only a submitted application can move into assessment")
        locked.start_assessment()
        locked.save()
        audit.record(
            actor=actor,
            action="fund.assessment_started",
            obj=locked,
            organisation=locked.organisation,
            before={"status": "submitted"},
            after={"status": locked.status},
        )
    return locked


def save_scores(
    *,
    actor: User,
    assignment: AssessorAssignment,
    scores: dict[int, tuple[int, str]],
    overall_comment: str = "",
    complete: bool = False,
) -> AssessorAssignment:
    """Record the assessor's score and comment for each criterion (criterion id -> (score,
    comment)). ``complete`` marks the assessment finished; every criterion must then be scored."""
    if assignment.assessor_id != actor.pk:
        raise PermissionDenied("Only the assigned assessor can score this application")
    scale = criteria_template()
    with transaction.atomic():
        locked = _lock_application(assignment.application_id)
        if locked.status != "in_assessment":
            raise Refused("This application is not being assessed at the moment")
        criteria = {c.pk: c for c in locked.round.criteria.all()}
        problems = []
        for criterion_id, (value, comment) in scores.items():
            criterion = criteria.get(criterion_id)
            if criterion is None:
                problems.append("A score was given for a criterion that is not in this round")
                continue
            if not isinstance(value, int) or not scale.minimum <= value <= scale.maximum:
                problems.append(f"Score {criterion.title} from {scale.minimum} to {scale.maximum}")
            if not str(comment).strip():
                problems.append(f"Enter a comment for {criterion.title}")
        if complete and set(criteria) - set(scores):
            problems.append("Score every criterion before you finish the assessment")
        if problems:
            raise Refused(problems)
        before = {str(s.criterion_id): s.score for s in assignment.scores.all()}
        for criterion_id, (value, comment) in scores.items():
            Score.objects.update_or_create(
                assignment=assignment,
                criterion_id=criterion_id,
                defaults={"score": value, "comment": str(comment).strip()},
            )
        assignment.overall_comment = overall_comment.strip()
        if complete:
            assignment.completed_at = timezone.now()
        assignment.save()
        audit.record(
            actor=actor,
            action="fund.scores_saved",
            obj=assignment,
            organisation=locked.organisation,
            before=before,
            after={**{str(k): v for k, (v, _) in scores.items()}, "complete": complete},
        )
    return assignment


def moderate_score(*, actor: User, score: Score, moderated_score: int | None, note: str) -> Score:
    require_officer(actor)
    scale = criteria_template()
    if moderated_score is not None and not scale.minimum <= moderated_score <= scale.maximum:
        raise Refused(f"A moderated score must be from {scale.minimum} to {scale.maximum}")
    if moderated_score is not None and not note.strip():
        raise Refused("Say why the score is moderated")
    with transaction.atomic():
        locked = _lock_application(score.assignment.application_id)
        if locked.status != "in_assessment":
            raise Refused("Scores can be moderated only while the application is being assessed")
        before = {"moderated_score": score.moderated_score, "note": score.moderation_note}
        score.moderated_score = moderated_score
        score.moderation_note = note.strip()
        score.save()
        audit.record(
            actor=actor,
            action="fund.score_moderated",
            obj=score,
            organisation=locked.organisation,
            before=before,
            after={"moderated_score": moderated_score, "note": score.moderation_note},
        )
    return score


# ---- decisions ----------------------------------------------------------------------------


def approve_application(
    *, actor: User, application: Application, amount_pence: int, note: str = ""
) -> Award:
    """Approve and commit money. Refused, with the remaining amount shown, if it would take the
    round over budget. The round row is locked before the ledger is read."""
    require_officer(actor)
    if not isinstance(amount_pence, int) or isinstance(amount_pence, bool):
        raise Refused("The amount must be a whole number of pence")
    if amount_pence <= 0:
        raise Refused("The amount must be more than £0")
    with transaction.atomic():
        fund_round = _lock_round(application.round_id)
        locked = _lock_application(application.pk)
        if locked.status != "in_assessment":
            raise Refused(
                f"Only an application in assessment can be approved; this one is "
                f"{locked.staff_status.lower()}"
            )
        problems = []
        requested = locked.amount_requested_pence or 0
        if amount_pence > requested:
            problems.append(
                f"The award cannot be more than the {format_pence(requested)} "
                "the applicant asked for"
            )
        if amount_pence > fund_round.maximum_award_pence:
            problems.append(
                f"The award cannot be more than the round's maximum award of "
                f"{format_pence(fund_round.maximum_award_pence)}"
            )
        balance = round_balance(fund_round.pk)
        if balance.committed + amount_pence > balance.budget:
            problems.append(
                f"There is not enough money left in {fund_round.name}: "
                f"{format_pence(balance.remaining)} remains, and this award is "
                f"{format_pence(amount_pence)}"
            )
        if problems:
            raise Refused(problems)
        award = Award.objects.create(
            application=locked,
            round=fund_round,
            approved_amount_pence=amount_pence,
            approved_by=actor,
        )
        LedgerEntry.objects.create(
            round=fund_round,
            award=award,
            kind=ledger.COMMITMENT,
            amount_pence=amount_pence,
            created_by=actor,
            reason=note.strip() or f"Award to {locked.reference}",
        )
        before = {"status": locked.status}
        locked.approve()
        locked.decided_at = timezone.now()
        locked.decision_reasons = note.strip()
        locked.save()
        audit.record(
            actor=actor,
            action="fund.application_approved",
            obj=locked,
            organisation=locked.organisation,
            before=before,
            after={"status": "approved", "amount_pence": amount_pence, "note": note},
        )
        _notify_applicants(
            locked,
            f"Application {locked.reference}: successful",
            f"Your application to {fund_round} has been approved for "
            f"{format_pence(amount_pence)}.\n\n{note.strip()}\n\n{_link(locked)}",
            essential=True,
            key="approved",
        )
    return award


def reject_application(*, actor: User, application: Application, reasons: str) -> Application:
    require_officer(actor)
    if not reasons.strip():
        raise Refused("Give the reasons for rejecting the application")
    with transaction.atomic():
        locked = _lock_application(application.pk)
        if locked.status not in {"submitted", "in_assessment"}:
            raise Refused(
                f"This application cannot be rejected: it is {locked.staff_status.lower()}"
            )
        before = {"status": locked.status}
        locked.reject()
        locked.decided_at = timezone.now()
        locked.decision_reasons = reasons.strip()
        locked.save()
        audit.record(
            actor=actor,
            action="fund.application_rejected",
            obj=locked,
            organisation=locked.organisation,
            before=before,
            after={"status": "rejected", "reasons": locked.decision_reasons},
        )
        _notify_applicants(
            locked,
            f"Application {locked.reference}: unsuccessful",
            f"Your application to {locked.round} has not been successful.\n\nReasons:\n"
            f"{locked.decision_reasons}\n\n{_link(locked)}",
            essential=True,
            key="rejected",
        )
    return locked


def request_more_information(
    *, actor: User, application: Application, question: str
) -> InformationRequest:
    require_officer(actor)
    if not question.strip():
        raise Refused("Enter the question for the applicant")
    with transaction.atomic():
        locked = _lock_application(application.pk)
        if locked.status not in {"submitted", "in_assessment"}:
            raise Refused(
                f"More information can be asked for only on a submitted application; "
                f"this one is {locked.staff_status.lower()}"
            )
        before = {"status": locked.status}
        locked.request_more_information()
        locked.updated_at = timezone.now()
        locked.save()
        request = InformationRequest.objects.create(
            application=locked, question=question.strip(), asked_by=actor
        )
        audit.record(
            actor=actor,
            action="fund.information_requested",
            obj=locked,
            organisation=locked.organisation,
            before=before,
            after={"status": locked.status, "question": request.question},
        )
        _notify_applicants(
            locked,
            f"Application {locked.reference}: we need more information",
            f"The programme has a question about your application:\n\n{request.question}\n\n"
            f"Answer it and send the application back: {_link(locked)}",
            essential=True,
            key=f"information-{request.pk}",
        )
    return request


# ---- the ledger: budget, milestones, payments, reductions, clawbacks -----------------------


def _check_amount(amount_pence: Any) -> None:
    if not isinstance(amount_pence, int) or isinstance(amount_pence, bool):
        raise Refused("The amount must be a whole number of pence")
    if amount_pence <= 0:
        raise Refused("The amount must be more than £0")


def _lock_award(award: Award) -> tuple[FundRound, Award]:
    fund_round = _lock_round(award.round_id)
    locked = Award.objects.select_related("application__organisation").get(pk=award.pk)
    return fund_round, locked


def add_milestone(
    *, actor: User, award: Award, title: str, amount_pence: int, due_on: dt.date | None = None
) -> Milestone:
    require_officer(actor)
    _check_amount(amount_pence)
    if not title.strip():
        raise Refused("Enter a title for the milestone")
    with transaction.atomic():
        _, locked = _lock_award(award)
        balance = locked.balance()
        planned = sum(m.planned_amount_pence for m in locked.milestones.all())
        if planned + amount_pence > balance.committed:
            raise Refused(
                f"The milestones would add up to more than the award: "
                f"{format_pence(balance.committed - planned)} is left to plan"
            )
        position = (locked.milestones.aggregate(m=Max("position"))["m"] or 0) + 1
        milestone = Milestone.objects.create(
            award=locked,
            title=title.strip(),
            due_on=due_on,
            planned_amount_pence=amount_pence,
            position=position,
        )
        audit.record(
            actor=actor,
            action="fund.milestone_added",
            obj=milestone,
            organisation=locked.application.organisation,
            after={"title": milestone.title, "amount_pence": amount_pence, "due_on": due_on},
        )
    return milestone


def record_payment(
    *,
    actor: User,
    award: Award,
    milestone: Milestone,
    amount_pence: int,
    evidence: str,
    upload: UploadedFile | None = None,
) -> LedgerEntry:
    """Pay against a milestone with evidence. Paid never exceeds the award's commitment."""
    require_officer(actor)
    _check_amount(amount_pence)
    if not evidence.strip():
        raise Refused("Describe the evidence that the milestone was met")
    if milestone.award_id != award.pk:
        raise Refused("This milestone belongs to another award")
    if upload is not None:
        assert upload.file is not None  # an uploaded file always wraps a stream
        try:
            check_upload(
                upload.name or "",
                upload.size or 0,
                upload.file,
                max_bytes=application_form().max_attachment_bytes,
            )
        except UploadRefused as exc:
            raise Refused(str(exc)) from exc
    with transaction.atomic():
        fund_round, locked = _lock_award(award)
        balance = locked.balance()
        milestone_left = milestone.planned_amount_pence - milestone.paid_pence()
        problems = []
        if amount_pence > milestone_left:
            problems.append(f"This milestone has {format_pence(milestone_left)} left to pay")
        if amount_pence > balance.unpaid:
            problems.append(f"The award has {format_pence(balance.unpaid)} left to pay")
        if problems:
            raise Refused(problems)
        entry = LedgerEntry.objects.create(
            round=fund_round,
            award=locked,
            milestone=milestone,
            kind=ledger.PAYMENT,
            amount_pence=amount_pence,
            evidence=evidence.strip(),
            created_by=actor,
            reason=f"Payment for {milestone.title}",
        )
        audit.record(
            actor=actor,
            action="fund.payment_made",
            obj=entry,
            organisation=locked.application.organisation,
            after={
                "award": locked.pk,
                "milestone": milestone.title,
                "amount_pence": amount_pence,
                "evidence": entry.evidence,
            },
        )
        if upload is not None:
            add_attachment(
                actor=actor, application=locked.application, upload=upload, payment=entry
            )
    return entry


def reduce_award(*, actor: User, award: Award, amount_pence: int, reason: str) -> LedgerEntry:
    """Release part of the unpaid commitment back to the round."""
    require_officer(actor)
    _check_amount(amount_pence)
    if not reason.strip():
        raise Refused("Give the reason for reducing the award")
    with transaction.atomic():
        fund_round, locked = _lock_award(award)
        balance = locked.balance()
        if amount_pence > balance.unpaid:
            raise Refused(
                f"An award can be reduced only by what is not yet paid: "
                f"{format_pence(balance.unpaid)}. To recover money already paid, "
                "claw it back"
            )
        entry = LedgerEntry.objects.create(
            round=fund_round,
            award=locked,
            kind=ledger.RELEASE,
            amount_pence=-amount_pence,
            created_by=actor,
            reason=reason.strip(),
        )
        audit.record(
            actor=actor,
            action="fund.award_reduced",
            obj=entry,
            organisation=locked.application.organisation,
            before={"committed_pence": balance.committed},
            after={"committed_pence": balance.committed - amount_pence, "reason": entry.reason},
        )
    return entry


def claw_back(*, actor: User, award: Award, amount_pence: int, reason: str) -> LedgerEntry:
    """Recover money already paid; the commitment falls by the same amount, so it is released."""
    require_officer(actor)
    _check_amount(amount_pence)
    if not reason.strip():
        raise Refused("Give the reason for clawing back the money")
    with transaction.atomic():
        fund_round, locked = _lock_award(award)
        balance = locked.balance()
        if amount_pence > balance.paid:
            raise Refused(
                f"Only money already paid can be clawed back: "
                f"{format_pence(balance.paid)} has been paid"
            )
        entry = LedgerEntry.objects.create(
            round=fund_round,
            award=locked,
            kind=ledger.CLAWBACK,
            amount_pence=-amount_pence,
            created_by=actor,
            reason=reason.strip(),
        )
        LedgerEntry.objects.create(
            round=fund_round,
            award=locked,
            kind=ledger.RELEASE,
            amount_pence=-amount_pence,
            created_by=actor,
            reason=f"Released by clawback: {reason.strip()}",
        )
        audit.record(
            actor=actor,
            action="fund.award_clawed_back",
            obj=entry,
            organisation=locked.application.organisation,
            before={"paid_pence": balance.paid, "committed_pence": balance.committed},
            after={
                "paid_pence": balance.paid - amount_pence,
                "committed_pence": balance.committed - amount_pence,
                "reason": entry.reason,
            },
        )
    return entry


# ---- people -------------------------------------------------------------------------------


def set_email_preference(*, actor: User, opt_out: bool) -> User:
    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=actor.pk)
        before = {"email_opt_out": user.email_opt_out}
        user.email_opt_out = bool(opt_out)
        user.save(update_fields=["email_opt_out"])
        if before["email_opt_out"] != user.email_opt_out:
            audit.record(
                actor=actor,
                action="fund.email_preference_changed",
                obj=user,
                before=before,
                after={"email_opt_out": user.email_opt_out},
            )
    actor.email_opt_out = user.email_opt_out
    return user
