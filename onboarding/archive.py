"""The company's whole CRM as one archive, and back (no lock-in).

The archive is a zip: `relata.json` (every record of every entity, automation rules, forms and
SLA settings included but never their secrets, machine-readable, with a
format version), one xlsx per entity for people, and the attached files under `files/`.
Both directions are generic over the CRM's models and their concrete fields, so a field the
CRM gains later is exported and restored without touching this module.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import json
import zipfile
from collections.abc import Iterator
from decimal import Decimal
from pathlib import PurePosixPath
from typing import IO, Any

from django.contrib.auth import get_user_model
from django.core.exceptions import FieldDoesNotExist
from django.core.files.base import ContentFile
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models, transaction
from django.utils.translation import gettext as _

from communications import models as mail
from crm_core import models as crm
from crm_core.automation import models as automation
from crm_core.documents import models as documents
from crm_core.documents.services import numbering
from knowledge import models as knowledge
from knowledge.services.articles import remember_published_words
from marketing import models as marketing
from onboarding.importing.errors import UnreadableFile
from onboarding.importing.ziplimits import check_unpacked_size
from onboarding.models import ImportTemplate
from onboarding.xlsxcells import text_cell
from service import models as service
from telegram import models as telegram
from telephony import models as telephony
from tenants.models import Company, Membership

FORMAT = "relata-export"
VERSION = 1
MANIFEST = "relata.json"
# THE REGISTRY: every model that holds the company's data is here or in EXCLUDED below
# (onboarding/tests/test_archive_registry.py fails otherwise). To archive a new model, append
# ("its_name", Model) after every model it points at (dependency order); restore is generic.
ENTITIES: list[tuple[str, type[models.Model]]] = [
    ("teams", crm.Team),
    ("employees", crm.Employee),
    ("sales_targets", crm.SalesTarget),
    ("pipelines", crm.Pipeline),
    ("stages", crm.Stage),
    ("stage_rules", automation.StageRule),
    ("rule_actions", automation.RuleAction),
    ("request_forms", automation.RequestForm),
    ("working_hours", automation.WorkingHours),
    ("holidays", automation.Holiday),
    ("automation_settings", automation.AutomationSettings),
    ("requisites", documents.Requisites),
    ("document_templates", documents.DocumentTemplate),
    ("products", crm.Product),
    ("price_lists", crm.PriceList),
    ("product_prices", crm.ProductPrice),
    ("pricing_settings", crm.PricingSettings),
    # Rates an admin typed are the company's figures; loaded ones come back too (cheap, and
    # the old deals' sums stay what they were).
    ("exchange_rates", crm.ExchangeRate),
    ("webhook_subscriptions", automation.WebhookSubscription),
    ("import_templates", ImportTemplate),
    ("custom_fields", crm.CustomField),
    # Saved views are the company's way of working; bulk jobs are not exported: they are a
    # running action's progress and a temporary file, meaningless in another company.
    ("saved_views", crm.SavedView),
    ("clients", crm.Client),
    ("contacts", crm.Contact),
    ("phones", crm.Phone),
    ("deals", crm.Deal),
    ("deal_items", crm.DealItem),
    ("stage_changes", crm.StageChange),
    ("tasks", crm.Task),
    ("task_comments", crm.TaskComment),
    ("activities", crm.Activity),
    ("files", crm.Attachment),
    ("documents", documents.Document),
    ("requests", crm.Lead),
    # E-mail: mailboxes without their passwords (restored paused), conversations, messages and
    # received files.
    ("mailboxes", mail.Mailbox),
    ("mailbox_readers", mail.MailboxReader),
    # Where each folder's sync stood: reconnected to the same server, it goes on from there.
    ("mail_folders", mail.MailFolder),
    ("mail_templates", mail.MailTemplate),
    ("conversations", mail.Conversation),
    ("messages", mail.Message),
    ("message_files", mail.MessageAttachment),
    # Calls point at their client, contact, card entry, call-back task and request (above).
    ("phone_extensions", telephony.Extension),
    ("calls", telephony.Call),
    ("telegram_messages", telegram.TelegramMessage),
    # Marketing: segments and static lists, consents (the evidence 152-ФЗ asks to keep),
    # campaigns with their letters' fates, and the addresses never to write to again.
    ("segments", marketing.Segment),
    ("segment_members", marketing.SegmentMember),
    ("consents", marketing.Consent),
    ("campaigns", marketing.Campaign),
    ("suppressions", marketing.Suppression),
    ("campaign_links", marketing.CampaignLink),
    ("campaign_recipients", marketing.Recipient),
    # The knowledge base: categories, articles (draft and published text) and their history;
    # pictures uploaded into articles, and the help centre's settings with its logo.
    ("knowledge_categories", knowledge.Category),
    ("knowledge_articles", knowledge.Article),
    ("knowledge_article_versions", knowledge.ArticleVersion),
    ("knowledge_article_images", knowledge.ArticleImage),
    ("help_centre", knowledge.HelpCentre),
    # Customer service: queues (teams), channels, SLA policies, tickets with their conversation
    # and ratings. A merged ticket points at a later one: tickets restore in id order, so the
    # archive keeps the pointer as data (restored generically after every row is in).
    ("service_queues", service.Queue),
    ("service_settings", service.ServiceSettings),
    ("support_mailboxes", service.SupportMailbox),
    ("sla_policies", service.SlaPolicy),
    ("tickets", service.Ticket),
    ("ticket_messages", service.TicketMessage),
    ("ticket_surveys", service.Survey),
    # Last: the history points at every record above (restored as history, see AUDIT).
    ("audit_log", crm.AuditEntry),
]
# Company data deliberately left out of the archive, each with its reason. A model here is
# one the test has seen and someone decided about; say why in the business's words.
EXCLUDED: dict[str, str] = {
    "telegram.Bot": "secrets: the bot's token and webhook secret; the new company connects anew",
    "telegram.StaffLink": "members' personal chats for notices, linked again in the new company",
    "telegram.LinkCode": "one-hour one-time codes for linking a member's chat",
    "telegram.Update": "update ids seen by the webhook, kept only to refuse replays",
    "crm_core.Notification": "a member's personal inbox of reminders, rebuilt from tasks",
    "crm_core.DealTotal": "a running total derived from deals, kept by the database",
    "crm_core.ContactName": "a name index derived from contact persons",
    "crm_core.SubmittedForm": "one-day tokens against double submission",
    "automation.CapturedRequest": "raw web-form payloads behind requests (requests are archived)",
    "automation.Timer": "running SLA timers of the old company; the rules start new ones",
    "automation.WebhookDelivery": "delivery attempts to integrations: a log, not data",
    "documents.Counter": "continued from the restored documents' numbers (_continue_numbering)",
    "reports.DealReach": "derived from deals and stage changes by database triggers",
    "api.ApiToken": "secrets: API tokens are issued anew in the new company",
    "api.IdempotentRequest": "one-day replay cache of API answers",
    "onboarding.ImportBatch": "the import jobs themselves: the records they made are archived",
    "onboarding.ImportedRecord": "which import made which record: undo is the old company's",
    "onboarding.ImportRowNote": "an import's row-by-row report",
    "onboarding.AwaitingOwner": (
        "an import's records waiting for an invited person to join the old company"
    ),
    "onboarding.ExportJob": "the export jobs (this archive is one)",
    "onboarding.SetupProgress": "the sign-up wizard's progress in the old company",
    "onboarding.CompanyDetails": "typed in the wizard; the documents' requisites are archived",
    "crm_core.CalendarFeed": "a person's live secret calendar address: each makes a new one",
    "crm_core.BulkJob": "a running bulk action's progress and temporary file",
    "marketing.SendingSettings": "secrets: the provider's keys and webhook password; the "
    "sending channel is set up anew",
    "telephony.PbxConnection": "secrets: the PBX provider's keys are entered anew",
    "telephony.CallEvent": "the PBX's raw webhooks, kept a month against retries: a log, not data",
    "exchange1c.ExchangeSettings": "the 1C exchange's login and password hash: set up anew",
    "exchange1c.ExchangeSession": "a log of 1C's exchange runs with the old company",
    "exchange1c.ReceivedFile": "files 1C uploaded, kept only until imported",
    "knowledge.SearchWord": "the words of the published articles, for typo correction: "
    "derived, remembered again from the restored articles",
    "exchange1c.OutboundOrder": "which orders the old company's 1C confirmed; the new "
    "company's exchange sends its own from the day it is switched on",
}
# Secrets never leave the company: the webhook signing keys and a form's API key hash.
SECRET_FIELDS: dict[type[models.Model], set[str]] = {
    automation.AutomationSettings: {"webhook_secret"},
    automation.RequestForm: {"api_key_hash"},
    automation.WebhookSubscription: {"secret"},
    # Mailbox passwords and OAuth2 tokens (encrypted, but with this installation's key).
    mail.Mailbox: {"secret", "refresh_secret"},
}
# Values set on restore whatever the archive says: an integration's subscription gets a new
# signing secret, so it comes back switched off until an admin gives the receiver the new one.
SET_ON_RESTORE: dict[type[models.Model], dict[str, Any]] = {
    automation.WebhookSubscription: {"is_active": False},
    # No password came with it: it waits until someone enters one.
    mail.Mailbox: {"status": mail.Mailbox.Status.PAUSED},
}
# Models whose files go into the archive, and the folder of the zip they go under.
FILES: dict[type[models.Model], str] = {
    crm.Attachment: "files",
    mail.MessageAttachment: "mail_files",
    knowledge.ArticleImage: "article_images",
    knowledge.HelpCentre: "help_logo",
}
# The file field of each model in FILES, where it is not called "file".
FILE_FIELDS: dict[type[models.Model], str] = {knowledge.HelpCentre: "logo"}
# Exported, but made anew on restore: a form's public address must not collide with the
# company the archive came from (both may be live), and its round-robin turn starts over.
FRESH_ON_RESTORE: dict[type[models.Model], set[str]] = {
    automation.RequestForm: {"public_id", "turn"},
    # Whose start page a view is holds user ids of the source company; each person picks again.
    crm.SavedView: {"default_for"},
}
# Records the target company may already have (one per weekday, per day, per company; a
# template it was given at sign-up; a document number it has issued itself): the company's own
# wins and the archive's is skipped. A field name, several, or None for "one per company".
KEEP_EXISTING: dict[type[models.Model], str | tuple[str, ...] | None] = {
    automation.WorkingHours: "weekday",
    automation.Holiday: "day",
    automation.AutomationSettings: None,
    service.ServiceSettings: None,
    documents.Requisites: None,
    documents.DocumentTemplate: ("kind", "name", "body"),
    documents.Document: ("kind", "year", "number"),
    crm.PricingSettings: None,
    # An address already suppressed in the new company stays as it is.
    marketing.Suppression: "email",
    crm.ExchangeRate: ("base", "currency", "day"),
    crm.Employee: "user",
    # Same name here: the company's own list (or template) is used, the archive's prices join it.
    crm.PriceList: "name",
    crm.ProductPrice: ("price_list_id", "product_id"),
    ImportTemplate: "name",
    # An extension is one phone: the company's own mapping of it wins.
    telephony.Extension: "number",
    # A call the PBX reported is one call, whichever archive brings it again.
    telephony.Call: ("provider", "external_id"),
}
# The audit log is restored as history: never edited or removed (the database refuses it, so
# undoing a restore leaves it), with its original dates; authors matched by e-mail, and the
# e-mail kept when that person is not a member here; the record ids follow the restored records.
AUDIT = crm.AuditEntry


def _exported_fields(model: type[models.Model]) -> list[str]:
    secret = SECRET_FIELDS.get(model, set())
    return [f.attname for f in model._meta.concrete_fields if f.attname not in secret]


def _rows(model: type[models.Model]) -> Iterator[dict[str, Any]]:
    names = _exported_fields(model)
    yield from model._default_manager.order_by("pk").values(*names).iterator(chunk_size=2000)


def _m2m(model: type[models.Model]) -> dict[str, list[list[int]]]:
    links: dict[str, list[list[int]]] = {}
    field: Any
    for field in model._meta.many_to_many:
        through = field.remote_field.through
        source = field.m2m_field_name()
        target = field.m2m_reverse_field_name()
        links[field.name] = [
            [a, b]
            for a, b in through.objects.order_by("pk").values_list(f"{source}_id", f"{target}_id")
        ]
    return links


def write_archive(target: IO[bytes], *, company_name: str) -> dict[str, int]:
    """Write the archive to `target`; returns the number of records per entity."""
    import openpyxl

    user_ids: set[int] = set()
    data: dict[str, Any] = {
        "format": FORMAT,
        "version": VERSION,
        "company": company_name,
        "exported_at": dt.datetime.now(dt.UTC).isoformat(),
        "entities": {},
        "links": {},
    }
    counts: dict[str, int] = {}
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, model in ENTITIES:
            book = openpyxl.Workbook(write_only=True)
            sheet = book.create_sheet(name)
            fields = _exported_fields(model)
            sheet.append([str(f) for f in fields])
            rows = []
            for row in _rows(model):
                rows.append(row)
                sheet.append([_cell(sheet, row[f]) for f in fields])
                user_ids.update(
                    row[f.attname]
                    for f in model._meta.concrete_fields
                    if f.is_relation and f.related_model is get_user_model() and row[f.attname]
                )
                if model in FILES and row[FILE_FIELDS.get(model, "file")]:
                    _add_file(archive, row, FILES[model], FILE_FIELDS.get(model, "file"))
            data["entities"][name] = rows
            counts[name] = len(rows)
            buffer = io.BytesIO()
            book.save(buffer)
            archive.writestr(f"xlsx/{name}.xlsx", buffer.getvalue())
            if model._meta.many_to_many:
                data["links"][name] = _m2m(model)
        data["users"] = {
            str(pk): email
            for pk, email in get_user_model()
            .objects.filter(pk__in=user_ids)
            .values_list("pk", "email")
        }
        archive.writestr(MANIFEST, json.dumps(data, cls=DjangoJSONEncoder, ensure_ascii=False))
    return counts


def _add_file(archive: zipfile.ZipFile, row: dict[str, Any], folder: str, field: str) -> None:
    from django.core.files.storage import default_storage

    try:
        with default_storage.open(row[field], "rb") as stored:
            name = PurePosixPath(row[field]).name
            archive.writestr(f"{folder}/{row['id']}/{name}", stored.read())
    except FileNotFoundError:
        pass  # the record is exported; its missing file cannot be


def _cell(sheet: Any, value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.replace(tzinfo=None)
    if isinstance(value, Decimal | int | float | dt.date) or value is None:
        return value
    if not isinstance(value, str):
        value = json.dumps(value, ensure_ascii=False, cls=DjangoJSONEncoder)
    return text_cell(sheet, value)


def read_manifest(stream: IO[bytes]) -> dict[str, Any]:
    try:
        with zipfile.ZipFile(stream) as archive:
            check_unpacked_size(archive)
            data = json.loads(archive.read(MANIFEST))
    except (KeyError, zipfile.BadZipFile, ValueError) as exc:  # ValueError: bad JSON too
        raise UnreadableFile("corrupt", detail=str(exc)) from exc
    finally:
        stream.seek(0)
    # A manifest edited by hand (or by another program) is checked before anything reads it.
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise UnreadableFile("wrong_format")
    version, entities = data.get("version", 0), data.get("entities")
    if not isinstance(version, int) or version > VERSION:
        raise UnreadableFile("wrong_format")
    if not isinstance(entities, dict) or not all(isinstance(r, list) for r in entities.values()):
        raise UnreadableFile("corrupt", detail=_("the list of records is malformed"))
    return data


@dataclasses.dataclass
class Restored:
    """What a restore created (new ids per model name, for undo) and whose records lost their
    responsible person because that person is not a member of this company."""

    created: dict[str, list[int]] = dataclasses.field(default_factory=dict)
    unassigned: dict[str, int] = dataclasses.field(default_factory=dict)


def _members_by_email(company: Company, emails: set[str]) -> dict[str, int]:
    """Only the people of the target company: an e-mail that belongs to someone elsewhere on
    the platform must not hand them this company's clients."""
    found = Membership.objects.filter(
        company=company, is_active=True, user__email__in=emails
    ).values_list("user__email", "user_id")
    return {email.lower(): pk for email, pk in found}


