from django.apps import AppConfig


class JourneysConfig(AppConfig):
    name = "mutualise.journeys"
    label = "journeys"
    verbose_name = "Spin-out journeys"

    def ready(self) -> None:
        from mutualise.journeys import readiness, workflow

        workflow.load_workflow()  # fail at start-up, not in a request, if the rules are broken
        readiness.questionnaires()
