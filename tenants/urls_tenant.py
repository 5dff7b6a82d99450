"""URLs on a company's host for coming in and going out."""

from django.urls import path

from tenants import profile_views, team_views, views

urlpatterns = [
    path("handoff/<str:token>/", views.redeem_handoff, name="handoff"),
    path("support/end/", views.end_support, name="support_end"),
    path("support/<str:token>/", views.enter_support, name="support_enter"),
    path("login/", views.company_login, name="company_login"),
    path("logout/", views.company_logout, name="company_logout"),
    path("settings/security/", views.company_security, name="company_security"),
    path("profile/", profile_views.profile, name="profile"),
]

urlpatterns += [
    path("settings/team/", team_views.team, name="team"),
    path("settings/team/invite/", team_views.invite, name="team_invite"),
    path("settings/team/support/", team_views.support_access, name="team_support_access"),
    path(
        "settings/team/invitations/<int:invitation_id>/resend/",
        team_views.resend,
        name="team_invitation_resend",
    ),
    path(
        "settings/team/invitations/<int:invitation_id>/revoke/",
        team_views.revoke,
        name="team_invitation_revoke",
    ),
    path("settings/team/members/<int:member_id>/role/", team_views.change_role, name="team_role"),
    path(
        "settings/team/members/<int:member_id>/deactivate/",
        team_views.deactivate,
        name="team_deactivate",
    ),
    path(
        "settings/team/members/<int:member_id>/transfer/",
        team_views.transfer,
        name="team_transfer",
    ),
]
