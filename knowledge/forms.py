from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from knowledge.models import Article, Category, HelpCentre


class ArticleForm(forms.ModelForm):
    class Meta:
        model = Article
        fields = ["draft_title", "draft_body", "category", "visibility", "language"]
        widgets = {
            "draft_body": forms.Textarea(attrs={"rows": 18, "class": "article-source"}),
        }
        help_texts = {
            "draft_body": _(
                "Markdown: **bold**, *italic*, # Heading, - list, [link](https://…), tables."
            ),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        category = self.fields["category"]
        assert isinstance(category, forms.ModelChoiceField)
        category.queryset = Category.objects.all()
        category.required = False


class CategoryForm(forms.ModelForm):
    class Meta:
        model = Category
        fields = ["name", "description", "position"]


class HelpCentreForm(forms.ModelForm):
    remove_logo = forms.BooleanField(label=_("Remove the logo"), required=False)

    class Meta:
        model = HelpCentre
        fields = ["is_enabled", "title", "intro", "accent_colour", "logo"]
        widgets = {
            "accent_colour": forms.TextInput(attrs={"type": "color"}),
            # Not the default widget: it links the stored file, which is served at /help/logo/.
            "logo": forms.FileInput(attrs={"accept": "image/png,image/jpeg,image/webp,image/gif"}),
        }
        help_texts = {"accent_colour": ""}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not self.instance.logo:
            del self.fields["remove_logo"]
