"""The form renderer draws the stock widgets in Python: the markup must be the templates',
character for character, for every kind of widget and value."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django import forms
from django.forms.renderers import DjangoTemplates
from django.utils import translation
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy

from relata.form_renderer import DRAWN, Renderer


class Everything(forms.Form):
    text = forms.CharField(
        max_length=20, help_text="x", widget=forms.TextInput(attrs={"class": 'a"b'})
    )
    blank = forms.CharField(required=False)
    number = forms.DecimalField(required=False)
    email = forms.EmailField(required=False)
    url = forms.URLField(required=False)
    password = forms.CharField(widget=forms.PasswordInput(render_value=True), required=False)
    hidden = forms.CharField(widget=forms.HiddenInput, required=False)
    day = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}), required=False)
    moment = forms.DateTimeField(required=False)
    clock = forms.TimeField(required=False)
    flag = forms.BooleanField(required=False)
    off = forms.BooleanField(required=False, disabled=True)
    body = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)
    choice = forms.ChoiceField(
        choices=[("", "—"), ("a", "Окна & двери"), ("b", "<b>")], required=False
    )
    grouped = forms.ChoiceField(
        choices=[("Group <1>", [("1", "One"), ("2", "Two")]), ("3", "Three")], required=False
    )
    many = forms.MultipleChoiceField(choices=[("1", "One"), ("2", "Two")], required=False)
    numbers = forms.TypedChoiceField(choices=[(1, "One"), (2, "Two")], coerce=int, required=False)
    boxes = forms.MultipleChoiceField(
        choices=[("1", "Анна <А>"), ("Group", [("2", "Two"), ("3", "Three")])],
        widget=forms.CheckboxSelectMultiple(attrs={"class": "chips"}),
        required=False,
    )
    radio = forms.ChoiceField(
        choices=[("a", "A & B"), ("b", "B")], widget=forms.RadioSelect, required=False
    )
    search = forms.CharField(widget=forms.TextInput(attrs={"type": "search", "autofocus": True}))
    safe = forms.CharField(required=False)


VALUES: list[dict[str, Any]] = [
    {},
    {
        "text": 'Ёлка "в" <лесу> & co',
        "number": "12.50",
        "email": "a@b.ru",
        "password": "s3cret<",
        "hidden": "7",
        "day": "2026-12-06",
        "moment": "2026-12-06 10:00",
        "clock": "10:30",
        "flag": "on",
        "body": 'Первая строка\n<вторая> & "третья"',
        "choice": "b",
        "grouped": "2",
        "many": ["1", "2"],
        "numbers": "2",
        "boxes": ["1", "3"],
        "radio": "a",
        "search": "x",
    },
]


@pytest.mark.parametrize("data", VALUES)
def test_python_drawn_widgets_match_the_templates(data: dict[str, Any]) -> None:
    templates, python = DjangoTemplates(), Renderer()
    drawn_here: set[str] = set()
    for bound in (True, False):
        initial = {
            "number": Decimal("1234.5"),
            "day": dt.date(2026, 12, 6),
            "safe": mark_safe("<i>kept</i>"),
            "numbers": 2,
        }
        form = Everything(data if bound else None, initial=initial)
        for field in form:
            widget = field.field.widget
            context = widget.get_context(
                field.html_name, field.value(), field.build_widget_attrs({})
            )
            template = widget.template_name
            expected = templates.render(template, context)
            drawn = python.render(template, context)
            assert drawn == expected, (field.name, bound)
            if template in DRAWN:  # and drawn in Python, not by the templates' fallback
                drawn_here.add(template)
                assert DRAWN[template](context["widget"]).strip() == expected, field.name
    assert {"select.html", "checkbox_select.html", "radio.html", "textarea.html"} <= {
        name.rsplit("/", 1)[1] for name in drawn_here
    }


def test_a_label_that_is_not_text_goes_through_the_template() -> None:
    widget = forms.Select(choices=[(2026, 2026), (Decimal("1.5"), dt.date(2026, 1, 2))])
    context = widget.get_context("year", 2026, {})
    assert Renderer().render(widget.template_name, context) == DjangoTemplates().render(
        widget.template_name, context
    )


def test_a_lazy_translated_label_is_drawn_in_python_as_the_template_draws_it() -> None:
    # Model choices' labels are lazy translations: drawn here, in the active language.
    widget = forms.Select(
        choices=[("", "—"), ("call", gettext_lazy("Call")), ("x", gettext_lazy("<b> & co"))]
    )
    context = widget.get_context("kind", "call", {})
    for language in ("ru", "en"):
        with translation.override(language):
            expected = DjangoTemplates().render(widget.template_name, context)
            assert DRAWN[widget.template_name](context["widget"]).strip() == expected
            assert Renderer().render(widget.template_name, context) == expected
    with translation.override("ru"):
        assert "Звонок" in Renderer().render(widget.template_name, context)
