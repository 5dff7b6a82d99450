from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any, TypeVar

from django import forms
from django.utils.translation import gettext_lazy as _

from crm_core.currencies import CHOICES as CURRENCIES
from crm_core.customfields import add_filter_fields
from crm_core.models import (
    COMMON_UNITS,
    Client,
    CustomField,
    DiscountKind,
    Pipeline,
    PriceList,
    Stage,
    Task,
    VatRate,
)
from crm_core.normalise import clean_inn
from relata.inputs import plausible_date


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
    # Left out, the deal is in the company's base currency.
    currency = forms.ChoiceField(label=_("Currency"), choices=CURRENCIES, required=False)
    pipeline = forms.ModelChoiceField(label=_("Pipeline"), queryset=Pipeline.objects.none())

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["pipeline"].queryset = Pipeline.objects.filter(is_archived=False)  # type: ignore[attr-defined]


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
        validators=[plausible_date],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )


REMIND_LABELS = [
    ("none", _("No reminder")),
    ("at_due", _("At the due time")),
    ("15m", _("15 minutes before")),
    ("1h", _("1 hour before")),
    ("1d", _("1 day before")),
    ("time", _("At a chosen time")),
]
REPEAT_LABELS = [
    ("", _("Does not repeat")),
    ("daily", _("Every day")),
    ("weekdays", _("Every weekday (Mon–Fri)")),
    ("weekly", _("Weekly on chosen days")),
    ("monthly", _("Every month")),
]
WEEKDAY_LABELS = [
    ("MO", _("Mon")),
    ("TU", _("Tue")),
    ("WE", _("Wed")),
    ("TH", _("Thu")),
    ("FR", _("Fri")),
    ("SA", _("Sat")),
    ("SU", _("Sun")),
]


