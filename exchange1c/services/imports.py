"""`mode=import`: what 1C uploaded goes through the importer (onboarding), in Celery.

Each received file becomes one import batch, made through the importer's public entry points
(create_batch, queue_batch); 1C polls with `import` again and hears "progress" until the
batch is done. The same file (by content) is never imported twice: a repeated `import` after
a timeout, or the whole exchange run again, answers from the batch that took it first.
"""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from dataclasses import dataclass
from typing import IO

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from lxml import etree

from exchange1c.models import ExchangeSession, ReceivedFile
from exchange1c.services import orders
from exchange1c.services.access import finish
from exchange1c.services.uploads import (
    Refused,
    assembled,
    digest_of,
    drop_parts,
    is_zip,
    unpack_zips,
)
from onboarding.importing.detect import detect
from onboarding.importing.errors import UnreadableFile
from onboarding.models import ImportBatch
from onboarding.services.imports import create_batch, limit_mb, queue_batch

PROGRESS, SUCCESS, FAILURE = "progress", "success", "failure"
# A claim on a file whose request died before its batch was made is taken over after this.
_CLAIM_TIMEOUT = dt.timedelta(minutes=5)


@dataclass(frozen=True)
class Answer:
    word: str  # progress / success / failure
    reason: str = ""

    def text(self) -> str:
        return f"{self.word}\n{self.reason}" if self.reason else self.word


def import_file(session: ExchangeSession, *, name: str) -> Answer:
    """Start or poll the import of the session's file `name` (catalogue or sale)."""
    try:
        unpack_zips(session)
    except Refused as exc:
        return _failed(session, exc.reason)
    received = session.files.filter(name=name).first()
    if received is None:
        return _failed(session, _("No file named %(name)s came in this session.") % {"name": name})
    waiting = _earlier_still_importing(received)
    if waiting:
        return Answer(PROGRESS, _("Waiting for %(name)s to finish.") % {"name": waiting})
    if _claim(received):
        _start(session, received)
        received.refresh_from_db()
    return _answer(session, received)


def sale_file_complete(session: ExchangeSession, received: ReceivedFile) -> bool:
    """Whether the sale file 1C is sending has all its chunks (a zip that opens, an XML that
    parses to its end): 1C does not always call `import` for the orders it sends."""
    with assembled(received) as stream:
        if is_zip(received):
            return zipfile.is_zipfile(stream)
        try:
            for _event, _element in etree.iterparse(
                stream, resolve_entities=False, no_network=True
            ):
                pass
        except etree.XMLSyntaxError:
            return False
    return True


def _earlier_still_importing(received: ReceivedFile) -> str:
    """import.xml's products must be in before offers.xml prices them: one file at a time."""
    for earlier in received.session.files.filter(
        id__lt=received.pk, status=ReceivedFile.Status.IMPORTING
    ):
        _refresh(earlier)
        if earlier.status == ReceivedFile.Status.IMPORTING:
            return earlier.name
    return ""


def _claim(received: ReceivedFile) -> bool:
    """Take the file for importing, once: a second `import` while the first request is still
    making the batch sees it claimed and hears "progress"."""
    with transaction.atomic():
        locked = ReceivedFile.objects.select_for_update().get(pk=received.pk)
        stale = (
            locked.status == ReceivedFile.Status.IMPORTING
            and locked.batch_id is None
            and (locked.claimed_at or locked.created_at) < timezone.now() - _CLAIM_TIMEOUT
        )
        if locked.status != ReceivedFile.Status.RECEIVING and not stale:
            return False
        locked.status = ReceivedFile.Status.IMPORTING
        locked.claimed_at = timezone.now()
        locked.save(update_fields=["status", "claimed_at"])
    return True


