from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from communications.models import Mailbox
from crm_core.models import Client, Team
from service.models import Priority, Queue, ServiceSettings, SlaPolicy, Ticket


class NewTicketForm(forms.Form):
    subject = forms.CharField(label=_("Subject"), max_length=500)
    text = forms.CharField(
        label=_("What the customer asks"), widget=forms.Textarea, max_length=100_000
    )
    # The client comes from the card the ticket was opened on (its id, checked against the
    # clients the member sees): a drop-down of a million clients is no choice.
    client = forms.IntegerField(widget=forms.HiddenInput, required=False, min_value=1)
    requester_email = forms.EmailField(label=_("Customer's e-mail"), required=False)
    requester_name = forms.CharField(label=_("Customer's name"), max_length=300, required=False)
    requester_phone = forms.CharField(label=_("Customer's phone"), max_length=64, required=False)
    priority = forms.ChoiceField(
        label=_("Priority"), choices=Priority.choices, initial=Priority.NORMAL
    )
    queue: forms.ModelChoiceField[Any] = forms.ModelChoiceField(
        label=_("Queue"), queryset=Queue.objects.none(), required=False
    )
    assignee = forms.TypedChoiceField(
        label=_("Assignee"), coerce=int, required=False, empty_value=None
    )

    def __init__(self, *args: Any, members: list[tuple[int, str]], **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["queue"].queryset = Queue.objects.select_related("team")  # type: ignore[attr-defined]
        self.fields["assignee"].choices = [("", _("By the queue's rule")), *members]  # type: ignore[attr-defined]


class _Files(forms.ClearableFileInput):
    allow_multiple_selected = True


class FilesField(forms.FileField):
    """Several files from one input (Django's documented recipe); an empty list when none."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("widget", _Files(attrs={"id": "reply-files"}))
        kwargs.setdefault("required", False)
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> Any:
        one = super().clean
        found = data if isinstance(data, list | tuple) else [data]
        return [f for f in (one(d, initial) for d in found if d) if f]


class ReplyForm(forms.Form):
    text = forms.CharField(
        label=_("Reply to the customer"),
        # Its own id: the note form beside it has a "text" too, and the article and saved-answer
        # picker inserts into this one.
        widget=forms.Textarea(attrs={"id": "reply-text"}),
        max_length=100_000,
    )
    then = forms.ChoiceField(
        label=_("Then"),
        choices=[
            (Ticket.Status.WAITING, _("Wait for the customer")),
            (Ticket.Status.OPEN, _("Keep open")),
            (Ticket.Status.SOLVED, _("Solved")),
        ],
        initial=Ticket.Status.WAITING,
    )
    attachments = FilesField(label=_("Files"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["attachments"].help_text = _(
            "Sent with the letter; together at most %(mb)s MB."
        ) % {"mb": settings.MAX_ATTACHMENT_MB}


class NoteForm(forms.Form):
    text = forms.CharField(label=_("Internal note"), widget=forms.Textarea, max_length=100_000)


class TicketFieldsForm(forms.Form):
    status = forms.ChoiceField(label=_("Status"), choices=Ticket.Status.choices)
    priority = forms.ChoiceField(label=_("Priority"), choices=Priority.choices)
    queue: forms.ModelChoiceField[Any] = forms.ModelChoiceField(
        label=_("Queue"), queryset=Queue.objects.none(), required=False
    )
    assignee = forms.TypedChoiceField(
        label=_("Assignee"), coerce=int, required=False, empty_value=None
    )

    def __init__(self, *args: Any, members: list[tuple[int, str]], **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["queue"].queryset = Queue.objects.select_related("team")  # type: ignore[attr-defined]
        self.fields["assignee"].choices = [("", _("Nobody")), *members]  # type: ignore[attr-defined]


class MergeForm(forms.Form):
    into = forms.IntegerField(label=_("Merge into ticket number"), min_value=1)


class SplitForm(forms.Form):
    message = forms.IntegerField(widget=forms.HiddenInput)
    subject = forms.CharField(label=_("Subject of the new ticket"), max_length=500, required=False)


class SettingsForm(forms.ModelForm):
    class Meta:
        model = ServiceSettings
        fields = [
            "help_requests",
            "reply_mailbox",
            "default_queue",
            "surveys",
            "telegram_tickets",
            "call_tickets",
        ]

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["reply_mailbox"].queryset = Mailbox.objects.all()  # type: ignore[attr-defined]
        self.fields["default_queue"].queryset = Queue.objects.select_related("team")  # type: ignore[attr-defined]

    def clean_logo(self) -> Any:
        logo = self.cleaned_data.get("logo")
        if logo and getattr(logo, "size", 0) > 1024 * 1024:
            raise forms.ValidationError(_("The logo must be under 1 MB."))
        return logo


class QueueForm(forms.Form):
    team: forms.ModelChoiceField[Any] = forms.ModelChoiceField(
        label=_("Team"), queryset=Team.objects.all()
    )
    assignment = forms.ChoiceField(label=_("Assignment"), choices=Queue.Assignment.choices)


class SupportMailboxForm(forms.Form):
    mailbox: forms.ModelChoiceField[Any] = forms.ModelChoiceField(
        label=_("Mailbox whose letters become tickets"), queryset=Mailbox.objects.all()
    )
    queue: forms.ModelChoiceField[Any] = forms.ModelChoiceField(
        label=_("Queue"), queryset=Queue.objects.none(), required=False
    )

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["queue"].queryset = Queue.objects.select_related("team")  # type: ignore[attr-defined]


class SlaPolicyForm(forms.ModelForm):
    client_name = forms.CharField(
        label=_("Client (name, exactly)"),
        max_length=300,
        required=False,
        help_text=_("Empty: every client."),
    )

    class Meta:
        model = SlaPolicy
        fields = ["name", "priority", "first_response_minutes", "resolution_minutes", "is_active"]

    def clean_client_name(self) -> Client | None:
        name = self.cleaned_data.get("client_name", "").strip()
        if not name:
            return None
        found = list(Client.objects.filter(name__iexact=name)[:2])
        if len(found) != 1:
            raise forms.ValidationError(
                _("No client is called that.")
                if not found
                else _("Several clients are called that.")
            )
        return found[0]


class HelpRequestForm(forms.Form):
    """The help centre's request form (public): the fields a person fills in."""

    name = forms.CharField(label=_("Your name"), max_length=300)
    email = forms.CharField(label=_("E-mail"), max_length=320)
    subject = forms.CharField(label=_("Subject"), max_length=500)
    text = forms.CharField(label=_("How can we help?"), widget=forms.Textarea, max_length=20_000)


class CustomerReplyForm(forms.Form):
    text = forms.CharField(label=_("Your message"), widget=forms.Textarea, max_length=20_000)


class SurveyForm(forms.Form):
    rating = forms.TypedChoiceField(
        label=_("How did we do?"),
        coerce=int,
        choices=[(5, _("5 — excellent")), (4, "4"), (3, "3"), (2, "2"), (1, _("1 — bad"))],
        widget=forms.RadioSelect,
    )
    comment = forms.CharField(
        label=_("Anything to add?"), widget=forms.Textarea, max_length=5000, required=False
    )


class LinkForm(forms.Form):
    email = forms.CharField(label=_("E-mail"), max_length=320)
