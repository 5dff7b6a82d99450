"""The company's CRM data. Every table here lives in the company's own schema.

Users are global (public schema): a CRM row that names a user keeps only the user's id
(a ForeignKey with ``db_constraint=False``), never a database reference into ``public``.
"""

from __future__ import annotations

import secrets
from decimal import Decimal

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


def _user(related_name: str = "+", **kwargs: object) -> models.ForeignKey:
    """A reference to a global user: an id, no constraint, no cascade across schemas."""
    return models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.DO_NOTHING,
        null=True,
        blank=True,
        related_name=related_name,
        db_constraint=False,
        **kwargs,  # type: ignore[arg-type]
    )


class Team(models.Model):
    """A department; its head sees the team's records when visibility is "team"."""

    name = models.CharField(_("name"), max_length=200)
    head = _user(verbose_name=_("head"))

    class Meta:
        verbose_name = _("team")
        verbose_name_plural = _("teams")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Employee(models.Model):
    """What this company knows about one of its members (the membership itself is global)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    team = models.ForeignKey(
        Team,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="employees",
        verbose_name=_("team"),
    )

    class Meta:
        verbose_name = _("employee")
        verbose_name_plural = _("employees")

    def __str__(self) -> str:
        return f"employee {self.user_id}"

    @classmethod
    def audit_names(cls, ids: set[int]) -> dict[int, str]:
        """The people these rows are about, for the audit log: two queries for a whole page
        (the user lives in the public schema, so no join)."""
        from tenants.models import User

        users = dict(cls.objects.filter(pk__in=ids).values_list("pk", "user_id"))
        names = {
            u.pk: u.get_full_name() or u.email
            for u in User.objects.filter(pk__in=set(users.values()))
        }
        return {pk: names.get(user_id, f"#{user_id}") for pk, user_id in users.items()}


class Client(models.Model):
    """A customer of the company: a legal entity, a sole trader or a person."""

    class Kind(models.TextChoices):
        LEGAL_ENTITY = "legal", _("Legal entity")
        SOLE_TRADER = "sole_trader", _("Sole trader")
        PERSON = "person", _("Individual")

    class Relationship(models.TextChoices):
        """Who the counterparty is to the company; the legal form is ``kind``, separately (a
        supplier may be a sole trader), as Bitrix24's company type and HubSpot's type are."""

        CUSTOMER = "customer", _("Client")
        PARTNER = "partner", _("Partner")
        SUPPLIER = "supplier", _("Supplier")

    class TaxIdStatus(models.TextChoices):
        NONE = "", _("No tax id")
        VALID = "valid", _("Valid INN")
        FOREIGN = "foreign", _("Foreign tax id")

    kind = models.CharField(
        _("kind"), max_length=16, choices=Kind.choices, default=Kind.LEGAL_ENTITY
    )
    relationship = models.CharField(
        _("relationship"),
        max_length=16,
        choices=Relationship.choices,
        default=Relationship.CUSTOMER,
        # In the database too: the import's COPY and raw inserts get it without naming it.
        db_default=Relationship.CUSTOMER,
    )
    name = models.CharField(_("name"), max_length=300)
    full_name = models.CharField(_("full name"), max_length=500, blank=True)
    inn = models.CharField(_("INN / tax id"), max_length=32, blank=True, db_index=True)
    inn_status = models.CharField(
        _("tax id status"), max_length=8, choices=TaxIdStatus.choices, blank=True, default=""
    )
    kpp = models.CharField(_("KPP"), max_length=9, blank=True)
    legal_address = models.TextField(_("legal address"), blank=True)
    postal_address = models.TextField(_("postal address"), blank=True)
    bank_name = models.CharField(_("bank"), max_length=300, blank=True)
    bik = models.CharField(_("BIK"), max_length=9, blank=True)
    bank_account = models.CharField(_("account"), max_length=20, blank=True)
    correspondent_account = models.CharField(_("correspondent account"), max_length=20, blank=True)
    website = models.URLField(_("website"), blank=True)
    industry = models.CharField(_("industry"), max_length=200, blank=True)
    tags = ArrayField(
        models.CharField(max_length=50), default=list, blank=True, verbose_name=_("tags")
    )
    source = models.CharField(_("source"), max_length=100, blank=True)
    responsible = _user(verbose_name=_("responsible manager"))
    custom = models.JSONField(_("custom fields"), default=dict, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    created_by = _user()
    # Optimistic concurrency: a save that started from an older version is refused.
    version = models.PositiveIntegerField(default=1)

    class Meta:
        verbose_name = _("client")
        verbose_name_plural = _("clients")
        ordering = ["-created_at", "-id"]
        indexes = [
            GinIndex(fields=["tags"], name="client_tags_gin"),
            # Filters on the company's own fields are JSONB containment (custom @> {...}).
            GinIndex(fields=["custom"], name="client_custom_gin", opclasses=["jsonb_path_ops"]),
            models.Index(fields=["responsible", "-created_at"], name="client_responsible_idx"),
            # The client list's sorts (newest first by default, or by name).
            models.Index(fields=["-created_at", "-id"], name="client_newest_idx"),
            models.Index(fields=["name", "id"], name="client_name_idx"),
            # The list's partners and suppliers tabs, newest first.
            models.Index(
                fields=["relationship", "-created_at", "-id"], name="client_relationship_idx"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Contact(models.Model):
    """A contact person: of a client company, or on their own."""

    client = models.ForeignKey(
        Client,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="contacts",
        verbose_name=_("client"),
    )
    last_name = models.CharField(_("last name"), max_length=100, blank=True)
    first_name = models.CharField(_("first name"), max_length=100, blank=True)
    middle_name = models.CharField(_("middle name"), max_length=100, blank=True)
    position = models.CharField(_("position"), max_length=200, blank=True)
    emails = ArrayField(models.EmailField(), default=list, blank=True, verbose_name=_("e-mails"))
    messengers = models.JSONField(_("messengers"), default=dict, blank=True)
    responsible = _user(verbose_name=_("responsible manager"))
    custom = models.JSONField(_("custom fields"), default=dict, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    # Optimistic concurrency, as on clients and deals: a save from an older version is refused.
    version = models.PositiveIntegerField(default=1)

    class Meta:
        verbose_name = _("contact person")
        verbose_name_plural = _("contact persons")
        ordering = ["last_name", "first_name", "id"]
        indexes = [
            GinIndex(fields=["emails"], name="contact_emails_gin"),
            # The contact list pages in name order, for everyone and for one manager's own.
            models.Index(fields=["last_name", "first_name", "id"], name="contact_name_idx"),
            models.Index(
                fields=["responsible", "last_name", "first_name", "id"],
                name="contact_responsible_name_idx",
            ),
            # The search finds people by a first name it took from ContactName.
            models.Index(fields=["first_name", "id"], name="contact_first_name_idx"),
            GinIndex(fields=["custom"], name="contact_custom_gin", opclasses=["jsonb_path_ops"]),
        ]

    def __str__(self) -> str:
        return " ".join(p for p in (self.last_name, self.first_name, self.middle_name) if p) or "—"


class Phone(models.Model):
    """A phone number of a contact or a client: E.164 for matching, the raw text as typed."""

    class Kind(models.TextChoices):
        MOBILE = "mobile", _("Mobile")
        WORK = "work", _("Work")
        HOME = "home", _("Home")
        FAX = "fax", _("Fax")
        OTHER = "other", _("Other")

    contact = models.ForeignKey(
        Contact, on_delete=models.CASCADE, null=True, blank=True, related_name="phones"
    )
    client = models.ForeignKey(
        Client, on_delete=models.CASCADE, null=True, blank=True, related_name="phones"
    )
    e164 = models.CharField(_("number"), max_length=20, db_index=True)
    extension = models.CharField(_("extension"), max_length=10, blank=True)
    raw = models.CharField(_("as entered"), max_length=100)
    kind = models.CharField(_("type"), max_length=8, choices=Kind.choices, default=Kind.MOBILE)

    class Meta:
        verbose_name = _("phone")
        verbose_name_plural = _("phones")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(contact__isnull=False) | models.Q(client__isnull=False),
                name="phone_has_owner",
            )
        ]

    def __str__(self) -> str:
        return f"{self.e164} ext. {self.extension}" if self.extension else self.e164


class Pipeline(models.Model):
    name = models.CharField(_("name"), max_length=200)
    position = models.PositiveIntegerField(default=0)
    is_default = models.BooleanField(_("default"), default=False)
    # An archived pipeline leaves the board's switcher and the new-deal form; its deals stay
    # reachable (their cards, the list, the reports) and it can be restored.
    is_archived = models.BooleanField(_("archived"), default=False)

    class Meta:
        verbose_name = _("pipeline")
        verbose_name_plural = _("pipelines")
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.name


class Stage(models.Model):
    class Outcome(models.TextChoices):
        OPEN = "open", _("In progress")
        WON = "won", _("Won")
        LOST = "lost", _("Lost")

    pipeline = models.ForeignKey(Pipeline, on_delete=models.CASCADE, related_name="stages")
    name = models.CharField(_("name"), max_length=200)
    position = models.PositiveIntegerField(default=0)
    probability = models.PositiveSmallIntegerField(
        _("probability, %"), default=10, validators=[MinValueValidator(0), MaxValueValidator(100)]
    )
    color = models.CharField(_("colour"), max_length=7, default="#2457d6")
    outcome = models.CharField(
        _("outcome"), max_length=4, choices=Outcome.choices, default=Outcome.OPEN
    )
    # A stage "deleted" in the editor after deals passed through it: it leaves the board, but
    # its row stays so the deals' stage history (StageChange points at it) keeps its name.
    is_archived = models.BooleanField(_("archived"), default=False)

    class Meta:
        verbose_name = _("stage")
        verbose_name_plural = _("stages")
        ordering = ["pipeline", "position", "id"]

    def __str__(self) -> str:
        return self.name

    @property
    def forecast_percent(self) -> int:
        """The share of the stage's sum the forecast counts: a won deal is money in (100 %), a
        lost one none (0 %), whatever the stored probability says."""
        if self.outcome == self.Outcome.WON:
            return 100
        if self.outcome == self.Outcome.LOST:
            return 0
        return self.probability


class SalesTarget(models.Model):
    """What a manager, a team or the whole company should sell in a month: a sum of won deals
    or a number of them. Neither ``user`` nor ``team``: the company's own target."""

    class Kind(models.TextChoices):
        AMOUNT = "amount", _("Revenue")
        WON_DEALS = "won_deals", _("Won deals")

    month = models.DateField(_("month"))  # always the first day of the month
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices, default=Kind.AMOUNT)
    user = _user(verbose_name=_("manager"))
    team = models.ForeignKey(
        Team, on_delete=models.CASCADE, null=True, blank=True, related_name="targets"
    )
    value = models.DecimalField(_("target"), max_digits=16, decimal_places=2)

    class Meta:
        verbose_name = _("sales target")
        verbose_name_plural = _("sales targets")
        ordering = ["month", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["month", "kind", "user"],
                condition=models.Q(user__isnull=False),
                name="target_per_manager",
            ),
            models.UniqueConstraint(
                fields=["month", "kind", "team"],
                condition=models.Q(team__isnull=False),
                name="target_per_team",
            ),
            models.UniqueConstraint(
                fields=["month", "kind"],
                condition=models.Q(user__isnull=True, team__isnull=True),
                name="target_per_company",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.month:%Y-%m}: {self.value}"


