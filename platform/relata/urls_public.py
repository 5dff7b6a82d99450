"""URLs of the public site (the bare base domain)."""

from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

from communications import oauth_views
from relata import views
from relata.metrics import metrics_view

admin.site.site_header = "Relata operators"

handler500 = "relata.views.server_error"

urlpatterns = [
    path("", views.landing, name="landing"),
    path("healthz", views.healthz, name="healthz"),
    path("metrics", metrics_view, name="metrics"),
    path("i18n/", include("django.conf.urls.i18n")),
    # Accounts are created with a company on our own sign-up page.
    path("accounts/signup/", RedirectView.as_view(pattern_name="signup", permanent=False)),
    path("accounts/", include("allauth.urls")),
    path("ops/admin/", admin.site.urls),
    path("ops/", include("billing.urls_ops")),
    # Mail providers return here after an OAuth2 sign-in (one registered address for all
    # companies); the view sends the browser back to the company host.
    path("mail/oauth/callback/", oauth_views.callback, name="mail_oauth_callback"),
    path("", include("tenants.urls")),
    path("", include("billing.urls")),
]
