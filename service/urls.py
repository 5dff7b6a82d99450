from django.urls import include, path
from rest_framework.routers import SimpleRouter

from service import api, public_views, views

router = SimpleRouter(trailing_slash=True)
router.register("tickets", api.TicketViewSet, basename="api-ticket")

urlpatterns = [
    # Members.
    path("tickets/", views.ticket_list, name="tickets"),
    path("tickets/new/", views.ticket_new, name="ticket_new"),
    path("tickets/<int:ticket_id>/", views.ticket_detail, name="ticket"),
    path("tickets/<int:ticket_id>/reply/", views.ticket_reply, name="ticket_reply"),
    path("tickets/<int:ticket_id>/note/", views.ticket_note, name="ticket_note"),
    path("tickets/<int:ticket_id>/fields/", views.ticket_fields, name="ticket_fields"),
    path("tickets/<int:ticket_id>/merge/", views.ticket_merge, name="ticket_merge"),
    path("tickets/<int:ticket_id>/split/", views.ticket_split, name="ticket_split"),
    path("settings/service/", views.service_settings, name="service_settings"),
    # The company's customers, no account (public_views says what each checks).
    path("help/request/", public_views.help_request, name="help_request"),
    path("help/my/", public_views.help_my_link, name="help_my_link"),
    path("help/my/<str:token>/", public_views.help_my, name="help_my"),
    path(
        "help/my/<str:token>/<int:ticket_id>/", public_views.help_my_ticket, name="help_my_ticket"
    ),
    path("help/survey/<str:token>/", public_views.help_survey, name="help_survey"),
    # The REST API, beside crm_core's resources.
    path("api/v1/", include(router.urls)),
]
