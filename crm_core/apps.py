from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CrmCoreConfig(AppConfig):
    name = "crm_core"
    verbose_name = _("CRM")

    def ready(self) -> None:
        from crm_core.services.pipelines import on_company_provisioned
        from tenants.signals import company_provisioned

        company_provisioned.connect(
            on_company_provisioned, dispatch_uid="crm_core.default_pipeline"
        )
