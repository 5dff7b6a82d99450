"""What the API reads and writes. Output serializers describe records; input serializers only
check shapes — the business rules (who may, what is valid, versions) live in crm_core's
services, which the views call."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from crm_core.automation.models import WebhookSubscription
from crm_core.models import Client, Contact, Deal, Lead, Product, Task, VatRate

# --- output -------------------------------------------------------------------------------


class ClientOut(serializers.ModelSerializer[Client]):
    phones = serializers.SerializerMethodField()

    class Meta:
        model = Client
        fields = [
            "id",
            "kind",
            "relationship",
            "name",
            "full_name",
            "inn",
            "inn_status",
            "kpp",
            "legal_address",
            "postal_address",
            "bank_name",
            "bik",
            "bank_account",
            "correspondent_account",
            "website",
            "industry",
            "tags",
            "source",
            "responsible",
            "phones",
            "custom",
            "created_at",
            "updated_at",
            "version",
        ]

    def get_phones(self, client: Client) -> list[str]:
        return [phone.e164 for phone in client.phones.all()]


class ContactOut(serializers.ModelSerializer[Contact]):
    phones = serializers.SerializerMethodField()

    class Meta:
        model = Contact
        fields = [
            "id",
            "client",
            "last_name",
            "first_name",
            "middle_name",
            "position",
            "emails",
            "phones",
            "messengers",
            "responsible",
            "custom",
            "created_at",
            "updated_at",
        ]

    def get_phones(self, contact: Contact) -> list[str]:
        return [phone.e164 for phone in contact.phones.all()]


class DealOut(serializers.ModelSerializer[Deal]):
    class Meta:
        model = Deal
        fields = [
            "id",
            "title",
            "client",
            "amount",
            "currency",
            "pipeline",
            "stage",
            "stage_entered_at",
            "responsible",
            "source",
            "expected_close",
            "closed_at",
            "lost_reason",
            "tags",
            "custom",
            "created_at",
            "updated_at",
            "version",
        ]


class TaskOut(serializers.ModelSerializer[Task]):
    class Meta:
        model = Task
        fields = [
            "id",
            "title",
            "kind",
            "assignee",
            "deadline",
            "deal",
            "client",
            "description",
            "done_at",
            "created_at",
        ]


class ProductOut(serializers.ModelSerializer[Product]):
    class Meta:
        model = Product
        fields = ["id", "name", "sku", "unit", "price", "vat_rate", "is_active"]


class RequestOut(serializers.ModelSerializer[Lead]):
    class Meta:
        model = Lead
        fields = [
            "id",
            "name",
            "company_name",
            "phone",
            "email",
            "message",
            "source",
            "utm",
            "status",
            "reject_reason",
            "responsible",
            "deal",
            "created_at",
        ]


class Text(serializers.CharField):
    """Text only: a number where text is expected is an error, as the schema says (DRF's own
    CharField quietly turns 5 into "5")."""

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class Flag(serializers.BooleanField):
    """true or false, not 0, 1 or "yes": what the schema promises."""

    def to_internal_value(self, data: Any) -> bool:
        if not isinstance(data, bool):
            self.fail("invalid", input=data)
        return data


class Money(serializers.DecimalField):
    """Amounts as decimal strings ("9900.50"), exactly as they are sent back."""

    def to_internal_value(self, data: Any) -> Any:
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


# --- input --------------------------------------------------------------------------------


class ClientIn(serializers.Serializer[Any]):
    name = Text(max_length=300)
    kind = serializers.ChoiceField(choices=Client.Kind.choices, default=Client.Kind.LEGAL_ENTITY)
    relationship = serializers.ChoiceField(
        choices=Client.Relationship.choices, default=Client.Relationship.CUSTOMER
    )
    inn = Text(max_length=32, required=False, allow_blank=True, default="")
    foreign_tax_id = Flag(default=False)
    kpp = Text(max_length=9, required=False, allow_blank=True, default="")
    phones = serializers.ListField(child=Text(max_length=100), required=False, default=list)
    email = serializers.EmailField(required=False, allow_blank=True)
    contact_name = Text(max_length=200, required=False, allow_blank=True, default="")
    source = Text(max_length=100, required=False, allow_blank=True, default="")

    def validate_contact_name(self, value: str) -> str:
        # The service splits "Last First" into two 100-character columns.
        last, _space, first = value.strip().partition(" ")
        if len(last) > 100 or len(first) > 100:
            raise serializers.ValidationError(_("Each part of the name: at most 100 characters."))
        return value


class ClientChange(serializers.Serializer[Any]):
    version = serializers.IntegerField(
        min_value=1, help_text=str(_("The version you read; a stale one is refused with 409."))
    )
    name = Text(max_length=300, required=False)
    kind = serializers.ChoiceField(choices=Client.Kind.choices, required=False)
    relationship = serializers.ChoiceField(choices=Client.Relationship.choices, required=False)
    full_name = Text(max_length=500, required=False, allow_blank=True)
    inn = Text(max_length=32, required=False, allow_blank=True)
    foreign_tax_id = Flag(required=False)
    kpp = Text(max_length=9, required=False, allow_blank=True)
    legal_address = Text(required=False, allow_blank=True)
    postal_address = Text(required=False, allow_blank=True)
    website = serializers.URLField(required=False, allow_blank=True)
    industry = Text(max_length=200, required=False, allow_blank=True)
    tags = serializers.ListField(child=Text(max_length=50), required=False)
    source = Text(max_length=100, required=False, allow_blank=True)
    responsible = serializers.IntegerField(required=False)


class ContactIn(serializers.Serializer[Any]):
    client = serializers.IntegerField(required=False, allow_null=True)
    last_name = Text(max_length=100, required=False, allow_blank=True)
    first_name = Text(max_length=100, required=False, allow_blank=True)
    middle_name = Text(max_length=100, required=False, allow_blank=True)
    position = Text(max_length=200, required=False, allow_blank=True)
    emails = serializers.ListField(child=serializers.EmailField(), required=False)
    phones = serializers.ListField(child=Text(max_length=100), required=False)


class DealIn(serializers.Serializer[Any]):
    title = Text(max_length=300)
    pipeline = serializers.IntegerField(required=False)
    stage = serializers.IntegerField(required=False)
    client = serializers.IntegerField(required=False, allow_null=True)
    amount = Money(max_digits=14, decimal_places=2, min_value=0, default=0)
    source = Text(max_length=100, required=False, allow_blank=True, default="")


class DealChange(serializers.Serializer[Any]):
    version = serializers.IntegerField(
        min_value=1, help_text=str(_("The version you read; a stale one is refused with 409."))
    )
    title = Text(max_length=300, required=False)
    amount = Money(max_digits=14, decimal_places=2, min_value=0, required=False)
    expected_close = serializers.DateField(required=False, allow_null=True)
    source = Text(max_length=100, required=False, allow_blank=True)
    tags = serializers.ListField(child=Text(max_length=50), required=False)
    responsible = serializers.IntegerField(required=False)
    stage = serializers.IntegerField(required=False)
    lost_reason = Text(max_length=300, required=False, allow_blank=True)


class TaskIn(serializers.Serializer[Any]):
    title = Text(max_length=300)
    kind = serializers.ChoiceField(choices=Task.Kind.choices, default=Task.Kind.CALL)
    deadline = serializers.DateTimeField()
    assignee = serializers.IntegerField(required=False)
    deal = serializers.IntegerField(required=False)


class TaskChange(serializers.Serializer[Any]):
    done = Flag(help_text=str(_("true marks the task done (it stays done).")))


class ProductIn(serializers.Serializer[Any]):
    name = Text(max_length=300)
    sku = Text(max_length=100, required=False, allow_blank=True, default="")
    unit = Text(max_length=20, required=False, allow_blank=True, default="")
    price = Money(max_digits=14, decimal_places=2, min_value=0)
    vat_rate = serializers.ChoiceField(choices=VatRate.choices, required=False)


class ProductChange(serializers.Serializer[Any]):
    name = Text(max_length=300, required=False)
    sku = Text(max_length=100, required=False, allow_blank=True)
    unit = Text(max_length=20, required=False, allow_blank=True)
    price = Money(max_digits=14, decimal_places=2, min_value=0, required=False)
    vat_rate = serializers.ChoiceField(choices=VatRate.choices, required=False)


class RequestIn(serializers.Serializer[Any]):
    name = Text(max_length=300, required=False, allow_blank=True, default="")
    company_name = Text(max_length=300, required=False, allow_blank=True, default="")
    phone = Text(max_length=100, required=False, allow_blank=True, default="")
    email = serializers.EmailField(required=False, allow_blank=True)
    message = Text(required=False, allow_blank=True, default="")
    source = Text(max_length=100, required=False, allow_blank=True, default="")
    utm = serializers.DictField(child=Text(max_length=300), required=False, default=dict)


# --- filters ------------------------------------------------------------------------------


class ListFilters(serializers.Serializer[Any]):
    updated_since = serializers.DateTimeField(
        required=False, help_text=str(_("Only records changed at or after this time."))
    )
    responsible = serializers.IntegerField(required=False)


class DealFilters(ListFilters):
    pipeline = serializers.IntegerField(required=False)
    stage = serializers.IntegerField(required=False)


class ContactFilters(ListFilters):
    client = serializers.IntegerField(required=False)


class TaskFilters(serializers.Serializer[Any]):
    assignee = serializers.IntegerField(required=False)
    deal = serializers.IntegerField(required=False)
    done = serializers.BooleanField(required=False, allow_null=True, default=None)


class RequestFilters(serializers.Serializer[Any]):
    status = serializers.ChoiceField(choices=Lead.Status.choices, required=False)
    source = Text(required=False)
    received_since = serializers.DateTimeField(required=False)


# --- outgoing webhook subscriptions ---------------------------------------------------------


class WebhookSubscriptionOut(serializers.ModelSerializer[WebhookSubscription]):
    events = serializers.ListField(
        child=serializers.ChoiceField(choices=WebhookSubscription.Event.choices)
    )

    class Meta:
        model = WebhookSubscription
        fields = ["id", "url", "events", "is_active", "description", "created_at"]


class WebhookSubscriptionCreated(WebhookSubscriptionOut):
    class Meta(WebhookSubscriptionOut.Meta):
        fields = [*WebhookSubscriptionOut.Meta.fields, "secret"]


class WebhookSubscriptionIn(serializers.Serializer[Any]):
    url = serializers.URLField(max_length=500)
    events = serializers.ListField(
        child=serializers.ChoiceField(choices=WebhookSubscription.Event.choices),
        min_length=1,
        max_length=len(WebhookSubscription.Event.choices),
    )
    is_active = Flag(default=True)
    description = Text(max_length=200, required=False, allow_blank=True, default="")


class WebhookSubscriptionChange(serializers.Serializer[Any]):
    url = serializers.URLField(max_length=500, required=False)
    events = serializers.ListField(
        child=serializers.ChoiceField(choices=WebhookSubscription.Event.choices),
        min_length=1,
        max_length=len(WebhookSubscription.Event.choices),
        required=False,
    )
    is_active = Flag(required=False)
    description = Text(max_length=200, required=False, allow_blank=True)
