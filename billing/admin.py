"""Operators edit plans and see what billing did (public admin at /ops/admin/)."""

from django.contrib import admin

from billing.models import (
    BillingLogEntry,
    FailedPayment,
    Invoice,
    Plan,
    SeatChange,
    StripeEvent,
    Subscription,
)


@admin.register(Plan)
class PlanAdmin(admin.ModelAdmin):
    list_display = (
        "name",
        "code",
        "price_per_seat",
        "currency",
        "seat_cap",
        "is_public",
        "is_default",
    )
    list_editable = ("price_per_seat", "seat_cap", "is_public")
    prepopulated_fields = {"code": ("name",)}
    fields = (
        "name",
        "name_en",
        "code",
        "price_per_seat",
        "currency",
        "seat_cap",
        "trial_days",
        "limits",
        "features",
        "stripe_price_id",
        "is_public",
        "is_default",
        "sort_order",
    )


@admin.register(Invoice)
class InvoiceAdmin(admin.ModelAdmin):
    list_display = ("created_at", "company", "number", "total", "currency", "status", "paid_at")
    list_filter = ("status",)
    search_fields = ("company__slug", "number", "stripe_invoice_id")
    readonly_fields = [f.name for f in Invoice._meta.fields]


@admin.register(Subscription)
class SubscriptionAdmin(admin.ModelAdmin):
    list_display = ("company", "plan", "stripe_status", "paid_seats", "trial_ends_at")
    list_filter = ("stripe_status", "plan")
    search_fields = ("company__name", "company__slug", "stripe_customer_id")
    raw_id_fields = ("company",)


@admin.register(SeatChange)
class SeatChangeAdmin(admin.ModelAdmin):
    list_display = ("company", "quantity", "state", "attempts", "created_at", "last_error")
    list_filter = ("state",)
    search_fields = ("company__slug",)
    readonly_fields = [f.name for f in SeatChange._meta.fields]


@admin.register(StripeEvent)
class StripeEventAdmin(admin.ModelAdmin):
    list_display = ("event_id", "type", "state", "company", "received_at")
    list_filter = ("state", "type")
    search_fields = ("event_id",)
    readonly_fields = [f.name for f in StripeEvent._meta.fields]


@admin.register(FailedPayment)
class FailedPaymentAdmin(admin.ModelAdmin):
    list_display = ("failed_at", "company", "invoice_id", "attempt", "event_id")
    search_fields = ("company__slug", "invoice_id")
    readonly_fields = [f.name for f in FailedPayment._meta.fields]


@admin.register(BillingLogEntry)
class BillingLogEntryAdmin(admin.ModelAdmin):
    list_display = ("created_at", "company", "kind", "message")
    list_filter = ("kind",)
    search_fields = ("company__slug", "message")
    readonly_fields = [f.name for f in BillingLogEntry._meta.fields]
