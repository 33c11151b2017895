import pytest
from django.db import connection, transaction

from mutualise.core import audit
from mutualise.core.audit import verify_chain
from mutualise.core.models import AuditEvent
from tests.factories import OrganisationFactory, UserFactory


def _record(n, actor=None):
    organisation = OrganisationFactory()
    with transaction.atomic():
        for i in range(n):
            audit.record(
                actor=actor,
                action="test.changed",
                obj=organisation,
                organisation=organisation,
                before={"i": i},
                after={"i": i + 1},
            )
    return organisation


@pytest.mark.django_db
def test_chain_of_untouched_entries_verifies():
    _record(3, UserFactory())
    assert verify_chain() == []
    first, second = AuditEvent.objects.order_by("id")[:2]
    assert second.previous_hash == first.entry_hash


@pytest.mark.django_db
def test_edited_entry_is_detected():
    _record(3)
    victim = AuditEvent.objects.order_by("id")[1]
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE core_auditevent SET after = %s WHERE id = %s", ['{"i": 99}', victim.id]
        )
    problems = verify_chain()
    assert [p.event_id for p in problems] == [victim.id]
    assert "edited" in problems[0].reason


@pytest.mark.django_db
def test_deleted_entry_is_detected():
    _record(3)
    victim = AuditEvent.objects.order_by("id")[1]
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM core_auditevent WHERE id = %s", [victim.id])
    problems = verify_chain()
    assert any("deleted" in p.reason for p in problems)


@pytest.mark.django_db
def test_deleting_the_newest_entry_is_detected():
    _record(2)
    newest = AuditEvent.objects.order_by("-id").first()
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM core_auditevent WHERE id = %s", [newest.id])
    assert any("newest" in p.reason for p in verify_chain())


@pytest.mark.django_db
def test_the_orm_refuses_to_change_or_delete_entries():
    _record(1)
    event = AuditEvent.objects.get()
    with pytest.raises(PermissionError):
        event.save()
    with pytest.raises(PermissionError):
        event.delete()
    with pytest.raises(PermissionError):
        AuditEvent.objects.all().delete()
    with pytest.raises(PermissionError):
        AuditEvent.objects.update(action="x")


@pytest.mark.django_db(transaction=True)
def test_record_outside_a_transaction_is_refused():
    organisation = OrganisationFactory()
    with pytest.raises(RuntimeError):
        audit.record(actor=None, action="x", obj=organisation)
