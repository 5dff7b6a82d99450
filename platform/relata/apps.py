from django.apps import AppConfig


class RelataConfig(AppConfig):
    name = "relata"
    verbose_name = "Relata"
