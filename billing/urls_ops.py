"""The operators' console on the public site (/ops/)."""

from django.urls import path

from billing.operators import views

urlpatterns = [
    path("", views.company_list, name="ops_companies"),
    path("metrics/", views.metrics, name="ops_metrics"),
    path("companies/<int:company_id>/", views.company_detail, name="ops_company"),
    path("companies/<int:company_id>/support/", views.open_support, name="ops_company_support"),
    path(
        "companies/<int:company_id>/<slug:action>/",
        views.company_action,
        name="ops_company_action",
    ),
]
