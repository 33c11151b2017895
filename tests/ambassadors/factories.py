"""Factories for ambassador records."""

from __future__ import annotations

import factory

from mutualise.ambassadors.models import AmbassadorProfile
from mutualise.organisations.models import OrganisationKind
from tests.factories import OrganisationFactory, PublicBodyFactory, UserFactory, grant


class MutualFactory(OrganisationFactory):
    name = factory.Sequence(lambda n: f"Established Mutual {n}")
    kind = OrganisationKind.MUTUAL
    parent_body = factory.SubFactory(PublicBodyFactory, public_body_type="nhs")


class AmbassadorProfileFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AmbassadorProfile
        skip_postgeneration_save = True

    user = factory.SubFactory(UserFactory)
    leads_organisation = factory.SubFactory(MutualFactory)
    sectors = factory.LazyFunction(lambda: ["health"])
    stages = factory.LazyFunction(lambda: ["EXPLORE", "BUSINESS_CASE"])
    regions = factory.LazyFunction(lambda: ["north-west"])
    capacity = 2
    topics_offered = factory.LazyFunction(lambda: ["pensions", "business-planning"])
    excluded_topics = factory.LazyFunction(list)

    @factory.post_generation
    def role(self, create, extracted, **kwargs):
        if create:
            grant(self.user, "ambassador")
