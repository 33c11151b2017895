from django.apps import AppConfig


class FundConfig(AppConfig):
    name = "mutualise.fund"
    label = "fund"
