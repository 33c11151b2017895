from django.apps import AppConfig


class SuppliersConfig(AppConfig):
    name = "mutualise.suppliers"
    label = "suppliers"
    verbose_name = "Suppliers"
