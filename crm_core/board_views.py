"""The deal board's extras: the stage colours' stylesheet and the cards' quick actions (log a
call, add a task, move to a stage) answered as small htmx fragments for the board's dialog."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from html import escape

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from crm_core.access import member_required
from crm_core.forms import LogForm, TaskForm, with_members
from crm_core.models import Pipeline, Stage
from crm_core.queries.deals import Card, card_for, deal_for
from crm_core.queries.members import assignable_members
from crm_core.services.deals import log_call
from crm_core.services.tasks import create_task
from tenants.models import Membership, User

HEX_COLOUR = re.compile(r"#[0-9a-fA-F]{6}|#[0-9a-fA-F]{3}")


def _membership(request: HttpRequest) -> Membership:
    return request.membership  # type: ignore[attr-defined]


def colours_version(stages: Iterable[Stage]) -> str:
    """A short hash of the stages' colours: the stylesheet's URL changes when a colour does, so
    browsers may keep it for a year."""
    text = ";".join(f"{stage.pk}={stage.color}" for stage in stages)
    return hashlib.sha256(text.encode()).hexdigest()[:12]


@member_required
@require_GET
def stage_colours_css(request: HttpRequest, pipeline_id: int) -> HttpResponse:
    """``.stage-<id> { --stage: #hex }`` for the pipeline's stages.

    The board cannot set a stage's colour in a ``style`` attribute (the Content-Security-Policy
    allows stylesheets from our own origin only), so the colours come as a stylesheet of their
    own. It is read from the company's schema on the company's host, and only a well-formed hex
    colour is written, so no stage name or stray text can become CSS.
    """
    pipeline = get_object_or_404(Pipeline, pk=pipeline_id)
    # The live stages, as the board and the editor hash them (an archived stage shows nowhere).
    stages = list(pipeline.stages.filter(is_archived=False).order_by("position", "id"))
    rules = [
        f".stage-{stage.pk} {{ --stage: {stage.color}; }}"
        for stage in stages
        if HEX_COLOUR.fullmatch(stage.color or "")
    ]
    response = HttpResponse("\n".join(rules) + "\n", content_type="text/css; charset=utf-8")
    version = colours_version(stages)
    response["ETag"] = f'"{version}"'
    if request.GET.get("v") == version:
        # The URL names this very content: keep it, but only in this person's browser.
        response["Cache-Control"] = "private, max-age=31536000, immutable"
    else:
        response["Cache-Control"] = "private, no-cache"
    return response


def card_links(cards: Iterable[Card]) -> None:
    """Fill in the cards' links from URL patterns reversed once (not twice per card)."""
    patterns = {
        name: reverse(name, kwargs={"deal_id": 0}).replace("/0/", "/{}/", 1)
        for name in ("deal_detail", "deal_move", "board_quick")
    }
    for card in cards:
        card.url = patterns["deal_detail"].format(card.pk)
        card.move_url = patterns["deal_move"].format(card.pk)
        card.quick_url = patterns["board_quick"].format(card.pk)


