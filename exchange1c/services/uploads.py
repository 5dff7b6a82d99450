"""Files 1C uploads: chunks appended under the company's storage prefix, zips unpacked.

Storage (the company's folder, or its S3 prefix) has no append, so each chunk is its own
object and the file is read back as their concatenation. A chunk that did not arrive whole
is not kept: 1C sends it again and the file stays exactly what 1C meant.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import tempfile
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import PurePosixPath
from typing import IO

from django.conf import settings
from django.core.files.base import ContentFile, File
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils.translation import gettext as _

from exchange1c.models import ExchangeSession, ReceivedFile
from onboarding.importing.errors import UnreadableFile
from onboarding.importing.ziplimits import check_unpacked_size
from onboarding.services.imports import limit_mb

# A plain file name: letters (Cyrillic too), digits, dot, dash, underscore, space.
_SAFE_NAME = re.compile(r"^[\w][\w .\-]{0,199}$")
# Product pictures 1C sends next to the catalogue: Relata keeps no product images.
_PICTURES = ("import_files/",)
_SPOOL_BYTES = 8 * 1024 * 1024


class Refused(Exception):  # noqa: N818
    """What 1C is told after "failure"."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


def file_limit() -> int:
    """The most bytes 1C may send in one request (it cuts bigger files into chunks)."""
    return int(getattr(settings, "EXCHANGE1C_FILE_LIMIT", 4 * 1024 * 1024))


def is_picture(name: str) -> bool:
    return name.replace("\\", "/").startswith(_PICTURES)


def safe_name(name: str) -> str:
    """The file name 1C gave, or Refused: never a path, so nothing lands outside the
    session's folder whatever the name says."""
    name = name.strip()
    if not _SAFE_NAME.match(name) or ".." in name:
        raise Refused(_("File name not accepted: %(name)s") % {"name": name[:100]})
    return name


def append_chunk(session: ExchangeSession, *, name: str, body: bytes) -> ReceivedFile:
    """Append one chunk to the session's file `name` (a first chunk starts the file).

    Refused when the chunk is over the announced file_limit, or the file over the import limit.
    """
    if len(body) > file_limit():
        raise Refused(
            _("The chunk is %(size)s bytes, over the file_limit of %(limit)s bytes.")
            % {"size": len(body), "limit": file_limit()}
        )
    with transaction.atomic():
        received, _created = ReceivedFile.objects.select_for_update().get_or_create(
            session=session, name=name
        )
        if received.status != ReceivedFile.Status.RECEIVING:
            # The same name again after it was imported: a new upload of that file.
            received.parts, received.size, received.digest = [], 0, ""
            received.batch, received.error = None, ""
            received.status = ReceivedFile.Status.RECEIVING
        if received.size + len(body) > limit_mb() * 1024 * 1024:
            raise Refused(
                _("%(name)s is over %(limit)s MB, the most one import takes.")
                % {"name": name, "limit": limit_mb()}
            )
        folder = f"exchange1c/{session.pk}/{received.pk}"
        stored = default_storage.save(f"{folder}/{len(received.parts):05d}.part", ContentFile(body))
        received.parts = [*received.parts, stored]
        received.size += len(body)
        received.save()
    return received


@contextmanager
def assembled(received: ReceivedFile) -> Iterator[IO[bytes]]:
    """The whole file, chunks in order, as one temporary stream (on disk when large)."""
    with tempfile.SpooledTemporaryFile(max_size=_SPOOL_BYTES) as out:
        for part in received.parts:
            with default_storage.open(part, "rb") as chunk:
                while block := chunk.read(1024 * 1024):
                    out.write(block)
        out.seek(0)
        yield out


def digest_of(stream: IO[bytes]) -> str:
    stream.seek(0)
    digest = hashlib.sha256()
    while block := stream.read(1024 * 1024):
        digest.update(block)
    stream.seek(0)
    return digest.hexdigest()


def drop_parts(received: ReceivedFile) -> None:
    """Forget the chunks once the importer keeps its own copy of the file."""
    for part in received.parts:
        default_storage.delete(part)
    received.parts = []
    received.save(update_fields=["parts"])


def is_zip(received: ReceivedFile) -> bool:
    if not received.parts:
        return False
    with default_storage.open(received.parts[0], "rb") as first:
        return first.read(4) == b"PK\x03\x04"


def unpack_zips(session: ExchangeSession) -> None:
    """Unpack every zip the session received into files of its own, checked first against
    the importer's zip limits. Raises Refused for a damaged or oversized archive."""
    for received in session.files.filter(status=ReceivedFile.Status.RECEIVING):
        if not is_zip(received):
            continue
        with assembled(received) as stream:
            try:
                archive = zipfile.ZipFile(stream)
            except zipfile.BadZipFile as exc:
                raise Refused(
                    _("%(name)s is not a readable zip.") % {"name": received.name}
                ) from exc
            with archive:
                try:
                    check_unpacked_size(archive)
                except UnreadableFile as exc:
                    raise Refused(exc.message) from exc
                for member in archive.infolist():
                    _unpack_member(session, archive, member)
        received.status = ReceivedFile.Status.UNPACKED
        received.save(update_fields=["status"])
        drop_parts(received)


def _unpack_member(
    session: ExchangeSession, archive: zipfile.ZipFile, member: zipfile.ZipInfo
) -> None:
    if member.is_dir() or is_picture(member.filename):
        return
    # Only the member's own name counts: "../../x.xml" inside a zip is just "x.xml".
    name = safe_name(PurePosixPath(member.filename.replace("\\", "/")).name)
    if not name.lower().endswith(".xml"):
        return
    ReceivedFile.objects.filter(session=session, name=name).delete()
    received = ReceivedFile.objects.create(session=session, name=name, size=member.file_size)
    with archive.open(member) as source, tempfile.SpooledTemporaryFile(_SPOOL_BYTES) as copy:
        shutil.copyfileobj(source, copy, 1024 * 1024)
        copy.seek(0)
        stored = default_storage.save(
            f"exchange1c/{session.pk}/{received.pk}/00000.part", File(copy, name=name)
        )
    received.parts = [stored]
    received.save(update_fields=["parts"])
