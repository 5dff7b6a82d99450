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
        from django.db.models.signals import post_delete, post_save

        from crm_core import signals
        from crm_core.models import Deal, Stage
        from crm_core.queries.home import forget_home_figures

        for signal in (
            signals.deal_created,
            signals.deal_moved,
            signals.deal_changed,
            signals.deals_moved,
            signals.deals_changed,
        ):
            signal.connect(forget_home_figures, dispatch_uid=f"crm_core.home.{id(signal)}")
        # Writes that bypass the services (imports, merges, the API's bulk paths) still save or
        # delete rows.
        for model_signal in (post_save, post_delete):
            model_signal.connect(
                forget_home_figures, sender=Deal, dispatch_uid=f"crm_core.home.{id(model_signal)}"
            )
            # A stage renamed, re-weighted or archived: the figures and reports group by it.
            model_signal.connect(
                forget_home_figures,
                sender=Stage,
                dispatch_uid=f"crm_core.home.stage.{id(model_signal)}",
            )
