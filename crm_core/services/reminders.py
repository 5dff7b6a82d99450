"""Reminders before a task's deadline and notices when it is overdue, in-app and by e-mail.

Run by Celery beat for every company (crm_core.tasks). Each notice is claimed with a
conditional UPDATE before it is sent, so two workers, a retry or a restarted beat never send
the same reminder twice.
"""

from __future__ import annotations

from datetime import datetime

from django.core.mail import send_mail
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from crm_core.models import Notification, Task
from tenants.models import Company, User
from tenants.zones import zone_of


def _notify(user_id: int | None, text: str, url: str, company: Company) -> None:
    if user_id is None:
        return
    Notification.objects.create(user_id=user_id, text=text, url=url)
    user = User.objects.filter(pk=user_id, is_active=True).first()
    if user is not None:
        send_mail(f"{company.name}: {text}", text, None, [user.email], fail_silently=True)


def send_due(company: Company, now: datetime | None = None) -> tuple[int, int]:
    """(reminders sent, overdue notices sent) for tasks of the current company schema."""
    now = now or timezone.now()
    reminders = overdue = 0
    with translation.override(company.language):
        for task in Task.objects.filter(
            done_at__isnull=True, remind_at__lte=now, reminder_sent_at__isnull=True
        ).select_related("assignee"):
            if Task.objects.filter(pk=task.pk, reminder_sent_at__isnull=True).update(
                reminder_sent_at=now
            ):
                _notify(
                    task.assignee_id,
                    _("Reminder: %(task)s by %(deadline)s")
                    % {
                        "task": task.title,
                        # In the assignee's own time zone (else the company's).
                        "deadline": task.deadline.astimezone(
                            zone_of(task.assignee, company)
                        ).strftime("%d.%m.%Y %H:%M"),
                    },
                    f"/tasks/{task.pk}/",
                    company,
                )
                reminders += 1
        for task in Task.objects.filter(
            done_at__isnull=True, deadline__lt=now, overdue_notified_at__isnull=True
        ):
            if Task.objects.filter(pk=task.pk, overdue_notified_at__isnull=True).update(
                overdue_notified_at=now
            ):
                _notify(
                    task.assignee_id,
                    _("Overdue: %(task)s") % {"task": task.title},
                    f"/tasks/{task.pk}/",
                    company,
                )
                overdue += 1
    return reminders, overdue
