from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class Exchange1CConfig(AppConfig):
    name = "exchange1c"
    label = "exchange1c"
    verbose_name = _("Exchange with 1C")
