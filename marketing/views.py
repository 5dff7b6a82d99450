"""The marketing pages of a company's CRM: campaigns with their figures, writing and sending
one, segments, the sending settings, and the consent panel of a contact person's card. Thin:
reads through queries, writes through services."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from crm_core.access import is_admin, member_required
from crm_core.models import Contact, SavedView
from crm_core.queries.lists import saved_views
from crm_core.views import _errors_to_form, _membership
from marketing import queries
from marketing.forms import BlockFormSet, CampaignForm, ConsentForm, SegmentForm, SendingForm
from marketing.models import Campaign, Segment
from marketing.services import campaigns, consent, delivery, segments, sending_setup
from marketing.services.audience import audience
from marketing.services.channel import ChannelError
from marketing.services.letters import fill, values_for
from marketing.services.letters import render as render_letter
from tenants.models import Company


def _company(request: HttpRequest) -> Company:
    return request.company  # type: ignore[attr-defined]


def _base_url(request: HttpRequest) -> str:
    return request.build_absolute_uri("/").rstrip("/")


def _texts(exc: ValidationError | PermissionDenied) -> str:
    if isinstance(exc, PermissionDenied):
        return _("You may not do this.")
    return "; ".join(str(m) for m in exc.messages)


# --- campaigns ---------------------------------------------------------------------------


@member_required
@require_GET
def campaign_list(request: HttpRequest) -> HttpResponse:
    membership = _membership(request)
    rows = [
        (c, f, queries.return_on_investment(c.cost, f.revenue))
        for c, f in queries.campaigns_with_figures(membership)
    ]
    return render(request, "marketing/campaigns.html", {"rows": rows})


def _blocks_of(formset: Any) -> list[dict[str, str]]:
    blocks = []
    for form in formset.forms:
        data = form.cleaned_data if form.is_valid() else {}
        if data.get("kind"):
            blocks.append(
                {"kind": data["kind"], "text": data.get("text", ""), "url": data.get("url", "")}
            )
    return blocks


@member_required
@require_http_methods(["GET", "POST"])
def campaign_edit(request: HttpRequest, campaign_id: int | None = None) -> HttpResponse:
    membership = _membership(request)
    campaign = queries.campaign_for(membership, campaign_id) if campaign_id else None
    if campaign is not None and campaign.status not in campaigns.EDITABLE:
        return redirect("marketing_campaign", campaign.pk)
    if request.method == "POST":
        form = CampaignForm(request.POST)
        formset = BlockFormSet(request.POST, prefix="blocks")
        if form.is_valid() and formset.is_valid():
            data = form.cleaned_data
            try:
                saved = campaigns.save_campaign(
                    membership=membership,
                    campaign=campaign,
                    name=data["name"],
                    subject=data["subject"],
                    blocks=_blocks_of(formset),
                    segment=data["segment"],
                    cost=data.get("cost") or 0,
                    utm_campaign=data.get("utm_campaign") or "",
                )
            except ValidationError as exc:
                _errors_to_form(form, exc)
            except PermissionDenied:
                raise Http404("read-only members write no campaigns") from None
            else:
                if "add_block" in request.POST:
                    return redirect("marketing_campaign_edit", saved.pk)
                messages.success(request, _("Campaign saved."))
                return redirect("marketing_campaign", saved.pk)
    else:
        initial: dict[str, Any] = {}
        blocks: list[dict[str, str]] = [
            {"kind": "heading", "text": "{dear} {name_and_patronymic}!"},
            {"kind": "text", "text": ""},
        ]
        if campaign is not None:
            initial = {
                "name": campaign.name,
                "subject": campaign.subject,
                "segment": campaign.segment_id,
                "cost": campaign.cost,
                "utm_campaign": campaign.utm_campaign,
            }
            blocks = campaign.blocks
        form = CampaignForm(initial=initial)
        formset = BlockFormSet(initial=blocks, prefix="blocks")
    return render(
        request,
        "marketing/campaign_edit.html",
        {"form": form, "formset": formset, "campaign": campaign},
    )


@member_required
@require_GET
def campaign_detail(request: HttpRequest, campaign_id: int) -> HttpResponse:
    membership = _membership(request)
    campaign = queries.campaign_for(membership, campaign_id)
    figures = queries.figures_of(membership, campaign)
    size = None
    if campaign.segment is not None and campaign.status in campaigns.EDITABLE:
        size = audience(membership, campaign.segment).count()
    return render(
        request,
        "marketing/campaign.html",
        {
            "campaign": campaign,
            "figures": figures,
            "roi": queries.return_on_investment(campaign.cost, figures.revenue),
            "audience_size": size,
            "editable": campaign.status in campaigns.EDITABLE,
            "requests": queries.campaign_requests(membership, campaign),
            "deals": queries.campaign_deals(membership, campaign),
            "recipients": queries.recipients_shown(campaign),
            "now": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
            "preview_subject": _preview_subject(membership, campaign, _company(request)),
        },
    )


def _preview_subject(membership: Any, campaign: Campaign, company: Company) -> str:
    first = None
    if campaign.segment is not None:
        first = audience(membership, campaign.segment).select_related("client").first()
    return fill(campaign.subject, values_for(first, company.language or "ru"))


@member_required
@xframe_options_sameorigin
@require_GET
def campaign_preview(request: HttpRequest, campaign_id: int) -> HttpResponse:
    """The letter as the segment's first person would see it, framed on the campaign page;
    its own policy lets the letter's inline styles and remote images show, nothing runs."""
    membership = _membership(request)
    campaign = queries.campaign_for(membership, campaign_id)
    first = None
    if campaign.segment is not None:
        first = audience(membership, campaign.segment).select_related("client").first()
    company = _company(request)
    letter = render_letter(
        subject=campaign.subject,
        blocks=campaign.blocks,
        values=values_for(first, company.language or "ru"),
        link_for=lambda url: url,
        unsubscribe_url="#",
        company_name=company.name,
        language=company.language or "ru",
    )
    response = HttpResponse(letter.html)
    response["Content-Security-Policy"] = (
        "default-src 'none'; style-src 'unsafe-inline'; img-src https: http: data:; "
        "frame-ancestors 'self'; sandbox"
    )
    return response


