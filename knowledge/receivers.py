"""A picture's stored file goes with its row (the article deleted, or the picture itself)."""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_delete
from django.dispatch import receiver

from knowledge.models import ArticleImage
from knowledge.services.images import forget_files


@receiver(post_delete, sender=ArticleImage, dispatch_uid="knowledge_image_file")
def image_file(sender: Any, instance: ArticleImage, **kwargs: Any) -> None:
    forget_files(instance)
