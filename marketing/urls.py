from django.urls import path

from marketing import public_views, views

urlpatterns = [
    path("marketing/", views.campaign_list, name="marketing_campaigns"),
    path("marketing/new/", views.campaign_edit, name="marketing_campaign_new"),
    path("marketing/<int:campaign_id>/", views.campaign_detail, name="marketing_campaign"),
    path("marketing/<int:campaign_id>/edit/", views.campaign_edit, name="marketing_campaign_edit"),
    path(
        "marketing/<int:campaign_id>/preview/",
        views.campaign_preview,
        name="marketing_campaign_preview",
    ),
    path("marketing/<int:campaign_id>/test/", views.campaign_test, name="marketing_campaign_test"),
    path("marketing/<int:campaign_id>/send/", views.campaign_send, name="marketing_campaign_send"),
    path(
        "marketing/<int:campaign_id>/schedule/",
        views.campaign_schedule,
        name="marketing_campaign_schedule",
    ),
    path(
        "marketing/<int:campaign_id>/cancel/",
        views.campaign_cancel,
        name="marketing_campaign_cancel",
    ),
    path(
        "marketing/<int:campaign_id>/resume/",
        views.campaign_resume,
        name="marketing_campaign_resume",
    ),
    path("marketing/<int:campaign_id>/cost/", views.campaign_cost, name="marketing_campaign_cost"),
    path("marketing/segments/", views.segment_list, name="marketing_segments"),
    path("marketing/segments/new/", views.segment_edit, name="marketing_segment_new"),
    path("marketing/segments/<int:segment_id>/", views.segment_detail, name="marketing_segment"),
    path(
        "marketing/segments/<int:segment_id>/edit/",
        views.segment_edit,
        name="marketing_segment_edit",
    ),
    path(
        "marketing/segments/<int:segment_id>/members/",
        views.segment_members,
        name="marketing_segment_members",
    ),
    path("marketing/sending/", views.sending, name="marketing_sending"),
    path(
        "marketing/contacts/<int:contact_id>/consent/",
        views.contact_consent,
        name="marketing_contact_consent",
    ),
    path(
        "marketing/contacts/<int:contact_id>/consent/<int:consent_id>/withdraw/",
        views.consent_withdraw,
        name="marketing_consent_withdraw",
    ),
    # Public, on the company host: what a recipient's letter links to.
    path("public/m/u/<str:token>/", public_views.unsubscribe, name="marketing_unsubscribe"),
    path("public/m/c/<str:token>/", public_views.click, name="marketing_click"),
    path("public/m/o/<str:token>/", public_views.opened, name="marketing_open"),
    path(
        "public/marketing/hooks/<str:provider>/", public_views.provider_hook, name="marketing_hook"
    ),
]