@dataclasses.dataclass
class _Ids:
    """How the archive's ids become this company's: records by model, people by e-mail."""

    records: dict[type[models.Model], dict[int, int]]
    emails: dict[int, str]
    members: dict[str, int]

    def of(self, related: Any, old: Any) -> int | None:
        if old is None:
            return None
        if related is get_user_model():
            return self.members.get(self.emails.get(old, "").lower())
        return self.records.get(related, {}).get(old)


@transaction.atomic
def restore(stream: IO[bytes], *, company: Company) -> Restored:
    """Recreate every record of an archive in the current company, with new ids.

    People (responsible managers, assignees, authors) are matched by e-mail among the members
    of `company` only; a record whose person is not a member here is left unassigned and
    counted in `unassigned`. A record that cannot exist without what it points at (an
    employee record of someone who is not a member here) is left out.
    """
    data = read_manifest(stream)
    emails = {int(k): v for k, v in data.get("users", {}).items()}
    members = _members_by_email(company, set(emails.values()))
    result = Restored()
    has_default_pipeline = crm.Pipeline.objects.filter(is_default=True).exists()
    ids = _Ids(records={}, emails=emails, members=members)
    with zipfile.ZipFile(stream) as archive:
        files = {
            (PurePosixPath(n).parts[0], PurePosixPath(n).parts[1]): n
            for n in archive.namelist()
            if PurePosixPath(n).parts[0] in FILES.values() and len(PurePosixPath(n).parts) > 2
        }
        for name, model in ENTITIES:
            rows, existing = _not_here_yet(model, data["entities"].get(name, []), ids)
            made: list[tuple[dict[str, Any], models.Model]] = []
            for row in rows:
                kwargs = _restored_fields(model, row, ids=ids, result=result)
                if kwargs is None:
                    continue
                if model is crm.SalesTarget and not _target_restorable(row, kwargs):
                    continue
                if model is crm.Pipeline and has_default_pipeline:
                    kwargs["is_default"] = False
                kwargs.update(SET_ON_RESTORE.get(model, {}))
                if model is AUDIT:
                    _as_history(kwargs, row, ids)
                obj = model(**kwargs)
                if model in FILES and (FILES[model], str(row["id"])) in files:
                    member = files[FILES[model], str(row["id"])]
                    getattr(obj, FILE_FIELDS.get(model, "file")).save(
                        PurePosixPath(member).name, ContentFile(archive.read(member)), save=False
                    )
                made.append((row, obj))
            objects = [obj for _row, obj in made]
            model._default_manager.bulk_create(objects, batch_size=2000)
            ids.records[model] = existing | {row["id"]: obj.pk for row, obj in made}
            if model is not AUDIT:  # history stays: undoing a restore cannot remove it
                result.created[model._meta.model_name or name] = [o.pk for o in objects]
            for field_name, pairs in data.get("links", {}).get(name, {}).items():
                field: Any = model._meta.get_field(field_name)
                through = field.remote_field.through
                other = ids.records.get(field.related_model, {})
                mine = {row["id"]: obj.pk for row, obj in made}
                source, target = field.m2m_field_name(), field.m2m_reverse_field_name()
                through.objects.bulk_create(
                    through(**{f"{source}_id": mine[a], f"{target}_id": other[b]})
                    for a, b in pairs
                    if a in mine and b in other
                )
    _continue_numbering()
    # Typo correction knows the restored articles' words (the vocabulary is not archived).
    remember_published_words()
    return result