# A board shows up to 210 cards. Through a template (an include per card, ~25 variables each)
# they were three quarters of the page's CPU (~1,000 Python calls per card); one f-string per
# card with the standard library's escaping (what Django's escape does, without its lazy-string
# wrapper) costs a few dozen. The markup lives here only: the board and the quick actions'
# redrawn card both come from card_html.
def card_html(card: Card, no_task: str, *, oob: bool = False) -> SafeString:
    """One board card's markup; ``no_task`` is "No task" in the page's language."""
    key, title = escape(card.key), escape(card.title)
    swap = ' hx-swap-oob="outerHTML"' if oob else ""
    # What closing the deal on the board offers ("Also close 2 open tasks"), in the page's
    # language: board.js shows it in the won confirmation and the lost dialog.
    close_tasks = (
        f' data-close-tasks="{escape(card.close_tasks_label)}"' if card.close_tasks_label else ""
    )
    parts = [
        f'<li class="deal-card" id="deal-card-{key}" data-deal="{key}"'
        f' data-version="{escape(card.version)}" data-amount="{escape(card.amount)}"'
        f' data-move-url="{escape(card.move_url)}" data-open-tasks="{card.open_tasks:d}"'
        f"{close_tasks}{swap}>\n"
        f'  <div class="card-top"><a class="card-title" href="{escape(card.url)}">{title}</a>'
        f'<button type="button" class="card-menu" hx-get="{escape(card.quick_url)}"'
        f' hx-target="#board-dialog-body" aria-label="{escape(card.menu_label)}">⋯</button>'
        "</div>\n  "
    ]
    if card.client_name:
        parts.append(f'<span class="card-client">{escape(card.client_name)}</span>\n  ')
    parts.append(
        f'<div class="card-line"><span class="card-amount">{escape(card.amount_text)}</span>'
        f'<span class="card-age">{escape(card.age_text)}</span>'
    )
    if card.initials:
        parts.append(
            f'<span class="avatar" role="img" title="{escape(card.responsible_name)}"'
            f' aria-label="{escape(card.avatar_label)}">{escape(card.initials)}</span>'
        )
    parts.append("</div>\n  ")
    for code, text in card.marks:
        parts.append(f'<span class="card-mark mark-{escape(code)}">{escape(text)}</span>\n  ')
    if card.task_title:
        due = escape(card.task_due)
        parts.append(
            f'<p class="card-task due-{due}" data-next-task="{due}"><span class="due-when">'
            f"{escape(card.due_label)}{escape(card.task_when)}</span>"
            f" {escape(card.task_title)}</p>\n  "
        )
    elif not card.closed:
        parts.append(
            f'<p class="card-task due-none" data-next-task="none">{escape(no_task)}</p>\n  '
        )
    parts.append('<span class="grip" data-grip aria-hidden="true"></span>\n</li>')
    return SafeString("".join(parts))


def render_cards(cards: Iterable[Card]) -> None:
    """Fill in each card's ``html`` (links first: see card_links)."""
    no_task = _("No task")
    for card in cards:
        card.html = card_html(card, no_task)


_members = assignable_members


def _refusal(exc: Exception) -> str:
    if isinstance(exc, PermissionDenied):
        return _("Your role can only look, not change.")
    return " ".join(getattr(exc, "messages", [str(exc)]))


@member_required
@require_http_methods(["GET", "POST"])
def board_quick(request: HttpRequest, deal_id: int) -> HttpResponse:
    """A card's quick actions in the board's dialog: move it, log a call, add a task.

    A POST answers with the same dialog (with the form's errors), or — when the write is done —
    with the redrawn card (swapped in place by htmx, out of band) and a line that closes the
    dialog.
    """
    membership = _membership(request)
    deal = deal_for(membership, deal_id)
    action = request.POST.get("action", "")
    log_form = LogForm(request.POST if action == "call" else None, prefix="quick-log")
    task_form = with_members(
        TaskForm(request.POST if action == "task" else None, prefix="quick-task"),
        _members(membership),
    )
    error = ""
    done = ""
    if action == "call" and log_form.is_valid():
        try:
            log_call(
                membership=membership,
                deal=deal,
                result=log_form.cleaned_data["result"],
                kind=log_form.cleaned_data["kind"],
            )
            done = _("Written down.")
        except (ValidationError, PermissionDenied) as exc:
            error = _refusal(exc)
    elif action == "task" and task_form.is_valid():
        assignee_id = task_form.cleaned_data.get("assignee")
        try:
            create_task(
                membership=membership,
                title=task_form.cleaned_data["title"],
                kind=task_form.cleaned_data["kind"],
                deadline=task_form.cleaned_data["deadline"],
                deal=deal,
                assignee=User.objects.filter(pk=assignee_id).first() if assignee_id else None,
            )
            done = _("Task added.")
        except (ValidationError, PermissionDenied) as exc:
            error = _refusal(exc)
    elif request.method == "POST" and action not in ("call", "task"):
        error = _("Choose what to do.")
    card, stage_id = card_for(membership, deal.pk)
    card_links([card])
    card.html = card_html(card, _("No task"), oob=True)
    return render(
        request,
        "crm_core/_board_quick.html",
        {
            "deal": deal,
            "card": card,
            "stages": deal.pipeline.stages.filter(is_archived=False).order_by("position", "id"),
            "stage_id": stage_id,
            "log_form": log_form,
            "task_form": task_form,
            "error": error,
            "done": done,
            "action": action,
        },
    )
