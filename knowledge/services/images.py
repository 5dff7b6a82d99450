"""Pictures in articles: an upload is checked by Pillow (PNG, JPEG, GIF or WebP, within the
size limits), stored in the company's own files and given as a Markdown image the editor
inserts. A picture is shown at ``/help/images/<key>/`` (knowledge.queries.images decides to
whom); the rendered articles accept no other picture address (knowledge.rendering)."""

from __future__ import annotations

import io
from pathlib import PurePosixPath

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.urls import reverse
from django.utils.translation import gettext as _
from PIL import Image, UnidentifiedImageError

from crm_core.access import require_write
from knowledge.models import Article, ArticleImage
from tenants.models import Membership

# Pictures a browser shows as they are. No SVG: it can carry scripts.
FORMATS = {
    "PNG": ("png", "image/png"),
    "JPEG": ("jpg", "image/jpeg"),
    "GIF": ("gif", "image/gif"),
    "WEBP": ("webp", "image/webp"),
}
MAX_SIDE = 8000


def max_bytes() -> int:
    """The largest picture accepted (settings.KNOWLEDGE_IMAGE_MAX_MB, 5 MB by default)."""
    return int(float(getattr(settings, "KNOWLEDGE_IMAGE_MAX_MB", 5)) * 1024 * 1024)


def url_of(image: ArticleImage) -> str:
    return reverse("help_image", args=[image.key])


def markdown_of(image: ArticleImage) -> str:
    alt = PurePosixPath(image.name).stem.replace("[", "").replace("]", "")[:100]
    return f"![{alt}]({url_of(image)})"


def _checked(upload: UploadedFile) -> tuple[bytes, str, str, int, int]:
    wrong_kind = _("The picture must be a PNG, JPEG, GIF or WebP file.")
    if (upload.size or 0) > max_bytes():
        raise ValidationError(
            _("The picture may be at most %(mb)s MB.") % {"mb": max_bytes() // (1024 * 1024)}
        )
    content = upload.read(max_bytes() + 1)
    if len(content) > max_bytes():
        raise ValidationError(
            _("The picture may be at most %(mb)s MB.") % {"mb": max_bytes() // (1024 * 1024)}
        )
    try:
        with Image.open(io.BytesIO(content)) as picture:
            kind = picture.format or ""
            width, height = picture.size
            picture.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        raise ValidationError(wrong_kind) from None
    if kind not in FORMATS:
        raise ValidationError(wrong_kind)
    if max(width, height) > MAX_SIDE:
        raise ValidationError(
            _("The picture may be at most %(n)s pixels on a side.") % {"n": MAX_SIDE}
        )
    extension, content_type = FORMATS[kind]
    return content, extension, content_type, width, height


@transaction.atomic
def upload_image(
    membership: Membership, article: Article, upload: UploadedFile | None
) -> ArticleImage:
    """Keep a picture for the article; a clear ``ValidationError`` for anything else."""
    require_write(membership)
    if upload is None:
        raise ValidationError(_("Choose a picture to upload."))
    content, extension, content_type, width, height = _checked(upload)
    name = PurePosixPath(str(upload.name or "picture")).name[:200]
    image = ArticleImage(
        article=article,
        name=name,
        content_type=content_type,
        size=len(content),
        width=width,
        height=height,
        uploaded_by_id=membership.user_id,
    )
    image.file.save(f"picture.{extension}", ContentFile(content), save=False)
    image.save()
    return image


def forget_files(image: ArticleImage) -> None:
    """The stored file goes once the picture's row is gone for good (after the commit), from
    the company's own files (the storage's place is the schema's, so it is named now)."""
    from django_tenants.utils import schema_context

    from relata.db import connection

    name, schema = image.file.name, connection.schema_name
    if not name:
        return
    storage = image.file.storage

    def delete() -> None:
        with schema_context(schema):
            storage.delete(name)

    transaction.on_commit(delete)
