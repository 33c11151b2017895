from django.apps import AppConfig


class AmbassadorsConfig(AppConfig):
    name = "mutualise.ambassadors"
    label = "ambassadors"
