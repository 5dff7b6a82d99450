"""The help centre's settings: open or closed, title, words of welcome, logo and colour."""

from __future__ import annotations

import io
import re

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.utils import timezone
from django.utils.translation import gettext as _
from PIL import Image, UnidentifiedImageError

from crm_core.access import require_admin
from knowledge import pages_cache
from knowledge.models import HelpCentre
from tenants.models import Membership

COLOUR = re.compile(r"#[0-9a-fA-F]{6}")
LOGO_MAX_BYTES = 1024 * 1024
LOGO_MAX_SIDE = 4000
# Pictures a browser shows as they are. No SVG: it can carry scripts.
LOGO_FORMATS = {"PNG": "png", "JPEG": "jpg", "WEBP": "webp", "GIF": "gif"}


def settings_of_company() -> HelpCentre:
    found = HelpCentre.objects.first()
    return found if found is not None else HelpCentre()


def save_settings(
    membership: Membership,
    *,
    is_enabled: bool,
    title: str,
    intro: str,
    accent_colour: str,
    logo: UploadedFile | None = None,
    remove_logo: bool = False,
) -> HelpCentre:
    require_admin(membership)
    if not COLOUR.fullmatch(accent_colour.strip()):
        raise ValidationError({"accent_colour": _("A colour is # and six hex digits: #2f6fde.")})
    centre = settings_of_company()
    centre.is_enabled = is_enabled
    centre.title = title.strip()
    centre.intro = intro.strip()
    centre.accent_colour = accent_colour.strip().lower()
    centre.updated_at = timezone.now()
    if remove_logo and centre.logo:
        centre.logo.delete(save=False)
        centre.logo = ""
    if logo is not None:
        content, extension = _checked_logo(logo)
        if centre.logo:
            centre.logo.delete(save=False)
        centre.logo.save(f"logo.{extension}", ContentFile(content), save=False)
    centre.full_clean()
    centre.save()
    pages_cache.forget_pages()
    return centre


def _checked_logo(upload: UploadedFile) -> tuple[bytes, str]:
    if (upload.size or 0) > LOGO_MAX_BYTES:
        raise ValidationError({"logo": _("The logo may be at most 1 MB.")})
    content = upload.read()
    try:
        with Image.open(io.BytesIO(content)) as picture:
            kind = picture.format or ""
            width, height = picture.size
            picture.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        raise ValidationError(
            {"logo": _("The logo must be a PNG, JPEG, WebP or GIF picture.")}
        ) from None
    if kind not in LOGO_FORMATS:
        raise ValidationError({"logo": _("The logo must be a PNG, JPEG, WebP or GIF picture.")})
    if max(width, height) > LOGO_MAX_SIDE:
        raise ValidationError({"logo": _("The logo may be at most 4000 pixels on a side.")})
    return content, LOGO_FORMATS[kind]
