"""``{% form_once %}``: the one-time token of a form that creates something (services/once.py)."""

from __future__ import annotations

import uuid

from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString

from crm_core.services.once import FIELD

register = template.Library()


@register.simple_tag
def form_once() -> SafeString:
    return format_html('<input type="hidden" name="{}" value="{}">', FIELD, uuid.uuid4())
