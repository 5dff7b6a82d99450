"""Consent given on a web form: the form has a field with the key ``consent`` (a checkbox
whose label is the text agreed to); when the visitor ticks it, the consent is recorded for the
address they left, with the form's name and page — the evidence 152-ФЗ asks the company to
keep. Unticked, nothing is recorded (and nothing is assumed)."""

from __future__ import annotations

from crm_core.automation.models import CapturedRequest
from crm_core.automation.services.capture import fields_of, label_of
from crm_core.models import Contact
from marketing.models import Consent
from marketing.services.consent import record_consent

TICKED = {"on", "yes", "true", "1", "да"}
CONSENT_KEY = "consent"


def record_from_request(captured: CapturedRequest) -> Consent | None:
    payload = captured.payload or {}
    if str(payload.get(CONSENT_KEY, "")).strip().lower() not in TICKED:
        return None
    email = str(payload.get("email", "")).strip().lower()
    if not email or len(email) > 254 or "@" not in email:
        return None
    spec = next((s for s in fields_of(captured.form) if s.get("key") == CONSENT_KEY), None)
    if spec is None:
        return None  # the form asks no consent: a stray field proves nothing
    contact = Contact.objects.filter(emails__contains=[email]).order_by("pk").first()
    page = str((captured.source or {}).get("page_url", ""))
    return record_consent(
        membership=None,
        contact=contact,
        email=email,
        source=Consent.Source.WEB_FORM,
        text=label_of(spec),
        details=f"{captured.form.name} {page}".strip()[:300],
    )
