"""Connecting, changing and removing mailboxes (company settings and a person's own)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from communications import credentials
from communications.models import Mailbox, MailboxReader
from communications.services.connection import MailboxError, imap, smtp
from crm_core.access import is_admin
from tenants.models import Membership

CONNECTION_FIELDS = (
    "imap_host",
    "imap_port",
    "imap_security",
    "smtp_host",
    "smtp_port",
    "smtp_security",
    "login",
    "auth_method",
)


def check_connection(mailbox: Mailbox, secret: str | None) -> None:
    """Sign in to IMAP and SMTP with these settings; raises ``MailboxError`` saying which
    failed and why. ``secret`` None: the one already stored."""
    with imap(mailbox, secret) as box:
        names = {f.name for f in box.folder.list()}
    if mailbox.sent_folder and mailbox.sent_folder not in names:
        special = next((n for n in names if n.lower() in {"sent", "отправленные"}), "")
        mailbox.sent_folder = special
    stored = mailbox.secret
    if secret is not None:
        mailbox.secret = credentials.encrypt(secret)
    try:
        with smtp(mailbox):
            pass
    finally:
        mailbox.secret = stored


def may_manage(membership: Membership, mailbox: Mailbox) -> bool:
    """Admins manage shared mailboxes; a personal one is its owner's alone."""
    if mailbox.kind == Mailbox.Kind.PERSONAL:
        return mailbox.owner_id == membership.user_id
    return is_admin(membership)


@transaction.atomic
def save_mailbox(
    *,
    membership: Membership,
    mailbox: Mailbox,
    secret: str,
    reader_ids: Iterable[int],
    check: bool = True,
    **values: Any,
) -> Mailbox:
    """Create or change a mailbox after its connection was checked. An empty ``secret`` on a
    change keeps the stored one — unless the connection itself changes: the stored password is
    never sent to a server the person has just typed (whoever edits a shared box could read it
    there). Raises ``MailboxError`` (nothing saved) when the check fails."""
    # Against the stored row: a ModelForm has already copied the typed values onto ``mailbox``.
    stored = (
        Mailbox.objects.filter(pk=mailbox.pk).values(*CONNECTION_FIELDS).first()
        if mailbox.pk is not None
        else None
    )
    moved = stored is not None and any(
        name in values and values[name] != stored[name] for name in CONNECTION_FIELDS
    )
    if moved and not secret:
        raise MailboxError(
            _("The server or login changed: type the password (or app password) again.")
        )
    for name, value in values.items():
        setattr(mailbox, name, value)
    if mailbox.pk is None and mailbox.kind == Mailbox.Kind.PERSONAL:
        mailbox.owner_id = membership.user_id
    typed = secret or None
    if check:
        check_connection(mailbox, typed)
    if typed is not None:
        mailbox.secret = credentials.encrypt(typed)
    mailbox.status = Mailbox.Status.OK
    mailbox.last_error = ""
    mailbox.save()
    wanted = {int(i) for i in reader_ids} - {mailbox.owner_id}
    MailboxReader.objects.filter(mailbox=mailbox).exclude(user_id__in=wanted).delete()
    for user_id in wanted:
        MailboxReader.objects.get_or_create(mailbox=mailbox, user_id=user_id)
    return mailbox


def remove_mailbox(*, mailbox: Mailbox) -> None:
    """The mailbox and everything it brought in go (its conversations and messages)."""
    mailbox.delete()


__all__ = ["MailboxError", "check_connection", "may_manage", "remove_mailbox", "save_mailbox"]