def _back(campaign: Campaign) -> HttpResponse:
    return redirect("marketing_campaign", campaign.pk)


@member_required
@require_POST
def campaign_test(request: HttpRequest, campaign_id: int) -> HttpResponse:
    membership = _membership(request)
    campaign = queries.campaign_for(membership, campaign_id)
    if membership.role == "read_only":
        raise Http404("read-only")
    to = request.POST.get("to", "").strip()[:254]
    try:
        delivery.send_test(
            company=_company(request), campaign=campaign, to=to, base_url=_base_url(request)
        )
    except ValidationError as exc:
        messages.error(request, _texts(exc))
    except ChannelError as exc:
        messages.error(request, _("The test letter was not sent: %(why)s") % {"why": exc})
    else:
        messages.success(request, _("The test letter went to %(to)s.") % {"to": to})
    return _back(campaign)


@member_required
@require_POST
def campaign_send(request: HttpRequest, campaign_id: int) -> HttpResponse:
    from marketing.tasks import send_campaign

    membership = _membership(request)
    campaign = queries.campaign_for(membership, campaign_id)
    try:
        queued = campaigns.start(
            membership=membership, campaign=campaign, base_url=_base_url(request)
        )
    except (ValidationError, PermissionDenied) as exc:
        messages.error(request, _texts(exc))
        return _back(campaign)
    send_campaign.delay(campaign.pk)
    messages.success(request, _("Sending to %(n)s people has begun.") % {"n": queued})
    return _back(campaign)


@member_required
@require_POST
def campaign_schedule(request: HttpRequest, campaign_id: int) -> HttpResponse:
    from django import forms

    membership = _membership(request)
    campaign = queries.campaign_for(membership, campaign_id)
    field = forms.DateTimeField(input_formats=["%Y-%m-%dT%H:%M", "%d.%m.%Y %H:%M"])
    try:
        when = field.clean(request.POST.get("when", ""))
        campaigns.schedule(
            membership=membership, campaign=campaign, when=when, base_url=_base_url(request)
        )
    except (ValidationError, PermissionDenied) as exc:
        messages.error(request, _texts(exc))
    else:
        messages.success(request, _("The campaign is scheduled."))
    return _back(campaign)


