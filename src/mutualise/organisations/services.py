"""The only place organisations change. Each service checks permission, validates, changes state
in one transaction and writes the audit event."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from mutualise.core import audit
from mutualise.core.models import User
from mutualise.core.permissions import require_programme_staff
from mutualise.organisations import identifiers
from mutualise.organisations.models import Identifier, Organisation, OrganisationKind

# Facts an officer may edit on an organisation. Kind changes to "mutual" when a journey goes live
# (journeys.services.move_stage); an officer may also correct it here.
EDITABLE_FIELDS = (
    "name",
    "kind",
    "legal_form",
    "public_body_type",
    "parent_body",
    "sector",
    "region",
    "description",
    "services_delivered",
    "delivers_in_england",
    "left_public_sector",
    "delivers_public_services",
    "has_social_mission",
    "spun_out_on",
    "staff_count",
    "annual_income_pence",
    "staff_vote_share_percent",
    "staff_board_seats",
    "board_seats",
    "employee_trust_stake_percent",
)

STAFF_SEATS_MESSAGE = "Staff board seats cannot be more than the number of board seats"


def _clean(organisation: Organisation) -> None:
    """Model validation with readable messages (the seat constraint names itself otherwise)."""
    seats, board = organisation.staff_board_seats, organisation.board_seats
    if seats is not None and board is not None and seats > board:
        raise ValidationError({"staff_board_seats": STAFF_SEATS_MESSAGE})
    organisation.full_clean()


def add_identifier(
    organisation: Organisation, scheme: str, value: str, *, actor: User
) -> Identifier:
    """Record a register identifier, normalised; refuse malformed ones and duplicates."""
    require_programme_staff(actor)
    try:
        normalised = identifiers.validate(scheme, value)
    except identifiers.IdentifierError as error:
        field = "scheme" if scheme.strip().upper() not in identifiers.schemes() else "value"
        raise ValidationError({field: str(error)}) from None
    scheme = scheme.strip().upper()
    with transaction.atomic():
        locked = Organisation.objects.select_for_update().get(pk=organisation.pk)
        existing = (
            Identifier.objects.filter(scheme=scheme, value=normalised)
            .select_related("organisation")
            .first()
        )
        if existing is not None:
            owner = (
                "this organisation"
                if existing.organisation_id == locked.pk
                else existing.organisation.name
            )
            raise ValidationError(
                {"value": f"{scheme}-{normalised} is already recorded for {owner}"}
            )
        try:
            with transaction.atomic():
                identifier = Identifier.objects.create(
                    organisation=locked, scheme=scheme, value=normalised
                )
        except IntegrityError:  # a concurrent request recorded it first
            raise ValidationError({"value": f"{scheme}-{normalised} is already recorded"}) from None
        audit.record(
            actor=actor,
            action="organisation.identifier_added",
            obj=locked,
            organisation=locked,
            after={"identifier": identifier.prefixed},
        )
    return identifier


def remove_identifier(identifier: Identifier, *, actor: User) -> None:
    require_programme_staff(actor)
    with transaction.atomic():
        organisation = Organisation.objects.select_for_update().get(pk=identifier.organisation_id)
        locked = Identifier.objects.filter(pk=identifier.pk).first()
        if locked is None:
            return  # already removed: nothing to do, nothing to record
        prefixed = locked.prefixed
        locked.delete()
        audit.record(
            actor=actor,
            action="organisation.identifier_removed",
            obj=organisation,
            organisation=organisation,
            before={"identifier": prefixed},
        )


def update_organisation(
    organisation: Organisation, changes: dict[str, Any], *, actor: User
) -> Organisation:
    """Change an organisation's facts. Validates the whole record; nothing is saved if it fails."""
    require_programme_staff(actor)
    unknown = set(changes) - set(EDITABLE_FIELDS)
    if unknown:
        raise ValueError(f"Not editable here: {', '.join(sorted(unknown))}")
    with transaction.atomic():
        locked = Organisation.objects.select_for_update().get(pk=organisation.pk)
        before = {field: getattr(locked, field) for field in changes}
        for field, value in changes.items():
            setattr(locked, field, value)
        if locked.parent_body_id is not None and locked.parent_body_id == locked.pk:
            raise ValidationError({"parent_body": "An organisation cannot be its own parent body"})
        _clean(locked)
        after = {field: getattr(locked, field) for field in changes}
        if before != after:
            locked.save()
            audit.record(
                actor=actor,
                action="organisation.updated",
                obj=locked,
                organisation=locked,
                before={k: v for k, v in before.items() if v != after[k]},
                after={k: v for k, v in after.items() if v != before[k]},
            )
    return locked


def create_staff_group(
    *,
    actor: User,
    name: str,
    parent_body: Organisation | None,
    sector: str = "",
    region: str = "",
    **facts: Any,
) -> Organisation:
    """A new staff group exploring a spin-out, with its journey at the first stage."""
    from mutualise.journeys.models import Journey

    require_programme_staff(actor)
    unknown = set(facts) - set(EDITABLE_FIELDS)
    if unknown:
        raise ValueError(f"Not a fact of an organisation: {', '.join(sorted(unknown))}")
    if parent_body is not None and parent_body.kind != OrganisationKind.PUBLIC_BODY:
        raise ValidationError({"parent_body": "Select a public body as the parent body"})
    with transaction.atomic():
        organisation = Organisation(
            name=name.strip(),
            kind=OrganisationKind.STAFF_GROUP,
            parent_body=parent_body,
            sector=sector,
            region=region,
            left_public_sector=False,
            **facts,
        )
        _clean(organisation)
        organisation.save()
        journey = Journey.objects.create(
            organisation=organisation,
            stage_entered_at=timezone.now(),
            started_on=timezone.localdate(),
        )
        audit.record(
            actor=actor,
            action="organisation.created",
            obj=organisation,
            organisation=organisation,
            after={
                "name": organisation.name,
                "kind": organisation.kind,
                "parent_body": parent_body,
                "sector": sector,
                "region": region,
            },
        )
        audit.record(
            actor=actor,
            action="journey.started",
            obj=journey,
            organisation=organisation,
            after={"stage": journey.stage},
        )
    return organisation


def create_public_body(
    *, actor: User, name: str, public_body_type: str, region: str = "", **facts: Any
) -> Organisation:
    require_programme_staff(actor)
    unknown = set(facts) - set(EDITABLE_FIELDS)
    if unknown:
        raise ValueError(f"Not a fact of an organisation: {', '.join(sorted(unknown))}")
    with transaction.atomic():
        organisation = Organisation(
            name=name.strip(),
            kind=OrganisationKind.PUBLIC_BODY,
            legal_form="public_body",
            public_body_type=public_body_type,
            region=region,
            **facts,
        )
        _clean(organisation)
        organisation.save()
        audit.record(
            actor=actor,
            action="organisation.created",
            obj=organisation,
            organisation=organisation,
            after={
                "name": organisation.name,
                "kind": organisation.kind,
                "public_body_type": public_body_type,
                "region": region,
            },
        )
    return organisation
