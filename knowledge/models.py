"""The knowledge base: articles in categories, each with a working draft and a published copy,
and the help centre that shows the company's public articles to its customers.

An article is edited as a draft (``draft_title``/``draft_body``); publishing copies the draft
into the published fields (``title``, ``body``, ``html``, ``text``) and keeps the copy as an
``ArticleVersion``. So editing a published article never changes what readers see until the
new text is published. Search reads the published copy only (``search_vector``, kept by the
database from the published title and text).

Users are global (public schema): a row naming a user keeps only the id, as in crm_core.
"""

from __future__ import annotations

import uuid
from pathlib import PurePosixPath

from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVectorField
from django.db import models
from django.db.models.expressions import RawSQL
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crm_core.models import _user


class Language(models.TextChoices):
    RUSSIAN = "ru", _("Russian")
    ENGLISH = "en", _("English")


# The published title (weight A) and text (B) in the article's language, where word forms are
# reduced to their stem (PostgreSQL's "russian" configuration also stems Latin-letter words with
# the English stemmer); then the same words as written ("simple", weight D), so that names,
# codes and words the stemmer does not know are found as typed.
VECTOR_SQL = (
    "(CASE WHEN language = 'en' THEN"
    " setweight(to_tsvector('english'::regconfig, title), 'A')"
    " || setweight(to_tsvector('english'::regconfig, text), 'B')"
    " ELSE setweight(to_tsvector('russian'::regconfig, title), 'A')"
    " || setweight(to_tsvector('russian'::regconfig, text), 'B') END)"
    " || setweight(to_tsvector('simple'::regconfig, title || ' ' || text), 'D')"
)


class Category(models.Model):
    name = models.CharField(_("name"), max_length=200)
    description = models.CharField(_("description"), max_length=500, blank=True)
    position = models.PositiveIntegerField(_("order"), default=0)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("category")
        verbose_name_plural = _("categories")
        ordering = ["position", "name", "id"]

    def __str__(self) -> str:
        return self.name


class Article(models.Model):
    class Visibility(models.TextChoices):
        PUBLIC = "public", _("Public: in the help centre")
        INTERNAL = "internal", _("Internal: colleagues only")

    category = models.ForeignKey(
        Category,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="articles",
        verbose_name=_("category"),
    )
    visibility = models.CharField(
        _("who can read it"),
        max_length=10,
        choices=Visibility.choices,
        default=Visibility.INTERNAL,
    )
    language = models.CharField(
        _("language"), max_length=2, choices=Language.choices, default=Language.RUSSIAN
    )
    # The draft: what the editor shows and saves.
    draft_title = models.CharField(_("title"), max_length=300)
    draft_body = models.TextField(_("text"), blank=True)
    # The published copy: what readers see (empty until first published).
    title = models.CharField(max_length=300, blank=True)
    body = models.TextField(blank=True)
    html = models.TextField(blank=True)
    text = models.TextField(blank=True)
    is_published = models.BooleanField(_("published"), default=False)
    published_at = models.DateTimeField(null=True, blank=True)
    search_vector = models.GeneratedField(
        expression=RawSQL(VECTOR_SQL, []),  # noqa: S611  (a constant, no parameters)
        output_field=SearchVectorField(),
        db_persist=True,
    )
    created_by = _user()
    updated_by = _user()
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("article")
        verbose_name_plural = _("articles")
        ordering = ["-updated_at", "-id"]
        indexes = [
            GinIndex(fields=["search_vector"], name="article_search"),
            models.Index(fields=["is_published", "visibility", "category"], name="article_shown"),
            # A general query's candidates are the most recent matches (queries/search.py):
            # walked along this index, the search stops after them instead of testing every
            # article's vector.
            models.Index(
                fields=["-published_at", "-id"],
                condition=models.Q(is_published=True),
                name="article_recent",
            ),
        ]

    def __str__(self) -> str:
        return self.title or self.draft_title

    @property
    def has_unpublished_changes(self) -> bool:
        return not self.is_published or (self.draft_title, self.draft_body) != (
            self.title,
            self.body,
        )


class ArticleVersion(models.Model):
    """One published text of an article, kept for its history (and to go back to)."""

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    title = models.CharField(max_length=300)
    body = models.TextField(blank=True)
    published_at = models.DateTimeField(default=timezone.now)
    published_by = _user()

    class Meta:
        ordering = ["-number"]
        constraints = [
            models.UniqueConstraint(fields=["article", "number"], name="article_version_once")
        ]

    def __str__(self) -> str:
        return f"{self.title} (v{self.number})"


class SearchWord(models.Model):
    """The words of published articles, to correct a misspelt search word to the nearest
    known one (trigram similarity); derived, rebuilt from the articles."""

    word = models.CharField(max_length=100, unique=True)

    def __str__(self) -> str:
        return self.word


def _image_path(instance: ArticleImage, filename: str) -> str:
    # A random name: the stored path says nothing of the article or the uploader's file name.
    return f"knowledge/images/{uuid.uuid4().hex}{PurePosixPath(filename).suffix.lower()}"


class ArticleImage(models.Model):
    """A picture uploaded into an article (Pillow-checked PNG, JPEG, GIF or WebP), stored in the
    company's own files and shown at ``/help/images/<key>/``: to anyone when the published
    public article shows it, otherwise only to the company's members. The address names a
    random key, not the row's id: it cannot be guessed, and it stays the same when the
    company's archive is restored elsewhere (the articles' text keeps pointing at it)."""

    key = models.UUIDField(default=uuid.uuid4, db_index=True, editable=False)
    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="images")
    file = models.FileField(upload_to=_image_path, max_length=500)
    name = models.CharField(max_length=200, blank=True)
    content_type = models.CharField(max_length=20)
    size = models.PositiveIntegerField(default=0)
    width = models.PositiveIntegerField(default=0)
    height = models.PositiveIntegerField(default=0)
    uploaded_by = _user()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("article picture")
        verbose_name_plural = _("article pictures")
        ordering = ["id"]

    def __str__(self) -> str:
        return self.name or f"picture {self.pk}"


def _logo_path(instance: HelpCentre, filename: str) -> str:
    return f"help/logo/{timezone.now():%Y%m%d%H%M%S}-{filename}"


class HelpCentre(models.Model):
    """The public help centre's settings (one row per company): on or off, its title, words
    of welcome, logo and accent colour."""

    is_enabled = models.BooleanField(_("help centre is open to customers"), default=True)
    title = models.CharField(
        _("title"), max_length=200, blank=True, help_text=_("The company's name if left empty.")
    )
    intro = models.CharField(_("words of welcome"), max_length=500, blank=True)
    accent_colour = models.CharField(
        _("accent colour"), max_length=7, default="#2f6fde", help_text=_("For example #2f6fde.")
    )
    logo = models.FileField(_("logo"), upload_to=_logo_path, max_length=500, blank=True)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("help centre")
        verbose_name_plural = _("help centres")

    def __str__(self) -> str:
        return self.title or "help centre"
