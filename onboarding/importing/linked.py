"""Tasks and history entries (notes, calls) of another CRM's export, linked to the records an
earlier file of the same export brought in: by the source system's ids (kept on the import's
ImportedRecord rows), or by a deal's or a company's name.

A task or an entry is recognised on a later import by its own id in the source system, or —
when the export gives none — by its text, date and link (its key is kept as the id), so
importing the same file again adds nothing.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field
from typing import Any

from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext as _

from crm_core.models import Activity, Client, Contact, Deal, Task
from onboarding.importing.records import LinksIn, SourceRow, TaskIn, TimelineIn
from onboarding.models import ImportBatch, ImportedRecord

ENTITY_OF = {"deal": Deal, "contact": Contact, "client": Client}


@dataclass
class Linked:
    """The records a task or an entry is about (ids; None when not found)."""

    deal: int | None = None
    client: int | None = None
    contact: int | None = None

    @property
    def anything(self) -> bool:
        return bool(self.deal or self.client or self.contact)


@dataclass
class Refs:
    """One chunk's look-ups: source ids and names to records of this company."""

    by_id: dict[tuple[str, str], int] = field(default_factory=dict)  # (entity, id) → pk
    deal_by_name: dict[str, int] = field(default_factory=dict)
    client_by_name: dict[str, int] = field(default_factory=dict)
    deal_parties: dict[int, tuple[int | None]] = field(default_factory=dict)
    contact_client: dict[int, int | None] = field(default_factory=dict)
    known_keys: set[tuple[str, str]] = field(default_factory=set)  # (entity, key) imported


def _key(raw: str) -> str:
    return " ".join(raw.lower().replace("ё", "е").split())


def row_key(entity: str, external_id: str, *parts: str) -> str:
    """A task's or an entry's id for re-imports: its own in the source, else a digest of what
    it says."""
    if external_id:
        return external_id
    digest = hashlib.sha1("\x1f".join(parts).encode(), usedforsecurity=False).hexdigest()
    return f"~{entity}:{digest[:24]}"


def _links(row: SourceRow) -> LinksIn | None:
    if row.task is not None:
        return row.task.links
    if row.timeline is not None:
        return row.timeline.links
    if row.deal is not None:
        return LinksIn(company=row.deal.company_ref, contact=row.deal.contact_ref)
    if row.association is not None:
        return row.association.links
    return None


def look_up(rows: list[SourceRow]) -> Refs:  # noqa: PLR0912 - one pass over the chunk
    """Every source id and name the chunk's rows link to, looked up at once."""
    refs = Refs()
    ids: set[str] = set()
    deal_names: set[str] = set()
    keys: dict[str, set[str]] = {"task": set(), "activity": set()}
    for row in rows:
        links = _links(row)
        if links is None:
            continue
        ids.update(i for i in (links.deal, links.contact, links.company) if i)
        if links.name:
            deal_names.add(_key(links.name))
        if row.task is not None:
            keys["task"].add(task_key(row.task))
        if row.timeline is not None:
            keys["activity"].add(timeline_key(row.timeline))
    undone = ImportBatch.Status.UNDONE
    alive = ImportedRecord.objects.exclude(batch__status=undone)
    if ids:
        found = (
            alive.filter(entity__in=ENTITY_OF, external_id__in=ids)
            .order_by("id")
            .values_list("entity", "external_id", "record_id")
        )
        for entity, external_id, record_id in found:
            refs.by_id[(entity, external_id)] = record_id
        _drop_gone(refs)
    if deal_names:
        for pk, title in (
            Deal.objects.annotate(key=Lower("title"))
            .filter(key__in=deal_names)
            .order_by("-id")
            .values_list("id", "title")
        ):
            refs.deal_by_name[_key(title)] = pk
        for pk, name in (
            Client.objects.annotate(key=Lower("name"))
            .filter(key__in=deal_names)
            .order_by("-id")
            .values_list("id", "name")
        ):
            refs.client_by_name[_key(name)] = pk
    deal_ids = {pk for (entity, _i), pk in refs.by_id.items() if entity == "deal"}
    deal_ids |= set(refs.deal_by_name.values())
    for pk, client_id in Deal.objects.filter(id__in=deal_ids).values_list("id", "client_id"):
        refs.deal_parties[pk] = (client_id,)
    contact_ids = {pk for (entity, _i), pk in refs.by_id.items() if entity == "contact"}
    refs.contact_client = dict(
        Contact.objects.filter(id__in=contact_ids).values_list("id", "client_id")
    )
    for entity, wanted in keys.items():
        if wanted:
            refs.known_keys.update(
                (entity, k)
                for k in alive.filter(entity=entity, external_id__in=wanted).values_list(
                    "external_id", flat=True
                )
            )
    return refs


