"""factory_boy factories for the programme's models. Apps add theirs in tests/<app>/factories.py."""

from __future__ import annotations

import factory

from mutualise.core.models import RoleAssignment, User
from mutualise.journeys.models import Journey
from mutualise.organisations.models import Identifier, Organisation, OrganisationKind


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    full_name = factory.Faker("name", locale="en_GB")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.org")
    password = factory.django.Password("correct horse battery staple")


def grant(user: User, role: str, organisation: Organisation | None = None) -> User:
    RoleAssignment.objects.get_or_create(user=user, role=role, organisation=organisation)
    user.__dict__.pop("_role_cache", None)
    return user


class PublicBodyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organisation

    name = factory.Sequence(lambda n: f"Borough Council {n}")
    kind = OrganisationKind.PUBLIC_BODY
    legal_form = "public_body"
    public_body_type = "local-authority"
    region = "north-west"


class OrganisationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organisation

    name = factory.Sequence(lambda n: f"Community Health Team {n}")
    kind = OrganisationKind.STAFF_GROUP
    sector = "health"
    region = "north-west"
    parent_body = factory.SubFactory(PublicBodyFactory)
    delivers_in_england = True
    delivers_public_services = True


class IdentifierFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Identifier

    organisation = factory.SubFactory(OrganisationFactory)
    scheme = "GB-COH"
    value = factory.Sequence(lambda n: f"{90000000 + n:08d}")


class JourneyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Journey

    organisation = factory.SubFactory(OrganisationFactory)
