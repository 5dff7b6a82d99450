"""The plan's limits, enforced where records are added (the plan itself is billing's).

Each check counts the company's own records and refuses the one that would go over with
``PlanLimitReachedError``: a ValidationError whose message names the limit and the plan, and
which the pages show with a link to the billing page (the way to a larger plan).
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db.models import Sum
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _

from billing import limits
from crm_core.models import Attachment, CustomField, Pipeline
from tenants.models import Company

MB = 1024**2


class PlanLimitReachedError(ValidationError):
    """Refused because the plan does not allow more; pages add a link to billing."""

    def __init__(self, message: str, *, key: str) -> None:
        super().__init__(message, code="plan_limit")
        self.key = key


def _refuse(company: Company, key: str, allowed: str) -> PlanLimitReachedError:
    return PlanLimitReachedError(
        _(
            "Limit reached: %(what)s — %(allowed)s on your plan “%(plan)s”. To add more, "
            "choose a larger plan on the billing page."
        )
        % {"plan": limits.plan_name(company), "allowed": allowed, "what": limits.KNOWN[key]},
        key=key,
    )


def _check_count(company: Company, key: str, used: int) -> None:
    allowed = limits.limit_of(company, key)
    if allowed is not None and used + 1 > allowed:
        raise _refuse(company, key, f"{allowed.normalize():f}")


def check_pipeline(company: Company) -> None:
    # An archived pipeline frees its place (restoring one is checked again).
    _check_count(company, limits.PIPELINES, Pipeline.objects.filter(is_archived=False).count())


def check_custom_field(company: Company) -> None:
    # Switched-off fields keep their data and can be switched on again: they count.
    _check_count(company, limits.CUSTOM_FIELDS, CustomField.objects.count())


def check_automation_rule(company: Company) -> None:
    from crm_core.automation.models import StageRule

    _check_count(company, limits.AUTOMATION_RULES, StageRule.objects.count())


# Other apps keep files of the company too (e-mail attachments, kept raw messages): each
# registers a counter of its bytes in the current schema (from its AppConfig.ready), so the
# storage limit counts them without crm_core importing the apps above it.
StorageCounter = Callable[[], int]
_STORAGE_COUNTERS: list[StorageCounter] = []


def register_storage_counter(counter: StorageCounter) -> None:
    if counter not in _STORAGE_COUNTERS:
        _STORAGE_COUNTERS.append(counter)


def _crm_files() -> int:
    """The deals' files (attachments and issued documents)."""
    return int(Attachment.objects.aggregate(total=Sum("size"))["total"] or 0)


def storage_used() -> int:
    """Bytes of every stored file of the company: the CRM's own and the registered apps'."""
    return _crm_files() + sum(counter() for counter in _STORAGE_COUNTERS)


def check_storage(company: Company, adding: int) -> None:
    allowed = limits.limit_of(company, limits.STORAGE_MB)
    if allowed is None:
        return
    room = int(allowed * Decimal(MB))
    if storage_used() + adding > room:
        raise _refuse(company, limits.STORAGE_MB, filesizeformat(room))
