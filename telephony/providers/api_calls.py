"""Calls to a provider's API: one bounded request, errors turned into a message for the manager."""

from __future__ import annotations

import logging
from typing import Any

import requests
from django.conf import settings
from django.utils.translation import gettext as _

from telephony.providers.base import DialError

log = logging.getLogger("telephony.providers")


def call_api(method: str, url: str, **kwargs: Any) -> dict[str, Any]:
    """The JSON answer of the provider's API; ``DialError`` when it cannot be reached or says
    something that is not JSON. The URL may carry a signature, so it is never logged."""
    try:
        response = requests.request(
            method, url, timeout=settings.TELEPHONY_API_TIMEOUT_SECONDS, **kwargs
        )
    except requests.RequestException as exc:
        log.warning("telephony: the provider's API did not answer (%s)", type(exc).__name__)
        raise DialError(_("The PBX provider did not answer. Try again in a minute.")) from None
    try:
        data = response.json()
    except ValueError:
        data = None
    if not isinstance(data, dict):
        log.warning("telephony: the provider's API answered %s without JSON", response.status_code)
        raise DialError(
            _("The PBX provider answered with an error (%(status)s).")
            % {"status": response.status_code}
        )
    return data
