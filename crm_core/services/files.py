"""Files attached to deals: stored under the company's prefix, never served without access."""

from __future__ import annotations

from pathlib import PurePath

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils.translation import gettext as _

from crm_core.access import require_write
from crm_core.models import Activity, Attachment, Deal
from crm_core.services import limits
from crm_core.services.audit import record
from tenants.models import Membership


@transaction.atomic
def attach_file(*, membership: Membership, deal: Deal, upload: UploadedFile) -> Attachment:
    require_write(membership)
    limit = settings.MAX_ATTACHMENT_MB * 1024 * 1024
    if not upload.size:
        raise ValidationError(_("The file is empty."), code="empty")
    if upload.size > limit:
        raise ValidationError(
            _("The file is larger than %(mb)s MB.") % {"mb": settings.MAX_ATTACHMENT_MB},
            code="too_large",
        )
    limits.check_storage(membership.company, upload.size)
    # Only the base name: a path in the name must never reach the storage.
    name = PurePath(upload.name or "file").name[:200] or "file"
    attachment = Attachment(
        deal=deal,
        client_id=deal.client_id,
        name=name,
        size=upload.size,
        uploaded_by=membership.user,
    )
    attachment.file.save(name, upload, save=False)
    attachment.save()
    Activity.objects.create(
        kind=Activity.Kind.FILE,
        deal=deal,
        client_id=deal.client_id,
        author=membership.user,
        summary=name,
    )
    record(membership, deal, "attach_file", {"file": (None, name)})
    return attachment
