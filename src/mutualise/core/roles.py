"""The roles people hold in the programme. Pure data: no database access."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    STAFF_GROUP_MEMBER = "staff_group_member"
    MUTUAL_LEADER = "mutual_leader"
    AMBASSADOR = "ambassador"
    ASSESSOR = "assessor"
    PROGRAMME_OFFICER = "programme_officer"
    ADMINISTRATOR = "administrator"

    @property
    def label(self) -> str:
        return ROLE_LABELS[self]

    @property
    def is_organisation_scoped(self) -> bool:
        """Members and leaders act for one organisation; the other roles act programme-wide."""
        return self in {Role.STAFF_GROUP_MEMBER, Role.MUTUAL_LEADER}


ROLE_LABELS = {
    Role.STAFF_GROUP_MEMBER: "Staff group member",
    Role.MUTUAL_LEADER: "Mutual leader",
    Role.AMBASSADOR: "Ambassador",
    Role.ASSESSOR: "Assessor",
    Role.PROGRAMME_OFFICER: "Programme officer",
    Role.ADMINISTRATOR: "Administrator",
}

ROLE_CHOICES = [(role.value, role.label) for role in Role]
PROGRAMME_STAFF = frozenset({Role.PROGRAMME_OFFICER, Role.ADMINISTRATOR})
# Roles that act programme-wide (not for one organisation): they may turn on two-factor
# sign-in, and MUTUALISE_REQUIRE_STAFF_2FA makes it compulsory for them.
TWO_FACTOR_ROLES = frozenset(role for role in Role if not role.is_organisation_scoped)
