from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "mutualise.core"
    label = "core"
    verbose_name = "Users, roles and audit"

    def ready(self) -> None:
        # Rules are data, validated at start-up (DESIGN.md rule 2): a broken retention policy
        # stops the service here, not in someone's request for the privacy notice.
        from mutualise.core.retention import load_policy

        load_policy()
