"""What members see of documents: only those of deals they may see."""

from __future__ import annotations

from django.db.models import QuerySet

from crm_core.access import visible
from crm_core.documents.models import Document, DocumentTemplate
from crm_core.models import Deal
from tenants.models import Membership


def visible_documents(membership: Membership) -> QuerySet[Document]:
    deals = visible(Deal.objects.all(), membership)
    return Document.objects.filter(deal__in=deals)


def documents_of(deal: Deal) -> QuerySet[Document]:
    return Document.objects.filter(deal=deal).select_related("attachment")


def usable_templates() -> QuerySet[DocumentTemplate]:
    return DocumentTemplate.objects.filter(is_active=True).order_by("kind", "name")
