"""The lists' bulk action "Add to a new mailing list": the ticked contact persons (or the
contact persons of the ticked clients), or all matching the filter, go onto a new static list
in the background, chunk by chunk as every bulk action does. crm_core's bulk machinery keeps
its actions in registries; this app adds its own to them (crm_core never imports marketing)."""

from __future__ import annotations

from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from crm_core.models import BulkJob
from crm_core.queries.clients import visible_contacts
from marketing.models import Segment, SegmentMember
from tenants.models import Membership

ACTION = "segment_add"


def _list_of(job: BulkJob) -> Segment:
    """The job's own list, made by its first chunk and found again by the next ones (and by a
    resumed job): its name carries the job's number."""
    when = formats.date_format(timezone.localtime(job.created_at), "SHORT_DATETIME_FORMAT")
    # The job's number is kept outside the translation: the next chunk finds the list by it.
    name = _("From the list, %(when)s") % {"when": when} + f" (#{job.pk})"
    segment = Segment.objects.filter(name__endswith=f"(#{job.pk})", kind="static").first()
    return segment or Segment.objects.create(
        name=name[:200], kind=Segment.Kind.STATIC, owner_id=job.created_by_id
    )


def add_to_new_list(membership: Membership, job: BulkJob, ids: list[int]) -> int:
    segment = _list_of(job)
    contacts = visible_contacts(membership)
    if job.entity == "clients":
        contacts = contacts.filter(client_id__in=ids)
    else:
        contacts = contacts.filter(pk__in=ids)
    SegmentMember.objects.bulk_create(
        [
            SegmentMember(segment=segment, contact_id=pk, added_by_id=membership.user_id)
            for pk in contacts.values_list("pk", flat=True)
        ],
        ignore_conflicts=True,
    )
    return len(ids)


def register() -> None:
    from crm_core.services import bulk

    bulk.ACTIONS[ACTION] = gettext_lazy("Add to a new mailing list")
    for entity in ("clients", "contacts"):
        if ACTION not in bulk.BY_ENTITY[entity]:
            bulk.BY_ENTITY[entity] = (*bulk.BY_ENTITY[entity], ACTION)
    bulk.HANDLERS[ACTION] = add_to_new_list
