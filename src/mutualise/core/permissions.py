"""Who may see and change what. Views and services both ask here; nobody else decides."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied

from mutualise.core.roles import Role


def is_programme_staff(user: Any) -> bool:
    return bool(user.is_authenticated and user.is_programme_staff)


def require_programme_staff(user: Any) -> None:
    if not is_programme_staff(user):
        raise PermissionDenied("Only programme officers can do this")


def acts_for(user: Any, organisation_id: int) -> bool:
    """A member or leader of this group or mutual."""
    if not user.is_authenticated:
        return False
    return organisation_id in user.organisation_ids(Role.STAFF_GROUP_MEMBER, Role.MUTUAL_LEADER)


def can_view_organisation_private(user: Any, organisation_id: int) -> bool:
    """Journey, readiness, applications and contracts of a group are private to it and staff.

    Ambassadors see the groups they are engaged with; that rule lives in the ambassadors app
    and is consulted through ``extra_viewers``.
    """
    if is_programme_staff(user) or acts_for(user, organisation_id):
        return True
    return any(check(user, organisation_id) for check in EXTRA_VIEWERS)


def require_view_organisation_private(user: Any, organisation_id: int) -> None:
    if not can_view_organisation_private(user, organisation_id):
        raise PermissionDenied("You cannot see this organisation's private records")


EXTRA_VIEWERS: list[Any] = []


def register_extra_viewer(check: Any) -> None:
    """Apps add a rule (user, organisation_id) -> bool, e.g. an ambassador's assigned groups."""
    if check not in EXTRA_VIEWERS:
        EXTRA_VIEWERS.append(check)
