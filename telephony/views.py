"""Telephony pages for members: the settings screen (owners and admins), the call pop-up the
browser polls, click-to-call, a call's recording and the list of calls."""

from __future__ import annotations

import logging
from typing import Any

from django.contrib import messages
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from crm_core.access import is_admin, member_required
from crm_core.queries.clients import page_of
from crm_core.services.clients import ClientInput, create_client
from telephony import queries
from telephony.forms import ConnectionForm, ExtensionForm, NewCallerForm
from telephony.models import Call, Extension, Provider
from telephony.providers import adapter_for
from telephony.providers.base import DialError
from telephony.providers.mango import end_reason_text
from telephony.services import connection as setup
from telephony.services import dialling, popups
from tenants.models import Membership, User

log = logging.getLogger("telephony.views")


def _membership(request: HttpRequest) -> Membership:
    return request.membership  # type: ignore[attr-defined]


def _admins_only(request: HttpRequest) -> Membership:
    membership = _membership(request)
    if not is_admin(membership):
        raise Http404("owners and admins only")
    return membership


def _members(membership: Membership) -> list[tuple[int, str]]:
    people = Membership.objects.filter(company=membership.company, is_active=True).values_list(
        "user_id", flat=True
    )
    users = User.objects.filter(pk__in=list(people)).order_by("full_name", "email")
    return [(u.pk, u.get_full_name() or u.email) for u in users]


@member_required
@require_http_methods(["GET", "POST"])
def settings_page(request: HttpRequest) -> HttpResponse:
    membership = _admins_only(request)
    connection = setup.current()
    initial: dict[str, Any] = {"provider": Provider.RELATA, "callback_minutes": 15}
    if connection is not None:
        initial = {
            "provider": connection.provider,
            "is_active": connection.is_active,
            "callback_minutes": connection.callback_minutes,
            "request_form": connection.request_form_id,
        }
    form = ConnectionForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            setup.connect(
                membership=membership,
                data=setup.ConnectionInput(
                    provider=data["provider"],
                    api_key=data["api_key"],
                    api_secret=data["api_secret"],
                    is_active=data["is_active"],
                    callback_minutes=data["callback_minutes"],
                    request_form=data["request_form"],
                ),
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("Telephony settings saved."))
            return redirect("telephony_settings")
    keys = setup.credentials(connection) if connection is not None else None
    members = _members(membership)
    names = dict(members)
    host = request.get_host()
    scheme = "https" if request.is_secure() else "http"
    base = f"{scheme}://{host}/public/telephony"
    return render(
        request,
        "telephony/settings.html",
        {
            "form": form,
            "connection": connection,
            # Relata's own format is signed with a secret of ours: shown to admins to copy.
            "webhook_secret": keys.webhook_secret if keys else "",
            "has_secret": bool(keys and keys.api_secret),
            "endpoints": {
                Provider.RELATA: f"{base}/events/",
                Provider.MANGO: f"{base}/mango",
                Provider.ZADARMA: f"{base}/zadarma/",
            },
            "extensions": [
                (e, names.get(e.user_id or 0, "—")) for e in Extension.objects.order_by("number")
            ],
            "extension_form": ExtensionForm(members=members),
        },
    )


@member_required
@require_POST
def extension_add(request: HttpRequest) -> HttpResponse:
    membership = _admins_only(request)
    form = ExtensionForm(request.POST, members=_members(membership))
    if not form.is_valid():
        messages.error(request, _("Enter the extension and choose a member."))
        return redirect("telephony_settings")
    try:
        setup.map_extension(
            membership=membership,
            number=form.cleaned_data["number"],
            user_id=form.cleaned_data["user"],
        )
    except ValidationError as exc:
        messages.error(request, "; ".join(exc.messages))
    else:
        messages.success(request, _("Extension saved."))
    return redirect("telephony_settings")


@member_required
@require_POST
def extension_delete(request: HttpRequest, extension_id: int) -> HttpResponse:
    setup.unmap_extension(membership=_admins_only(request), extension_id=extension_id)
    return redirect("telephony_settings")


