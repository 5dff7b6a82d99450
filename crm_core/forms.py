from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from crm_core.models import Client, Pipeline, Stage, Task


class ClientForm(forms.Form):
    name = forms.CharField(label=_("Client name"), max_length=300)
    kind = forms.ChoiceField(
        label=_("Kind"),
        choices=Client.Kind.choices,
        initial=Client.Kind.LEGAL_ENTITY,
        required=False,
    )
    inn = forms.CharField(
        label=_("INN"),
        max_length=32,
        required=False,
        widget=forms.TextInput(attrs={"data-dedupe": ""}),
    )
    foreign_tax_id = forms.BooleanField(label=_("Foreign tax id"), required=False)
    phone = forms.CharField(
        label=_("Phone"),
        max_length=100,
        required=False,
        widget=forms.TextInput(attrs={"data-dedupe": ""}),
    )
    contact_name = forms.CharField(label=_("Contact person"), max_length=200, required=False)
    email = forms.EmailField(
        label=_("E-mail"), required=False, widget=forms.EmailInput(attrs={"data-dedupe": ""})
    )
    create_anyway = forms.BooleanField(
        label=_("It is a different client: create anyway"), required=False
    )

    def clean_name(self) -> str:
        name: str = self.cleaned_data["name"].strip()
        if not name:
            raise forms.ValidationError(_("Enter the client's name."))
        return name

    def clean_kind(self) -> str:
        return self.cleaned_data.get("kind") or Client.Kind.LEGAL_ENTITY


class DealForm(forms.Form):
    title = forms.CharField(label=_("Deal"), max_length=300)
    client_name = forms.CharField(label=_("Client"), max_length=300, required=False)
    phone = forms.CharField(label=_("Phone"), max_length=100, required=False)
    amount = forms.DecimalField(
        label=_("Amount"), min_value=0, max_digits=14, decimal_places=2, required=False
    )
    pipeline = forms.ModelChoiceField(label=_("Pipeline"), queryset=Pipeline.objects.none())

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["pipeline"].queryset = Pipeline.objects.all()  # type: ignore[attr-defined]


class LogForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("What"),
        choices=[("call", _("Call")), ("meeting", _("Meeting")), ("note", _("Note"))],
    )
    result = forms.CharField(label=_("Result"), widget=forms.Textarea(attrs={"rows": 2}))


class TaskForm(forms.Form):
    title = forms.CharField(label=_("Task"), max_length=300)
    kind = forms.ChoiceField(label=_("Type"), choices=Task.Kind.choices)
    assignee = forms.TypedChoiceField(label=_("Assignee"), coerce=int, required=False)
    deadline = forms.DateTimeField(
        label=_("Deadline"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )


def with_members(form: TaskForm, members: list[tuple[int, str]]) -> TaskForm:
    """The assignee list: the company's active members (the current user first)."""
    form.fields["assignee"].choices = members  # type: ignore[attr-defined]
    return form


class ItemForm(forms.Form):
    name = forms.CharField(label=_("Product or service"), max_length=300)
    quantity = forms.DecimalField(
        label=_("Quantity"), min_value=0, max_digits=12, decimal_places=3, initial=1
    )
    price = forms.DecimalField(label=_("Price"), min_value=0, max_digits=14, decimal_places=2)


class AttachmentForm(forms.Form):
    file = forms.FileField(label=_("File"))


class DealEditForm(forms.Form):
    title = forms.CharField(label=_("Deal"), max_length=300)
    amount = forms.DecimalField(label=_("Amount"), min_value=0, max_digits=14, decimal_places=2)
    expected_close = forms.DateField(
        label=_("Expected close"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    source = forms.CharField(label=_("Source"), max_length=100, required=False)
    version = forms.IntegerField(widget=forms.HiddenInput)


class DealFilterForm(forms.Form):
    responsible = forms.TypedChoiceField(
        label=_("Manager"), coerce=int, required=False, empty_value=None
    )
    stage: forms.ModelChoiceField[Any] = forms.ModelChoiceField(
        label=_("Stage"), queryset=Stage.objects.none(), required=False
    )
    source = forms.CharField(label=_("Source"), max_length=100, required=False)
    created_from = forms.DateField(
        label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    created_to = forms.DateField(
        label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    sort = forms.ChoiceField(
        label=_("Sort"),
        required=False,
        choices=[
            ("new", _("Newest")),
            ("old", _("Oldest")),
            ("amount", _("Largest amount")),
            ("close", _("Closing soonest")),
            ("title", _("Title")),
        ],
    )

    def __init__(self, *args: Any, members: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["responsible"].choices = [("", "—"), *members]  # type: ignore[attr-defined]
        self.fields["stage"].queryset = Stage.objects.select_related("pipeline")  # type: ignore[attr-defined]
