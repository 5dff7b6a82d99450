"""An invited person receives the records an import kept for them.

On the preview of another CRM's export the person importing may answer "invite by e-mail" for
a name of the file that is no member yet: the import gives that name's deals, clients, contact
persons and tasks to the importer and remembers each one (AwaitingOwner). When the invited
person accepts (tenants' `member_joined`, sent from the invitation's acceptance), each record
that is still the importer's becomes theirs, with an audit entry; one somebody gave to someone
else meanwhile is left as it is. Then the records are forgotten either way.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from django.db import models
from django_tenants.utils import tenant_context

from crm_core.models import AuditEntry, Client, Contact, Deal, Task
from onboarding.models import AwaitingOwner, ImportBatch
from tenants.models import Company, Membership, User

# entity (as the import records it) → the model and its field of the person it is for.
OWNED: dict[str, tuple[type[models.Model], str]] = {
    "client": (Client, "responsible_id"),
    "contact": (Contact, "responsible_id"),
    "deal": (Deal, "responsible_id"),
    "task": (Task, "assignee_id"),
}


def on_member_joined(
    sender: Any, *, company: Company, user: User, membership: Membership, **_kwargs: Any
) -> None:
    """tenants.signals.member_joined's receiver (connected in OnboardingConfig.ready)."""
    hand_over(company, user)


def hand_over(company: Company, user: User) -> int:
    """Give `user` the company's imported records awaiting their e-mail that are still the
    importer's; returns how many changed hands. Only this company's schema is read."""
    with tenant_context(company):
        awaiting = AwaitingOwner.objects.filter(email=user.email.lower()).exclude(
            batch__status=ImportBatch.Status.UNDONE
        )
        by_batch: dict[tuple[int, int | None], dict[str, list[int]]] = defaultdict(
            lambda: defaultdict(list)
        )
        for batch_id, by_whom, entity, record_id in awaiting.values_list(
            "batch_id", "batch__created_by_id", "entity", "record_id"
        ):
            by_batch[(batch_id, by_whom)][entity].append(record_id)
        moved = 0
        entries = []
        for (_batch_id, importer), entities in by_batch.items():
            for entity, ids in entities.items():
                if entity not in OWNED:
                    continue
                model, field_name = OWNED[entity]
                # Still the importer's: a record someone reassigned meanwhile stays theirs.
                still = list(
                    model._default_manager.filter(pk__in=ids, **{field_name: importer})
                    .values_list("pk", flat=True)
                    .order_by("pk")
                )
                if not still:
                    continue
                # Not a person's edit: `updated_at` stays, so the import's undo still sees
                # its own untouched records.
                model._default_manager.filter(pk__in=still).update(**{field_name: user.pk})
                old = _email_of(importer)
                entries += [
                    AuditEntry(
                        object_type=model._meta.model_name or "",
                        object_id=pk,
                        action="reassigned",
                        changes={field_name.removesuffix("_id"): [old, user.email]},
                        actor_id=importer,
                    )
                    for pk in still
                ]
                moved += len(still)
        AuditEntry.objects.bulk_create(entries, batch_size=1000)
        AwaitingOwner.objects.filter(email=user.email.lower()).delete()
    return moved


def _email_of(user_id: int | None) -> str:
    if user_id is None:
        return ""
    return User.objects.filter(pk=user_id).values_list("email", flat=True).first() or ""
