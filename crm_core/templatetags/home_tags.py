"""Small template helpers of the home page and the empty states."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django import template

register = template.Library()


@register.filter
def has_tasks(weeks: Iterable[Iterable[Any]]) -> bool:
    """Whether any day of the calendar's weeks has a task."""
    return any(day.tasks for week in weeks for day in week)