@member_required
@require_POST
def campaign_cancel(request: HttpRequest, campaign_id: int) -> HttpResponse:
    membership = _membership(request)
    campaign = queries.campaign_for(membership, campaign_id)
    try:
        campaigns.cancel(membership=membership, campaign=campaign)
    except (ValidationError, PermissionDenied) as exc:
        messages.error(request, _texts(exc))
    else:
        messages.success(request, _("The campaign is cancelled."))
    return _back(campaign)


@member_required
@require_POST
def campaign_resume(request: HttpRequest, campaign_id: int) -> HttpResponse:
    from marketing.tasks import send_campaign

    membership = _membership(request)
    campaign = queries.campaign_for(membership, campaign_id)
    try:
        left = campaigns.resume(membership=membership, campaign=campaign)
    except (ValidationError, PermissionDenied) as exc:
        messages.error(request, _texts(exc))
        return _back(campaign)
    send_campaign.delay(campaign.pk)
    messages.success(request, _("Sending goes on: %(n)s letters are left.") % {"n": left})
    return _back(campaign)


@member_required
@require_POST
def campaign_cost(request: HttpRequest, campaign_id: int) -> HttpResponse:
    membership = _membership(request)
    campaign = queries.campaign_for(membership, campaign_id)
    try:
        campaigns.set_cost(membership=membership, campaign=campaign, cost=request.POST.get("cost"))
    except (ValidationError, PermissionDenied) as exc:
        messages.error(request, _texts(exc))
    else:
        messages.success(request, _("The cost is saved."))
    return _back(campaign)


# --- segments ----------------------------------------------------------------------------


def _segment_views(request: HttpRequest) -> list[SavedView]:
    membership = _membership(request)
    return [
        *saved_views(membership, SavedView.Entity.CLIENTS),
        *saved_views(membership, SavedView.Entity.CONTACTS),
    ]


@member_required
@require_GET
def segment_list(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "marketing/segments.html",
        {"segments": queries.segments(_membership(request))},
    )


@member_required
@require_http_methods(["GET", "POST"])
def segment_edit(request: HttpRequest, segment_id: int | None = None) -> HttpResponse:
    membership = _membership(request)
    segment = queries.segment_for(membership, segment_id) if segment_id else None
    views = _segment_views(request)
    if request.method == "POST":
        form = SegmentForm(request.POST, views=views)
        if form.is_valid():
            try:
                saved = segments.save_segment(
                    membership=membership,
                    segment=segment,
                    name=form.cleaned_data["name"],
                    kind=form.cleaned_data["kind"],
                    view_id=form.cleaned_data["view"],
                )
            except ValidationError as exc:
                _errors_to_form(form, exc)
            except PermissionDenied:
                raise Http404("read-only") from None
            else:
                return redirect("marketing_segment", saved.pk)
    else:
        initial = (
            {"name": segment.name, "kind": segment.kind, "view": segment.view_id}
            if segment
            else {"kind": Segment.Kind.DYNAMIC}
        )
        form = SegmentForm(initial=initial, views=views)
    return render(request, "marketing/segment_edit.html", {"form": form, "segment": segment})


@member_required
@require_GET
def segment_detail(request: HttpRequest, segment_id: int) -> HttpResponse:
    membership = _membership(request)
    segment = queries.segment_for(membership, segment_id)
    people = segments.contacts_of(membership, segment)
    reachable = audience(membership, segment)
    found: list[Contact] = []
    q = request.GET.get("q", "").strip()[:100]
    if q and segment.kind == Segment.Kind.STATIC:
        from crm_core.queries.clients import visible_contacts

        found = list(
            visible_contacts(membership).filter(last_name__istartswith=q)[:20]
            or visible_contacts(membership).filter(emails__icontains=q)[:20]
        )
    shown = list(people.order_by("last_name", "first_name", "id")[:100])
    ok = set(reachable.filter(pk__in=[c.pk for c in shown]).values_list("pk", flat=True))
    return render(
        request,
        "marketing/segment.html",
        {
            "segment": segment,
            "people": [(c, c.pk in ok) for c in shown],
            "total": people.count(),
            "reachable": reachable.count(),
            "found": found,
            "q": q,
            "views": _segment_views(request),
        },
    )


