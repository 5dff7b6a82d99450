"""Where customer service joins the rest of the product, which does not import it: the card
feeds, the reports, the saved views of the lists and their bulk actions, automation's timer
engine, who reads a ticket's letters, and the signals of mail, Telegram and telephony."""

from __future__ import annotations


def connect() -> None:
    from communications import queries as mail_queries
    from communications.signals import message_stored
    from crm_core import list_views
    from crm_core.automation.services import timers
    from crm_core.queries import cards
    from crm_core.reports import queries as reports
    from crm_core.services import bulk
    from knowledge import public_views as help_centre
    from service import queries, report_queries
    from service.services import bulk as ticket_bulk
    from service.services import channels, sla
    from telegram.signals import client_message
    from telephony.signals import call_logged

    cards.register_feed_source(queries.feed_entries)
    # A ticket's letters and their files open for whoever sees the ticket.
    mail_queries.register_message_access(queries.may_read_letter)
    help_centre.REQUEST_PAGES.append(request_page_url)
    timers.register_due_source(
        timers.DueSource(name="service.sla", next_due=sla.next_due, fire=sla.fire_due)
    )
    # A saved view of the tickets list opens the tickets list.
    list_views.LIST_URLS["tickets"] = "tickets"
    # Its bulk actions (assign, queue, status, priority) run on the lists' bulk machinery.
    bulk.register_list("tickets", ticket_bulk.LIST)
    reports.REPORTS.update(report_queries.REPORTS)
    message_stored.connect(channels.mail_stored, dispatch_uid="service.mail_stored")
    client_message.connect(channels.telegram_message, dispatch_uid="service.telegram")
    call_logged.connect(channels.call_logged, dispatch_uid="service.calls")


def request_page_url() -> str | None:
    """The help centre's "Submit a request" page, while the company takes requests there."""
    from django.urls import reverse

    from service.models import ServiceSettings

    return reverse("help_request") if ServiceSettings.current().help_requests else None
