"""URLs on a company's host (``<slug>.<base domain>``)."""

from django.urls import include, path

handler500 = "relata.views.server_error"

urlpatterns = [
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("tenants.urls_tenant")),
    path("", include("billing.urls_tenant")),
    # Before crm_core: its API answers any unknown /api/v1/ path with 404.
    path("", include("service.urls")),
    path("", include("crm_core.urls")),
    path("", include("crm_core.documents.urls")),
    path("", include("onboarding.urls")),
    path("", include("communications.urls")),
    path("", include("telephony.urls")),
    path("", include("exchange1c.urls")),
    path("", include("telegram.urls")),
    path("", include("marketing.urls")),
    path("", include("knowledge.urls")),
]
