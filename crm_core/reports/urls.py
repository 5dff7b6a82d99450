from django.urls import path

from crm_core.reports import views

urlpatterns = [
    path("reports/", views.index, name="reports"),
    path("reports/<slug:key>/", views.report, name="report"),
    path("reports/<slug:key>/export/", views.report_export, name="report_export"),
]
