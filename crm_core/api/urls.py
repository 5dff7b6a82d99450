from collections.abc import Callable
from functools import wraps
from typing import Any

from django.http import HttpRequest
from django.http.response import HttpResponseBase
from django.urls import include, path
from drf_spectacular.views import (
    SpectacularAPIView,
    SpectacularRedocView,
    SpectacularSwaggerSplitView,
)
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

# The documentation viewers (Swagger UI, Redoc) style themselves inline and Redoc runs a worker
# from a blob; these pages show no company data, so they get a policy that lets them draw.
DOCS_POLICY = "; ".join(
    [
        "default-src 'self'",
        "img-src 'self' data:",
        "style-src 'self' 'unsafe-inline'",
        "script-src 'self'",
        "worker-src 'self' blob:",
        "frame-ancestors 'none'",
    ]
)


def docs_page(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        response = view(request, *args, **kwargs)
        response.headers["Content-Security-Policy"] = DOCS_POLICY
        return response

    return wrapper


urlpatterns = [
    path("api/v1/schema/", SpectacularAPIView.as_view(**public), name="api_schema"),
    path(
        "api/v1/docs/",
        docs_page(SpectacularSwaggerSplitView.as_view(url_name="api_schema", **public)),
        name="api_docs",
    ),
    path(
        "api/v1/redoc/",
        docs_page(SpectacularRedocView.as_view(url_name="api_schema", **public)),
        name="api_redoc",
    ),
    path("settings/api-tokens/", pages.tokens, name="api_tokens"),
    path("settings/api-tokens/<int:token_id>/revoke/", pages.revoke, name="api_token_revoke"),
    path("api/v1/", include(router.urls)),
    path("api/v1/<path:unknown>", views.not_found),
]
