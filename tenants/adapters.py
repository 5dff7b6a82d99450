from __future__ import annotations

from allauth.account.adapter import DefaultAccountAdapter
from django.http import HttpRequest


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request: HttpRequest) -> bool:
        # Accounts are created together with a company (tenants.views.signup) or by accepting
        # an invitation, never on their own: an account without a company has nowhere to go.
        return False
