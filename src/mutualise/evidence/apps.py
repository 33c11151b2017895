from django.apps import AppConfig


class EvidenceConfig(AppConfig):
    name = "mutualise.evidence"
    label = "evidence"