class VatRate(models.TextChoices):
    """VAT rates a line can carry. 22 % is Russia's standard rate from 2026, 10 % the reduced
    one (food, children's goods, medicines), 0 % exports; 5 % and 7 % are the rates of
    simplified-tax companies that chose to pay VAT; 20 % stays for documents of earlier years.
    "Без НДС" is not a rate: the seller does not pay VAT at all."""

    NONE = "none", _("Without VAT")
    ZERO = "0", "0%"
    FIVE = "5", "5%"
    SEVEN = "7", "7%"
    TEN = "10", "10%"
    TWENTY = "20", "20%"
    TWENTY_TWO = "22", "22%"


# Units managers pick from (OKEI's common ones, as Russian price lists write them); any other
# text is allowed too.
COMMON_UNITS = ("шт", "кг", "м", "м²", "м³", "л", "ч", "усл.", "компл.", "упак.")


class Product(models.Model):
    name = models.CharField(_("name"), max_length=300)
    sku = models.CharField(_("SKU"), max_length=100, blank=True)
    unit = models.CharField(_("unit"), max_length=20, default="шт")
    # The base price: a deal without a price list, or a list without this product, uses it.
    price = models.DecimalField(_("price"), max_digits=14, decimal_places=2, default=Decimal(0))
    vat_rate = models.CharField(
        _("VAT"), max_length=4, choices=VatRate.choices, default=VatRate.TWENTY_TWO
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("product")
        verbose_name_plural = _("products")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class PriceList(models.Model):
    """A named set of prices ("Retail", "Dealer"); a deal sells from one of them."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    position = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("price list")
        verbose_name_plural = _("price lists")
        ordering = ["position", "name", "id"]

    def __str__(self) -> str:
        return self.name


class ProductPrice(models.Model):
    """A product's price in one price list."""

    price_list = models.ForeignKey(PriceList, on_delete=models.CASCADE, related_name="prices")
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="list_prices")
    price = models.DecimalField(_("price"), max_digits=14, decimal_places=2)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["price_list", "product"], name="product_price_one_per_list"
            ),
            models.CheckConstraint(
                condition=models.Q(price__gte=0), name="product_price_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.product_id} @ {self.price_list_id}: {self.price}"


class PricingSettings(models.Model):
    """How the company quotes prices (one row per company, made on first use).

    Russian small businesses quote prices with VAT included, so that is the default: the
    price on the line is what the client pays, and the VAT is the share inside it."""

    prices_include_vat = models.BooleanField(_("prices include VAT"), default=True)

    class Meta:
        verbose_name = _("pricing settings")
        verbose_name_plural = _("pricing settings")

    def __str__(self) -> str:
        return "VAT included" if self.prices_include_vat else "VAT on top"


class Deal(models.Model):
    title = models.CharField(_("title"), max_length=300)
    client = models.ForeignKey(
        Client,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="deals",
        verbose_name=_("client"),
    )
    contacts = models.ManyToManyField(
        Contact, blank=True, related_name="deals", verbose_name=_("contact persons")
    )
    amount = models.DecimalField(_("amount"), max_digits=14, decimal_places=2, default=Decimal(0))
    currency = models.CharField(_("currency"), max_length=3, default="RUB")
    price_list = models.ForeignKey(
        PriceList,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="deals",
        verbose_name=_("price list"),
    )
    pipeline = models.ForeignKey(Pipeline, on_delete=models.PROTECT, related_name="deals")
    stage = models.ForeignKey(
        Stage, on_delete=models.PROTECT, related_name="deals", verbose_name=_("stage")
    )
    stage_entered_at = models.DateTimeField(default=timezone.now)
    responsible = _user(verbose_name=_("responsible manager"))
    source = models.CharField(_("source"), max_length=100, blank=True)
    expected_close = models.DateField(_("expected close"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    lost_reason = models.CharField(_("reason for losing"), max_length=300, blank=True)
    tags = ArrayField(
        models.CharField(max_length=50), default=list, blank=True, verbose_name=_("tags")
    )
    custom = models.JSONField(_("custom fields"), default=dict, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    created_by = _user()
    version = models.PositiveIntegerField(default=1)

    class Meta:
        verbose_name = _("deal")
        verbose_name_plural = _("deals")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["pipeline", "stage", "-created_at"], name="deal_board_idx"),
            models.Index(fields=["responsible", "-created_at"], name="deal_responsible_idx"),
            # "The clients of the deals a manager sees" (crm_core.queries.clients) read as an
            # index-only scan: without it every client and contact list, card and the home
            # page's recent clients read the heap of all the manager's deals (20 ms at 20,000).
            models.Index(fields=["responsible", "client"], name="deal_responsible_client_idx"),
            GinIndex(fields=["custom"], name="deal_custom_gin", opclasses=["jsonb_path_ops"]),
            # The list view's sorts, so a page of 200,000 deals is an index walk, not a sort.
            models.Index(fields=["-created_at", "-id"], name="deal_newest_idx"),
            models.Index(fields=["-amount", "-id"], name="deal_amount_idx"),
            models.Index(fields=["expected_close", "id"], name="deal_close_idx"),
            # What people won in a month (targets on the home page and the managers' report):
            # a range of the person's closed deals instead of all their deals' heap.
            models.Index(
                fields=["responsible", "closed_at"],
                condition=models.Q(closed_at__isnull=False),
                name="deal_closed_idx",
            ),
        ]

    def __str__(self) -> str:
        return self.title


class ExchangeRate(models.Model):
    """How much of the company's base currency one unit of ``currency`` was worth on ``day``.

    Typed by an admin (settings → currencies) or loaded by the daily beat task from the rate
    source (crm_core/rate_sources.py). ``base`` is the company's base currency when the rate
    was written: a company that changes its base keeps its old rates, unused, rather than
    having them silently mean something else. A rate an admin typed is never overwritten by a
    loaded one for the same day.
    """

    class Source(models.TextChoices):
        MANUAL = "manual", _("Entered by hand")
        LOADED = "loaded", _("Loaded automatically")

    day = models.DateField(_("date"))
    currency = models.CharField(_("currency"), max_length=3)
    base = models.CharField(_("base currency"), max_length=3)
    rate = models.DecimalField(
        _("rate"), max_digits=18, decimal_places=8, validators=[MinValueValidator(Decimal(0))]
    )
    source = models.CharField(max_length=6, choices=Source.choices, default=Source.MANUAL)
    created_by = _user()
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("exchange rate")
        verbose_name_plural = _("exchange rates")
        ordering = ["-day", "currency"]
        constraints = [
            models.UniqueConstraint(
                fields=["base", "currency", "day"], name="exchange_rate_one_per_day"
            ),
            models.CheckConstraint(condition=models.Q(rate__gt=0), name="exchange_rate_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.day}: 1 {self.currency} = {self.rate} {self.base}"


class DiscountKind(models.TextChoices):
    PERCENT = "percent", "%"
    AMOUNT = "amount", _("amount")


class DealItem(models.Model):
    deal = models.ForeignKey(Deal, on_delete=models.CASCADE, related_name="items")
    product = models.ForeignKey(
        Product, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    name = models.CharField(_("name"), max_length=300)
    quantity = models.DecimalField(
        _("quantity"), max_digits=12, decimal_places=3, default=Decimal(1)
    )
    price = models.DecimalField(_("price"), max_digits=14, decimal_places=2, default=Decimal(0))
    unit = models.CharField(_("unit"), max_length=20, blank=True)
    # Blank on lines made before rates were kept per line: a document uses its template's rate.
    vat_rate = models.CharField(_("VAT"), max_length=4, choices=VatRate.choices, blank=True)
    discount_kind = models.CharField(
        _("discount"), max_length=7, choices=DiscountKind.choices, default=DiscountKind.PERCENT
    )
    # A percent of the line (0–100) or an amount off the whole line, in roubles.
    discount = models.DecimalField(
        _("discount"), max_digits=14, decimal_places=2, default=Decimal(0)
    )

    def __str__(self) -> str:
        return self.name


class StageChange(models.Model):
    """One move of a deal between stages; the time spent in the stage it left."""

    deal = models.ForeignKey(Deal, on_delete=models.CASCADE, related_name="stage_changes")
    from_stage = models.ForeignKey(Stage, on_delete=models.PROTECT, null=True, related_name="+")
    to_stage = models.ForeignKey(Stage, on_delete=models.PROTECT, related_name="+")
    seconds_in_previous = models.PositiveBigIntegerField(default=0)
    changed_by = _user()
    changed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["changed_at", "id"]

    def __str__(self) -> str:
        return f"{self.deal_id}: {self.from_stage_id} → {self.to_stage_id}"


class Task(models.Model):
    class Kind(models.TextChoices):
        CALL = "call", _("Call")
        MEETING = "meeting", _("Meeting")
        MEASUREMENT = "measurement", _("Measurement")
        INSTALLATION = "installation", _("Installation")
        EMAIL = "email", _("E-mail")
        OTHER = "other", _("Other")

    title = models.CharField(_("task"), max_length=300)
    kind = models.CharField(_("type"), max_length=16, choices=Kind.choices, default=Kind.CALL)
    assignee = _user(verbose_name=_("assignee"))
    deadline = models.DateTimeField(_("deadline"))
    deal = models.ForeignKey(
        Deal, on_delete=models.CASCADE, null=True, blank=True, related_name="tasks"
    )
    client = models.ForeignKey(
        Client, on_delete=models.CASCADE, null=True, blank=True, related_name="tasks"
    )
    contact = models.ForeignKey(
        Contact, on_delete=models.CASCADE, null=True, blank=True, related_name="tasks"
    )
    description = models.TextField(_("description"), blank=True)
    # A meeting starts at its deadline and lasts this long; other kinds have no length.
    duration_minutes = models.PositiveIntegerField(_("duration, minutes"), null=True, blank=True)
    remind_at = models.DateTimeField(_("remind at"), null=True, blank=True)
    # "15 minutes before" and the like: kept so that a postponed task's reminder moves with it.
    # Empty with a remind_at set means a reminder at a chosen time.
    remind_before_minutes = models.PositiveIntegerField(null=True, blank=True)
    # An iCalendar RRULE (FREQ=WEEKLY;BYDAY=MO,TH): when the task is done the next is made.
    recurrence = models.CharField(_("repeats"), max_length=200, blank=True)
    reminder_sent_at = models.DateTimeField(null=True, blank=True)
    overdue_notified_at = models.DateTimeField(null=True, blank=True)
    done_at = models.DateTimeField(_("done"), null=True, blank=True)
    created_by = _user()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("task")
        verbose_name_plural = _("tasks")
        ordering = ["deadline", "id"]
        indexes = [
            models.Index(fields=["assignee", "done_at", "deadline"], name="task_my_day_idx"),
            # A person's open tasks in their order (the home page's overdue and today's lists,
            # the calendar, the task list): an index walk that stops at the page's end. With a
            # year of done tasks, the index above made PostgreSQL sort the open ones each time.
            models.Index(
                fields=["assignee", "deadline", "id"],
                condition=models.Q(done_at__isnull=True),
                name="task_open_idx",
            ),
            # Everyone's open tasks in due order (the task list of whoever sees the company).
            models.Index(
                fields=["deadline", "id"],
                condition=models.Q(done_at__isnull=True),
                name="task_open_due_idx",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_personal(self) -> bool:
        """A task on nothing: seen only by its assignee and whoever gave it."""
        return self.deal_id is None and self.client_id is None and self.contact_id is None


class TaskComment(models.Model):
    """A remark under a task ("called, no answer; trying again Friday")."""

    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="comments")
    author = _user()
    text = models.TextField(_("comment"))
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return self.text[:50]


def _feed_token() -> str:
    return secrets.token_urlsafe(32)


class CalendarFeed(models.Model):
    """A person's secret iCalendar address: calendars subscribe to it without a login, so
    the token is the only key; making a new one (or revoking) kills the old address."""

    user = _user()
    token = models.CharField(max_length=64, unique=True, default=_feed_token)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user"], name="calendar_feed_one_per_user")]

    def __str__(self) -> str:
        return f"calendar feed of user {self.user_id}"


class Activity(models.Model):
    """One entry of a client's and a deal's timeline."""

    class Kind(models.TextChoices):
        CALL = "call", _("Call")
        MEETING = "meeting", _("Meeting")
        NOTE = "note", _("Note")
        EMAIL = "email", _("E-mail")
        STAGE = "stage", _("Stage changed")
        TASK_DONE = "task_done", _("Task done")
        DOCUMENT = "document", _("Document")
        FILE = "file", _("File")

    kind = models.CharField(_("type"), max_length=16, choices=Kind.choices)
    client = models.ForeignKey(
        Client, on_delete=models.CASCADE, null=True, blank=True, related_name="activities"
    )
    deal = models.ForeignKey(
        Deal, on_delete=models.CASCADE, null=True, blank=True, related_name="activities"
    )
    contact = models.ForeignKey(
        Contact, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    author = _user()
    summary = models.CharField(_("summary"), max_length=300)
    body = models.TextField(_("details"), blank=True)
    happened_at = models.DateTimeField(_("when"), default=timezone.now)
    # A call the PBX reported (telephony): how long they talked, and where its recording plays
    # (an address of the CRM that checks who asks, never the provider's own link).
    duration_seconds = models.PositiveIntegerField(_("talk time, seconds"), null=True, blank=True)
    recording_url = models.CharField(_("recording"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("activity")
        verbose_name_plural = _("activities")
        ordering = ["-happened_at", "-id"]

    def __str__(self) -> str:
        return self.summary


def _attachment_path(instance: Attachment, filename: str) -> str:
    # The storage puts everything under the company's prefix; this is the path inside it.
    return f"attachments/{timezone.now():%Y/%m}/{filename}"


class Attachment(models.Model):
    """A file a user attached to a deal or a client (measurements, specifications, photos)."""

    deal = models.ForeignKey(
        Deal, on_delete=models.CASCADE, null=True, blank=True, related_name="attachments"
    )
    client = models.ForeignKey(
        Client, on_delete=models.CASCADE, null=True, blank=True, related_name="attachments"
    )
    file = models.FileField(_("file"), upload_to=_attachment_path, max_length=500)
    name = models.CharField(_("name"), max_length=255)
    size = models.PositiveBigIntegerField(default=0)
    uploaded_by = _user()
    uploaded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("file")
        verbose_name_plural = _("files")
        ordering = ["-uploaded_at", "-id"]

    def __str__(self) -> str:
        return self.name


class Notification(models.Model):
    """An in-app notice for one member (a reminder, an overdue task, an escalation)."""

    user = _user()
    text = models.CharField(_("text"), max_length=500)
    url = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["user", "read_at", "-created_at"], name="notification_inbox_idx")
        ]

    def __str__(self) -> str:
        return self.text


class AuditEntry(models.Model):
    """Who changed what, from what to what, and when. Never edited: the database refuses
    UPDATE and DELETE on this table (migration 0006), whatever the code does."""

    object_type = models.CharField(max_length=30)
    object_id = models.BigIntegerField()
    action = models.CharField(max_length=30)
    changes = models.JSONField(default=dict, blank=True)
    actor = _user()
    at = models.DateTimeField(default=timezone.now)
    # Restored from an archive: the author's e-mail as the archive named them (kept when that
    # person is not a member here, so the history still says who did it).
    restored_actor = models.CharField(max_length=254, blank=True)

    class Meta:
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit log")
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["object_type", "object_id", "-at"], name="audit_object_idx")
        ]

    def __str__(self) -> str:
        return f"{self.object_type} {self.object_id}: {self.action}"


class Lead(models.Model):
    """An incoming request (website form, API, e-mail, phone) waiting for a manager."""

    class Status(models.TextChoices):
        NEW = "new", _("New")
        CONVERTED = "converted", _("Converted")
        REJECTED = "rejected", _("Rejected")

    name = models.CharField(_("name"), max_length=300)
    company_name = models.CharField(_("company"), max_length=300, blank=True)
    phone = models.CharField(_("phone"), max_length=100, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    message = models.TextField(_("message"), blank=True)
    source = models.CharField(_("source"), max_length=100, blank=True)
    utm = models.JSONField(default=dict, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.NEW
    )
    reject_reason = models.CharField(_("reason for rejecting"), max_length=300, blank=True)
    responsible = _user(verbose_name=_("responsible manager"))
    deal = models.ForeignKey(
        Deal, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("received"), default=timezone.now)

    class Meta:
        verbose_name = _("request")
        verbose_name_plural = _("requests")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status", "-created_at"], name="lead_inbox_idx")]

    def __str__(self) -> str:
        return self.name


class CustomField(models.Model):
    """A field the company adds to its clients, contacts or deals.

    Definitions are rows; values live in the record's ``custom`` JSONB under ``key`` — so a
    company's own fields never change the database's structure (no per-company DDL), and the
    schema pool's spare schemas stay interchangeable.
    """

    class Entity(models.TextChoices):
        CLIENT = "client", _("Clients")
        CONTACT = "contact", _("Contact persons")
        DEAL = "deal", _("Deals")

    class Kind(models.TextChoices):
        TEXT = "text", _("Text")
        NUMBER = "number", _("Number")
        DATE = "date", _("Date")
        CHOICE = "choice", _("Choice")
        MULTI = "multi", _("Several choices")
        MONEY = "money", _("Money")
        BOOLEAN = "boolean", _("Yes / no")

    entity = models.CharField(_("for"), max_length=10, choices=Entity.choices)
    key = models.SlugField(_("key"), max_length=40)
    label = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("type"), max_length=10, choices=Kind.choices, default=Kind.TEXT)
    choices = ArrayField(
        models.CharField(max_length=100), default=list, blank=True, verbose_name=_("choices")
    )
    position = models.PositiveIntegerField(default=0)
    is_active = models.BooleanField(_("in use"), default=True)
    show_in_list = models.BooleanField(_("show in lists"), default=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("custom field")
        verbose_name_plural = _("custom fields")
        ordering = ["entity", "position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["entity", "key"], name="custom_field_key_unique")
        ]

    def __str__(self) -> str:
        return self.label


class DealTotal(models.Model):
    """How many deals and what sum sit in each stage, per responsible manager.

    Kept by statement-level triggers on the deal table (migration 0010), so the board's column
    heads never count hundreds of thousands of deals on each view: they add up at most
    stages × members rows, for whatever set of managers the viewer may see. Bulk imports and
    raw updates keep it right too, because the database maintains it, not our code.
    """

    pipeline = models.ForeignKey(Pipeline, on_delete=models.CASCADE, related_name="+")
    stage = models.ForeignKey(Stage, on_delete=models.CASCADE, related_name="+")
    # The manager's user id, 0 for deals nobody is responsible for (NULL would defeat the key).
    responsible_key = models.BigIntegerField()
    # Sums are kept per currency: roubles and euros are never added together here; the pages
    # convert each currency's sum to the company's at the day's rate (queries/rates.py).
    currency = models.CharField(max_length=3, default="RUB")
    deals = models.BigIntegerField(default=0)
    amount = models.DecimalField(max_digits=20, decimal_places=2, default=Decimal(0))

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["pipeline", "stage", "responsible_key", "currency"],
                name="deal_total_key",
            )
        ]

    def __str__(self) -> str:
        return f"stage {self.stage_id}, manager {self.responsible_key}: {self.deals}"


class ContactName(models.Model):
    """Every distinct last and first name among the contact persons, with how many have it.

    The typo-tolerant search looks for the nearest *names* here, then for the people with
    those names along a plain index. Searching the million contact rows directly makes the
    trigram index walk every duplicate of a common surname (ten thousand Ivanovs) before it
    can rank the next name. Kept by statement-level triggers on the contact table (migration
    0012), as pg_trgm's documentation suggests for a table of unique words.
    """

    class Kind(models.TextChoices):
        LAST = "l", _("last name")
        FIRST = "f", _("first name")

    kind = models.CharField(max_length=1, choices=Kind.choices)
    name = models.CharField(max_length=100)
    contacts = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["kind", "name"], name="contact_name_word_key")
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.contacts})"


class SubmittedForm(models.Model):
    """A web form's one-time token, taken by the submission that acts on it: a double click, a
    reload of the POST or five simultaneous submissions make one record. Kept a day."""

    token = models.UUIDField(unique=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    def __str__(self) -> str:
        return str(self.token)


class SavedView(models.Model):
    """A list as someone shaped it — its filters, columns and sort — kept under a name.

    Personal views are seen by their owner only; an admin may share a view with the whole
    company (as in HubSpot: anyone saves their own, admins publish). Which view opens first is
    each person's own choice (``default_for``), so sharing a view never changes a colleague's
    start page.
    """

    class Entity(models.TextChoices):
        CLIENTS = "clients", _("Clients")
        CONTACTS = "contacts", _("Contact persons")
        DEALS = "deals", _("Deals")
        TASKS = "tasks", _("Tasks")
        TICKETS = "tickets", _("Tickets")

    entity = models.CharField(_("list"), max_length=10, choices=Entity.choices)
    name = models.CharField(_("name"), max_length=100)
    owner = _user(verbose_name=_("owner"))
    shared = models.BooleanField(_("shared with the company"), default=False)
    # The list's query string as the person had it ("stage=4&sort=amount"), page excluded.
    query = models.CharField(max_length=2000, blank=True)
    columns = ArrayField(models.CharField(max_length=60), default=list, blank=True)
    default_for = ArrayField(models.BigIntegerField(), default=list, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("saved view")
        verbose_name_plural = _("saved views")
        ordering = ["entity", "name", "id"]
        indexes = [models.Index(fields=["entity", "owner"], name="saved_view_list_idx")]

    def __str__(self) -> str:
        return self.name


class BulkJob(models.Model):
    """One action on a selection of a list, done in the background in chunks.

    ``last_id`` is the checkpoint: the records are worked through in id order, each chunk in
    its own transaction that also moves the checkpoint, so a killed worker resumes after the
    last committed chunk and nothing is done twice. The selection is either the ids the person
    ticked or the list's filters ("all N matching"); either way the task re-reads it through
    the person's visibility as it is when the chunk runs.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    entity = models.CharField(max_length=10, choices=SavedView.Entity.choices)
    action = models.CharField(max_length=20)
    params = models.JSONField(default=dict, blank=True)
    query = models.CharField(max_length=2000, blank=True)
    ids = ArrayField(models.BigIntegerField(), default=list, blank=True)
    all_matching = models.BooleanField(default=False)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    total = models.PositiveIntegerField(default=0)
    done = models.PositiveIntegerField(default=0)
    skipped = models.PositiveIntegerField(default=0)
    last_id = models.BigIntegerField(default=0)
    error = models.TextField(blank=True)
    file = models.FileField(upload_to="bulk/%Y/%m/", max_length=500, blank=True)
    created_by = _user()
    created_at = models.DateTimeField(default=timezone.now)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.action} on {self.entity}: {self.done}/{self.total}"

    @property
    def percent(self) -> int:
        if self.status == self.Status.DONE:
            return 100
        return min(100, (self.done + self.skipped) * 100 // self.total) if self.total else 0
