"""Turning source rows into CRM records: normalise, dedupe, write in bulk, account for
every row.

Dedupe order (against the file itself and the company's existing base): 1C id, then
INN+KPP, then phone, then e-mail. A match never overwrites what the CRM already holds:
empty fields are filled, new phones, e-mails and contact persons are added (so merges keep
every contact person and all history). A row that adds nothing is "unchanged", which is
what makes re-importing the same file a no-op.

Rows are processed in chunks; each chunk is written in one transaction together with the
batch's checkpoint, so a run killed mid-file resumes after the last committed chunk without
duplicating anything (the dedupe indexes are rebuilt from the database on resume).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import gc
import logging
import re
import threading
import zoneinfo
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import DatabaseError, models, transaction
from django.db.models.base import ModelState
from django.db.models.functions import Lower, Replace
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from crm_core.models import (
    Activity,
    Client,
    Contact,
    CustomField,
    Deal,
    DealItem,
    Phone,
    Pipeline,
    Product,
    Stage,
    Task,
)
from crm_core.names import deal_title
from crm_core.normalise import PhoneNumber, clean_inn, parse_phone
from onboarding.importing import linked, values
from onboarding.importing.columns import BALANCE_KEY, CUSTOM_PREFIX
from onboarding.importing.copying import copy_create, copy_rows, json_text
from onboarding.importing.records import ClientIn, DealIn, LinksIn, PersonIn, ProductIn, SourceRow
from onboarding.importing.switching import Directory, Found
from onboarding.importing.tabular import without_company
from onboarding.models import AwaitingOwner, ImportBatch, ImportedRecord, ImportRowNote
from relata.db import connection
from tenants.models import Company

logger = logging.getLogger(__name__)
CHUNK_ROWS = 0  # 0: settings.IMPORT_CHUNK_ROWS; tests may set it
_MISSING = object()
_SEVERAL = object()  # a name several contact persons have
# What an associations export's link made is recorded as (undo removes it: services/undo.py).
DEAL_CONTACT = "deal_contacts"
# ASCII digits only: a fullwidth "９" is a digit to \d but not to E.164 (phonenumbers maps it).
_PLAIN_PHONE = re.compile(r"\s*(?:\+7|8|7)?[\s(]*9[0-9\s()-]+", re.ASCII)
_NON_DIGITS = re.compile(r"\D+")
_NOT_ASCII_DIGITS = re.compile(r"[^0-9]+")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_GROUPED_DIGITS = re.compile(r"[\d\s-]+")
# The everyday e-mail (Latin letters, digits, dots, "_+-"; a Latin top-level domain), which
# Django's validator accepts too — checked against it in the tests: it is taken without that
# validator's slower checks (~1.5 s of 100,000 rows); anything else still goes through them.
_PLAIN_EMAIL = re.compile(
    r"[A-Za-z0-9_+-]+(?:\.[A-Za-z0-9_+-]+)*"
    r"@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}"
)
_PLAIN_EMAIL_LENGTH = 320  # Django's limit for the whole address
CLIENT_FIELDS = (
    "name",
    "full_name",
    "kind",
    "inn",
    "inn_status",
    "kpp",
    "legal_address",
    "postal_address",
    "bank_name",
    "bik",
    "bank_account",
    "correspondent_account",
    "website",
    "industry",
    "source",
)
# Fields a later file may fill when the CRM has them empty (never the name or the kind).
FILLABLE = CLIENT_FIELDS[1:]
MAX_LENGTHS = {f.name: f.max_length for f in Client._meta.fields if getattr(f, "max_length", None)}

CREATED, UPDATED, MERGED, UNCHANGED, REJECTED = (
    "created",
    "updated",
    "merged",
    "unchanged",
    "rejected",
)
OUTCOMES = (CREATED, UPDATED, MERGED, UNCHANGED, REJECTED)
# Rows imported with a problem the person must look at (an INN that fails its checksum,
# imported without it): counted beside their outcome, so the summary's counts are the
# report's rows.
FLAGGED = "flagged"
# What to do with a row whose 10- or 12-digit INN fails its checksum (ImportBatch.options).
BAD_INN_SKIP, BAD_INN_BLANK = "skip", "blank"


@dataclass(slots=True)
class _Rec:
    """An ImportedRecord row to be copied in (no model instance: cheaper in bulk)."""

    entity: str
    record_id: int
    action: str
    external_id: str = ""
    previous: dict[str, Any] = field(default_factory=dict)
    written: dict[str, Any] = field(default_factory=dict)


@dataclass
class RowResult:
    row: int
    outcome: str
    reason: str = ""
    values: dict[str, str] = field(default_factory=dict)
    flagged: bool = False  # imported with a row problem (see FLAGGED)


@dataclass
class Target:
    """A client the file's rows point at: one already in the CRM, or one this import makes."""

    client: Client
    new: bool  # created by this batch (in this run or an earlier, interrupted one)
    pending: bool  # not yet written
    phones: set[str] = field(default_factory=set)  # e164, or e164;extension
    emails: set[str] = field(default_factory=set)
    persons: dict[str, Contact] = field(default_factory=dict)  # normalised full name → contact
    deals: set[tuple[str, str, str]] = field(default_factory=set)  # see _deal_keys
    notes: set[str] = field(default_factory=set)  # its notes' texts (an import's, or a person's)
    changed: set[str] = field(default_factory=set)  # fields to write back
    first_row: int = 0  # the row of this file that created it
    external_id: str = ""  # the 1C id it was created from
    previous: dict[str, Any] = field(default_factory=dict)


@dataclass
class Chunk:
    """What one chunk of rows will write."""

    new_clients: list[Target] = field(default_factory=list)
    updated_clients: dict[int, Target] = field(default_factory=dict)
    new_contacts: list[tuple[Target, Contact, str]] = field(default_factory=list)
    updated_contacts: dict[int, tuple[Contact, list[str]]] = field(default_factory=dict)
    new_phones: list[tuple[Target, Contact | None, Phone]] = field(default_factory=list)
    new_deals: list[tuple[Target | None, Deal, list[DealItem], str]] = field(default_factory=list)
    new_products: list[tuple[Product, str]] = field(default_factory=list)
    new_notes: list[tuple[Target, str]] = field(default_factory=list)
    updated_products: dict[int, tuple[Product, dict[str, Any]]] = field(default_factory=dict)
    new_tasks: list[tuple[Task, str]] = field(default_factory=list)
    new_entries: list[tuple[Activity, str]] = field(default_factory=list)
    deal_contacts: list[tuple[Deal, int]] = field(default_factory=list)
    # Contact persons whose row said they agreed to mailings, with the address agreed.
    consents: list[tuple[Contact, str]] = field(default_factory=list)
    # A deal's contact person found by name: one this chunk makes has its id only once written.
    deal_persons: list[tuple[Deal, Contact]] = field(default_factory=list)
    # (entity, record, e-mail): records the importer holds until an invited person joins.
    awaiting: list[tuple[str, Any, str]] = field(default_factory=list)
    # An associations export's links: (deal id, contact id) pairs, and the clients it gives to
    # deals and contact persons that had none ({id: client id}).
    new_pairs: list[tuple[int, int]] = field(default_factory=list)
    deal_clients: dict[int, int] = field(default_factory=dict)
    contact_clients: dict[int, int] = field(default_factory=dict)
    results: list[RowResult] = field(default_factory=list)


@dataclass
class _Keys:
    """The client keys one chunk's rows may be matched by."""

    externals: set[str] = field(default_factory=set)
    inns: set[str] = field(default_factory=set)
    phones: set[str] = field(default_factory=set)
    emails: set[str] = field(default_factory=set)
    name_only: bool = False  # a row with nothing but a name


def _person_key(last: str, first: str, middle: str) -> str:
    return " ".join(p for p in (last, first, middle) if p).lower().replace("ё", "е")


