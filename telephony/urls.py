"""Telephony's addresses on a company's host."""

from django.urls import path

from telephony import views, webhooks

urlpatterns = [
    # What the PBX posts to (no login: signed by the company's keys).
    path("public/telephony/events/", webhooks.CallEventsView.as_view(), name="telephony_events"),
    # Mango posts a stored recording to <address>/events/record/added.
    path(
        "public/telephony/mango/events/record/added",
        webhooks.mango_event,
        {"event": "record_added"},
        name="telephony_mango_record_added",
    ),
    path(
        "public/telephony/mango/events/<slug:event>",
        webhooks.mango_event,
        name="telephony_mango",
    ),
    path("public/telephony/zadarma/", webhooks.zadarma_event, name="telephony_zadarma"),
    # Members.
    path("calls/", views.calls_page, name="calls"),
    path("calls/popup/", views.popup, name="call_popup"),
    path("calls/popup/close/", views.popup_close, name="call_popup_close"),
    path("calls/dial/", views.dial, name="call_dial"),
    path("calls/<int:call_id>/client/", views.popup_new_client, name="call_new_client"),
    path("calls/<int:call_id>/recording/", views.recording, name="call_recording"),
    path("settings/telephony/", views.settings_page, name="telephony_settings"),
    path("settings/telephony/extensions/", views.extension_add, name="telephony_extension_add"),
    path(
        "settings/telephony/extensions/<int:extension_id>/delete/",
        views.extension_delete,
        name="telephony_extension_delete",
    ),
    path("settings/telephony/secret/", views.secret_renew, name="telephony_secret_renew"),
]
