"""URLs on a company's host for coming in and going out."""

from django.urls import path

from tenants import views

urlpatterns = [
    path("handoff/<str:token>/", views.redeem_handoff, name="handoff"),
    path("login/", views.company_login, name="company_login"),
    path("logout/", views.company_logout, name="company_logout"),
    path("settings/security/", views.company_security, name="company_security"),
]