class Importer:
    """Imports source rows into the current company's schema for one batch."""

    def __init__(
        self,
        batch: ImportBatch,
        *,
        region: str = "RU",
        on_progress: Callable[[int], None] | None = None,
        company: Company | None = None,
    ) -> None:
        self.batch = batch
        self.company = company
        self.region = region
        self.dry_run = batch.dry_run  # a preview: row notes only, nothing written
        self.on_progress = on_progress
        self.source_label = _("Import")  # looked up once, not per row
        self.date_format = (
            _("mm/dd/yyyy")
            if batch.date_order == ImportBatch.DateOrder.MONTH_FIRST
            else _("dd.mm.yyyy")
        )
        self.chunk_rows = CHUNK_ROWS or int(getattr(settings, "IMPORT_CHUNK_ROWS", 2000))
        self.counts: Counter[str] = Counter(batch.counts or {})
        self._phone_cache: dict[str, PhoneNumber | None] = {}
        # The last row's client (row number, target): rows below may add contact persons.
        self._parent: tuple[int, Target] | None = None
        self._written = 0  # clients, contacts and phones written since the last ANALYZE
        self._counted: int | None = None  # their tables' rows as the statistics last saw
        options = batch.options or {}
        self.skip_bad_inn = options.get("bad_inn") == BAD_INN_SKIP
        self._bad_inns: dict[int, str] = {}  # this chunk's rows whose INN fails its checksum
        # The mapping's notes and custom fields: what a matched client's notes and custom
        # values are loaded for (a file without them loads nothing more).
        fields = set((batch.mapping or {}).values())
        self.with_notes = "note" in fields
        self.custom_kinds = custom_kinds(fields, create=not self.dry_run)
        self._load_indexes()
        # Another CRM's pipelines, stages and people, matched to this company's (switching.py).
        self.directory = Directory(batch, company=company, options=options)
        self.currency = company.currency if company is not None else "RUB"
        self.time_zone = zoneinfo.ZoneInfo(company.time_zone) if company else dt.UTC
        self._refs = linked.Refs()
        # The source ids of deals, tasks and entries this run has planned, with their rows: a
        # second row with one of them is a duplicate, said so.
        self._rows_of: dict[str, int] = {}
        # The contact person the row being planned names for its deal (see _plan_one), and
        # whether the row said why its deal has no client.
        self._row_contact: Any = None
        self._row_said = False
        self._names_seen: dict[str, list[tuple[int, int | None]]] = {}
        self._chunk_names: set[str] = set()  # the names deal rows of the chunk give

    # ---------------------------------------------------------------- indexes

    def _load_indexes(self) -> None:
        """The small, whole-company look-ups; the client keys are looked up per chunk
        (`_load_keys`), so memory does not grow with the company's base or the file."""
        undone = ImportBatch.Status.UNDONE
        external = ImportedRecord.objects.exclude(external_id="").exclude(batch__status=undone)
        self._external = external
        self.by_external: dict[Any, Any] = {}
        self.by_inn_kpp: dict[Any, Any] = {}
        self.by_inn: dict[Any, Any] = {}
        self.by_phone: dict[Any, Any] = {}
        self.by_email: dict[Any, Any] = {}
        self.by_name: dict[Any, Any] = {}
        # Names are matched only for rows with no other key; the whole base's names are
        # loaded the first time such a row comes (see _load_keys).
        self._names_loaded = False
        # Index entries pointing at records not yet written (ids come after the commit).
        self._unsettled: list[tuple[dict[Any, Any], Any]] = []
        self.targets: dict[int, Target] = {}  # loaded existing clients, by id
        self.deal_by_external: dict[str, Any] = dict(
            external.filter(entity="deal").values_list("external_id", "record_id")
        )
        self.contact_by_external = dict(
            external.filter(entity="contact").values_list("external_id", "record_id")
        )
        self.product_by_external: dict[str, Any] = dict(
            external.filter(entity="product").values_list("external_id", "record_id")
        )
        self.product_by_sku: dict[str, Any] = {
            sku: pk for pk, sku in Product.objects.exclude(sku="").values_list("id", "sku")
        }
        pipeline = Pipeline.objects.filter(is_default=True).first() or Pipeline.objects.first()
        self.pipeline = pipeline
        self.stage = (
            Stage.objects.filter(pipeline=pipeline, outcome=Stage.Outcome.OPEN).first()
            if pipeline
            else None
        )

    def _load_keys(self, rows: list[SourceRow]) -> None:
        """Look the chunk's client keys up in the company's base, instead of holding the
        whole base (and every client the file made) in dictionaries: the phone, e-mail, INN
        and 1C id columns are indexed, and every earlier chunk is committed by now, so the
        database also answers for the file's own earlier rows. The oldest client wins a key
        several clients share; the latest import wins a 1C id."""
        if not self.dry_run:
            # A dry run writes nothing: what its earlier chunks would make stays in memory.
            for index in (
                self.by_external,
                self.by_inn_kpp,
                self.by_inn,
                self.by_phone,
                self.by_email,
            ):
                index.clear()
        keys = self._chunk_keys(rows)
        self._look_up_externals(keys.externals)
        for client_id, inn, kpp in _rows_for(_BY_INN, keys.inns):
            _known(self.by_inn_kpp, (inn, kpp), client_id)
            _known(self.by_inn, inn, client_id)
        numbers = {k.partition(";")[0] for k in keys.phones}
        # The number column also has a trigram index (for search by a fragment), which the
        # planner picks for "= ANY(2,000 numbers)" though it takes seconds there; that index
        # is reachable only through a bitmap scan, the b-tree also directly.
        for e164, extension, owner in _rows_for(_BY_PHONE, numbers, "enable_bitmapscan"):
            if owner:
                _known(self.by_phone, _phone_key(e164, extension), owner)
        # The planner cannot estimate an overlap with 2,000 e-mails and walks the whole table
        # comparing each row's array; the GIN index answers it through a bitmap scan.
        for emails, client_id in _rows_for(
            _BY_EMAIL, keys.emails, "enable_seqscan", "enable_indexscan"
        ):
            for email in map(str.lower, emails):
                # (A contact person of no company has nothing to merge into.)
                if client_id and email in keys.emails:
                    _known(self.by_email, email, client_id)
        if keys.name_only and not self._names_loaded:
            for client_id, name in Client.objects.order_by("id").values_list("id", "name"):
                _known(self.by_name, _name_key(name), client_id)
            self._names_loaded = True

    def _chunk_keys(self, rows: list[SourceRow]) -> _Keys:
        keys = _Keys()
        for row in rows:
            client = row.client
            if client is None:
                continue
            if not (client.name or client.full_name):
                if client.external_id:  # a deal row naming its company by id only
                    keys.externals.add(client.external_id)
                continue
            inn = _inn_key(client.inn)
            numbers = [n for n in map(self._phone, _all_phones(client)) if n]
            emails = [e.lower() for e in _all_emails(client)]
            if client.external_id:
                keys.externals.add(client.external_id)
            if inn:
                keys.inns.add(inn)
            keys.phones.update(_key_of(n) for n in numbers)
            keys.emails.update(emails)
            if client.known_by_name or _only_a_name(client.external_id, inn, bool(numbers), emails):
                keys.name_only = True
        return keys

    def _look_up_externals(self, externals: set[str]) -> None:
        if not externals:
            return
        found = list(
            self._external.filter(entity="client", external_id__in=externals)
            .order_by("-id")
            .values_list("external_id", "record_id")
        )
        alive = set(
            Client.objects.filter(id__in={r for _e, r in found}).values_list("id", flat=True)
        )
        for external_id, record_id in found:
            if record_id in alive:
                _known(self.by_external, external_id, record_id)

    # ---------------------------------------------------------------- running

    def run(self, rows: Iterable[SourceRow]) -> None:
        """Process every row after the batch's checkpoint, chunk by chunk."""
        with _fewer_collections():
            self._run(rows)

    def _run(self, rows: Iterable[SourceRow]) -> None:
        skip = self.batch.checkpoint
        chunk: list[SourceRow] = []
        for row in rows:
            if row.number <= skip:
                continue
            if self.dry_run and self.counts["rows"] + len(chunk) >= PREVIEW_ROWS:
                # A preview remembers every client it would make (nothing is written to look
                # them up in), so it checks the first rows of a very large file, and says so.
                self.counts["preview_limit"] = PREVIEW_ROWS
                break
            chunk.append(row)
            if len(chunk) >= self.chunk_rows:
                self._process(chunk)
                chunk = []
        if chunk:
            self._process(chunk)

    def _process(self, rows: list[SourceRow]) -> None:
        plan = Chunk()
        _start_chunk_clock()
        self._check_inns(rows)
        self._load_keys(rows)
        self._load_existing(rows)
        self._refs = linked.look_up(rows)
        # What earlier chunks made is in the database now: names are looked up again.
        self._names_seen.clear()
        self._chunk_names = {
            _person_key(p.last_name, p.first_name, p.middle_name)
            for row in rows
            if row.deal is not None and row.client is not None
            for p in row.client.persons
            if p.of_deal
        }
        if any(row.association is not None for row in rows):
            self._load_pairs()
        for row in rows:
            plan.results.append(self._plan_row(row, plan))
        for result in plan.results:
            self.counts[result.outcome] += 1
            if result.flagged:
                self.counts[FLAGGED] += 1
        self.counts["rows"] += len(rows)
        # Row notes go to the database with their chunk, not to a list in memory: a
        # million-row file would hold a million results (the report reads them back).
        if self.dry_run:
            # A dry run keeps its per-row preview (every row, created ones too).
            with _chunk_transaction():
                ImportRowNote.objects.bulk_create(
                    [_note(self.batch, r) for r in plan.results], batch_size=2000
                )
                self._checkpoint(rows[-1].number)
        else:
            with _chunk_transaction():
                self._write(plan)
                self._checkpoint(rows[-1].number)
            # Only after the commit: a rolled-back chunk must not leave marks in memory.
            self._settle(plan)
            self._keep_indexes(plan)
        if self.on_progress:
            self.on_progress(rows[-1].number)

    def _keep_indexes(self, plan: Chunk) -> None:
        """Keep the per-chunk key look-ups fast as the import grows the tables.

        New e-mails wait in the GIN index's pending list, which every search reads through
        whole (2,000 e-mails against it: 100 ms more per chunk for every 10,000 contacts);
        they are merged into the index after each chunk, as VACUUM would later.

        The planner's statistics of those tables are refreshed whenever the import has
        grown them by half since they were last counted: with the statistics of a nearly
        empty table PostgreSQL scans it whole for every chunk's look-up instead of using the
        indexes (bulk loaders analyse after a big load for this reason)."""
        if plan.new_contacts or plan.updated_contacts:
            try:
                with transaction.atomic(), connection.cursor() as cursor:
                    cursor.execute("SELECT gin_clean_pending_list(%s::regclass)", [_EMAILS_INDEX])
            except DatabaseError:
                # Only the index's owner may; without it the look-ups are slower, not wrong.
                logger.warning("import: cannot merge the e-mail index's pending list")
        self._written += len(plan.new_clients) + len(plan.new_contacts) + len(plan.new_phones)
        if self._counted is None:
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT coalesce(sum(greatest(reltuples, 0)), 0) FROM pg_class"
                    " WHERE oid = ANY(%s::regclass[])",
                    [list(_LOOKED_UP)],
                )
                self._counted = int(cursor.fetchone()[0])
        if self._written > max(_ANALYZE_AFTER, self._counted // 2):
            with connection.cursor() as cursor:
                cursor.execute(f"ANALYZE {_LOOKED_UP_COLUMNS}")
            self._counted += self._written
            self._written = 0

    def _checkpoint(self, row_number: int) -> None:
        self.batch.checkpoint = row_number
        self.batch.counts = dict(self.counts)
        self.batch.heartbeat_at = timezone.now()
        self.batch.unmatched = self.directory.unmatched.as_json()
        self.batch.save(update_fields=["checkpoint", "counts", "heartbeat_at", "unmatched"])

    def _check_inns(self, rows: list[SourceRow]) -> None:
        """Rows whose 10- or 12-digit INN fails its checksum (a typo, a digit lost): the INN
        is taken off the row before it is matched or planned (a wrong INN must not match a
        client or be stored); `_plan_row` skips the row or flags it, as the person chose."""
        self._bad_inns.clear()
        for row in rows:
            client = row.client
            if client is None or not client.inn:
                continue
            if _inn_of(client.inn)[1] == _INVALID and not _kazakh(client, self.region):
                self._bad_inns[row.number] = client.inn
                client.inn = ""

    def _load_existing(self, rows: list[SourceRow]) -> None:
        """Load the existing clients this chunk's rows may match, with their phones,
        e-mails, contact persons and deals (to tell what a row would add)."""
        wanted: set[int] = set()
        for row in rows:
            client = row.client
            if client is None:
                continue
            for candidate in self._candidates(client):
                if isinstance(candidate, int) and candidate not in self.targets:
                    wanted.add(candidate)
        if wanted:
            self._load_targets(wanted)

    def _load_targets(self, wanted: set[int]) -> None:
        """These existing clients, with what a row may add to them (see _load_existing)."""
        created_here = set(
            ImportedRecord.objects.filter(
                batch=self.batch,
                entity="client",
                action=ImportedRecord.Action.CREATED,
                record_id__in=wanted,
            ).values_list("record_id", flat=True)
        )
        loaded = (*CLIENT_FIELDS, "custom") if self.custom_kinds else CLIENT_FIELDS
        for existing in Client.objects.filter(id__in=wanted).only("id", *loaded):
            self.targets[existing.pk] = Target(
                client=existing, new=existing.pk in created_here, pending=False
            )
        for phone_number, extension, owner in _rows_for(_PHONES_OF, {str(pk) for pk in wanted}):
            self.targets[owner].phones.add(_phone_key(phone_number, extension))
        for contact in Contact.objects.filter(client_id__in=wanted).only(
            "id", "client_id", "last_name", "first_name", "middle_name", "emails"
        ):
            target = self.targets[contact.client_id]  # type: ignore[index]
            target.emails.update(e.lower() for e in contact.emails)
            target.persons[
                _person_key(contact.last_name, contact.first_name, contact.middle_name)
            ] = contact
        for client_id, title, amount, created in Deal.objects.filter(
            client_id__in=wanted
        ).values_list("client_id", "title", "amount", "created_at"):
            self.targets[client_id].deals.update(
                _deal_keys(title, amount, created.astimezone(dt.UTC).date().isoformat())
            )
        if self.with_notes:
            for client_id, body in Activity.objects.filter(
                client_id__in=wanted, kind=Activity.Kind.NOTE
            ).values_list("client_id", "body"):
                self.targets[client_id].notes.add(body)

    def _candidates(self, client: ClientIn) -> Iterator[Any]:
        for _key, ref in self._matches(client):
            yield ref

    def _matches(self, client: ClientIn) -> Iterator[tuple[str, Any]]:
        if client.external_id and client.external_id in self.by_external:
            yield pgettext("matched by", "1C id"), self.by_external[client.external_id]
        inn = _inn_key(client.inn)
        if inn:
            kpp = _kpp(client.kpp)
            for key in ((inn, kpp), (inn, "")):
                if key in self.by_inn_kpp:
                    yield pgettext("matched by", "INN/KPP"), self.by_inn_kpp[key]
            if not kpp and inn in self.by_inn:
                yield pgettext("matched by", "INN"), self.by_inn[inn]
        phones = _all_phones(client)
        for raw in phones:
            number = self._phone(raw)
            if number and _key_of(number) in self.by_phone:
                yield pgettext("matched by", "phone"), self.by_phone[_key_of(number)]
        emails = _all_emails(client)
        for email in emails:
            if email.lower() in self.by_email:
                yield pgettext("matched by", "e-mail"), self.by_email[email.lower()]
        if client.known_by_name or _only_a_name(
            client.external_id, inn, any(map(self._phone, phones)), emails
        ):
            name_key = _name_key(client.name or client.full_name)
            if name_key in self.by_name:
                yield pgettext("matched by", "name"), self.by_name[name_key]

    def _phone(self, raw: str) -> PhoneNumber | None:
        cached = self._phone_cache.get(raw, _MISSING)
        if cached is not _MISSING:
            return cached  # type: ignore[return-value]
        number = self._fast_mobile(raw)
        if number is None:
            try:
                number = parse_phone(raw, region=self.region)
            except ValidationError:
                number = None
        if len(self._phone_cache) >= PHONES_CACHED:
            self._phone_cache.clear()  # bounded: a million-row file has a million spellings
        self._phone_cache[raw] = number
        return number

    def _fast_mobile(self, raw: str) -> PhoneNumber | None:
        """The commonest case, a Russian mobile without an extension, read directly: the same
        E.164 phonenumbers gives (its RU mobile pattern is 9[0-24-9]\\d{8}; the sparse 93x
        block and everything else go through phonenumbers)."""
        if self.region != "RU" or not _PLAIN_PHONE.fullmatch(raw):
            return None
        digits = _NOT_ASCII_DIGITS.sub("", raw)
        if len(digits) == 11 and digits[0] in "78":
            digits = digits[1:]
        if len(digits) == 10 and digits[0] == "9" and digits[1] != "3":
            return PhoneNumber(e164="+7" + digits, extension="", raw=raw.strip())
        return None

    def _target(self, candidate: Any) -> Target:
        return candidate if isinstance(candidate, Target) else self.targets[candidate]

    # ---------------------------------------------------------------- planning

    def _plan_other(  # noqa: PLR0911 - one return per kind of row
        self, row: SourceRow, plan: Chunk
    ) -> RowResult | None:
        """A row that is no client's: rejected by its reader, a product, a task, a history
        entry, or a deal of a stage the person chose to skip; None for a client's row."""
        if row.rejected:
            return RowResult(row.number, REJECTED, _reader_reason(row.rejected), row.values)
        if row.product is not None:
            return self._plan_product(row, plan)
        if row.task is not None:
            return self._plan_task(row, plan)
        if row.timeline is not None:
            return self._plan_timeline(row, plan)
        if row.association is not None:
            return self._plan_association(row, plan)
        if row.deal is not None:
            skipped = self.directory.skipped(row.deal.pipeline, row.deal.stage)
            if skipped:
                return RowResult(row.number, REJECTED, skipped, row.values)
        return None

    def _plan_row(self, row: SourceRow, plan: Chunk) -> RowResult:
        other = self._plan_other(row, plan)
        if other is not None:
            return other
        flags: list[str] = list(row.notes)  # what the reader could not use, said first
        self._row_contact, self._row_said = None, False
        target: Target | None = None
        outcome = UNCHANGED
        bad_inn = self._bad_inns.get(row.number)
        if bad_inn is not None:
            if self.skip_bad_inn:
                self._parent = None  # the rows below are not this client's people
                return RowResult(
                    row.number,
                    REJECTED,
                    _("INN %(inn)s fails its checksum (a typo?): the row is skipped.")
                    % {"inn": bad_inn},
                    row.values,
                )
            flags.append(
                _("INN %(inn)s fails its checksum (a typo?): imported without it.")
                % {"inn": bad_inn}
            )
        if row.client is not None:
            client_in = row.client
            if not (client_in.name or client_in.full_name):
                target, outcome = self._plan_nameless(client_in, row, plan, flags)
                if target is None and row.deal is None:
                    return RowResult(
                        row.number, REJECTED, _("The row has no client name."), row.values
                    )
                if target is None and not self._row_said:
                    flags.append(
                        _("The counterparty has no name: the deal is imported without it.")
                    )
            else:
                target, outcome = self._plan_client(
                    client_in, plan, flags, row.number, quiet=row.deal is not None
                )
                # Rows below with an empty name cell add contact persons to this client.
                self._parent = self._parent if client_in.continues else (row.number, target)
        if row.deal is not None:
            deal_outcome = self._plan_deal(row.deal, target, plan, row, flags)
            if deal_outcome == REJECTED:
                return RowResult(row.number, REJECTED, "; ".join(flags), row.values)
            if deal_outcome == CREATED and outcome in {UNCHANGED, MERGED}:
                outcome = UPDATED if outcome == UNCHANGED else MERGED
            if target is None:
                outcome = deal_outcome
        return RowResult(
            row.number, outcome, "; ".join(flags), row.values, flagged=bad_inn is not None
        )

    def _company_by_id(self, client_in: ClientIn, row: SourceRow, flags: list[str]) -> Any:
        """The company a nameless deal row names by its id in the source (HubSpot's
        "Associated Company IDs"), or None (said in the row when the id is unknown)."""
        if not client_in.external_id or not (row.deal is not None or client_in.by_ref):
            return None
        found = self.by_external.get(client_in.external_id)
        if found is None:
            flags.append(
                _("Company %(id)s is not in the CRM (import the companies first).")
                % {"id": linked.shown(client_in.external_id)}
            )
            return None
        return self._target(found)

    def _plan_nameless(
        self, client_in: ClientIn, row: SourceRow, plan: Chunk, flags: list[str]
    ) -> tuple[Target | None, str]:
        """A row without a company name: its company by its id in the source (a deal's, a
        person's), with the row's people added; a person of a company not in the CRM is a
        private client; else no client (a deal without one, or a rejected row)."""
        target = self._company_by_id(client_in, row, flags)
        if target is not None and client_in.persons:
            return target, self._add_people(target, client_in, plan, flags)
        person = client_in.persons[0] if client_in.persons else None
        if target is None and person is not None and person.of_deal and not client_in.by_ref:
            key = _person_key(person.last_name, person.first_name, person.middle_name)
            elsewhere = self._named_elsewhere(key, flags)
            if elsewhere is _SEVERAL:
                return None, UNCHANGED
            if elsewhere is not None and elsewhere[1] is None:
                self._row_contact, self._row_said = elsewhere, True  # a person of no client
                return None, UNCHANGED
            if elsewhere is not None:
                # The deal is the client's of the person the row names (no new private client).
                if elsewhere[1] not in self.targets:
                    self._load_targets({elsewhere[1]})
                target = self._target(elsewhere[1])
                return target, self._add_people(target, client_in, plan, flags)
        if target is None and client_in.persons:
            without_company(client_in, client_in.persons[0], {}, None)
            client_in.external_id = ""
            return self._plan_client(client_in, plan, flags, row.number, quiet=row.deal is not None)
        return target, UNCHANGED

    def _add_people(
        self, target: Target, client_in: ClientIn, plan: Chunk, flags: list[str]
    ) -> str:
        """A row's contact persons, added to the company it names by its source id."""
        changed = False
        for person in client_in.persons:
            changed |= self._plan_one(target, person, plan, flags)
        if changed and not target.pending and target.client.pk:
            return UPDATED
        return UNCHANGED

    def _plan_one(self, target: Target, person: PersonIn, plan: Chunk, flags: list[str]) -> bool:
        """One contact person of a row's client; a deal row's person is also its deal's."""
        phones = self._phones(person.phones, flags)
        if not person.of_deal:
            return self._plan_person(target, person, phones, plan, flags)[0]
        key = _person_key(person.last_name, person.first_name, person.middle_name)
        mine = target.persons.get(key) or _on_client(target, key)
        if mine is _SEVERAL:
            self._say_several(key, flags)
            return False
        if mine is None and not (person.phones or person.emails):
            # Not the client's: the one person of that name in the CRM (said when there are
            # several: nothing guessed); else the client's new contact person, as any row's.
            elsewhere = self._named_elsewhere(key, flags)
            if elsewhere is not None:
                self._row_contact = elsewhere
                return False
        changed, contact = self._plan_person(target, person, phones, plan, flags, known=mine)
        self._row_contact = contact
        return changed

    def _named_elsewhere(self, key: str, flags: list[str]) -> Any:
        """A deal's contact person by name among the company's contacts: (contact id, client
        id) when one alone has it, _SEVERAL (said in the row: nothing guessed) when more do,
        None when nobody does."""
        words = sorted(key.split())
        if not words:
            return None
        if key not in self._names_seen:
            # The first name of this chunk not on its client: the chunk's others are looked up
            # with it, in one query (a deals file imported before its contacts would
            # otherwise ask once a row).
            self._look_up_names({key} | (self._chunk_names - set(self._names_seen)))
        same = self._names_seen[key]
        if len(same) > 1:
            self._say_several(key, flags)
            return _SEVERAL
        return same[0] if same else None

    def _look_up_names(self, keys: set[str]) -> None:
        """The company's contact persons named by `keys` (see _named): a surname among a
        name's words, or a first name alone for a person without one."""
        words = {word for key in keys for word in key.split()}
        lowered = [
            Replace(Lower(name), models.Value("ё"), models.Value("е"))
            for name in ("last_name", "first_name")
        ]
        found = list(
            Contact.objects.annotate(last=lowered[0], first=lowered[1])
            .filter(models.Q(last__in=words) | models.Q(last_name="", first__in=words))
            .values_list("id", "client_id", "last_name", "first_name", "middle_name")
        )
        for key in keys:
            mine = sorted(key.split())
            self._names_seen[key] = [
                (pk, client_id)
                for pk, client_id, last, first, middle in found
                if _named(mine, _person_key(last, first, middle))
            ]

    def _say_several(self, key: str, flags: list[str]) -> None:
        flags.append(
            _(
                "Several contact persons are named «%(name)s»: the deal is linked to none of "
                "them (link the right one on the deal)."
            )
            % {"name": key.title()}
        )
        self._row_said = True

    def _plan_client(
        self,
        client_in: ClientIn,
        plan: Chunk,
        flags: list[str],
        row_number: int,
        *,
        quiet: bool = False,
    ) -> tuple[Target, str]:
        values = self._normalised(client_in, flags)
        unrecognised: list[str] = []
        phones = self._phones(client_in.phones, flags, unrecognised)
        key, candidate = self._candidate(client_in, flags)
        custom_values = self._custom(client_in.custom, flags) if client_in.custom else {}
        if candidate is None:
            user = self.batch.created_by_id
            # Numbers phonenumbers cannot read stay with the client as typed, not lost.
            custom = {"unrecognised_phones": unrecognised} if unrecognised else {}
            custom.update(custom_values)
            responsible = self._member(client_in.responsible, flags, quiet=quiet)
            client = _new(
                Client, **values, custom=custom, responsible_id=responsible, created_by_id=user
            )
            self._await("client", client, client_in.responsible, plan)
            target = Target(
                client=client,
                new=True,
                pending=True,
                first_row=row_number,
                external_id=client_in.external_id,
            )
            plan.new_clients.append(target)
            outcome = CREATED
            changed = True
        else:
            target = self._target(candidate)
            outcome = MERGED if target.new else UNCHANGED
            changed = self._fill(target, values, plan)
            if custom_values:
                changed |= self._fill_custom(target, custom_values, plan)
            if key and target.first_row:
                flags.append(
                    _("Same client as row %(row)s (matched by %(key)s).")
                    % {"row": target.first_row, "key": key}
                )
            elif key and not target.new:
                flags.append(_("Matched an existing client by %(key)s.") % {"key": key})
        # The company's own e-mails go to its nameless contact person (the CRM keeps e-mails
        # on contact persons; its client form does the same with an e-mail given without a
        # name), never to a named person; each person keeps their own phones and e-mails.
        persons = list(client_in.persons)
        if client_in.emails:
            persons.insert(0, PersonIn(emails=client_in.emails))
        for person in persons:
            changed |= self._plan_one(target, person, plan, flags)
        # The company's phones stay on the company.
        for number in phones:
            if _key_of(number) not in target.phones:
                target.phones.add(_key_of(number))
                plan.new_phones.append((target, None, _phone_row(number, Phone.Kind.WORK)))
                changed = True
        for note in client_in.notes:
            if note not in target.notes:
                target.notes.add(note)
                plan.new_notes.append((target, note))
                changed = True
        self._index(target, client_in)
        if changed and outcome == UNCHANGED:
            outcome = UPDATED
        return target, outcome

    def _candidate(self, client_in: ClientIn, flags: list[str]) -> tuple[str, Any]:
        """(what matched, the client) the row belongs to; ("", None) for a new client."""
        parent = self._parent if client_in.continues else None
        if parent is not None and parent[0] == client_in.continues:
            # One more contact person of the client the row above made or matched.
            flags.append(
                _("One more contact person of the client in row %(row)s (its name cell is empty).")
                % {"row": client_in.continues}
            )
            return "", parent[1]
        return next(self._matches(client_in), ("", None))

    def _normalised(self, client_in: ClientIn, flags: list[str]) -> dict[str, Any]:
        values: dict[str, Any] = {
            "name": client_in.name or client_in.full_name,
            "full_name": client_in.full_name if client_in.full_name != client_in.name else "",
            "kind": client_in.kind,
            "relationship": client_in.relationship,
            "kpp": _kpp(client_in.kpp),
            "legal_address": client_in.legal_address,
            "postal_address": client_in.postal_address,
            "bank_name": client_in.bank_name,
            "bik": client_in.bik,
            "bank_account": client_in.bank_account,
            "correspondent_account": client_in.correspondent_account,
            "website": client_in.website if "." in client_in.website else "",
            "industry": client_in.industry,
            "source": client_in.source or self.source_label,
            "inn": "",
            "inn_status": "",
        }
        if client_in.website and not values["website"]:
            flags.append(
                _("Website %(value)s is not an address: left out.") % {"value": client_in.website}
            )
        elif values["website"] and "://" not in values["website"]:
            values["website"] = "https://" + values["website"]
        if client_in.inn:
            values["inn"], values["inn_status"] = _inn_of(client_in.inn)
            if values["inn_status"] == _INVALID:
                values["inn_status"] = "foreign"  # a Kazakh BIN/IIN (_check_inns kept it)
            if values["inn_status"] == "foreign":
                # A Kazakh BIN/IIN or a mistyped INN: kept as typed and flagged.
                flags.append(
                    _("INN %(inn)s is not a valid Russian INN: kept as a foreign tax id.")
                    % {"inn": client_in.inn}
                )
        for name, limit in MAX_LENGTHS.items():
            value = values.get(name)
            if isinstance(value, str) and limit and len(value) > limit:
                if name in {"name", "full_name", "inn"}:
                    values[name] = value[:limit]
                else:
                    flags.append(
                        _("%(field)s %(value)s is too long: left out.")
                        % {
                            "field": getattr(Client._meta.get_field(name), "verbose_name", name),
                            "value": value,
                        }
                    )
                    values[name] = ""
        return values

    def _custom(self, said: dict[str, str], flags: list[str]) -> dict[str, Any]:
        """The row's custom field values as the fields' types store them (crm_core's
        customfields.to_json); a value its field cannot hold is left out and said so."""
        stored: dict[str, Any] = {}
        for key, raw in said.items():
            kind = self.custom_kinds.get(key)
            if kind is None:
                continue
            value = _custom_value(kind, raw)
            if value is None:
                flags.append(
                    _("%(value)s does not fit the field %(field)s (%(kind)s): left out.")
                    % {"value": raw, "field": key, "kind": CustomField.Kind(kind).label.lower()}
                )
            else:
                stored[key] = value
        return stored

    def _fill_custom(self, target: Target, custom: dict[str, Any], plan: Chunk) -> bool:
        """A matched client's custom fields it has no value in (never overwritten)."""
        client = target.client
        added = {k: v for k, v in custom.items() if client.custom.get(k) in (None, "", [])}
        if not added:
            return False
        if not target.new and "custom" not in target.previous:
            target.previous["custom"] = dict(client.custom)
        client.custom = {**client.custom, **added}
        target.changed.add("custom")
        if not target.pending:
            plan.updated_clients[client.pk] = target
        return True

    def _phones(
        self, raws: list[str], flags: list[str], keep: list[str] | None = None
    ) -> list[PhoneNumber]:
        numbers = []
        for raw in raws:
            number = self._phone(raw)
            if number is None:
                flags.append(
                    _("%(phone)s is not a phone number that can be called: kept as text.")
                    % {"phone": raw}
                )
                if keep is not None:
                    keep.append(raw)
            else:
                numbers.append(number)
        return numbers

    def _fill(self, target: Target, values: dict[str, Any], plan: Chunk) -> bool:
        client = target.client
        changed = False
        for name in FILLABLE:
            new = values.get(name)
            if new and not getattr(client, name) and name != "source":
                if name == "inn_status" and not values.get("inn"):
                    continue
                if not target.new and name not in target.previous:
                    target.previous[name] = getattr(client, name)
                setattr(client, name, new)
                target.changed.add(name)
                changed = True
        if changed and not target.pending:
            plan.updated_clients[client.pk] = target
        return changed

    def _plan_person(
        self,
        target: Target,
        person: PersonIn,
        phones: list[PhoneNumber],
        plan: Chunk,
        flags: list[str],
        *,
        known: Contact | None = None,
    ) -> tuple[bool, Contact | None]:
        emails = []
        for email in person.emails:
            if _is_email(email):
                emails.append(email.lower())
            elif target.pending:
                # A client this file makes keeps it as typed, beside its unreadable phones.
                target.client.custom.setdefault("unrecognised_emails", []).append(email)
                flags.append(
                    _("%(email)s is not an e-mail address: kept as text.") % {"email": email}
                )
            else:
                flags.append(_("%(email)s is not an e-mail address: left out.") % {"email": email})
        key = _person_key(person.last_name, person.first_name, person.middle_name)
        if not (key or emails or phones):
            return False, None  # only an unreadable e-mail: no blank contact person for it
        contact = known or target.persons.get(key) or _same_person(target, key)
        if contact is None and not key:
            # A nameless person (only an e-mail): the client's existing nameless contact, or
            # any contact that already has one of these e-mails.
            contact = next(
                (c for c in target.persons.values() if set(c.emails) & set(emails)), None
            ) or target.persons.get("")
        changed = False
        if contact is None:
            contact = _new(
                Contact,
                last_name=person.last_name[:100],
                first_name=person.first_name[:100],
                middle_name=person.middle_name[:100],
                position=person.position[:200],
                emails=list(dict.fromkeys(e for e in emails if e not in target.emails)),
                custom={},
                messengers=dict(person.messengers),
                responsible_id=self._member(person.responsible, flags, quiet=True),
            )
            self._await("contact", contact, person.responsible, plan)
            target.persons[key] = contact
            target.emails.update(emails)
            plan.new_contacts.append((target, contact, person.external_id))
            changed = True
        else:
            added = [e for e in dict.fromkeys(emails) if e not in target.emails]
            if added:
                if contact.pk and contact.pk not in plan.updated_contacts:
                    plan.updated_contacts[contact.pk] = (contact, list(contact.emails))
                contact.emails = [*contact.emails, *added]
                target.emails.update(added)
                changed = True
        for number in phones:
            if _key_of(number) not in target.phones:
                target.phones.add(_key_of(number))
                plan.new_phones.append((target, contact, _phone_row(number, Phone.Kind.MOBILE)))
                changed = True
        _note_consent(plan, person, contact, emails)
        return changed, contact

    def _index(self, target: Target, client_in: ClientIn) -> None:
        """Later rows (of this file) find this client by any of its keys."""
        ref: Any = target if target.pending else target.client.pk
        if client_in.external_id:
            self._put(self.by_external, client_in.external_id, ref)
        client = target.client
        if self._names_loaded or self.dry_run:
            self._put(self.by_name, _name_key(client.name), ref)
        if client.inn:
            self._put(self.by_inn_kpp, (client.inn, client.kpp), ref)
            self._put(self.by_inn, client.inn, ref)
        for key in target.phones:
            self._put(self.by_phone, key, ref)
        for email in target.emails:
            self._put(self.by_email, email, ref)

    def _put(self, index: dict[Any, Any], key: Any, ref: Any) -> None:
        if key not in index:
            index[key] = ref
            if not isinstance(ref, int):
                self._unsettled.append((index, key))

    def _plan_deal(
        self,
        deal_in: DealIn,
        target: Target | None,
        plan: Chunk,
        row: SourceRow,
        flags: list[str],
    ) -> str:
        if deal_in.external_id and deal_in.external_id in self.deal_by_external:
            return self._known_deal(deal_in.external_id, row, flags)
        # A deal that cannot be made is left out; the row's client still counts (a row of
        # only a deal is rejected).
        left_out = REJECTED if target is None else UNCHANGED
        place = self._place(deal_in, flags)
        if place is None:
            return left_out
        pipeline, found = place
        # The person's name declined ("Сделка с Георгием Орловым"), as for a web request.
        title = deal_in.title or (deal_title(target.client.name) if target else _("Imported deal"))
        amount = deal_in.amount
        if amount is None and deal_in.items:
            amount = sum((i.quantity * i.price for i in deal_in.items), Decimal(0))
        amount = amount or Decimal(0)
        problem = _unusable(deal_in, amount)  # before rounding: 1e40 cannot be rounded
        if problem:
            flags.append(problem)
            return left_out
        amount = amount.quantize(Decimal("0.01"))
        if not deal_in.title and deal_in.amount is None and not deal_in.items:
            if deal_in.unread_amount:
                flags.append(
                    _("Amount %(value)s is not a number: the deal is left out.")
                    % {"value": deal_in.unread_amount}
                )
            return UNCHANGED  # deal columns mapped but empty in this row
        # Without a date, any deal of the same title and amount is this one (the deal made
        # from a dateless row is dated the day it was imported); with one, only that day's.
        key = (title[:300], str(amount), deal_in.date)
        if target is not None and key in target.deals:
            return UNCHANGED
        if deal_in.unread_amount:
            flags.append(
                _("Amount %(value)s is not a number: the deal is imported without an amount.")
                % {"value": deal_in.unread_amount}
            )
        if deal_in.unread_date:
            flags.append(
                _("%(value)s is not a date (%(format)s): the deal is dated the day of the import.")
                % {"value": deal_in.unread_date, "format": self.date_format}
            )
        created = timezone.now()
        if deal_in.date:
            created = dt.datetime.fromisoformat(deal_in.date).replace(tzinfo=dt.UTC)
        # (None only in a preview, for a pipeline it would create: never saved.)
        place_ids: dict[str, Any] = {
            "pipeline_id": pipeline.pk if pipeline is not None else None,
            "stage_id": found.stage.pk if found.stage is not None else None,
        }
        deal = Deal(
            title=title[:300],
            amount=amount,
            currency=deal_in.currency or self.currency,
            **place_ids,
            source=self.source_label,
            responsible_id=self._member(deal_in.responsible, flags),
            created_by_id=self._member(deal_in.author, flags, quiet=True),
            created_at=created,
            stage_entered_at=created,
            custom={},
        )
        self._await("deal", deal, deal_in.responsible, plan)
        self._switched(deal, deal_in, found.stage, flags, plan)
        items = [
            DealItem(
                product_id=self._product_for(item.external_id, item.sku),
                name=(item.name or "—")[:300],
                quantity=item.quantity,
                price=item.price,
            )
            for item in deal_in.items
        ]
        plan.new_deals.append((target, deal, items, deal_in.external_id))
        if target is not None:
            target.deals.update(_deal_keys(title[:300], amount, deal_in.date))
        if deal_in.external_id:
            self._put(self.deal_by_external, deal_in.external_id, deal)
            self._rows_of[deal_in.external_id] = row.number
        return CREATED

    def _place(self, deal_in: DealIn, flags: list[str]) -> tuple[Pipeline | None, Found] | None:
        """The pipeline and stage the deal goes to (a pipeline a preview would create is
        None), or None when the company has no pipeline at all."""
        pipeline, said = self.directory.pipeline(deal_in.pipeline)
        if said:
            flags.append(said)
        found = self.directory.stage(pipeline, deal_in.pipeline, deal_in.stage, deal_in.outcome)
        if found.flag:
            flags.append(found.flag)
        planned = pipeline is None and self.dry_run and bool(deal_in.pipeline)
        if (pipeline is None or found.stage is None) and not planned:
            if self.pipeline is None or self.stage is None:
                flags.append(_("The company has no pipeline to put deals in."))
                return None
            pipeline, found.stage = self.pipeline, self.stage
        return pipeline, found

    def _known_deal(self, external_id: str, row: SourceRow, flags: list[str]) -> str:
        """A deal whose source id was imported before (unchanged), or is in an earlier row of
        this file (the row is a duplicate: rejected, said so)."""
        first = self._rows_of.get(external_id)
        if first is not None and first != row.number:
            flags.append(
                _("Deal %(id)s is in row %(row)s already: this row is left out.")
                % {"id": linked.shown(external_id), "row": first}
            )
            return REJECTED
        return UNCHANGED

    def _switched(
        self, deal: Deal, deal_in: DealIn, stage: Stage | None, flags: list[str], plan: Chunk
    ) -> None:
        """What another CRM's export says beyond the title and amount: won or lost (with the
        reason and the day), the expected close, the currency, the linked contact person."""
        outcome = stage.outcome if stage is not None else deal_in.outcome or Stage.Outcome.OPEN
        closed = deal_in.closed
        if outcome != Stage.Outcome.OPEN:
            day = closed or deal_in.date
            deal.closed_at = (
                dt.datetime.fromisoformat(day).replace(tzinfo=dt.UTC) if day else deal.created_at
            )
            deal.stage_entered_at = deal.closed_at
            if outcome == Stage.Outcome.LOST:
                deal.lost_reason = deal_in.lost_reason
        elif closed and not deal_in.expected_close:
            # HubSpot's "Close Date" of an open deal is the day it is expected to close.
            deal.expected_close = dt.date.fromisoformat(closed)
        if deal_in.expected_close:
            deal.expected_close = dt.date.fromisoformat(deal_in.expected_close)
        if deal_in.lost_reason and outcome != Stage.Outcome.LOST:
            flags.append(
                _("The reason for losing «%(reason)s» is kept only on a lost deal: left out.")
                % {"reason": deal_in.lost_reason}
            )
        for unread in deal_in.unread_dates:
            flags.append(
                _("%(value)s is not a date (%(format)s): left out.")
                % {"value": unread, "format": self.date_format}
            )
        if deal_in.unread_currency:
            flags.append(
                _("%(value)s is not a currency: the deal is in %(currency)s.")
                % {"value": deal_in.unread_currency, "currency": deal.currency}
            )
        self._link_contact(deal, deal_in, flags, plan)

    def _link_contact(self, deal: Deal, deal_in: DealIn, flags: list[str], plan: Chunk) -> None:
        """The deal's contact person: by the source's id, else the one the row names."""
        if deal_in.contact_ref:
            found, missing = linked.resolve(LinksIn(contact=deal_in.contact_ref), self._refs)
            if found.contact:
                plan.deal_contacts.append((deal, found.contact))
                if deal.client_id is None and found.client:
                    deal.client_id = found.client
                return
            flags.append(
                _("Not in the CRM, so not linked: %(what)s.") % {"what": ", ".join(missing)}
            )
        named = self._row_contact
        if isinstance(named, Contact):  # the client's (one this chunk makes has no id yet)
            plan.deal_persons.append((deal, named))
        elif isinstance(named, tuple):  # the one person of that name, of another client
            plan.deal_contacts.append((deal, named[0]))
            if deal.client_id is None and named[1] is not None:
                deal.client_id = named[1]

    def _member(self, name: str, flags: list[str], *, quiet: bool = False) -> int | None:
        """The member a responsible person or an author named in the file is (by e-mail or
        full name); an unknown one is said in the row, and the record is the importer's."""
        if not name:
            return self.batch.created_by_id
        if quiet:
            return self.directory.member(name, count=False)[0]
        user_id, matched = self.directory.member(name)
        if not matched:
            flags.append(
                _("%(name)s is not a member of the company: given to the person importing.")
                % {"name": name}
            )
        return user_id

    def _await(self, entity: str, record: Any, name: str, plan: Chunk) -> None:
        """Remember a record given to the importer for a person invited on the preview: it
        becomes theirs when they join (onboarding/services/owners.py)."""
        if not (name and self.directory.awaiting):
            return
        email = self.directory.awaits(name)
        if email:
            plan.awaiting.append((entity, record, email))

    # ---------------------------------------------------------------- tasks and history

    def _seen(self, key: str, row: SourceRow, known: bool) -> RowResult | None:
        """A duplicate of an earlier row of this file (rejected, said so), or of an earlier
        import (unchanged); None for a new one."""
        first = self._rows_of.get(key)
        if first is not None:
            return RowResult(
                row.number,
                REJECTED,
                _("Row %(row)s has the same id (%(id)s): this row is left out.")
                % {"row": first, "id": linked.shown(key)},
                row.values,
            )
        if known:
            return RowResult(row.number, UNCHANGED, "", row.values)
        self._rows_of[key] = row.number
        return None

    def _plan_task(self, row: SourceRow, plan: Chunk) -> RowResult:
        task = row.task
        assert task is not None
        if not task.title:
            return RowResult(row.number, REJECTED, _("The task has no text."), row.values)
        key = linked.task_key(task)
        repeated = self._seen(key, row, ("task", key) in self._refs.known_keys)
        if repeated is not None:
            return repeated
        flags: list[str] = []
        found, missing = linked.resolve(task.links, self._refs)
        if missing:
            flags.append(
                _("Not in the CRM, so not linked: %(what)s.") % {"what": ", ".join(missing)}
            )
        deadline = linked.when(task.due, self.time_zone)
        if deadline is None:
            deadline = _chunk_now()
            if task.unread_due:
                flags.append(
                    _("%(value)s is not a date (%(format)s): the task is due today.")
                    % {"value": task.unread_due, "format": self.date_format}
                )
            else:
                flags.append(_("The task has no due date: it is due the day of the import."))
        assignee = self._member(task.responsible, flags)
        author = self._member(task.author, flags, quiet=True) if task.author else assignee
        done_at = deadline if task.done else None
        made = linked.new_task(
            task, found, assignee=assignee, author=author, deadline=deadline, done_at=done_at
        )
        self._await("task", made, task.responsible, plan)
        plan.new_tasks.append((made, key))
        return RowResult(row.number, CREATED, "; ".join(flags), row.values)

    def _plan_timeline(self, row: SourceRow, plan: Chunk) -> RowResult:
        entry = row.timeline
        assert entry is not None
        if not entry.text:
            return RowResult(row.number, REJECTED, _("The entry has no text."), row.values)
        key = linked.timeline_key(entry)
        repeated = self._seen(key, row, ("activity", key) in self._refs.known_keys)
        if repeated is not None:
            return repeated
        flags: list[str] = []
        found, missing = linked.resolve(entry.links, self._refs)
        if not found.anything:
            # An entry on nothing would be on no timeline: kept in the report instead.
            what = ", ".join(missing) or _("nothing: no deal, contact or company column")
            return RowResult(
                row.number,
                REJECTED,
                _("The entry belongs to %(what)s, which is not in the CRM: import that file first.")
                % {"what": what},
                row.values,
            )
        if missing:
            flags.append(
                _("Not in the CRM, so not linked: %(what)s.") % {"what": ", ".join(missing)}
            )
        happened = linked.when(entry.when, self.time_zone)
        if happened is None:
            happened = _chunk_now()
            if entry.unread_when:
                flags.append(
                    _("%(value)s is not a date (%(format)s): dated the day of the import.")
                    % {"value": entry.unread_when, "format": self.date_format}
                )
        author = self._member(entry.author, flags)
        plan.new_entries.append(
            (linked.new_entry(entry, found, author=author, happened_at=happened), key)
        )
        return RowResult(row.number, CREATED, "; ".join(flags), row.values)

    def _load_pairs(self) -> None:
        """The deals' contact persons already linked (a link is never made twice)."""
        deals = {pk for (entity, _i), pk in self._refs.by_id.items() if entity == "deal"}
        through = Deal.contacts.through
        self._pairs = set(
            through.objects.filter(deal_id__in=deals).values_list("deal_id", "contact_id")
        )

    def _plan_association(self, row: SourceRow, plan: Chunk) -> RowResult:
        """A row of an associations export: the deal's contact person, the deal's company, the
        contact person's company — records imported before, found by their source ids; an id
        not in the CRM is said in the row, and nothing of it is linked."""
        said = row.association
        assert said is not None
        links = said.links
        named = [(e, i) for e, i in (("deal", links.deal), ("contact", links.contact)) if i]
        named += [("client", links.company)] if links.company else []
        if len(named) < 2:
            return RowResult(
                row.number, REJECTED, _("The row names fewer than two records."), row.values
            )
        found = {entity: self._refs.by_id.get((entity, i)) for entity, i in named}
        missing = [
            _what(entity) % {"id": linked.shown(i)} for entity, i in named if found[entity] is None
        ]
        if missing:
            return RowResult(
                row.number,
                REJECTED,
                _("Not in the CRM, so not linked: %(what)s.") % {"what": ", ".join(missing)},
                row.values,
            )
        deal, contact, company = found.get("deal"), found.get("contact"), found.get("client")
        flags: list[str] = []
        made = False
        if deal and contact and (deal, contact) not in self._pairs:
            self._pairs.add((deal, contact))
            plan.new_pairs.append((deal, contact))
            made = True
        if deal and company:
            now = self._refs.deal_parties.get(deal, (None,))[0]
            if _gives(now, company, flags, _("The deal is with another company already")):
                self._refs.deal_parties[deal] = (company,)
                plan.deal_clients[deal] = company
                made = True
        if contact and company:
            now = self._refs.contact_client.get(contact)
            said_other = _("The contact person is of another company already")
            if _gives(now, company, flags, said_other):
                self._refs.contact_client[contact] = company
                plan.contact_clients[contact] = company
                made = True
        outcome = CREATED if made else UNCHANGED
        return RowResult(row.number, outcome, "; ".join(flags), row.values)

    def _product_for(self, external_id: str, sku: str) -> int | None:
        for key in (external_id, external_id.partition("#")[0]):
            found = self.product_by_external.get(key) if key else None
            if isinstance(found, int):
                return found
            if isinstance(found, Product):
                return found.pk
        found = self.product_by_sku.get(sku) if sku else None
        return found if isinstance(found, int) else getattr(found, "pk", None)

    def _plan_product(self, row: SourceRow, plan: Chunk) -> RowResult:  # noqa: PLR0912
        product_in: ProductIn = row.product  # type: ignore[assignment]
        existing = (
            self.product_by_external.get(product_in.external_id) if product_in.external_id else None
        )
        if existing is None and product_in.sku and not product_in.external_id:
            existing = self.product_by_sku.get(product_in.sku)
        price = product_in.price
        if price is not None and abs(price) >= _AMOUNT_LIMIT:
            return RowResult(
                row.number,
                REJECTED,
                _("%(value)s is more than the CRM can hold as a price.") % {"value": price},
                row.values,
            )
        if price is not None:
            price = price.quantize(Decimal("0.01"))
        if existing is None:
            if product_in.price_only or not product_in.name:
                return RowResult(
                    row.number,
                    REJECTED,
                    _("A price for a product not in the catalogue."),
                    row.values,
                )
            product = Product(
                name=product_in.name[:300],
                sku=product_in.sku[:100],
                unit=(product_in.unit or "шт")[:20],
                price=price if price is not None else Decimal(0),
                **({"vat_rate": product_in.vat_rate} if product_in.vat_rate else {}),
            )
            plan.new_products.append((product, product_in.external_id))
            if product_in.external_id:
                self._put(self.product_by_external, product_in.external_id, product)
            if product_in.sku:
                self._put(self.product_by_sku, product_in.sku, product)
            return RowResult(row.number, CREATED, "", row.values)
        if isinstance(existing, Product) and existing.pk is None:
            # The same product twice in one file: the later price wins.
            if price is not None:
                existing.price = price
            return RowResult(row.number, MERGED, "", row.values)
        pk = existing if isinstance(existing, int) else existing.pk
        if pk in plan.updated_products:
            product, previous = plan.updated_products[pk]
        else:
            product, previous = Product.objects.get(pk=pk), {}
        changes: dict[str, Any] = {}
        if price is not None and product.price != price:
            changes["price"] = price
        if product_in.sku and not product.sku:
            changes["sku"] = product_in.sku[:100]
        if product_in.vat_rate and product.vat_rate != product_in.vat_rate:
            changes["vat_rate"] = product_in.vat_rate
        if not changes:
            return RowResult(row.number, UNCHANGED, "", row.values)
        for name, value in changes.items():
            previous.setdefault(name, str(getattr(product, name)))
            setattr(product, name, value)
        plan.updated_products[pk] = (product, previous)
        return RowResult(row.number, UPDATED, "", row.values)

    # ---------------------------------------------------------------- writing

    def _write(self, plan: Chunk) -> None:
        batch = self.batch
        records: list[_Rec] = []
        if plan.new_clients:
            copy_create(Client, [t.client for t in plan.new_clients])
            records += [
                _Rec(
                    entity="client",
                    record_id=t.client.pk,
                    action=ImportedRecord.Action.CREATED,
                )
                for t in plan.new_clients
            ]
        now = timezone.now()
        changed_fields: set[str] = set()
        for target in plan.updated_clients.values():
            target.client.updated_at = now
            changed_fields |= target.changed
            if not target.new:
                records.append(
                    _Rec(
                        entity="client",
                        record_id=target.client.pk,
                        action=ImportedRecord.Action.UPDATED,
                        previous=target.previous,
                        written={k: getattr(target.client, k) for k in target.previous},
                    )
                )
        if plan.updated_clients:
            Client.objects.bulk_update(
                [t.client for t in plan.updated_clients.values()],
                [*sorted(changed_fields), "updated_at"],
                batch_size=1000,
            )
        for target, new_contact, _ext in plan.new_contacts:
            new_contact.client_id = target.client.pk
        fresh_contacts = {id(c) for _t, c, _e in plan.new_contacts}
        if plan.new_contacts:
            copy_create(Contact, [c for _t, c, _e in plan.new_contacts])
            records += [
                _Rec(
                    entity="contact",
                    record_id=c.pk,
                    action=ImportedRecord.Action.CREATED,
                    external_id=ext[:200],
                )
                for _t, c, ext in plan.new_contacts
            ]
        if plan.updated_contacts:
            Contact.objects.bulk_update([c for c, _p in plan.updated_contacts.values()], ["emails"])
            records += [
                _Rec(
                    entity="contact",
                    record_id=pk,
                    action=ImportedRecord.Action.UPDATED,
                    previous={"emails": previous},
                    written={"emails": list(contact.emails)},
                )
                for pk, (contact, previous) in plan.updated_contacts.items()
            ]
        phones = []
        for target, owner, phone in plan.new_phones:
            if owner is not None:
                phone.contact_id = owner.pk
            else:
                phone.client_id = target.client.pk
            phones.append(phone)
        if phones:
            copy_create(Phone, phones)
            # Phones added to clients and contacts that existed before are undone one by one;
            # the others go with their client or contact.
            records += [
                _Rec(
                    entity="phone",
                    record_id=p.pk,
                    action=ImportedRecord.Action.CREATED,
                )
                for (target, owner, p) in plan.new_phones
                if not target.new and (owner is None or id(owner) not in fresh_contacts)
            ]
        self._write_consents(plan, records)
        self._write_deals(plan, records)
        self._write_notes(plan, records)
        self._write_history(plan, records)
        self._write_products(plan, records)
        self._external_ids(plan, records)
        if plan.awaiting:
            copy_rows(
                AwaitingOwner,
                ["batch_id", "entity", "record_id", "email"],
                [(batch.pk, entity, record.pk, email) for entity, record, email in plan.awaiting],
            )
        copy_rows(
            ImportedRecord,
            ["batch_id", "entity", "record_id", "action", "external_id", "previous", "written"],
            [
                (
                    batch.pk,
                    r.entity,
                    r.record_id,
                    r.action,
                    r.external_id,
                    json_text(r.previous),
                    json_text(r.written),
                )
                for r in records
            ],
        )
        copy_rows(
            ImportRowNote,
            ["batch_id", "row", "outcome", "reason", "values"],
            [
                (batch.pk, r.row, r.outcome, r.reason, json_text(r.values))
                for r in plan.results
                if r.outcome != CREATED or r.reason
            ],
        )

    def _write_consents(self, plan: Chunk, records: list[_Rec]) -> None:
        """The consents the file's yes/no column gave (source "import", naming the batch);
        a person with a consent in force already gets no second one. Undoing the batch
        removes them with its other records."""
        if not plan.consents:
            return
        from marketing.models import Consent

        mine = {c.pk: address for c, address in plan.consents if c.pk}
        agreed = set(
            Consent.objects.filter(contact_id__in=mine, withdrawn_at__isnull=True).values_list(
                "contact_id", flat=True
            )
        )
        batch = self.batch
        made = Consent.objects.bulk_create(
            Consent(
                contact_id=pk,
                email=address.lower(),
                source=Consent.Source.IMPORT,
                details=(
                    _("Import of %(file)s (no. %(batch)s)")
                    % {"file": batch.file_name, "batch": batch.pk}
                )[:300],
                text=_("Agreed to mailings: the consent column of the imported file said yes."),
                recorded_by_id=batch.created_by_id,
            )
            for pk, address in mine.items()
            if pk not in agreed
        )
        records += [
            _Rec(entity="consent", record_id=c.pk, action=ImportedRecord.Action.CREATED)
            for c in made
        ]

    def _external_ids(self, plan: Chunk, records: list[_Rec]) -> None:
        """The 1C ids of new clients (and of clients an id was first seen for)."""
        ext_for = {t.client.pk: t.external_id for t in plan.new_clients if t.external_id}
        for record in records:
            if record.entity == "client" and record.record_id in ext_for:
                record.external_id = ext_for.pop(record.record_id)[:200]

    def _write_deals(self, plan: Chunk, records: list[_Rec]) -> None:
        if not plan.new_deals:
            return
        for target, deal, _items, _ext in plan.new_deals:
            if target is not None:
                deal.client_id = target.client.pk
        Deal.objects.bulk_create([d for _t, d, _i, _e in plan.new_deals], batch_size=1000)
        items = []
        for _t, deal, deal_items, _e in plan.new_deals:
            for item in deal_items:
                item.deal_id = deal.pk
                items.append(item)
        DealItem.objects.bulk_create(items, batch_size=2000)
        records += [
            _Rec(
                entity="deal",
                record_id=d.pk,
                action=ImportedRecord.Action.CREATED,
                external_id=ext[:200],
            )
            for _t, d, _i, ext in plan.new_deals
        ]

    def _write_history(self, plan: Chunk, records: list[_Rec]) -> None:
        """Tasks, timeline entries and deals' contact persons; each task and entry keeps its
        id in the source system (or its key: see linked.row_key) for the next import."""
        if plan.new_tasks:
            Task.objects.bulk_create([t for t, _k in plan.new_tasks], batch_size=1000)
            records += [
                _Rec(entity="task", record_id=t.pk, action="created", external_id=key[:200])
                for t, key in plan.new_tasks
            ]
        if plan.new_entries:
            Activity.objects.bulk_create([a for a, _k in plan.new_entries], batch_size=1000)
            records += [
                _Rec(entity="activity", record_id=a.pk, action="created", external_id=key[:200])
                for a, key in plan.new_entries
            ]
        self._write_links(plan, records)
        if plan.deal_contacts or plan.deal_persons:
            through = Deal.contacts.through
            pairs = [(d.pk, c) for d, c in plan.deal_contacts]
            pairs += [(d.pk, c.pk) for d, c in plan.deal_persons]
            through.objects.bulk_create(
                [through(deal_id=d, contact_id=c) for d, c in pairs], ignore_conflicts=True
            )

    def _write_links(self, plan: Chunk, records: list[_Rec]) -> None:
        """An associations export's links (each one undone with the import)."""
        if plan.new_pairs:
            through = Deal.contacts.through
            made = through.objects.bulk_create(
                [through(deal_id=d, contact_id=c) for d, c in plan.new_pairs], batch_size=1000
            )
            records += [_Rec(entity=DEAL_CONTACT, record_id=m.pk, action="created") for m in made]
        for entity, model, given in (
            ("deal", Deal, plan.deal_clients),
            ("contact", Contact, plan.contact_clients),
        ):
            for pk, company in given.items():
                model.objects.filter(pk=pk, client_id__isnull=True).update(client_id=company)
                records.append(
                    _Rec(
                        entity=entity,
                        record_id=pk,
                        action=ImportedRecord.Action.UPDATED,
                        previous={"client_id": None},
                        written={"client_id": company},
                    )
                )

    def _write_notes(self, plan: Chunk, records: list[_Rec]) -> None:
        """A notes column's texts, as notes on the clients' feeds (undone with the import)."""
        if not plan.new_notes:
            return
        now = _chunk_now()
        notes = [
            Activity(
                kind=Activity.Kind.NOTE,
                client_id=target.client.pk,
                author_id=self.batch.created_by_id,
                summary=text[:300],
                body=text,
                happened_at=now,
            )
            for target, text in plan.new_notes
        ]
        Activity.objects.bulk_create(notes, batch_size=1000)
        records += [
            _Rec(entity="activity", record_id=n.pk, action=ImportedRecord.Action.CREATED)
            for n in notes
        ]

    def _write_products(self, plan: Chunk, records: list[_Rec]) -> None:
        if plan.new_products:
            Product.objects.bulk_create([p for p, _e in plan.new_products], batch_size=1000)
            records += [
                _Rec(
                    entity="product",
                    record_id=p.pk,
                    action=ImportedRecord.Action.CREATED,
                    external_id=ext[:200],
                )
                for p, ext in plan.new_products
            ]
        if plan.updated_products:
            fields = sorted({k for _p, prev in plan.updated_products.values() for k in prev})
            Product.objects.bulk_update([p for p, _x in plan.updated_products.values()], fields)
            records += [
                _Rec(
                    entity="product",
                    record_id=pk,
                    action=ImportedRecord.Action.UPDATED,
                    previous=previous,
                    written={k: str(getattr(product, k)) for k in previous},
                )
                for pk, (product, previous) in plan.updated_products.items()
            ]

    def _settle(self, plan: Chunk) -> None:
        """After the commit: pending clients become ids in the indexes."""
        for target in plan.new_clients:
            target.pending = False
            self.targets[target.client.pk] = target
        for index, key in self._unsettled:
            ref = index[key]
            if isinstance(ref, Target):
                index[key] = ref.client.pk
            elif isinstance(ref, Deal | Product):
                index[key] = ref.pk
        self._unsettled.clear()
        for target in plan.updated_clients.values():
            target.changed.clear()
            target.previous.clear()
        if len(self.targets) > TARGETS_KEPT:
            # The clients already written are dropped from memory between chunks (a later row
            # that matches one loads it again from the database, as for the existing base):
            # a million-row file would otherwise hold every client it made, with its contact
            # persons, phones and deals, until the end.
            self.targets.clear()


@contextlib.contextmanager
def _chunk_transaction() -> Iterator[None]:
    """One chunk's transaction, committed without waiting for the disk.

    Each chunk's commit otherwise waits for its WAL to reach the disk (about a third of the
    commit's ~35 ms here; the rest is the deferred foreign-key checks, which stay). Without
    the wait, a crash of the database server within ~0.6 s (three times wal_writer_delay) of
    a commit can lose that chunk — but only whole and together with its checkpoint, which is
    written in the same transaction, so a resumed run imports it again: nothing is
    half-written or duplicated (PostgreSQL's documentation suggests this per-transaction
    trade for bulk loads). The batch's final status is committed as usual, and that flush
    makes every earlier chunk durable too (the WAL is one sequence). Only a chunk's own
    transaction is changed: inside a caller's transaction the caller's commit keeps waiting
    for the disk."""
    outermost = not connection.in_atomic_block
    with transaction.atomic():
        if outermost:
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL synchronous_commit TO OFF")
        yield


@contextlib.contextmanager
def _fewer_collections() -> Iterator[None]:
    """Python's cyclic garbage collector, paced for a bulk run.

    An import allocates millions of short-lived objects (cells, rows, model instances), freed
    by reference counting; the collector still runs every 700 allocations and, every so often,
    walks every object the process holds — Django's, the worker's, the import's caches — to
    find cycles there are none of (~7 s of a 50 s run, measured side by side). The objects
    alive when the first run starts are frozen (not walked again until the last run ends) and
    young collections run every 20,000 allocations instead of 700; cycles are still collected,
    so memory stays bounded. Runs overlapping in one process (a threaded worker pool) share
    one setting: the first sets it, the last restores it; a process that switched the
    collector off is left as it is."""
    global _runs, _saved_threshold  # noqa: PLW0603 - the process's one collector setting
    with _collector_lock:
        if _runs == 0 and gc.isenabled() and gc.get_threshold()[0] > 0:
            _saved_threshold = gc.get_threshold()
            gc.freeze()
            gc.set_threshold(_PACED_THRESHOLD, *_saved_threshold[1:])
        _runs += 1
    try:
        yield
    finally:
        with _collector_lock:
            _runs -= 1
            if _runs == 0 and _saved_threshold is not None:
                gc.set_threshold(*_saved_threshold)
                gc.unfreeze()
                _saved_threshold = None


_PACED_THRESHOLD = 20_000
_collector_lock = threading.Lock()
_runs = 0
_saved_threshold: tuple[int, int, int] | None = None


def _same_person(target: Target, key: str) -> Contact | None:
    """«Мария Иванова» in a deal's contact column is «Иванова Мария» of the contacts' export:
    the same words in another order are the same person of this client."""
    if " " not in key:
        return None
    words = sorted(key.split())
    return next((c for k, c in target.persons.items() if sorted(k.split()) == words), None)


def _note_consent(plan: Chunk, person: PersonIn, contact: Contact, emails: list[str]) -> None:
    """The person's row said yes to mailings: a consent for the address it gave."""
    if person.consent and (emails or contact.emails):
        plan.consents.append((contact, (emails or contact.emails)[0]))


def _named(words: list[str], key: str) -> bool:
    """A deal's contact named so («Ольга Лебедева», in any order) is this person («Лебедева
    Ольга Петровна»): the same words, or all of two or more of them."""
    theirs = key.split()
    if sorted(theirs) == words:
        return True
    return len(words) >= 2 and set(words) <= set(theirs)


def _on_client(target: Target, key: str) -> Any:
    """The client's contact person a deal row names (see _named): the contact, _SEVERAL, or
    None."""
    words = sorted(key.split())
    if not words:
        return None
    found = [c for k, c in target.persons.items() if _named(words, k)]
    if len(found) > 1:
        return _SEVERAL
    return found[0] if found else None


def _note(batch: ImportBatch, result: RowResult) -> ImportRowNote:
    return ImportRowNote(
        batch=batch,
        row=result.row,
        outcome=result.outcome,
        reason=result.reason,
        values=result.values,
    )


def _deal_keys(title: str, amount: Decimal, date: str) -> tuple[tuple[str, str, str], ...]:
    """What a deal is recognised by in a later row: its title and amount, on its day (a dated
    row) or on any day (a dateless one)."""
    return (title, str(amount), date), (title, str(amount), "")


# What the CRM's decimal columns hold: numeric(14, 2) amounts and prices, numeric(12, 3)
# quantities. A larger value would fail the whole chunk's write.
_AMOUNT_LIMIT = Decimal(10) ** 12
_QUANTITY_LIMIT = Decimal(10) ** 9


def _unusable(deal_in: DealIn, amount: Decimal) -> str:
    """Why the deal's amount or lines cannot be stored, or ""."""
    too_large = _too_large(deal_in, amount)
    if too_large is not None:
        return _("%(value)s is more than the CRM can hold as an amount: the deal is left out.") % {
            "value": too_large
        }
    if amount < 0 or any(i.price < 0 or i.quantity < 0 for i in deal_in.items):
        # As the deal form: an amount, a price or a quantity is never below zero.
        return _("A negative amount, price or quantity: the deal is left out.")
    return ""


def _too_large(deal_in: DealIn, amount: Decimal) -> Decimal | None:
    if abs(amount) >= _AMOUNT_LIMIT:
        return deal_in.amount if deal_in.amount is not None else amount
    for item in deal_in.items:
        if abs(item.price) >= _AMOUNT_LIMIT:
            return item.price
        if abs(item.quantity) >= _QUANTITY_LIMIT:
            return item.quantity
    return None


def _inn_key(raw: str) -> str:
    """An INN exactly as the import stores it, so a row matches what an earlier row or file
    saved."""
    return _inn_of(raw)[0]


@functools.lru_cache(maxsize=65_536)
def _inn_of(raw: str) -> tuple[str, str]:
    """(INN as stored, status): a valid Russian INN as digits (the leading zero Excel drops
    restored), anything else as `_foreign_tax_id` keeps it. Cached: the checksum costs ~45 µs
    and every row asks twice (its chunk's look-up, then its own plan)."""
    try:
        return clean_inn(raw)
    except ValidationError:
        value = _foreign_tax_id(raw)
        # 10 or 12 digits are a Russian INN's length: failing the checksum, it is a typo (or
        # a Kazakh BIN/IIN: see _kazakh), not another country's tax id.
        return value, _INVALID if len(value) in (10, 12) and value.isdigit() else "foreign"


_INVALID = "invalid"
# Kazakh legal forms (ТОО, ЖШС) and the country's name: a 12-digit id of such a
# counterparty is its BIN or IIN, kept as a foreign tax id.
_KAZAKH_MARK = re.compile(r"\b(?:ТОО|ЖШС|Казахстан\w*|Kazakhstan|Қазақстан)\b", re.IGNORECASE)


def _kazakh(client: ClientIn, region: str) -> bool:
    """Whether a 12-digit id failing the Russian checksum is a Kazakh BIN/IIN: the company
    works in Kazakhstan, the id passes Kazakhstan's checksum, or the counterparty's name or
    address says it is Kazakh."""
    digits = _NON_DIGITS.sub("", client.inn)
    if len(digits) != 12:
        return False
    if region == "KZ" or _kazakh_checksum(digits):
        return True
    said = " ".join((client.name, client.full_name, client.legal_address, client.postal_address))
    return _KAZAKH_MARK.search(said) is not None


def _kazakh_checksum(digits: str) -> bool:
    """The check digit of a Kazakh BIN/IIN (weights 1…11, else 3…11, 1, 2; modulo 11)."""
    numbers = [int(d) for d in digits]
    check = sum(n * w for n, w in zip(numbers, range(1, 12), strict=False)) % 11
    if check == 10:
        weights = [*range(3, 12), 1, 2]
        check = sum(n * w for n, w in zip(numbers, weights, strict=False)) % 11
    return check != 10 and check == numbers[11]


def custom_kinds(fields: set[str], *, create: bool) -> dict[str, str]:
    """{key: kind} of the client custom fields a mapping fills; a balance column's field (a
    money field) is made the first time a real import fills it."""
    keys = {f.removeprefix(CUSTOM_PREFIX) for f in fields if f.startswith(CUSTOM_PREFIX)}
    if "balance" in fields:
        keys.add(BALANCE_KEY)
        if create and not CustomField.objects.filter(entity="client", key=BALANCE_KEY).exists():
            position = CustomField.objects.filter(entity="client").count() + 1
            CustomField.objects.create(
                entity=CustomField.Entity.CLIENT,
                key=BALANCE_KEY,
                label=str(_("Balance")),
                kind=CustomField.Kind.MONEY,
                position=position,
            )
    if not keys:
        return {}
    kinds = dict(
        CustomField.objects.filter(entity="client", key__in=keys).values_list("key", "kind")
    )
    if BALANCE_KEY in keys:
        kinds.setdefault(BALANCE_KEY, CustomField.Kind.MONEY)  # a preview: made by the import
    return kinds


def _custom_value(kind: str, raw: str) -> Any:
    """A cell's text as a custom field of `kind` stores it (None: it cannot hold it)."""
    if kind in {CustomField.Kind.NUMBER, CustomField.Kind.MONEY}:
        number = values.number(raw)
        if number is None or not number.is_finite() or abs(number) >= _AMOUNT_LIMIT:
            return None
        return int(number) if number == number.to_integral_value() else float(number)
    if kind == CustomField.Kind.DATE:
        return values.date(raw) or None
    if kind == CustomField.Kind.BOOLEAN:
        word = raw.strip().lower()
        return True if word in _YES else False if word in _NO else None
    if kind in {CustomField.Kind.CHOICE, CustomField.Kind.MULTI}:
        return raw if kind == CustomField.Kind.CHOICE else [raw]
    return raw[:1000]


_YES = {"да", "yes", "1", "true", "+", "д", "y"}
_NO = {"нет", "no", "0", "false", "-", "н", "n"}


def _foreign_tax_id(raw: str) -> str:
    """A tax id that is not a valid Russian INN (a Kazakh BIN, a typo), kept as typed — but
    without the spaces and dashes people group digits with, so "1816 2036 0057" and
    "181620360057" are one counterparty."""
    value = raw.strip()
    return _NON_DIGITS.sub("", value) if _GROUPED_DIGITS.fullmatch(value) else value


def _kpp(raw: str) -> str:
    """A KPP (9 digits) with the leading zero Excel drops restored, as INNs get theirs."""
    value = raw.strip()
    if not _GROUPED_DIGITS.fullmatch(value):
        return value
    digits = _NON_DIGITS.sub("", value)
    return "0" + digits if len(digits) == 8 else digits


def _is_email(email: str) -> bool:
    if len(email) <= _PLAIN_EMAIL_LENGTH and _PLAIN_EMAIL.fullmatch(email):
        return True
    try:
        validate_email(email)
    except ValidationError:
        return False
    return True


def _only_a_name(external_id: str, inn: str, has_phone: bool, emails: list[str]) -> bool:
    """Nothing identifies the row but its name: then the same name is the same client
    (otherwise re-importing such a row would add it again every time)."""
    return not (external_id or inn or has_phone or any(map(_EMAIL.match, emails)))


def _all_phones(client: ClientIn) -> list[str]:
    return client.phones + [p for person in client.persons for p in person.phones]


def _all_emails(client: ClientIn) -> list[str]:
    return client.emails + [e for person in client.persons for e in person.emails]


# The per-chunk key look-ups, each with one array parameter (Django would compile an IN
# list of 2,000 placeholders per query, ~2 s of a 20,000-row import).
_BY_INN = f"""
    SELECT id, inn, kpp FROM {Client._meta.db_table} WHERE inn = ANY(%(keys)s) ORDER BY id"""
# (The contact person's client by its primary key, per phone found: a join lets the planner
# hash the whole contact table for a few thousand phones.)
_BY_PHONE = f"""
    SELECT p.e164, p.extension, coalesce(
        p.client_id,
        (SELECT c.client_id FROM {Contact._meta.db_table} c WHERE c.id = p.contact_id)
    )
    FROM {Phone._meta.db_table} p WHERE p.e164 = ANY(%(keys)s) ORDER BY p.id"""
_BY_EMAIL = f"""
    SELECT emails, client_id FROM {Contact._meta.db_table}
    WHERE emails && %(keys)s::varchar[] ORDER BY id"""
# The phones of the clients a chunk matched, their own and their contact persons' (the contact
# ids first and their clients per phone, so every step goes through an index).
_PHONES_OF = f"""
    SELECT e164, extension, client_id FROM {Phone._meta.db_table}
    WHERE client_id = ANY(%(keys)s::bigint[])
    UNION ALL
    SELECT p.e164, p.extension,
        (SELECT c.client_id FROM {Contact._meta.db_table} c WHERE c.id = p.contact_id)
    FROM {Phone._meta.db_table} p
    WHERE p.contact_id = ANY(ARRAY(
        SELECT id FROM {Contact._meta.db_table} WHERE client_id = ANY(%(keys)s::bigint[])
    ))"""


def _rows_for(sql: str, keys: set[str], *switched_off: str) -> list[tuple[Any, ...]]:
    """The rows of a look-up for these keys; `switched_off` names planner switches turned off
    for this one query, to steer it to the index that serves it."""
    if not keys:
        return []
    with transaction.atomic(), connection.cursor() as cursor:
        for name in switched_off:
            cursor.execute(f"SET LOCAL {name} = off")
        cursor.execute(sql, {"keys": sorted(keys)})
        found = cursor.fetchall()
        for name in switched_off:
            # Inside a caller's transaction SET LOCAL would outlive this query.
            cursor.execute(f"RESET {name}")
        return found


def _known(index: dict[Any, Any], key: Any, client_id: int) -> None:
    """A key found in the database: the first (oldest) client wins, and a saved client wins
    over one a dry run only planned."""
    if not isinstance(index.get(key), int):
        index[key] = client_id


def _name_key(name: str) -> str:
    return " ".join(name.lower().replace("ё", "е").split())


def _analysed(model: type[models.Model], names: tuple[str, ...]) -> str:
    columns = (str(f.column) for f in model._meta.concrete_fields if f.name in names)
    return f"{model._meta.db_table} ({', '.join(columns)})"


# The tables the per-chunk key look-ups read, and the fewest new rows worth an ANALYZE.
_LOOKED_UP = tuple(m._meta.db_table for m in (Client, Contact, Phone))
_ANALYZE_AFTER = 10_000
# Only the columns those look-ups filter and join on are analysed: the planner's choice for
# them rests on the tables' sizes (which any ANALYZE refreshes) and these columns'
# statistics; analysing every column (names, addresses, custom fields) took ~1 s of a
# 100,000-row import. PostgreSQL leaves the table's count of changes for autovacuum when not
# every column is analysed, so the rest is analysed later, as it would have been anyway.
_LOOKED_UP_COLUMNS = ", ".join(
    (
        _analysed(Client, ("id", "inn", "kpp")),
        _analysed(Contact, ("id", "client", "emails")),
        _analysed(Phone, ("e164", "extension", "client", "contact")),
    )
)
_EMAILS_INDEX = next(i.name for i in Contact._meta.indexes if list(i.fields) == ["emails"])
# How many rows a preview (dry run) checks: it keeps in memory what it would create.
PREVIEW_ROWS = 50_000
# How many written clients a run keeps in memory between chunks (see _settle).
TARGETS_KEPT = 10_000
# How many phone spellings a run remembers parsed (see _phone).
PHONES_CACHED = 100_000

_DEFAULTS: dict[type[models.Model], tuple[dict[str, Any], list[tuple[str, Any]]]] = {}
# One "now" per chunk for every created_at of its new records: calling timezone.now() for each
# of ~4 records per row was 5% of an import (bench/import_profile.py).
_chunk_clock = threading.local()


def _start_chunk_clock() -> None:
    _chunk_clock.now = timezone.now()


def _chunk_now() -> Any:
    return getattr(_chunk_clock, "now", None) or timezone.now()


def _defaults_of(model: type[models.Model]) -> tuple[dict[str, Any], list[tuple[str, Any]]]:
    """Constant defaults (copied as they are) and the callables that make fresh ones (a new
    list or dict per record, "now" per chunk)."""
    constants: dict[str, Any] = {}
    makers: list[tuple[str, Any]] = []
    for f in model._meta.concrete_fields:
        if f.default is timezone.now:
            makers.append((f.attname, _chunk_now))
        elif f.has_default() and callable(f.default):
            makers.append((f.attname, f.default))
        else:
            constants[f.attname] = f.get_default()
    return constants, makers


def _new(model: type[models.Model], **values: Any) -> Any:
    """A model instance for COPY without Model.__init__ (its per-field machinery costs more
    than the rest of a row's work): every concrete field gets its default, then `values`."""
    known = _DEFAULTS.get(model)
    if known is None:
        known = _defaults_of(model)
        _DEFAULTS[model] = known
    constants, makers = known
    obj = model.__new__(model)
    obj.__dict__.update(constants)
    obj.__dict__.update({attname: make() for attname, make in makers})
    obj.__dict__.update(values)
    obj._state = ModelState()
    return obj


def _phone_key(e164: str, extension: str) -> str:
    """One switchboard number with different extensions is different people or companies
    (business centres): the extension is part of the dedupe key."""
    return f"{e164};{extension}" if extension else e164


def _key_of(number: PhoneNumber) -> str:
    return _phone_key(number.e164, number.extension)


def _phone_row(number: PhoneNumber, kind: str) -> Phone:
    return _new(
        Phone, e164=number.e164, extension=number.extension[:10], raw=number.raw[:100], kind=kind
    )


def _gives(now: int | None, company: int, flags: list[str], other: str) -> bool:
    """Whether a link gives a deal or a contact person its company: only one without any (one
    with another keeps it, said in the row: Relata keeps one company per record)."""
    if now is None:
        return True
    if now != company:
        flags.append(_("%(what)s: left as it is.") % {"what": other})
    return False


def _what(entity: str) -> str:
    """How a row names a record of the source by its id (as linked.resolve says it)."""
    if entity == "deal":
        return _("deal %(id)s")
    if entity == "contact":
        return _("contact %(id)s")
    return _("company %(id)s")


def _reader_reason(code: str) -> str:
    return {"deleted_in_1c": _("Marked as deleted in 1C.")}.get(code, code)
