"""Limits on what a zip (an xlsx, a Relata export) may unpack to, checked before extracting.

The sizes are read from the zip's directory. Python's zipfile never returns more bytes for a
member than its directory entry declares, so a member that lies about its size cannot get past
these limits when it is read later.
"""

from __future__ import annotations

import zipfile

from django.conf import settings
from django.utils.translation import gettext as _

from onboarding.importing.errors import UnreadableFile

# A member this small may compress as well as it likes (an empty sheet, a blank cell style).
_RATIO_FLOOR = 1024 * 1024


def unpacked_limit_mb() -> int:
    return int(getattr(settings, "MAX_IMPORT_UNPACKED_MB", 2048))


def member_limit() -> int:
    return int(getattr(settings, "MAX_IMPORT_ZIP_MEMBERS", 100_000))


def ratio_limit() -> int:
    # Real spreadsheets and JSON compress 5-50 times; deflate's ceiling is about 1,030.
    return int(getattr(settings, "MAX_IMPORT_ZIP_RATIO", 200))


def check_unpacked_size(archive: zipfile.ZipFile) -> None:
    """Raise UnreadableFile("zip_bomb") when the archive unpacks to too much."""
    members = archive.infolist()
    if len(members) > member_limit():
        raise UnreadableFile(
            "zip_bomb",
            detail=_("%(count)s files inside, at most %(limit)s")
            % {"count": len(members), "limit": member_limit()},
        )
    total = 0
    for member in members:
        total += member.file_size
        if member.file_size > _RATIO_FLOOR and (
            member.file_size > ratio_limit() * max(member.compress_size, 1)
        ):
            raise UnreadableFile(
                "zip_bomb",
                detail=_("%(name)s is compressed %(ratio)s times, at most %(limit)s")
                % {
                    "name": member.filename,
                    "ratio": member.file_size // max(member.compress_size, 1),
                    "limit": ratio_limit(),
                },
            )
    if total > unpacked_limit_mb() * 1024 * 1024:
        raise UnreadableFile(
            "zip_bomb",
            detail=_("%(size)s MB unpacked, at most %(limit)s MB")
            % {"size": total // (1024 * 1024), "limit": unpacked_limit_mb()},
        )
