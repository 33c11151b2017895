"""User administration. State changes go through here (rule 1 of DESIGN.md)."""

from __future__ import annotations

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction

from mutualise.core import audit
from mutualise.core.models import RoleAssignment, User
from mutualise.core.roles import Role
from mutualise.organisations.models import Organisation


class CreateUserError(ValueError):
    """The user could not be created; the message says why in plain words."""


def create_user(
    *,
    username: str,
    role: str,
    password: str,
    email: str = "",
    full_name: str = "",
    organisation_reference: str = "",
    actor: User | None = None,
) -> User:
    try:
        chosen = Role(role)
    except ValueError as exc:
        raise CreateUserError(
            f"{role!r} is not a role; use one of {', '.join(r.value for r in Role)}"
        ) from exc
    organisation = None
    if chosen.is_organisation_scoped:
        if not organisation_reference:
            raise CreateUserError(f"a {chosen.label.lower()} needs --organisation")
        organisation = Organisation.objects.filter(reference=organisation_reference).first()
        if organisation is None:
            raise CreateUserError(f"no organisation has the reference {organisation_reference!r}")
    if User.objects.filter(username=username).exists():
        raise CreateUserError(f"the username {username!r} is taken")
    candidate = User(username=username, email=email, full_name=full_name)
    try:
        validate_password(password, candidate)
    except ValidationError as exc:
        raise CreateUserError(" ".join(exc.messages)) from exc
    with transaction.atomic():
        candidate.set_password(password)
        candidate.save()
        assignment = RoleAssignment.objects.create(
            user=candidate, role=chosen.value, organisation=organisation
        )
        audit.record(
            actor=actor,
            action="user.created",
            obj=candidate,
            organisation=organisation,
            after={"username": username, "role": chosen.value},
        )
        del assignment
    return candidate
