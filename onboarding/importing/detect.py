"""What a file is, decided from its bytes (never from its name or its XML prolog)."""

from __future__ import annotations

import codecs
import re
import zipfile
from dataclasses import dataclass
from typing import IO

from charset_normalizer import from_bytes

from onboarding.importing.errors import UnreadableFile
from onboarding.importing.ziplimits import check_unpacked_size

OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
SAMPLE_BYTES = 256 * 1024


@dataclass(frozen=True)
class Detected:
    format: str  # xlsx, xls, csv, commerceml, enterprisedata, vcard, relata
    encoding: str = ""


def detect(stream: IO[bytes], *, size: int, limit_mb: int, name: str = "") -> Detected:
    """The format and encoding of an upload. `name` (the file's name as uploaded) only
    confirms what the bytes say: a ".vcf" that holds no vCard is refused as one."""
    if size == 0:
        raise UnreadableFile("empty")
    if size > limit_mb * 1024 * 1024:
        raise UnreadableFile("too_large", limit=limit_mb)
    stream.seek(0)
    head = stream.read(SAMPLE_BYTES)
    stream.seek(0)
    if not head.strip(b"\xef\xbb\xbf \r\n\t"):
        raise UnreadableFile("empty")
    if head.startswith(b"PK\x03\x04"):
        return Detected(_zip_kind(stream))
    if head.startswith(OLE2_MAGIC):
        # Excel 97-2003, or an encrypted xlsx (an OLE2 container holding "EncryptedPackage").
        if "EncryptedPackage".encode("utf-16-le") in head or b"EncryptedPackage" in head:
            raise UnreadableFile("encrypted")
        return Detected("xls")
    return _text_kind(head, vcf=name.lower().endswith((".vcf", ".vcard")))


def _text_kind(head: bytes, *, vcf: bool) -> Detected:
    """A text file: a vCard, a 1C XML file or a CSV (a ".vcf" must be a vCard)."""
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        # Windows writes its contacts (and some phones their .vcf) in UTF-16.
        if _is_vcard(head.decode("utf-16", errors="replace")):
            return Detected("vcard", "utf-16")
        raise UnreadableFile("not_vcard" if vcf else "wrong_format")
    if b"\x00" in head[:4096]:
        raise UnreadableFile("wrong_format")
    encoding = text_encoding(head)
    sample = head.decode(encoding, errors="replace").lstrip("\ufeff \r\n\t")
    if _is_vcard(sample):
        return Detected("vcard", encoding)
    if vcf:
        raise UnreadableFile("not_vcard")
    if sample.startswith("<"):
        root = _xml_root(sample)
        if root == "КоммерческаяИнформация":
            return Detected("commerceml", encoding)
        if root == "Message":
            return Detected("enterprisedata", encoding)
        raise UnreadableFile("wrong_format")
    return Detected("csv", encoding)


def text_encoding(head: bytes) -> str:
    """utf-8-sig / utf-8 / cp1251 from the bytes. UTF-8 that decodes is UTF-8: Russian
    cp1251 text is never valid UTF-8 beyond a few bytes, so the check is reliable."""
    if head.startswith(b"\xef\xbb\xbf"):
        return "utf-8-sig"
    # A sample may end in the middle of a multi-byte character: an incremental decoder keeps
    # an unfinished one for later instead of calling it an error. (Cutting a fixed 3 bytes off
    # could itself cut a two-byte Cyrillic letter in half: a UTF-8 file read as cp1251.)
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=len(head) < SAMPLE_BYTES)
    except UnicodeDecodeError:
        pass
    else:
        return "utf-8"
    best = from_bytes(head, cp_isolation=["cp1251", "cp866", "koi8_r", "utf_16"]).best()
    return "cp1251" if best is None else _python_name(best.encoding)


def _python_name(encoding: str) -> str:
    return {"windows-1251": "cp1251", "cp1251": "cp1251"}.get(encoding, encoding)


def _zip_kind(stream: IO[bytes]) -> str:
    try:
        with zipfile.ZipFile(stream) as archive:
            check_unpacked_size(archive)
            names = set(archive.namelist())
    except zipfile.BadZipFile as exc:
        raise UnreadableFile("corrupt", detail=str(exc)) from exc
    finally:
        stream.seek(0)
    if "xl/workbook.xml" in names:
        return "xlsx"
    if "relata.json" in names:
        return "relata"  # a Relata export, imported back whole
    raise UnreadableFile("wrong_format")


_VCARD = re.compile(r"\s*BEGIN\s*:\s*VCARD\s*$", re.IGNORECASE | re.MULTILINE)


def _is_vcard(sample: str) -> bool:
    """A vCard file starts with BEGIN:VCARD (after blank lines, or a line of text a phone
    put before it)."""
    head = sample.lstrip("\ufeff \r\n\t")[:4096]
    match = _VCARD.search(head)
    return match is not None and head[: match.start()].count("\n") <= 2


_ROOT = re.compile(r"<(?![?!])(?:[\w.-]+:)?([\w.-]+)")


def _xml_root(sample: str) -> str:
    match = _ROOT.search(re.sub(r"<!--.*?-->", "", sample, flags=re.DOTALL))
    return match.group(1) if match else ""
