"""Connecting a mailbox by OAuth2: start on the company host, the provider's return to the public
site, the finish back on the company host (communications/services/oauth.py says why)."""

from __future__ import annotations

from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from communications.models import Mailbox
from communications.services import mailboxes
from communications.services import oauth as flow
from communications.services.connection import MailboxError
from crm_core.access import is_admin, member_required, require_write
from crm_core.views import _membership
from relata.db import connection
from tenants.models import Company
from tenants.urlbuilding import company_url, public_url

CALLBACK_PATH = "/mail/oauth/callback/"


class StartForm(forms.Form):
    address = forms.EmailField(label=gettext_lazy("address"))
    name = forms.CharField(label=gettext_lazy("name"), max_length=200, required=False)
    kind = forms.ChoiceField(choices=Mailbox.Kind.choices, initial=Mailbox.Kind.PERSONAL)


def _redirect_uri(request: HttpRequest) -> str:
    return public_url(request, CALLBACK_PATH)


@member_required
@require_POST
def start(request: HttpRequest, provider_key: str) -> HttpResponse:
    membership = _membership(request)
    require_write(membership)
    form = StartForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Type the mailbox's address to connect it."))
        return redirect("mail_mailbox_new")
    wanted = {k: str(v) for k, v in form.cleaned_data.items()}
    if wanted["kind"] == Mailbox.Kind.SHARED and not is_admin(membership):
        raise Http404("shared mailboxes are set up by admins")
    try:
        url = flow.authorize_url(
            session=request.session,
            schema=connection.schema_name,
            user_id=membership.user_id,
            provider_key=provider_key,
            redirect_uri=_redirect_uri(request),
            wanted=wanted,
        )
    except flow.OAuthError as exc:
        messages.error(request, str(exc))
        return redirect("mail_mailbox_new")
    return redirect(url)


@require_GET
def callback(request: HttpRequest) -> HttpResponse:
    """The public site's return address: only sends the browser back to the company the signed
    state names (no session here: sessions are per host)."""
    state = request.GET.get("state", "")
    try:
        data = flow.read_state(state)
    except flow.OAuthError as exc:
        return HttpResponseBadRequest(str(exc))
    company = Company.objects.filter(schema_name=str(data.get("s", ""))).first()
    if company is None:
        return HttpResponseBadRequest(_("The company of this sign-in no longer exists."))
    keep = {k: request.GET[k] for k in ("code", "state", "error") if request.GET.get(k)}
    return redirect(
        company_url(request, company, "/mail/mailboxes/oauth/finish/?" + urlencode(keep))
    )


@member_required
@require_GET
def finish(request: HttpRequest) -> HttpResponse:
    membership = _membership(request)
    require_write(membership)
    try:
        data = flow.claim_state(
            session=request.session,
            state=request.GET.get("state", ""),
            schema=connection.schema_name,
            user_id=membership.user_id,
        )
        if request.GET.get("error") or not request.GET.get("code"):
            raise flow.OAuthError(_("The mailbox's owner did not allow access."))
        provider_key = str(data["p"])
        tokens = flow.exchange_code(provider_key, request.GET["code"], _redirect_uri(request))
        wanted = data.get("w") or {}
        kind = str(wanted.get("kind") or Mailbox.Kind.PERSONAL)
        if kind == Mailbox.Kind.SHARED and not is_admin(membership):
            raise Http404("shared mailboxes are set up by admins")
        box = Mailbox(address=str(wanted.get("address", "")), kind=kind)
        flow.fill_from_provider(box, provider_key, tokens)
        saved = mailboxes.save_mailbox(
            membership=membership,
            mailbox=Mailbox(),
            secret=tokens.access,
            reader_ids=[],
            name=str(wanted.get("name") or box.address),
            address=box.address,
            kind=kind,
            login=box.login,
            auth_method=box.auth_method,
            oauth_provider=box.oauth_provider,
            refresh_secret=box.refresh_secret,
            token_expires_at=box.token_expires_at,
            imap_host=box.imap_host,
            imap_port=box.imap_port,
            imap_security=box.imap_security,
            smtp_host=box.smtp_host,
            smtp_port=box.smtp_port,
            smtp_security=box.smtp_security,
        )
    except (flow.OAuthError, MailboxError) as exc:
        messages.error(request, _("Could not connect: %(reason)s") % {"reason": exc})
        return redirect("mail_mailbox_new")
    from communications.tasks import sync_mailbox
    from communications.views import _start_sync

    _start_sync(sync_mailbox, saved)  # Redis down: beat's next poll brings the mail in
    messages.success(request, _("Mailbox connected; its mail is being brought in."))
    return redirect("mail_mailboxes")
