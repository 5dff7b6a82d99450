"""The first-reply report: how fast customers' conversations got their first answer, per
channel (e-mail, Telegram), within the conversations the member sees. Registered with
crm_core's reports in apps.py."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.db.models import Aggregate, Avg, Count, DurationField, F, Q
from django.utils.translation import gettext as _

from communications.models import Channel
from communications.queries import visible_conversations
from crm_core.reports.queries import Bar, Report, Scope


class Median(Aggregate):
    function = "PERCENTILE_CONT"
    name = "median"
    template = "%(function)s(0.5) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = DurationField()


def _span(value: timedelta | None) -> str:
    if value is None:
        return "—"
    minutes = int(value.total_seconds() // 60)
    hours, minutes = divmod(minutes, 60)
    days, hours = divmod(hours, 24)
    if days:
        return _("%(d)s d %(h)s h") % {"d": days, "h": hours}
    if hours:
        return _("%(h)s h %(m)s min") % {"h": hours, "m": minutes}
    return _("%(m)s min") % {"m": minutes}


def first_reply(scope: Scope) -> Report:
    """Conversations whose customer first wrote in the period, by channel: how many, how many
    answered, the median and average time to the first answer, how many still wait."""
    started = visible_conversations(scope.membership).filter(
        first_inbound_at__gte=scope.start, first_inbound_at__lt=scope.end
    )
    delay = F("first_reply_at") - F("first_inbound_at")
    answered = Q(first_reply_at__isnull=False)
    grouped = (
        started.order_by()
        .values("channel")
        .annotate(
            total=Count("id"),
            answered=Count("id", filter=answered),
            median=Median(delay, filter=answered),
            average=Avg(delay, filter=answered, output_field=DurationField()),
            waiting=Count("id", filter=Q(awaiting_reply=True)),
        )
        .order_by("channel")
    )
    labels: dict[str, Any] = dict(Channel.choices)
    rows = []
    bars = []
    for row in grouped:
        label = str(labels.get(row["channel"], row["channel"]))
        rows.append(
            [
                label,
                row["total"],
                row["answered"],
                _span(row["median"]),
                _span(row["average"]),
                row["waiting"],
            ]
        )
        minutes = row["median"].total_seconds() / 60 if row["median"] else 0.0
        bars.append(Bar(label, minutes, _span(row["median"])))
    return Report(
        "first_reply",
        str(_("First reply to customers")),
        [
            _("Channel"),
            _("Conversations"),
            _("Answered"),
            _("Median first reply"),
            _("Average first reply"),
            _("Still waiting"),
        ],
        rows,
        bars,
        str(_("Median first reply")),
    )
