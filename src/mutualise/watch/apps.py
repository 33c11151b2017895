from django.apps import AppConfig


class WatchConfig(AppConfig):
    name = "mutualise.watch"
    label = "watch"
