"""The reply box's picker: search the knowledge base's articles and the saved answers (the
mail's letter templates) and put one into the reply in one click.

Any reply box can have it: ``{% include "knowledge/_reply_picker.html" with target="id_text" %}``
(``target`` is the textarea's id; ``client``, ``contact`` and ``deal`` fill a saved answer's
placeholders when given). The list comes from ``knowledge_picker`` (GET ``/knowledge/picker/``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET

from communications.models import MailTemplate
from communications.services import letters
from crm_core.access import member_required
from crm_core.queries.clients import client_for, contact_for
from crm_core.queries.deals import deal_for
from crm_core.views import _membership
from knowledge.models import Article
from knowledge.queries.search import search

SHOWN = 8


@dataclass
class Choice:
    kind: str
    label: str
    hint: str
    text: str


def _seen(read: Any, membership: Any, value: str | None) -> Any:
    """The record if this member may see it (a saved answer never fills in what she may not)."""
    try:
        return read(membership, int(value)) if value else None
    except (ValueError, Http404):
        return None


@member_required
@require_GET
def picker(request: HttpRequest) -> HttpResponse:
    membership = _membership(request)
    text = request.GET.get("q", "").strip()[:200]
    target = "".join(c for c in request.GET.get("target", "id_text") if c.isalnum() or c in "-_")
    records = {
        "client": _seen(client_for, membership, request.GET.get("client")),
        "contact": _seen(contact_for, membership, request.GET.get("contact")),
        "deal": _seen(deal_for, membership, request.GET.get("deal")),
    }
    answers = MailTemplate.objects.all()
    if text:
        answers = answers.filter(Q(name__icontains=text) | Q(body__icontains=text))
    fill = {"company": request.company, "manager": request.user, **records}  # type: ignore[attr-defined]
    choices = [
        Choice("answer", t.name, t.subject, letters.fill(t.body, **fill)) for t in answers[:SHOWN]
    ]
    if text:
        found = [f.article for f in search(text, public=False).results[:SHOWN]]
    else:
        found = list(Article.objects.filter(is_published=True).order_by("-published_at")[:SHOWN])
    choices += [_article_choice(request, article) for article in found]
    return render(
        request,
        "knowledge/_picker_results.html",
        {"choices": choices, "target": target[:100] or "id_text", "text": text},
    )


def _article_choice(request: HttpRequest, article: Article) -> Choice:
    if article.visibility == Article.Visibility.PUBLIC:
        # The customer can open a public article: its title and link go in.
        link = request.build_absolute_uri(reverse("help_article", args=[article.pk]))
        return Choice("article", article.title, link, f"{article.title}\n{link}")
    # An internal one is for colleagues only: its text goes in, never a link.
    return Choice("internal", article.title, "", article.body)
