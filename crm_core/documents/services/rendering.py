"""Document templates rendered by Django's engine in a sandbox.

The engine sees only plain values (dicts, lists, strings): no model, no method that touches the
database, no tag that loads files or other libraries. Autoescape is on. A template is checked on
save: its syntax, and every placeholder against the values a document really gets, so a typo is
refused with its line instead of printing an empty space on an invoice.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.core.exceptions import ValidationError
from django.template import Context, Engine, Library, Node, TemplateSyntaxError
from django.template.base import FilterExpression, Variable, VariableNode
from django.template.defaulttags import ForNode, IfNode, WithNode
from django.utils.translation import gettext as _

from relata.inputs import whole_number

MISSING = object()
UNKNOWN_MARK = "\x00unknown:%s\x00"
# Names Django's own tags add to the context.
BUILT_IN_NAMES = {"forloop", "True", "False", "None"}


# Filters that switch escaping off: a client's name comes from the public request form, so a
# template must not be able to print it as markup.
UNSAFE_FILTERS = frozenset({"safe", "safeseq"})


class _SandboxEngine(Engine):
    default_builtins = [
        "django.template.defaultfilters",
        "crm_core.documents.sandbox_library",
    ]

    def get_template_builtins(self, builtins: list[str]) -> list[Library]:
        # Copies without the unsafe filters: Django's own libraries are shared by every engine.
        trimmed = []
        for library in super().get_template_builtins(builtins):
            copy = Library()
            copy.tags = dict(library.tags)
            copy.filters = {
                name: f for name, f in library.filters.items() if name not in UNSAFE_FILTERS
            }
            trimmed.append(copy)
        return trimmed


ENGINE = _SandboxEngine(
    debug=True,  # nodes keep their line numbers, for error messages
    loaders=[],
    libraries={},
    autoescape=True,
    string_if_invalid=UNKNOWN_MARK,
)


def _line(node: Node) -> int | None:
    token = getattr(node, "token", None)
    return getattr(token, "lineno", None)


def _lookup(scope: dict[str, Any], path: str) -> Any:
    parts = path.split(".")
    if parts[0] in BUILT_IN_NAMES:
        return None
    value = scope.get(parts[0], MISSING)
    for part in parts[1:]:
        if value is MISSING:
            break
        if isinstance(value, dict):
            value = value.get(part, MISSING)
        elif isinstance(value, list):
            index = whole_number(part, below=len(value))
            value = value[index] if index is not None else MISSING
        elif isinstance(value, str | int) and hasattr(value, part):
            value = None  # a string's own method (upper, title): harmless, known
        else:
            value = MISSING
    return value


def _variables(expression: FilterExpression) -> Iterator[Variable]:
    if isinstance(expression.var, Variable) and expression.var.literal is None:
        yield expression.var
    for _func, args in expression.filters:
        for is_variable, arg in args:
            if is_variable and isinstance(arg, Variable) and arg.literal is None:
                yield arg


def _condition_expressions(condition: Any) -> Iterator[FilterExpression]:
    if condition is None:
        return
    value = getattr(condition, "value", None)
    if isinstance(value, FilterExpression):
        yield value
    for side in ("first", "second"):
        yield from _condition_expressions(getattr(condition, side, None))


def _check(nodes: Any, scope: dict[str, Any], problems: list[str]) -> None:
    for node in nodes:
        expressions: list[FilterExpression] = []
        inner_scope = scope
        if isinstance(node, VariableNode):
            expressions.append(node.filter_expression)
        elif isinstance(node, IfNode):
            for condition, _nodelist in node.conditions_nodelists:
                expressions.extend(_condition_expressions(condition))
        elif isinstance(node, ForNode):
            loop: Any = node.sequence  # a FilterExpression once compiled
            expressions.append(loop)
            sequence = _lookup(scope, str(loop.var))
            sample = sequence[0] if isinstance(sequence, list) and sequence else None
            inner_scope = {**scope}
            for name in node.loopvars:
                inner_scope[name] = sample if len(node.loopvars) == 1 else None
        elif isinstance(node, WithNode):
            inner_scope = {**scope}
            for name, expression in node.extra_context.items():
                expressions.append(expression)
                inner_scope[name] = _lookup(scope, str(expression.var))
        for expression in expressions:
            for variable in _variables(expression):
                if _lookup(scope, str(variable.var)) is MISSING:
                    problems.append(
                        _("unknown placeholder {{ %(name)s }} on line %(line)s")
                        % {"name": variable.var, "line": _line(node) or "?"}
                    )
        for attribute in node.child_nodelists:
            _check(getattr(node, attribute, None) or [], inner_scope, problems)


def check_template(body: str, sample: dict[str, Any]) -> None:
    """Refuse a template that does not compile or names a value documents do not have."""
    if not body.strip():
        raise ValidationError(_("The template is empty."), code="empty")
    try:
        compiled = ENGINE.from_string(body)
    except TemplateSyntaxError as exc:
        info = getattr(exc, "template_debug", None) or {}
        raise ValidationError(
            _("Template error on line %(line)s: %(error)s")
            % {"line": info.get("line", "?"), "error": exc},
            code="syntax",
        ) from exc
    problems: list[str] = []
    _check(compiled.nodelist, sample, problems)
    if problems:
        raise ValidationError(
            _("The template cannot be used: %(problems)s.") % {"problems": "; ".join(problems)},
            code="unknown_placeholder",
        )
    render(body, sample)


def render(body: str, values: dict[str, Any]) -> str:
    """The HTML of a document. Any placeholder left unresolved stops it: nothing half-filled."""
    try:
        html = ENGINE.from_string(body).render(Context(values, autoescape=True))
    except TemplateSyntaxError as exc:
        raise ValidationError(
            _("Template error: %(error)s") % {"error": exc}, code="syntax"
        ) from exc
    if "\x00unknown:" in html:
        name = html.split("\x00unknown:", 1)[1].split("\x00", 1)[0]
        raise ValidationError(
            _("The template names an unknown placeholder {{ %(name)s }}.") % {"name": name},
            code="unknown_placeholder",
        )
    return html
