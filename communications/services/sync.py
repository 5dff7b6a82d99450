"""Bringing a mailbox's new mail into the CRM (run by Celery; see communications.tasks).

The first sync of a folder imports the last ``initial_days`` days; after that only UIDs above
the folder's ``last_uid`` are fetched, as long as its UIDVALIDITY is the one we saw (a new one
means the server renumbered the folder: it is read again, and Message-IDs already kept are
skipped). Each message is stored in its own transaction together with the folder's new
position, so a connection dropped mid-sync loses nothing and the next poll resumes at the
next message. Two polls of one mailbox never run at once (an advisory lock).
"""

from __future__ import annotations

import imaplib
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.db import InterfaceError, OperationalError, connection
from django.utils import timezone
from imap_tools import AND, MailMessageFlags, U

from communications.models import Mailbox, MailFolder
from communications.services import inbound
from communications.services.connection import MailboxError, imap
from tenants.models import Company

log = logging.getLogger(__name__)
BATCH = 20  # messages per FETCH: bounded memory with 30 MB attachments, few round trips


@dataclass
class SyncResult:
    stored: int = 0
    skipped: int = 0
    error: str = ""
    folders: dict[str, int] = field(default_factory=dict)


@contextmanager
def _only_one(mailbox: Mailbox) -> Iterator[bool]:
    key = f"mail-sync:{getattr(connection, 'schema_name', '')}:{mailbox.pk}"
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(hashtext(%s))", [key])
        got = bool(cursor.fetchone()[0])
    try:
        yield got
    finally:
        if got:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(hashtext(%s))", [key])


def folders_of(mailbox: Mailbox) -> list[str]:
    return ["INBOX", mailbox.sent_folder] if mailbox.sent_folder else ["INBOX"]


def sync_mailbox(company: Company, mailbox: Mailbox, *, port: int | None = None) -> SyncResult:
    """One poll of a mailbox: every folder it reads, from where the last poll stopped.
    ``port``: connect elsewhere than the saved port (tests put a faulty proxy in between)."""
    result = SyncResult()
    with _only_one(mailbox) as mine:
        if not mine:
            result.error = "busy"
            return result
        if port is not None:
            mailbox.imap_port = port
        try:
            with imap(mailbox) as box:
                existing = {f.name for f in box.folder.list()}
                for name in folders_of(mailbox):
                    if name in existing:
                        _sync_folder(company, mailbox, box, name, result)
        except MailboxError as exc:
            result.error = str(exc)
        except (OSError, imaplib.IMAP4.error) as exc:
            # The server dropped the connection mid-sync: what was stored stays stored, and
            # each folder's position says where the next poll goes on.
            result.error = f"connection lost: {type(exc).__name__}"
        _record(mailbox, result)
    return result


def _record(mailbox: Mailbox, result: SyncResult) -> None:
    if result.error:
        log.warning(
            "mailbox sync stopped",
            extra={"mailbox": mailbox.pk, "stored": result.stored, "error": result.error},
        )
    Mailbox.objects.filter(pk=mailbox.pk).update(
        status=Mailbox.Status.ERROR if result.error else Mailbox.Status.OK,
        last_error=result.error[:500],
        last_synced_at=timezone.now(),
    )


def _sync_folder(
    company: Company, mailbox: Mailbox, box: Any, name: str, result: SyncResult
) -> None:
    status = box.folder.status(name, ["UIDVALIDITY", "UIDNEXT"])
    box.folder.set(name)
    folder, _made = MailFolder.objects.get_or_create(mailbox=mailbox, name=name)
    if folder.uidvalidity != status["UIDVALIDITY"]:
        # First sight of the folder, or renumbered by the server: read it from the start.
        folder.uidvalidity = status["UIDVALIDITY"]
        folder.last_uid = 0
        folder.save(update_fields=["uidvalidity", "last_uid"])
    if folder.last_uid == 0:
        since = timezone.localdate() - timedelta(days=mailbox.initial_days)
        uids = [int(u) for u in box.uids(AND(date_gte=since))]
    else:
        uids = [int(u) for u in box.uids(AND(uid=U(str(folder.last_uid + 1), "*")))]
    # "n:*" always names the last message, even below n: keep only what is new.
    pending = sorted(u for u in uids if u > folder.last_uid)
    if pending:
        fetched_all = box.fetch(uid_list=[str(u) for u in pending], mark_seen=False, bulk=BATCH)
        for fetched in fetched_all:
            seen = MailMessageFlags.SEEN in fetched.flags
            try:
                stored = inbound.store(
                    company, mailbox, folder, int(fetched.uid), fetched.raw_bytes, seen
                )
            except (OperationalError, InterfaceError):
                raise  # the database is away: stop, the next poll resumes here
            except Exception:
                # One message we cannot store must not stop the mailbox for good (every poll
                # would fetch it again and die on it): it is logged and the sync goes on.
                log.exception("mail message could not be stored", extra={"uid": fetched.uid})
                result.skipped += 1
                continue
            if stored is None:
                result.skipped += 1
            else:
                result.stored += 1
            result.folders[name] = result.folders.get(name, 0) + 1
    # Older messages outside the first sync's window are never fetched later either.
    MailFolder.objects.filter(pk=folder.pk, last_uid__lt=status["UIDNEXT"] - 1).update(
        last_uid=status["UIDNEXT"] - 1
    )
    MailFolder.objects.filter(pk=folder.pk).update(synced_at=timezone.now())
