from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CrmCoreConfig(AppConfig):
    name = "crm_core"
    verbose_name = _("CRM")
