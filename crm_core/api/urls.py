from collections.abc import Callable
from functools import wraps
from typing import Any

from django.http import Http404, HttpRequest
from django.http.response import HttpResponseBase
from django.urls import include, path
from drf_spectacular.views import (
    SpectacularAPIView,
    SpectacularRedocView,
    SpectacularSwaggerSplitView,
)
from rest_framework.permissions import AllowAny
from rest_framework.routers import SimpleRouter

from crm_core.access import member_required
from crm_core.api import pages, views
from crm_core.api.auth import BearerTokenAuthentication
from crm_core.api.permissions import TokenOrMember

router = SimpleRouter(trailing_slash=True)
router.register("clients", views.ClientViewSet, basename="api-client")
router.register("contacts", views.ContactViewSet, basename="api-contact")
router.register("deals", views.DealViewSet, basename="api-deal")
router.register("tasks", views.TaskViewSet, basename="api-task")
router.register("products", views.ProductViewSet, basename="api-product")
router.register("requests", views.RequestViewSet, basename="api-request")
router.register("webhooks", views.WebhookSubscriptionViewSet, basename="api-webhook")

# The schema and its viewers describe the API, not any company's data; still, like every page
# of a company's host, they are for its members (a session) or its integrations (a token).
open_to_token: dict[str, Any] = {
    "authentication_classes": [BearerTokenAuthentication],
    "permission_classes": [TokenOrMember],
    "throttle_classes": [],
}
public: dict[str, Any] = {
    "authentication_classes": [],
    "permission_classes": [AllowAny],
    "throttle_classes": [],
}


def member_or_token(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
    """A member's browser (session), or a call with a Bearer token: a bad token is refused
    (401) by the view's authentication and permission; any other request — no header, or
    another scheme such as Basic — goes through member_required, which sends strangers to
    log in."""
    members_only = member_required(view)

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        scheme = request.headers.get("Authorization", "").split(" ", 1)[0]
        if scheme.lower() == BearerTokenAuthentication.keyword.lower():
            if getattr(request, "company", None) is None:
                raise Http404("not a company host")
            return view(request, *args, **kwargs)
        return members_only(request, *args, **kwargs)

    return wrapper


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
    path(
        "api/v1/schema/",
        member_or_token(SpectacularAPIView.as_view(**open_to_token)),
        name="api_schema",
    ),
    path(
        "api/v1/docs/",
        member_required(
            docs_page(SpectacularSwaggerSplitView.as_view(url_name="api_schema", **public))
        ),
        name="api_docs",
    ),
    path(
        "api/v1/redoc/",
        member_required(docs_page(SpectacularRedocView.as_view(url_name="api_schema", **public))),
        name="api_redoc",
    ),
    path("settings/api-tokens/", pages.tokens, name="api_tokens"),
    path("settings/api-tokens/<int:token_id>/revoke/", pages.revoke, name="api_token_revoke"),
    path("api/v1/", include(router.urls)),
    path("api/v1/<path:unknown>", views.not_found),
]