def _drop_gone(refs: Refs) -> None:
    """Records deleted since they were imported link to nothing."""
    for entity, model in ENTITY_OF.items():
        wanted = {pk for (e, _i), pk in refs.by_id.items() if e == entity}
        if not wanted:
            continue
        there = set(model._default_manager.filter(id__in=wanted).values_list("id", flat=True))
        for key in [k for k, pk in refs.by_id.items() if k[0] == entity and pk not in there]:
            del refs.by_id[key]


def resolve(links: LinksIn, refs: Refs) -> tuple[Linked, list[str]]:
    """The records `links` names, and what could not be found (said in the row's reason)."""
    linked = Linked()
    missing = []
    if links.deal:
        linked.deal = refs.by_id.get(("deal", links.deal))
        if linked.deal is None:
            missing.append(_("deal %(id)s") % {"id": shown(links.deal)})
    if links.contact:
        linked.contact = refs.by_id.get(("contact", links.contact))
        if linked.contact is None:
            missing.append(_("contact %(id)s") % {"id": shown(links.contact)})
    if links.company:
        linked.client = refs.by_id.get(("client", links.company))
        if linked.client is None:
            missing.append(_("company %(id)s") % {"id": shown(links.company)})
    if not linked.anything and links.name:
        key = _key(links.name)
        linked.deal = refs.deal_by_name.get(key)
        linked.client = refs.client_by_name.get(key) if linked.deal is None else None
        if not linked.anything:
            missing.append(f"«{links.name}»")
    if linked.deal and not linked.client:
        linked.client = refs.deal_parties.get(linked.deal, (None,))[0]
    if linked.contact and not linked.client:
        linked.client = refs.contact_client.get(linked.contact)
    return linked, missing


def shown(external_id: str) -> str:
    """A source id without the system's prefix, as the person knows it."""
    return external_id.partition(":")[2] or external_id


def task_key(task: TaskIn) -> str:
    links = task.links
    return row_key(
        "task",
        task.external_id,
        task.title,
        task.due,
        links.deal,
        links.contact,
        links.company,
        links.name,
    )


def timeline_key(entry: TimelineIn) -> str:
    links = entry.links
    return row_key(
        "activity",
        entry.external_id,
        entry.kind,
        entry.text,
        entry.when,
        links.deal,
        links.contact,
        links.company,
        links.name,
    )


def when(iso: str, tz: Any) -> dt.datetime | None:
    """An ISO date or date-time from the file, in the company's time zone (a date alone is
    its start of day)."""
    if not iso:
        return None
    value = dt.datetime.fromisoformat(iso)
    return timezone.make_aware(value, tz) if timezone.is_naive(value) else value


def new_task(
    task: TaskIn,
    linked: Linked,
    *,
    assignee: int | None,
    author: int | None,
    deadline: dt.datetime,
    done_at: dt.datetime | None,
) -> Task:
    return Task(
        title=(task.title or _("Task"))[:300],
        kind=task.kind or Task.Kind.CALL,
        assignee_id=assignee,
        deadline=deadline,
        deal_id=linked.deal,
        client_id=linked.client,
        contact_id=linked.contact,
        description=task.title if len(task.title) > 300 else "",
        done_at=done_at,
        created_by_id=author,
    )


def new_entry(
    entry: TimelineIn, linked: Linked, *, author: int | None, happened_at: dt.datetime
) -> Activity:
    kinds = {k.value for k in Activity.Kind}
    summary = entry.text.split("\n", 1)[0][:300] or str(Activity.Kind(entry.kind).label)
    return Activity(
        kind=entry.kind if entry.kind in kinds else Activity.Kind.NOTE,
        client_id=linked.client,
        deal_id=linked.deal,
        contact_id=linked.contact,
        author_id=author,
        summary=summary,
        body=entry.text,
        happened_at=happened_at,
    )
