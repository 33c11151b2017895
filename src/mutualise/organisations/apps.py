from django.apps import AppConfig


class OrganisationsConfig(AppConfig):
    name = "mutualise.organisations"
    label = "organisations"
    verbose_name = "Organisations"
