from django.urls import path

from crm_core.automation import public_views, request_views, subscription_views, views

urlpatterns = [
    # Open to anyone: the company's customers leave requests here.
    path("public/forms/<str:token>/", public_views.request_form, name="automation_public_form"),
    path("public/forms/<str:token>/embed.js", public_views.embed_script, name="automation_embed"),
    path("public/api/requests/", public_views.api_request, name="automation_api_request"),
    # Members.
    path("automation/", views.overview, name="automation_overview"),
    path("automation/template/", views.install_template, name="automation_template"),
    path("automation/forms/new/", views.form_edit, name="automation_form_new"),
    path("automation/forms/<int:form_id>/", views.form_edit, name="automation_form"),
    path("automation/forms/<int:form_id>/key/", views.form_key, name="automation_form_key"),
    path("automation/rules/new/", views.rule_edit, name="automation_rule_new"),
    path("automation/rules/<int:rule_id>/", views.rule_edit, name="automation_rule"),
    path(
        "automation/rules/<int:rule_id>/actions/<int:action_id>/remove/",
        views.action_remove,
        name="automation_action_remove",
    ),
    path("automation/rules/<int:rule_id>/dry-run/", views.rule_dry_run, name="automation_dry_run"),
    path("automation/repeats/", request_views.repeat_window, name="automation_repeats"),
    path("automation/hours/", views.working_hours, name="automation_hours"),
    path("automation/webhooks/", views.webhook_log, name="automation_webhooks"),
    path(
        "automation/webhooks/<int:delivery_id>/resend/",
        views.webhook_resend,
        name="automation_webhook_resend",
    ),
    path(
        "automation/subscriptions/",
        subscription_views.subscriptions,
        name="automation_subscriptions",
    ),
    path(
        "automation/subscriptions/<int:subscription_id>/switch/",
        subscription_views.subscription_switch,
        name="automation_subscription_switch",
    ),
    path("automation/deals/<int:deal_id>/sla/", views.deal_sla, name="automation_deal_sla"),
]
