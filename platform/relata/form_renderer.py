"""Django's form renderer, with the stock input, select and textarea widgets drawn in Python.

Every widget Django draws goes through the template engine: an input is two templates
(``text.html`` includes ``input.html`` includes ``attrs.html``), a select one more per
option. The deal card draws 14 widgets that way (a select of members, of currencies, of the
client's contact persons): a fifth of the page's time. These few templates are fixed and
small, so the same markup is written here — character for character, which
tests/test_form_renderer.py checks against the templates for every kind of widget and value —
and everything else (a widget with a template of its own, a non-text label that the template
would localise) still goes through the templates.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.forms.renderers import DjangoTemplates
from django.utils.functional import Promise
from django.utils.html import conditional_escape
from django.utils.safestring import SafeData

WIDGETS = "django/forms/widgets/"
# The stock templates that are exactly `{% include "django/forms/widgets/input.html" %}`.
INPUTS = frozenset(
    f"{WIDGETS}{name}.html"
    for name in (
        "input",
        "text",
        "number",
        "email",
        "url",
        "color",
        "search",
        "tel",
        "password",
        "hidden",
        "date",
        "datetime",
        "time",
        "checkbox",
    )
)
OPTION = f"{WIDGETS}select_option.html"


class _NotDrawnHereError(Exception):
    """Something the Python drawing does not reproduce: the templates draw it."""


def _attrs(attrs: dict[str, Any]) -> str:
    # attrs.html: ` name="value"`, a bare ` name` for True, nothing for False.
    out = []
    for name, value in attrs.items():
        if value is False:
            continue
        if value is True:
            out.append(f" {conditional_escape(name)}")
        else:
            out.append(f' {conditional_escape(name)}="{conditional_escape(_text(value))}"')
    return "".join(out)


def _text(value: Any) -> Any:
    # `value|stringformat:'s'`: "%s" % value, kept safe when it was (conditional_escape).
    return value if isinstance(value, SafeData) else str(value)


def _shown(value: Any) -> str:
    # `{{ value }}`: only text is drawn here; anything else the template would localise. A
    # lazy translation (a model choice's label) is text: the template, too, draws `str()` of it.
    if isinstance(value, Promise):
        value = str(value)
    if not isinstance(value, str):
        raise _NotDrawnHereError
    return str(conditional_escape(value))


def _input(widget: dict[str, Any]) -> str:
    value = (
        "" if widget["value"] is None else f' value="{conditional_escape(_text(widget["value"]))}"'
    )
    return (
        f'<input type="{conditional_escape(widget["type"])}" '
        f'name="{conditional_escape(widget["name"])}"{value}{_attrs(widget["attrs"])}>'
    )


def _textarea(widget: dict[str, Any]) -> str:
    value = _shown(widget["value"]) if widget["value"] else ""
    return (
        f'<textarea name="{conditional_escape(widget["name"])}"{_attrs(widget["attrs"])}>\n'
        f"{value}</textarea>"
    )


def _select(widget: dict[str, Any]) -> str:
    out = [f'<select name="{conditional_escape(widget["name"])}"{_attrs(widget["attrs"])}>']
    for group_name, group_choices, _index in widget["optgroups"]:
        if group_name:
            out.append(f'\n  <optgroup label="{_shown(group_name)}">')
        for option in group_choices:
            if option["template_name"] != OPTION:
                raise _NotDrawnHereError
            out.append(
                f'\n  <option value="{conditional_escape(_text(option["value"]))}"'
                f"{_attrs(option['attrs'])}>{_shown(option['label'])}</option>\n"
            )  # (select_option.html ends with a line break)
        if group_name:
            out.append("\n  </optgroup>")
    out.append("\n</select>")
    return "".join(out)


CHOICE_OPTIONS = frozenset({f"{WIDGETS}checkbox_option.html", f"{WIDGETS}radio_option.html"})


def _choice_option(option: dict[str, Any]) -> str:
    # checkbox_option.html includes input_option.html includes input.html, each file ending
    # with a line break that the include keeps.
    if option["template_name"] not in CHOICE_OPTIONS:
        raise _NotDrawnHereError
    field = _input(option)
    if not option["wrap_label"]:
        return f"{field}\n\n\n"
    target = option["attrs"].get("id")
    label_for = f' for="{_shown(target)}"' if target else ""
    return f"<label{label_for}>{field}\n {_shown(option['label'])}</label>\n\n"


def _multiple(widget: dict[str, Any]) -> str:
    # multiple_input.html (checkboxes and radio buttons)
    target, css = widget["attrs"].get("id"), widget["attrs"].get("class")
    id_attr = f' id="{_shown(target)}"' if target else ""
    class_attr = f' class="{_shown(css)}"' if css else ""
    out = [f"<div{id_attr}{class_attr}>"]
    for group, options, _index in widget["optgroups"]:
        if group:
            out.append(f"\n  <div><label>{_shown(group)}</label>")
        out.extend(f"<div>\n    {_choice_option(option)}</div>" for option in options)
        if group:
            out.append("\n  </div>")
    out.append("\n</div>")
    return "".join(out)


DRAWN: dict[str, Callable[[dict[str, Any]], str]] = {
    **dict.fromkeys(INPUTS, _input),
    f"{WIDGETS}textarea.html": _textarea,
    f"{WIDGETS}select.html": _select,
    f"{WIDGETS}checkbox_select.html": _multiple,
    f"{WIDGETS}radio.html": _multiple,
}


class Renderer(DjangoTemplates):
    def render(self, template_name: str, context: dict[str, Any], request: Any = None) -> str:
        draw = DRAWN.get(template_name)
        widget = context.get("widget")
        if draw is not None and isinstance(widget, dict):
            try:
                return draw(widget).strip()
            except _NotDrawnHereError:
                pass
        return str(super().render(template_name, context, request))