def _target_restorable(row: dict[str, Any], kwargs: dict[str, Any]) -> bool:
    """A manager's or team's target whose person or team is not here would turn into the
    company's own target; and a target this company already set for that month wins."""
    if (row.get("user_id") and kwargs.get("user_id") is None) or (
        row.get("team_id") and kwargs.get("team_id") is None
    ):
        return False
    same = {name: kwargs.get(name) for name in ("month", "kind", "user_id", "team_id")}
    return not crm.SalesTarget.objects.filter(**same).exists()


def _not_here_yet(
    model: type[models.Model], rows: list[dict[str, Any]], ids: _Ids
) -> tuple[list[dict[str, Any]], dict[int, int]]:
    """The rows to create, and the archive's ids of the rows the company already has (mapped
    to its own records, so what points at them is restored too)."""
    if model not in KEEP_EXISTING:
        return rows, {}
    key = KEEP_EXISTING[model]
    if key is None:
        own = model._default_manager.order_by("pk").values_list("pk", flat=True).first()
        if own is None:
            return rows[:1], {}
        return [], {row["id"]: own for row in rows[:1]}
    names = (key,) if isinstance(key, str) else key
    fields: list[Any] = [model._meta.get_field(name) for name in names]

    def value(field: Any, row: dict[str, Any]) -> Any:
        if field.is_relation:
            return ids.of(field.related_model, row.get(field.attname))
        return field.to_python(row.get(field.attname))

    here = {
        tuple(found[:-1]): found[-1]
        for found in model._default_manager.values_list(*[f.attname for f in fields], "pk")
    }
    new, existing = [], {}
    for row in rows:
        found = here.get(tuple(value(f, row) for f in fields))
        if found is None:
            new.append(row)
        else:
            existing[row["id"]] = found
    return new, existing


