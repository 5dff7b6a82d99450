"""Public-site URLs of the tenants app: sign-up and the company chooser."""

from django.urls import path

from tenants import views

urlpatterns = [
    path("signup/", views.signup, name="signup"),
    path("companies/", views.companies, name="companies"),
    path("companies/<slug:slug>/enter/", views.enter_company, name="enter_company"),
    path("companies/<slug:slug>/final-export/", views.final_export, name="final_export"),
]
