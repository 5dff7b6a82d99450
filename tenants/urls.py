"""Public-site URLs of the tenants app: sign-up and the company chooser."""

from django.urls import path

from tenants import team_views, views

urlpatterns = [
    path("signup/", views.signup, name="signup"),
    path("companies/", views.companies, name="companies"),
    path("companies/<slug:slug>/enter/", views.enter_company, name="enter_company"),
    path("companies/<slug:slug>/final-export/", views.final_export, name="final_export"),
]

urlpatterns += [
    path("invitations/<str:token>/", team_views.accept_invitation, name="accept_invitation"),
    path(
        "invitations/<str:token>/switch/",
        team_views.leave_for_invitation,
        name="invitation_switch_account",
    ),
]