@member_required
@require_POST
def secret_renew(request: HttpRequest) -> HttpResponse:
    try:
        setup.new_webhook_secret_for(membership=_admins_only(request))
    except ValidationError as exc:
        messages.error(request, "; ".join(exc.messages))
    else:
        messages.success(request, _("A new secret is made; the old one no longer signs events."))
    return redirect("telephony_settings")


@member_required
@require_GET
def popup(request: HttpRequest) -> HttpResponse:
    """Polled every few seconds by every open page: 204 (nothing to show) costs one cache read."""
    membership = _membership(request)
    call = queries.popup_call(membership)
    if call is None:
        return HttpResponse(status=204)
    return render(
        request,
        "telephony/popup.html",
        {
            "call": call,
            "deals": queries.open_deals_of(membership, call),
            "version": f"{call.pk}-{call.status}-{call.client_id}-{call.contact_id}",
            "new_caller_form": NewCallerForm(),
        },
    )


@member_required
@require_POST
def popup_close(request: HttpRequest) -> HttpResponse:
    popups.close(_membership(request).user_id)
    return HttpResponse(status=204)


@member_required
@require_POST
def popup_new_client(request: HttpRequest, call_id: int) -> HttpResponse:
    """ "New caller: create a client" from the pop-up, with the caller's number."""
    membership = _membership(request)
    call = queries.call_for(membership, call_id)
    form = NewCallerForm(request.POST)
    if call.client_id is not None:
        return redirect("client_detail", client_id=call.client_id)
    if not form.is_valid():
        messages.error(request, _("Enter the caller's name or company."))
        return redirect("calls")
    try:
        client = create_client(
            membership=membership,
            company=request.company,  # type: ignore[attr-defined]
            data=ClientInput(
                name=form.cleaned_data["name"],
                kind="person",
                phones=[call.number],
                source=str(_("Phone call")),
            ),
        )
    except (ValidationError, PermissionDenied) as exc:
        messages.error(request, "; ".join(getattr(exc, "messages", [str(exc)])))
        return redirect("calls")
    Call.objects.filter(pk=call.pk, client__isnull=True).update(client=client)
    popups.close(membership.user_id)
    return redirect("client_detail", client_id=client.pk)


@member_required
@require_POST
def dial(request: HttpRequest) -> HttpResponse:
    """Click-to-call from a number on a card; the answer is a short text the page shows."""
    try:
        dialling.dial(membership=_membership(request), number=request.POST.get("number", ""))
    except ObjectDoesNotExist:
        return HttpResponse(_("No such number among your clients."), status=404)
    except PermissionDenied:
        return HttpResponse(_("Read-only members do not call from the CRM."), status=403)
    except ValidationError as exc:
        return HttpResponse("; ".join(exc.messages), status=400)
    except DialError as exc:
        return HttpResponse(str(exc), status=502)
    return HttpResponse(_("Calling: your phone rings first, then the client's."))


@member_required
@require_GET
def recording(request: HttpRequest, call_id: int) -> HttpResponse:
    """The recording, for those who see the call: a short-lived link from the provider."""
    call = queries.call_for(_membership(request), call_id)
    connection = setup.current()
    if not call.recording_ref or connection is None:
        raise Http404("no recording")
    try:
        link = adapter_for(call.provider).recording_link(
            setup.credentials(connection), call.recording_ref
        )
    except DialError as exc:
        return HttpResponse(str(exc), status=502)
    if not link.startswith(("https://", "http://")):
        raise Http404("no playable recording")
    return HttpResponseRedirect(link)


@member_required
@require_GET
def calls_page(request: HttpRequest) -> HttpResponse:
    membership = _membership(request)
    calls = page_of(queries.visible_calls(membership), request.GET.get("page"))
    for call in calls.items:
        # How it ended, in words where the provider's code is known (Mango's result codes).
        call.end_text = (  # type: ignore[attr-defined]
            end_reason_text(call.end_reason) if call.provider == Provider.MANGO else call.end_reason
        )
    return render(request, "telephony/calls.html", {"calls": calls})
