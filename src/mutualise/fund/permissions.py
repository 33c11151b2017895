"""Who may do what in the fund. Views and services both ask here."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied

from mutualise.core.permissions import acts_for, is_programme_staff
from mutualise.core.roles import Role
from mutualise.organisations.models import OrganisationKind

APPLICANT_KINDS = {OrganisationKind.STAFF_GROUP, OrganisationKind.MUTUAL}
APPLICANT_ROLES = (Role.STAFF_GROUP_MEMBER, Role.MUTUAL_LEADER)


def is_officer(user: Any) -> bool:
    return is_programme_staff(user)


def require_officer(user: Any) -> None:
    if not is_officer(user):
        raise PermissionDenied("Only programme officers can do this")


def is_assessor(user: Any) -> bool:
    return bool(user.is_authenticated and user.has_role(Role.ASSESSOR))


def applicant_organisation_ids(user: Any) -> set[int]:
    if not user.is_authenticated:
        return set()
    return user.organisation_ids(*APPLICANT_ROLES)


def can_apply_for(user: Any, organisation: Any) -> bool:
    return organisation.kind in APPLICANT_KINDS and acts_for(user, organisation.pk)


def is_applicant(user: Any, application: Any) -> bool:
    return acts_for(user, application.organisation_id)


def is_assigned_assessor(user: Any, application: Any) -> bool:
    if not user.is_authenticated:
        return False
    return application.assignments.filter(assessor_id=user.pk).exists()


def can_view_application(user: Any, application: Any) -> bool:
    return (
        is_officer(user)
        or is_applicant(user, application)
        or is_assigned_assessor(user, application)
    )


def require_view_application(user: Any, application: Any) -> None:
    if not can_view_application(user, application):
        raise PermissionDenied("You cannot see this application")


def can_view_attachment(user: Any, attachment: Any) -> bool:
    if attachment.payment_id is not None:
        return is_officer(user)
    return can_view_application(user, attachment.application)
