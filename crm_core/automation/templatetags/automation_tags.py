from __future__ import annotations

from typing import Any

from django import template

register = template.Library()


@register.filter
def get_item(mapping: Any, key: str) -> Any:
    """mapping[key] in a template (the form's fields are configured, not known in advance)."""
    if isinstance(mapping, dict):
        return mapping.get(key, "")
    return ""