class TaskDetailsForm(TaskForm):
    """The full task form (new task page, task page, my day): the quick form's fields and
    a description, a meeting's length, a reminder and a repeat rule."""

    description = forms.CharField(
        label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    duration_minutes = forms.TypedChoiceField(
        label=_("Meeting length"),
        coerce=int,
        required=False,
        empty_value=None,
        choices=[
            (15, _("15 min")),
            (30, _("30 min")),
            (45, _("45 min")),
            (60, _("1 hour")),
            (90, _("1.5 hours")),
            (120, _("2 hours")),
            (180, _("3 hours")),
            (240, _("4 hours")),
            (480, _("All day (8 hours)")),
        ],
        initial=60,
    )
    remind = forms.ChoiceField(
        label=_("Reminder"), choices=REMIND_LABELS, initial="15m", required=False
    )
    remind_time = forms.DateTimeField(
        label=_("Remind at"),
        required=False,
        validators=[plausible_date],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    repeat = forms.ChoiceField(label=_("Repeat"), choices=REPEAT_LABELS, required=False)
    weekdays = forms.MultipleChoiceField(
        label=_("On"),
        choices=WEEKDAY_LABELS,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )


class PostponeForm(forms.Form):
    on = forms.DateTimeField(
        label=_("New date"),
        required=False,
        validators=[plausible_date],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )


class TaskCommentForm(forms.Form):
    text = forms.CharField(
        label=_("Comment"), max_length=4000, widget=forms.Textarea(attrs={"rows": 2})
    )


AnyTaskForm = TypeVar("AnyTaskForm", bound=TaskForm)


def with_members(form: AnyTaskForm, members: list[tuple[int, str]]) -> AnyTaskForm:
    """The assignee list: the company's active members (the current user first)."""
    form.fields["assignee"].choices = members  # type: ignore[attr-defined]
    return form


class ItemForm(forms.Form):
    name = forms.CharField(
        label=_("Product or service"),
        max_length=300,
        widget=forms.TextInput(attrs={"list": "price-list", "autocomplete": "off"}),
    )
    quantity = forms.DecimalField(
        label=_("Quantity"), min_value=0, max_digits=12, decimal_places=3, initial=1
    )
    price = forms.DecimalField(
        label=_("Price"),
        min_value=0,
        max_digits=14,
        decimal_places=2,
        required=False,
        help_text=_("Empty: the price from the price list."),
    )
    discount = forms.DecimalField(
        label=_("Discount"), min_value=0, max_digits=14, decimal_places=2, required=False
    )
    discount_kind = forms.ChoiceField(
        label=_("Discount in"),
        choices=DiscountKind.choices,
        initial=DiscountKind.PERCENT,
        required=False,
    )
    vat_rate = forms.ChoiceField(
        label=_("VAT"),
        choices=[("", _("as the product")), *list(VatRate.choices)],
        required=False,
    )

    def clean_discount_kind(self) -> str:
        # Forms without the field (older pages, the API's callers of the page) mean percent.
        return self.cleaned_data.get("discount_kind") or DiscountKind.PERCENT


class DiscountForm(forms.Form):
    discount = forms.DecimalField(
        label=_("Discount"), min_value=0, max_digits=14, decimal_places=2, required=False
    )
    discount_kind = forms.ChoiceField(label=_("Discount in"), choices=DiscountKind.choices)


class DealPriceListForm(forms.Form):
    price_list = forms.ModelChoiceField(
        label=_("Price list"),
        queryset=PriceList.objects.all(),
        required=False,
        empty_label=_("Base prices"),
    )
    reprice = forms.BooleanField(
        label=_("Update the lines' prices from this list"), required=False, initial=True
    )


class AttachmentForm(forms.Form):
    file = forms.FileField(label=_("File"))


class DealEditForm(forms.Form):
    title = forms.CharField(label=_("Deal"), max_length=300)
    amount = forms.DecimalField(label=_("Amount"), min_value=0, max_digits=14, decimal_places=2)
    # Left out (an older form), the deal keeps its currency.
    currency = forms.ChoiceField(label=_("Currency"), choices=CURRENCIES, required=False)
    expected_close = forms.DateField(
        label=_("Expected close"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    source = forms.CharField(label=_("Source"), max_length=100, required=False)
    tags = forms.CharField(
        label=_("Tags"), max_length=500, required=False, help_text=_("Separated by commas.")
    )
    responsible = forms.TypedChoiceField(
        label=_("Responsible manager"), coerce=int, required=False, empty_value=None
    )
    contact_ids = forms.TypedMultipleChoiceField(
        label=_("Contact persons"),
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    version = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(
        self,
        *args: Any,
        members: list[tuple[int, str]],
        contacts: list[tuple[int, str]],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["responsible"].choices = [("", "—"), *members]  # type: ignore[attr-defined]
        self.fields["contact_ids"].choices = contacts  # type: ignore[attr-defined]
        if not contacts:
            del self.fields["contact_ids"]
        # "74400", not "74400.00", in the field: kopecks only when there are any.
        amount = self.initial.get("amount")
        if isinstance(amount, Decimal) and amount == amount.to_integral_value():
            self.initial["amount"] = amount.quantize(Decimal(1))

    def clean_tags(self) -> list[str]:
        return parse_tags(self.cleaned_data["tags"])


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

    tag = forms.CharField(label=_("Client tag"), max_length=50, required=False)

    def __init__(
        self,
        *args: Any,
        members: list[tuple[int, str]],
        fields: Iterable[CustomField] = (),
        board: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["responsible"].choices = [("", "—"), *members]  # type: ignore[attr-defined]
        self.fields["stage"].queryset = Stage.objects.filter(is_archived=False).select_related(  # type: ignore[attr-defined]
            "pipeline"
        )
        if board:
            # The board's columns are the stages and its order is the stage's own.
            del self.fields["stage"], self.fields["sort"]
        add_filter_fields(self, fields)


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.replace(",", "\n").splitlines() if line.strip()]


def parse_tags(text: str) -> list[str]:
    """Tags as typed ("опт, застройщик"): split at commas and lines, each cut to 50
    characters, repeats dropped, the order kept."""
    return list(dict.fromkeys(t[:50] for t in _lines(text)))


class ClientEditForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=Client.Kind.choices)
    # Not required: a form sent without it (an older page, a script) keeps the client's own.
    relationship = forms.ChoiceField(
        label=_("Relationship"), choices=Client.Relationship.choices, required=False
    )
    name = forms.CharField(label=_("Client name"), max_length=300)
    full_name = forms.CharField(label=_("Full legal name"), max_length=500, required=False)
    inn = forms.CharField(label=_("INN"), max_length=32, required=False)
    foreign_tax_id = forms.BooleanField(label=_("Foreign tax id"), required=False)
    kpp = forms.RegexField(
        label=_("KPP"),
        regex=r"^\d{4}[\dA-Z]{2}\d{3}$",
        required=False,
        error_messages={
            "invalid": _("A KPP has 9 characters: 4 digits, 2 digits or letters, 3 digits.")
        },
    )
    legal_address = forms.CharField(
        label=_("Legal address"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    postal_address = forms.CharField(
        label=_("Postal address"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    bank_name = forms.CharField(label=_("Bank"), max_length=300, required=False)
    bik = forms.RegexField(
        label=_("BIK"),
        regex=r"^\d{9}$",
        required=False,
        error_messages={"invalid": _("A BIK has 9 digits.")},
    )
    bank_account = forms.RegexField(
        label=_("Account"),
        regex=r"^\d{20}$",
        required=False,
        error_messages={"invalid": _("An account number has 20 digits.")},
    )
    correspondent_account = forms.RegexField(
        label=_("Correspondent account"),
        regex=r"^\d{20}$",
        required=False,
        error_messages={"invalid": _("An account number has 20 digits.")},
    )
    website = forms.URLField(label=_("Website"), required=False, assume_scheme="https")
    industry = forms.CharField(label=_("Industry"), max_length=200, required=False)
    tags = forms.CharField(
        label=_("Tags"), max_length=500, required=False, help_text=_("Separated by commas.")
    )
    source = forms.CharField(label=_("Source"), max_length=100, required=False)
    responsible = forms.TypedChoiceField(
        label=_("Responsible manager"), coerce=int, required=False, empty_value=None
    )
    version = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, *args: Any, members: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["responsible"].choices = [("", "—"), *members]  # type: ignore[attr-defined]

    def clean_relationship(self) -> str:
        return str(
            self.cleaned_data.get("relationship")
            or self.initial.get("relationship")
            or Client.Relationship.CUSTOMER
        )

    def clean_name(self) -> str:
        name: str = self.cleaned_data["name"].strip()
        if not name:
            raise forms.ValidationError(_("Enter the client's name."))
        return name

    def clean_tags(self) -> list[str]:
        return parse_tags(self.cleaned_data["tags"])

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        try:  # Checked here too, so that a bad INN is reported with the other mistakes.
            clean_inn(data.get("inn", ""), foreign=bool(data.get("foreign_tax_id")))
        except forms.ValidationError as exc:
            self.add_error("inn", exc)
        return data


class ContactForm(forms.Form):
    last_name = forms.CharField(label=_("Last name"), max_length=100, required=False)
    first_name = forms.CharField(label=_("First name"), max_length=100, required=False)
    middle_name = forms.CharField(label=_("Middle name"), max_length=100, required=False)
    position = forms.CharField(label=_("Position"), max_length=200, required=False)
    phones = forms.CharField(
        label=_("Phones"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("One per line; an extension after “ext.” or “доб.”."),
    )
    emails = forms.CharField(
        label=_("E-mails"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    telegram = forms.CharField(label="Telegram", max_length=100, required=False)
    whatsapp = forms.CharField(label="WhatsApp", max_length=100, required=False)
    # The version of the person the form was opened at (a stale save is refused); a new person
    # has none.
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def clean_emails(self) -> list[str]:
        emails = [e.lower() for e in _lines(self.cleaned_data["emails"])]
        validator = forms.EmailField()
        for email in emails:
            validator.clean(email)
        return emails

    def clean_phones(self) -> list[str]:
        return [line.strip() for line in self.cleaned_data["phones"].splitlines() if line.strip()]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not (data.get("last_name", "").strip() or data.get("first_name", "").strip()):
            self.add_error("last_name", _("Enter the person's name."))
        return data


class CustomFieldForm(forms.Form):
    entity = forms.ChoiceField(label=_("For"), choices=CustomField.Entity.choices)
    label = forms.CharField(label=_("Name"), max_length=100)
    kind = forms.ChoiceField(label=_("Type"), choices=CustomField.Kind.choices)
    choices = forms.CharField(
        label=_("Choices"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("For a choice: one per line."),
    )

    def clean_choices(self) -> list[str]:
        return [c.strip() for c in self.cleaned_data["choices"].splitlines() if c.strip()]


class CustomFieldChangeForm(forms.Form):
    label = forms.CharField(label=_("Name"), max_length=100)
    choices = forms.CharField(
        label=_("Choices"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    show_in_list = forms.BooleanField(label=_("Show in lists"), required=False)
    is_active = forms.BooleanField(label=_("In use"), required=False)

    def clean_choices(self) -> list[str]:
        return [c.strip() for c in self.cleaned_data["choices"].splitlines() if c.strip()]


class ClientFilterForm(forms.Form):
    q = forms.CharField(label=_("Name or INN"), max_length=200, required=False)
    responsible = forms.TypedChoiceField(
        label=_("Manager"), coerce=int, required=False, empty_value=None
    )
    relationship = forms.ChoiceField(
        label=_("Relationship"),
        required=False,
        choices=[("", _("Everyone")), *Client.Relationship.choices],
    )
    tag = forms.CharField(label=_("Tag"), max_length=50, required=False)
    source = forms.CharField(label=_("Source"), max_length=100, required=False)
    sort = forms.ChoiceField(
        label=_("Sort"),
        required=False,
        choices=[("new", _("Newest")), ("old", _("Oldest")), ("name", _("Name"))],
    )

    def __init__(self, *args: Any, members: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["responsible"].choices = [("", "—"), *members]  # type: ignore[attr-defined]


class ProductForm(forms.Form):
    """A product, with one optional price field per price list (``list_<id>``)."""

    name = forms.CharField(label=_("Name"), max_length=300)
    sku = forms.CharField(label=_("SKU"), max_length=100, required=False)
    unit = forms.CharField(
        label=_("Unit"),
        max_length=20,
        initial="шт",
        help_text=_("Choose one or type your own."),
        widget=forms.TextInput(attrs={"list": "units", "autocomplete": "off"}),
    )
    vat_rate = forms.ChoiceField(
        label=_("VAT"), choices=VatRate.choices, initial=VatRate.TWENTY_TWO
    )
    price = forms.DecimalField(label=_("Base price"), min_value=0, max_digits=14, decimal_places=2)
    is_active = forms.BooleanField(label=_("On sale"), required=False, initial=True)

    units = COMMON_UNITS

    def __init__(self, *args: Any, price_lists: Iterable[PriceList] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.price_lists = list(price_lists)
        for price_list in self.price_lists:
            self.fields[f"list_{price_list.pk}"] = forms.DecimalField(
                label=_("Price: %(list)s") % {"list": price_list.name},
                min_value=0,
                max_digits=14,
                decimal_places=2,
                required=False,
                help_text=_("Empty: the base price."),
            )
        self.fields["is_active"] = self.fields.pop("is_active")  # after the prices

    def service_data(self) -> dict[str, Any]:
        data = {k: v for k, v in self.cleaned_data.items() if not k.startswith("list_")}
        data["list_prices"] = {
            p.pk: self.cleaned_data.get(f"list_{p.pk}") for p in self.price_lists
        }
        return data


class PriceListForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100)


class PricingSettingsForm(forms.Form):
    prices_include_vat = forms.TypedChoiceField(
        label=_("Prices in the price lists and deals"),
        choices=[
            ("1", _("include VAT (the client pays the price; VAT is its share)")),
            ("0", _("exclude VAT (VAT is added on top of the price)")),
        ],
        coerce=lambda value: value == "1",
        widget=forms.RadioSelect,
    )


class BaseCurrencyForm(forms.Form):
    currency = forms.ChoiceField(label=_("Base currency"), choices=CURRENCIES)


class ExchangeRateForm(forms.Form):
    day = forms.DateField(
        label=_("Date"),
        validators=[plausible_date],
        # A date input reads and writes ISO dates whatever the page's language.
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    currency = forms.ChoiceField(label=_("Currency"), choices=CURRENCIES)
    rate = forms.DecimalField(
        label=_("Rate"),
        min_value=Decimal("0.00000001"),
        max_digits=18,
        decimal_places=8,
        help_text=_("How much of the base currency one unit of this currency is worth."),
    )


class TaskFilterForm(forms.Form):
    """The task list's filters and sort (what a saved view of tasks keeps)."""

    q = forms.CharField(label=_("Task"), max_length=200, required=False)
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[
            ("", _("Open")),
            ("overdue", _("Overdue")),
            ("done", _("Done")),
            ("all", _("All")),
        ],
    )
    assignee = forms.TypedChoiceField(
        label=_("Assignee"), coerce=int, required=False, empty_value=None
    )
    kind = forms.ChoiceField(label=_("Type"), required=False)
    due_from = forms.DateField(
        label=_("Due from"),
        required=False,
        validators=[plausible_date],
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    due_to = forms.DateField(
        label=_("Due to"),
        required=False,
        validators=[plausible_date],
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    sort = forms.ChoiceField(
        label=_("Sort"),
        required=False,
        choices=[
            ("", _("Soonest due first")),
            ("latest", _("Latest due first")),
            ("new", _("Newest first")),
        ],
    )

    def __init__(self, *args: Any, members: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["assignee"].choices = [("", "—"), *members]  # type: ignore[attr-defined]
        self.fields["kind"].choices = [("", "—"), *Task.Kind.choices]  # type: ignore[attr-defined]
