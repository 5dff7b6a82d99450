from typing import Any

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView
from rest_framework.routers import SimpleRouter

from crm_core.api import pages, views

router = SimpleRouter(trailing_slash=True)
router.register("clients", views.ClientViewSet, basename="api-client")
router.register("contacts", views.ContactViewSet, basename="api-contact")
router.register("deals", views.DealViewSet, basename="api-deal")
router.register("tasks", views.TaskViewSet, basename="api-task")
router.register("products", views.ProductViewSet, basename="api-product")
router.register("requests", views.RequestViewSet, basename="api-request")

# The schema and its viewers are public (they describe the API, not any company's data).
public: dict[str, Any] = {
    "authentication_classes": [],
    "permission_classes": [],
    "throttle_classes": [],
}

urlpatterns = [
    path("api/v1/schema/", SpectacularAPIView.as_view(**public), name="api_schema"),
    path(
        "api/v1/docs/",
        SpectacularSwaggerView.as_view(url_name="api_schema", **public),
        name="api_docs",
    ),
    path(
        "api/v1/redoc/",
        SpectacularRedocView.as_view(url_name="api_schema", **public),
        name="api_redoc",
    ),
    path("settings/api-tokens/", pages.tokens, name="api_tokens"),
    path("settings/api-tokens/<int:token_id>/revoke/", pages.revoke, name="api_token_revoke"),
    path("api/v1/", include(router.urls)),
    path("api/v1/<path:unknown>", views.not_found),
]
