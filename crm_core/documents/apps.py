from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DocumentsConfig(AppConfig):
    name = "crm_core.documents"
    label = "documents"
    verbose_name = _("Documents")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # A new company gets Russian starting templates, the way crm_core gives it a pipeline.
        from crm_core.documents.services.defaults import on_company_provisioned
        from tenants.signals import company_provisioned

        company_provisioned.connect(
            on_company_provisioned, dispatch_uid="documents.default_templates"
        )
        # The board's cards and the deals list show each deal's payment by its invoices.
        from crm_core.documents.queries import payment_marks
        from crm_core.queries.deals import register_deal_mark

        register_deal_mark(payment_marks)
