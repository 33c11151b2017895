import pytest
from django.db import transaction

from mutualise.core import audit, personal_data
from mutualise.core.audit import verify_chain
from mutualise.core.models import AuditEvent
from tests.factories import OrganisationFactory, UserFactory, grant


@pytest.mark.django_db
def test_export_holds_account_roles_and_actions():
    organisation = OrganisationFactory()
    user = grant(
        UserFactory(username="sam", full_name="Sam Jones"), "staff_group_member", organisation
    )
    with transaction.atomic():
        audit.record(actor=user, action="journey.evidence_updated", obj=organisation)
    data = personal_data.export(user)
    assert data["account"]["full_name"] == "Sam Jones"
    assert data["roles"] == [{"role": "staff_group_member", "organisation": organisation.name}]
    assert data["actions_in_audit_log"][0]["action"] == "journey.evidence_updated"


@pytest.mark.django_db
def test_erase_anonymises_and_keeps_the_audit_chain_valid():
    organisation = OrganisationFactory()
    user = UserFactory(username="sam", full_name="Sam Jones", email="sam@example.org")
    with transaction.atomic():
        audit.record(actor=user, action="journey.evidence_updated", obj=organisation)
    personal_data.erase(user)
    user.refresh_from_db()
    assert user.username == f"erased-user-{user.pk}"
    assert user.email == "" and user.full_name == "" and not user.is_active
    assert not user.has_usable_password()
    assert "Sam Jones" not in AuditEvent.objects.values_list("actor_label", flat=True)
    assert verify_chain() == []


@pytest.mark.django_db
def test_unknown_user_is_a_clear_error():
    with pytest.raises(personal_data.PersonalDataError, match="no user"):
        personal_data.find_user("nobody")