@member_required
@require_POST
def segment_members(request: HttpRequest, segment_id: int) -> HttpResponse:
    """Add people by hand, everyone a saved view shows, or take one person off."""
    membership = _membership(request)
    segment = queries.segment_for(membership, segment_id)
    try:
        if request.POST.get("remove"):
            segments.remove_member(
                membership=membership, segment=segment, contact_id=_int(request.POST["remove"])
            )
        elif request.POST.get("view"):
            added = segments.add_from_view(
                membership=membership, segment=segment, view_id=_int(request.POST["view"])
            )
            messages.success(request, _("Added: %(n)s.") % {"n": added})
        else:
            ids = [_int(v) for v in request.POST.getlist("contact")][:500]
            added = segments.add_members(membership=membership, segment=segment, contact_ids=ids)
            messages.success(request, _("Added: %(n)s.") % {"n": added})
    except (ValidationError, PermissionDenied) as exc:
        messages.error(request, _texts(exc))
    except Http404:
        messages.error(request, _("Choose one of your saved views."))
    return redirect("marketing_segment", segment.pk)


def _int(value: str) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise Http404("not a number") from None


# --- sending settings --------------------------------------------------------------------


@member_required
@require_http_methods(["GET", "POST"])
def sending(request: HttpRequest) -> HttpResponse:
    membership = _membership(request)
    if not is_admin(membership):
        raise Http404("admins only")
    row = queries.sending_settings_row()
    if request.method == "POST":
        form = SendingForm(request.POST, instance=row)
        if form.is_valid():
            sending_setup.save_sending(
                membership=membership,
                settings=form.instance,
                key=form.cleaned_data.get("key") or "",
                signing_key=form.cleaned_data.get("signing_key") or "",
            )
            messages.success(request, _("Sending settings saved."))
            return redirect("marketing_sending")
    else:
        form = SendingForm(instance=row)
    hook = ""
    if row.provider:
        base = request.build_absolute_uri(reverse("marketing_hook", args=[row.provider]))
        scheme, rest = base.split("://", 1)
        hook = f"{scheme}://relata:{row.webhook_secret}@{rest}"
    return render(request, "marketing/sending.html", {"form": form, "hook": hook, "row": row})


# --- consent on the contact person's card ------------------------------------------------


@member_required
@require_http_methods(["GET", "POST"])
def contact_consent(request: HttpRequest, contact_id: int) -> HttpResponse:
    """The card's consent panel (a fragment the card loads) and its form."""
    membership = _membership(request)
    contact, consents = queries.consents_of(membership, contact_id)
    form = ConsentForm(request.POST or None, emails=contact.emails)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            consent.record_consent(
                membership=membership,
                contact=contact,
                email=data["email"],
                source=data["source"],
                text=data["text"],
                details=data.get("details") or "",
                given_at=data.get("given_at"),
            )
        except ValidationError as exc:
            _errors_to_form(form, exc)
        except PermissionDenied:
            form.add_error(None, _("You may not change this person's card."))
        else:
            contact, consents = queries.consents_of(membership, contact_id)
            form = ConsentForm(emails=contact.emails)
    return render(
        request,
        "marketing/_consent_panel.html",
        {
            "contact": contact,
            "consents": consents,
            "suppressed": queries.suppressions_of(contact),
            "form": form,
            "in_force": any(c.withdrawn_at is None for c in consents),
        },
    )


@member_required
@require_POST
def consent_withdraw(request: HttpRequest, contact_id: int, consent_id: int) -> HttpResponse:
    membership = _membership(request)
    contact, consents = queries.consents_of(membership, contact_id)
    found = next((c for c in consents if c.pk == consent_id), None)
    if found is None:
        raise Http404("no such consent")
    try:
        consent.withdraw_consent(membership=membership, consent=found)
    except PermissionDenied:
        raise Http404("may not change") from None
    return contact_consent_after(request, contact.pk)


def contact_consent_after(request: HttpRequest, contact_id: int) -> HttpResponse:
    membership = _membership(request)
    contact, consents = queries.consents_of(membership, contact_id)
    return render(
        request,
        "marketing/_consent_panel.html",
        {
            "contact": contact,
            "consents": consents,
            "suppressed": queries.suppressions_of(contact),
            "form": ConsentForm(emails=contact.emails),
            "in_force": any(c.withdrawn_at is None for c in consents),
        },
    )
