from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "mutualise.core"
    label = "core"
    verbose_name = "Users, roles and audit"
