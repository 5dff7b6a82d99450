"""Document templates, the company's own requisites, numbering counters and issued documents.

Every table lives in the company's schema, so "per company" is the schema itself.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crm_core.models import Attachment, Deal, VatRate


class Kind(models.TextChoices):
    QUOTE = "quote", _("Quote")
    INVOICE = "invoice", _("Invoice")
    CONTRACT = "contract", _("Contract")


class Requisites(models.Model):
    """Our company's legal and bank details, printed on every document (one row per company)."""

    name = models.CharField(_("short name"), max_length=300, blank=True)
    full_name = models.CharField(_("full legal name"), max_length=500, blank=True)
    inn = models.CharField(_("INN"), max_length=12, blank=True)
    kpp = models.CharField(_("KPP"), max_length=9, blank=True)
    ogrn = models.CharField(_("OGRN"), max_length=15, blank=True)
    address = models.TextField(_("legal address"), blank=True)
    bank_name = models.CharField(_("bank"), max_length=300, blank=True)
    bik = models.CharField(_("BIK"), max_length=9, blank=True)
    bank_account = models.CharField(_("account"), max_length=20, blank=True)
    correspondent_account = models.CharField(_("correspondent account"), max_length=20, blank=True)
    director = models.CharField(_("director"), max_length=200, blank=True)
    accountant = models.CharField(_("chief accountant"), max_length=200, blank=True)
    phone = models.CharField(_("phone"), max_length=100, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)

    class Meta:
        verbose_name = _("company requisites")
        verbose_name_plural = _("company requisites")

    def __str__(self) -> str:
        return self.name or str(_("company requisites"))


class DocumentTemplate(models.Model):
    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    body = models.TextField(_("body"))
    # The rate of lines that carry none of their own (made before rates were kept per line).
    vat_rate = models.CharField(
        _("VAT"), max_length=4, choices=VatRate.choices, default=VatRate.TWENTY_TWO
    )
    is_active = models.BooleanField(_("in use"), default=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("document template")
        verbose_name_plural = _("document templates")
        ordering = ["kind", "name", "id"]

    def __str__(self) -> str:
        return self.name


class Counter(models.Model):
    """The last number issued for a kind of document in a year: numbering restarts each year."""

    kind = models.CharField(max_length=10, choices=Kind.choices)
    year = models.PositiveSmallIntegerField()
    last_number = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["kind", "year"], name="documents_counter_kind_year")
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.year}: {self.last_number}"


class Document(models.Model):
    """An issued document: its number is taken in the same transaction that stores its PDF."""

    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    year = models.PositiveSmallIntegerField()
    number = models.PositiveIntegerField(_("number"))
    template = models.ForeignKey(
        DocumentTemplate, on_delete=models.SET_NULL, null=True, related_name="documents"
    )
    deal = models.ForeignKey(Deal, on_delete=models.CASCADE, related_name="documents")
    # The PDF is an ordinary file on the deal; whatever removes it (the deal's or the client's
    # deletion, an import undone) removes the document record too — the number stays used.
    attachment = models.OneToOneField(Attachment, on_delete=models.CASCADE, related_name="document")
    total = models.DecimalField(_("total"), max_digits=16, decimal_places=2, default=Decimal(0))
    vat = models.DecimalField(_("VAT"), max_digits=16, decimal_places=2, default=Decimal(0))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.DO_NOTHING,
        null=True,
        blank=True,
        related_name="+",
        db_constraint=False,
    )
    created_at = models.DateTimeField(default=timezone.now)
    # An invoice's payment as the company's accounting (1C) reported it; None while unpaid.
    paid_at = models.DateTimeField(_("paid"), null=True, blank=True)
    paid_amount = models.DecimalField(
        _("amount paid"), max_digits=16, decimal_places=2, null=True, blank=True
    )

    class Meta:
        verbose_name = _("document")
        verbose_name_plural = _("documents")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "year", "number"], name="documents_document_number_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} № {self.number}"
