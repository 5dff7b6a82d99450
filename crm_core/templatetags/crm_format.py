"""How the CRM writes amounts, one way on every page: ``{{ deal.amount|money }}`` → "74 400 ₽".

Amounts were written two ways ("74400,00" from a form's value, "74 400 ₽" on the board); every
template now goes through this filter, which groups thousands with the language's separators and
shows kopecks only when there are any (``money_text``, shared with the board's JSON).
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django import template

from crm_core.currencies import sign as currency_sign
from crm_core.queries.deals import money_text

register = template.Library()


@register.filter
def money(value: object, currency: str = "RUB") -> str:
    """The amount with its currency sign after it, as Russian price tags write it."""
    if value in (None, ""):
        return ""
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        return str(value)
    sign = currency_sign(str(currency))
    # A no-break space keeps the sign on the line of its number.
    return f"{money_text(amount)}\N{NO-BREAK SPACE}{sign}"


@register.filter
def phone(value: object) -> str:
    """A phone as people read it: "+7 916 123-45-67", the extension after it ("доб. 5")."""
    import phonenumbers
    from django.utils.translation import gettext as _

    e164 = getattr(value, "e164", value)
    extension = getattr(value, "extension", "")
    try:
        parsed = phonenumbers.parse(str(e164), None)
        text = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
    except phonenumbers.NumberParseException:
        text = str(e164)
    return f"{text} {_('ext.')} {extension}" if extension else text
