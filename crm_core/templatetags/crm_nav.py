"""The main menu's current section, from the page's path."""

from __future__ import annotations

from django import template
from django.http import HttpRequest

register = template.Library()

# Path prefix → the menu entry that holds it. The longest matching prefix wins, so the calendar
# (/tasks/calendar/) is not "My day" (/tasks/), and a deal's card (/deals/42/) is "Deals".
SECTIONS = {
    "/deals/": "deals",
    "/clients/": "clients",
    "/contacts/": "clients",
    "/leads/": "requests",
    "/tickets/": "tickets",
    "/mail/": "mail",
    "/calls/": "calls",
    "/marketing/": "campaigns",
    "/knowledge/": "knowledge",
    "/tasks/": "my_day",
    "/tasks/calendar/": "calendar",
    "/reports/": "reports",
    "/settings/": "settings",
    "/products/": "products",
}


@register.simple_tag(takes_context=True)
def nav_section(context: template.Context) -> str:
    """The menu entry the page belongs to ("" when none does); "home" for the home page."""
    request: HttpRequest | None = context.get("request")
    if request is None:
        return ""
    path = request.path
    if path == "/":
        return "home"
    matches = [prefix for prefix in SECTIONS if path.startswith(prefix)]
    return SECTIONS[max(matches, key=len)] if matches else ""
