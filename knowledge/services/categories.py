"""The knowledge base's categories (the help centre's sections)."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from crm_core.access import require_write
from knowledge import pages_cache
from knowledge.models import Category
from tenants.models import Membership


def save_category(
    membership: Membership, category: Category, *, name: str, description: str, position: int
) -> Category:
    require_write(membership)
    name = name.strip()
    if not name:
        raise ValidationError({"name": _("A category needs a name.")})
    category.name = name
    category.description = description.strip()
    category.position = position
    category.full_clean()
    category.save()
    pages_cache.forget_pages()
    return category


def delete_category(membership: Membership, category: Category) -> None:
    """Its articles stay, without a category."""
    require_write(membership)
    category.delete()
    pages_cache.forget_pages()