def _as_history(kwargs: dict[str, Any], row: dict[str, Any], ids: _Ids) -> None:
    """An audit entry points at the restored record (0: a record not in this CRM, e.g. one
    deleted before the export), its ids in the changes too, and keeps its author's e-mail."""
    kwargs["restored_actor"] = ids.emails.get(row.get("actor_id") or 0, "")
    model = next((m for _n, m in ENTITIES if m._meta.model_name == row.get("object_type")), None)
    kwargs["object_id"] = (ids.of(model, row.get("object_id")) if model else None) or 0
    changes = kwargs.get("changes")
    if model is None or not isinstance(changes, dict):
        return
    for key, values in changes.items():
        try:
            field: Any = model._meta.get_field(key)
        except FieldDoesNotExist:
            continue
        if field.is_relation and isinstance(values, list):
            changes[key] = [
                ids.of(field.related_model, v) if isinstance(v, int) else v for v in values
            ]


def _continue_numbering() -> None:
    """Document numbers go on after the highest one restored (numbering is per kind and
    year, and a number is never issued twice)."""
    highest = (
        documents.Document.objects.values("kind", "year")
        .annotate(top=models.Max("number"))
        .values_list("kind", "year", "top")
    )
    for kind, year, top in highest:
        numbering.continue_after(kind, year, top)


def _restored_fields(
    model: type[models.Model], row: dict[str, Any], *, ids: _Ids, result: Restored
) -> dict[str, Any] | None:
    """The row's values for this company; None when a reference it cannot do without has no
    counterpart here."""
    kwargs: dict[str, Any] = {}
    for field in model._meta.concrete_fields:
        if field.primary_key or field.attname not in row:
            continue
        if field.attname in FRESH_ON_RESTORE.get(model, set()):
            continue
        value = row[field.attname]
        if field.is_relation:
            kwargs[field.attname] = ids.of(field.related_model, value)
            if kwargs[field.attname] is None and value is not None:
                if not field.null:
                    return None
                if field.related_model is get_user_model() and model is not AUDIT:
                    email = ids.emails.get(value, "")
                    result.unassigned[email] = result.unassigned.get(email, 0) + 1
        elif isinstance(field, models.FileField):
            continue  # saved from the archive's files/
        else:
            kwargs[field.attname] = field.to_python(value)
    return kwargs