def _start(session: ExchangeSession, received: ReceivedFile) -> None:
    with assembled(received) as stream:
        received.digest = digest_of(stream)
        earlier = (
            ReceivedFile.objects.filter(digest=received.digest, batch__isnull=False)
            .exclude(pk=received.pk)
            .exclude(batch__status__in=[ImportBatch.Status.FAILED, ImportBatch.Status.UNDONE])
            .order_by("-id")
            .first()
        )
        if earlier is not None:
            # Sent before (a retry after a timeout, the exchange run again): same batch.
            received.batch = earlier.batch
            received.save(update_fields=["digest", "batch"])
            drop_parts(received)
            return
        try:
            source: IO[bytes] | None = stream
            if session.kind == ExchangeSession.Kind.SALE:
                source = _foreign_documents(stream)
            if source is None:  # only our own orders, already applied
                received.status = ReceivedFile.Status.DONE
                received.save(update_fields=["digest", "status"])
                drop_parts(received)
                return
            batch = create_batch(user_id=None, file=source, file_name=received.name)
        except (UnreadableFile, Refused) as exc:
            received.status = ReceivedFile.Status.FAILED
            received.error = exc.message if isinstance(exc, UnreadableFile) else exc.reason
            received.save(update_fields=["digest", "status", "error"])
            return
    received.batch = batch
    received.save(update_fields=["digest", "batch"])
    drop_parts(received)
    queue_batch(batch)


def _foreign_documents(stream: IO[bytes]) -> IO[bytes] | None:
    """Apply 1C's reports on our own orders (status, payment, shipment) and return the rest
    of the file — 1C's own orders — for the importer; None when nothing is left."""
    stream.seek(0, 2)
    size = stream.tell()
    found = detect(stream, size=size, limit_mb=limit_mb())
    encoding = {"utf-8-sig": "utf-8", "cp1251": "windows-1251"}.get(found.encoding, found.encoding)
    stream.seek(0)
    parser = etree.XMLParser(
        encoding=encoding or None, resolve_entities=False, no_network=True, huge_tree=True
    )
    try:
        root = etree.parse(stream, parser).getroot()
    except etree.XMLSyntaxError as exc:
        raise UnreadableFile("corrupt", detail=str(exc)) from exc
    documents = orders.documents_in(root)
    for document in documents:
        if orders.apply_reported(document):
            root.remove(document)
    if not orders.documents_in(root):
        return None
    return io.BytesIO(etree.tostring(root, encoding="utf-8", xml_declaration=True))


def _refresh(received: ReceivedFile) -> None:
    """The file's status from its batch's."""
    if received.status != ReceivedFile.Status.IMPORTING or received.batch is None:
        return
    batch = received.batch
    batch.refresh_from_db(fields=["status", "error"])
    if batch.status in {ImportBatch.Status.DONE, ImportBatch.Status.UNDONE}:
        received.status = ReceivedFile.Status.DONE
    elif batch.status == ImportBatch.Status.FAILED:
        received.status, received.error = ReceivedFile.Status.FAILED, batch.error
    received.save(update_fields=["status", "error"])


def _answer(session: ExchangeSession, received: ReceivedFile) -> Answer:
    _refresh(received)
    if received.status == ReceivedFile.Status.FAILED:
        return _failed(session, f"{received.name}: {received.error}")
    if received.status == ReceivedFile.Status.DONE:
        finish(session, status=ExchangeSession.Status.DONE, message=_done_message(session))
        return Answer(SUCCESS)
    return Answer(PROGRESS, _("Importing %(name)s.") % {"name": received.name})


def _done_message(session: ExchangeSession) -> str:
    lines = []
    for received in session.files.exclude(status=ReceivedFile.Status.UNPACKED).select_related(
        "batch"
    ):
        counts = received.batch.counts if received.batch else {}
        lines.append(
            _("%(name)s: %(status)s; created %(created)s, updated %(updated)s")
            % {
                "name": received.name,
                "status": received.get_status_display(),
                "created": counts.get("created", 0),
                "updated": counts.get("updated", 0) + counts.get("merged", 0),
            }
        )
    return "\n".join(lines)


def _failed(session: ExchangeSession, reason: str) -> Answer:
    finish(session, status=ExchangeSession.Status.FAILED, message=reason)
    return Answer(FAILURE, reason)
