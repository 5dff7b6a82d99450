"""Forms that create something act once per page (a double click, a re-sent POST).

A create form carries a random token (``{% form_once %}``); the view takes it before it creates
(a unique row: of simultaneous twins exactly one gets it) and lets it go again when the create
fails, so the person can correct the form and send it once more. The API has Idempotency-Key
for the same purpose (crm_core/api/idempotency.py).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from crm_core.models import SubmittedForm

FIELD = "form_token"
KEPT_FOR = timedelta(days=1)


class AlreadySubmittedError(Exception):
    """This page's form was already sent and acted on."""


@contextmanager
def acting_once(token_text: str | None) -> Iterator[None]:
    """Run the create inside; AlreadySubmittedError when the token was taken. A form without a
    token (an older page) is not held back."""
    try:
        token: uuid.UUID | None = uuid.UUID(str(token_text))
    except ValueError:
        token = None
    if token is None:
        yield
        return
    SubmittedForm.objects.filter(created_at__lt=timezone.now() - KEPT_FOR).delete()
    try:
        with transaction.atomic():
            taken = SubmittedForm.objects.create(token=token)
    except IntegrityError:
        raise AlreadySubmittedError from None
    try:
        yield
    except BaseException:
        taken.delete()
        raise
