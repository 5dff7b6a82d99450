"""Import batches and what they did, kept in the company's own schema.

A batch remembers every record it created and the previous values of every record it
changed, so that it can be undone in one action; it also keeps the mapping from 1C ids to
CRM records (the CRM's own tables know nothing about 1C).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class DateOrder(models.TextChoices):
    """How a file's typed dates put day and month ("03.04.2026")."""

    DAY_FIRST = "dmy", _("day first: 03.04.2026 is 3 April")
    MONTH_FIRST = "mdy", _("month first: 03.04.2026 is 4 March")


class ImportTemplate(models.Model):
    """A saved column mapping ("our 1C export"), reused for the next file of the same shape."""

    name = models.CharField(_("name"), max_length=200, unique=True)
    mapping = models.JSONField(_("column mapping"), default=dict)
    # The date order the person chose for the file it was saved from: the next file of the
    # same export is read so when its own first rows leave the order open ("" : none chosen).
    date_order = models.CharField(
        _("date format"), max_length=3, choices=DateOrder.choices, blank=True, default=""
    )
    # The person's other choices on the mapping page, restored with the mapping: {"deals":
    # true/false/null, "bad_inn": "skip" | "blank", "new_fields": [headers whose client field
    # was made from the column]} (ImportBatch.options' keys).
    options = models.JSONField(_("choices"), default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("import template")
        verbose_name_plural = _("import templates")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class ImportBatch(models.Model):
    """One file imported (or dry-run) into the company's CRM."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")
        UNDONE = "undone", _("Undone")

    DateOrder = DateOrder

    file = models.FileField(_("file"), upload_to="imports/%Y/%m/", max_length=500)
    file_name = models.CharField(_("file name"), max_length=255)
    file_format = models.CharField(_("format"), max_length=20, blank=True)
    encoding = models.CharField(_("encoding"), max_length=30, blank=True)
    sheet = models.CharField(_("sheet"), max_length=100, blank=True)
    header_row = models.PositiveIntegerField(_("header row"), null=True, blank=True)
    mapping = models.JSONField(_("column mapping"), default=dict, blank=True)
    # The file's column headers in the file's order: jsonb keeps no key order, and the row
    # notes' values are shown (and the report's columns laid out) in this one.
    columns = models.JSONField(default=list, blank=True)
    dry_run = models.BooleanField(_("dry run"), default=False)
    # How the file's typed dates put day and month: found from the first rows, chosen by the
    # person when those leave it open ("03.04.2026").
    date_order = models.CharField(
        _("date format"), max_length=3, choices=DateOrder.choices, default=DateOrder.DAY_FIRST
    )
    # The uploader's language: the worker writes the row reasons in it.
    language = models.CharField(max_length=10, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PENDING
    )
    error = models.TextField(_("error"), blank=True)
    # Resumption: rows 1..checkpoint are committed; a restarted run skips them.
    checkpoint = models.PositiveIntegerField(default=0)
    total_rows = models.PositiveIntegerField(null=True, blank=True)
    counts = models.JSONField(default=dict, blank=True)
    # Set at every committed chunk; a running batch whose heartbeat stops was interrupted.
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.DO_NOTHING,
        null=True,
        blank=True,
        db_constraint=False,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    undone_at = models.DateTimeField(_("undone"), null=True, blank=True)
    # Things a person should know about the batch as a whole (e.g. people not matched).
    warnings = models.JSONField(default=list, blank=True)
    # What undo kept, and why: [{"entity", "record_id", "label", "reasons"}].
    undo_report = models.JSONField(default=list, blank=True)
    # What the person chose beside the mapping: {"deals": true/false (absent: see
    # tabular.wants_deals), "bad_inn": "skip" | "blank" (a row whose 10- or 12-digit INN fails
    # its checksum is skipped, or imported without the INN and flagged; absent: "blank")}.
    options = models.JSONField(default=dict, blank=True)
    # The file's columns the mapping leaves out, named on the preview, the report and the
    # command's output (an import never drops a column without saying so).
    ignored_columns = models.JSONField(default=list, blank=True)
    # Another CRM's names the company has nothing for, with their rows' count (see
    # importing/switching.py): {"pipelines": {name: n}, "stages": {"pipeline|stage": n},
    # "owners": {name: n}}. The preview lists them for the person to map.
    unmatched = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name = _("import")
        verbose_name_plural = _("imports")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.file_name


class ImportedRecord(models.Model):
    """A CRM record this batch created or changed: what undo removes or restores, and the
    1C id it came from (dedupe of later imports matches on it first)."""

    class Action(models.TextChoices):
        CREATED = "created", _("Created")
        UPDATED = "updated", _("Updated")

    batch = models.ForeignKey(ImportBatch, on_delete=models.CASCADE, related_name="records")
    entity = models.CharField(max_length=20)
    record_id = models.BigIntegerField()
    action = models.CharField(max_length=8, choices=Action.choices)
    external_id = models.CharField(max_length=200, blank=True)
    previous = models.JSONField(default=dict, blank=True)
    # The values the import wrote over `previous`: undo restores a field only while it still
    # holds them (a later edit by a person wins).
    written = models.JSONField(default=dict, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["entity", "external_id"], name="imported_external_idx"),
            models.Index(fields=["batch", "entity"], name="imported_batch_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.entity} {self.record_id} ({self.action})"


class AwaitingOwner(models.Model):
    """A record an import gave to the person importing only until someone invited in the
    preview joins: the owner question of another CRM's export answered "invite by e-mail".
    When that person accepts the invitation the record becomes theirs (unless somebody gave
    it to someone else meanwhile), and the row is forgotten (onboarding/services/owners.py)."""

    batch = models.ForeignKey(ImportBatch, on_delete=models.CASCADE, related_name="awaiting")
    entity = models.CharField(max_length=20)  # as ImportedRecord.entity: deal, client, …
    record_id = models.BigIntegerField()
    email = models.CharField(max_length=254)  # lower-cased, as the invitation keeps it

    class Meta:
        indexes = [models.Index(fields=["email"], name="awaiting_owner_email_idx")]

    def __str__(self) -> str:
        return f"{self.entity} {self.record_id} → {self.email}"


class ImportRowNote(models.Model):
    """What happened to one row of the file, when it is worth telling: rejected, merged,
    updated, or kept with a flag (a foreign tax id, an unreadable phone)."""

    class Outcome(models.TextChoices):
        CREATED = "created", _("Created")
        UPDATED = "updated", _("Updated")
        MERGED = "merged", _("Merged")
        UNCHANGED = "unchanged", _("Unchanged")
        REJECTED = "rejected", _("Rejected")

    batch = models.ForeignKey(ImportBatch, on_delete=models.CASCADE, related_name="notes")
    row = models.PositiveIntegerField(_("row"))
    outcome = models.CharField(_("outcome"), max_length=10, choices=Outcome.choices)
    reason = models.TextField(_("reason"), blank=True)
    values = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["row", "id"]
        indexes = [models.Index(fields=["batch", "row"], name="import_note_row_idx")]

    def __str__(self) -> str:
        return f"{self.row}: {self.outcome}"


class ExportJob(models.Model):
    """A full export of the company's CRM (built in the background, downloaded when ready)."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting")
        RUNNING = "running", _("Running")
        DONE = "done", _("Ready")
        FAILED = "failed", _("Failed")

    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PENDING
    )
    file = models.FileField(_("file"), upload_to="exports/%Y/%m/", max_length=500, blank=True)
    counts = models.JSONField(default=dict, blank=True)
    error = models.TextField(_("error"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.DO_NOTHING,
        null=True,
        blank=True,
        db_constraint=False,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)

    class Meta:
        verbose_name = _("export")
        verbose_name_plural = _("exports")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"export {self.pk}"


class SetupProgress(models.Model):
    """Where the company is in its guided start (one row per company, in its own schema).

    `steps` maps a step's code to "done" or "skipped"; a step not in it is still to do. The
    owner may leave at any step and come back to the same place.
    """

    class Step(models.TextChoices):
        DETAILS = "details", _("Company details")
        BANK = "bank", _("Bank details")
        TEMPLATE = "template", _("Industry template")
        IMPORT = "import", _("Import your data")
        TEAM = "team", _("Invite colleagues")
        PIPELINE = "pipeline", _("Check your pipeline")

    steps = models.JSONField(default=dict, blank=True)
    # The sample clients, deals and tasks live as an "import" batch: removing them is that
    # batch's honest undo, which never touches anything else.
    sample_batch = models.ForeignKey(
        ImportBatch, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    dismissed_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("setup progress")
        verbose_name_plural = _("setup progress")

    def __str__(self) -> str:
        return f"setup: {self.steps}"


class CompanyDetails(models.Model):
    """The company's requisites as the owner gave them (or as the INN lookup found them)."""

    legal_name = models.CharField(_("legal name"), max_length=300, blank=True)
    inn = models.CharField(_("INN"), max_length=12, blank=True)
    kpp = models.CharField(_("KPP"), max_length=9, blank=True)
    ogrn = models.CharField(_("OGRN"), max_length=15, blank=True)
    legal_address = models.CharField(_("legal address"), max_length=500, blank=True)
    director = models.CharField(_("director"), max_length=200, blank=True)
    phone = models.CharField(_("phone"), max_length=50, blank=True)
    # Where the details came from: "" (typed) or the lookup source's name.
    source = models.CharField(max_length=50, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("company details")
        verbose_name_plural = _("company details")

    def __str__(self) -> str:
        return self.legal_name or self.inn
