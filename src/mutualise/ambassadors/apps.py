from django.apps import AppConfig


class AmbassadorsConfig(AppConfig):
    name = "mutualise.ambassadors"
    label = "ambassadors"
    verbose_name = "Ambassadors"

    def ready(self) -> None:
        from mutualise.ambassadors.matching_rules import load_rules
        from mutualise.core.permissions import register_extra_viewer

        load_rules()  # fail at start-up, not in a request, if the rules are broken
        register_extra_viewer(ambassador_sees_group)


def ambassador_sees_group(user, organisation_id: int) -> bool:  # type: ignore[no-untyped-def]
    """Ambassadors see the private records (journey) of the groups they have accepted."""
    from mutualise.ambassadors.services import is_ambassador_to
    from mutualise.core.roles import Role

    if not getattr(user, "is_authenticated", False) or not user.has_role(Role.AMBASSADOR):
        return False
    return is_ambassador_to(user, organisation_id)
