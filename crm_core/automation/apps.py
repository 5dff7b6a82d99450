from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AutomationConfig(AppConfig):
    name = "crm_core.automation"
    label = "automation"
    verbose_name = _("Automation")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # The CRM services announce their writes; stage rules and SLA timers react to them.
        from crm_core import signals
        from crm_core.automation import receivers

        signals.deal_created.connect(receivers.on_deal_created, dispatch_uid="automation.created")
        signals.deal_moved.connect(receivers.on_deal_moved, dispatch_uid="automation.moved")
        signals.deals_moved.connect(receivers.on_deals_moved, dispatch_uid="automation.moved_many")
        signals.task_completed.connect(
            receivers.on_task_completed, dispatch_uid="automation.task_done"
        )
        signals.tasks_completed.connect(
            receivers.on_tasks_completed, dispatch_uid="automation.tasks_done"
        )
        # Outgoing webhooks for integrations (subscriptions).
        for signal, receiver in (
            (signals.deal_created, receivers.publish_deal_created),
            (signals.deal_moved, receivers.publish_deal_moved),
            (signals.deal_changed, receivers.publish_deal_changed),
            (signals.contact_saved, receivers.publish_contact_saved),
            (signals.task_created, receivers.publish_task_created),
            (signals.tasks_created, receivers.publish_tasks_created),
            (signals.task_completed, receivers.publish_task_completed),
            (signals.tasks_completed, receivers.publish_tasks_completed),
            (signals.deals_moved, receivers.publish_deals_moved),
            (signals.deals_changed, receivers.publish_deals_changed),
            (signals.contacts_changed, receivers.publish_contacts_changed),
        ):
            signal.connect(receiver, dispatch_uid=f"automation.publish.{receiver.__name__}")
