"""Russian bank details checked by their control keys.

python-stdnum (already a dependency) checks the INN and the OGRN but has no module for the
BIK or bank account numbers, so the Bank of Russia's account key is written here: the 23
digits made of three BIK digits and the 20-digit account, multiplied digit by digit by the
weights 7, 1, 3 repeated, must sum (counting each product's last digit) to a multiple of 10.
A settlement account is keyed with the BIK's last three digits; the bank's correspondent
account with "0" and the BIK's fifth and sixth digits (the Bank of Russia's branch code).
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

WEIGHTS = (7, 1, 3) * 8


def digits_only(value: str) -> str:
    return "".join(ch for ch in value if not ch.isspace())


def _keyed(prefix: str, account: str) -> bool:
    number = prefix + account
    return sum(int(d) * w % 10 for d, w in zip(number, WEIGHTS, strict=False)) % 10 == 0


def check_bik(bik: str) -> str:
    bik = digits_only(bik)
    if len(bik) != 9 or not bik.isdigit():
        raise ValidationError(_("A BIK is 9 digits."), code="bik_format")
    if not bik.startswith("04"):
        raise ValidationError(_("A Russian bank's BIK starts with 04."), code="bik_country")
    return bik


def _check_account(account: str) -> str:
    account = digits_only(account)
    if len(account) != 20 or not account.isdigit():
        raise ValidationError(_("An account number is 20 digits."), code="account_format")
    return account


def check_settlement_account(account: str, bik: str) -> str:
    account = _check_account(account)
    if not _keyed(bik[-3:], account):
        raise ValidationError(
            _("This account does not match the BIK (its control digit is wrong): check both."),
            code="account_key",
        )
    return account


def check_correspondent_account(account: str, bik: str) -> str:
    account = _check_account(account)
    if not account.startswith("301"):
        raise ValidationError(
            _("A correspondent account starts with 301."), code="corr_account_format"
        )
    if not _keyed("0" + bik[4:6], account):
        raise ValidationError(
            _(
                "This correspondent account does not match the BIK (its control digit is "
                "wrong): check both."
            ),
            code="corr_account_key",
        )
    return account


def check_requisites(fields: dict[str, str]) -> dict[str, str]:
    """The company's requisites with the checkable ones checked: the INN and OGRN by
    python-stdnum, the KPP's form, the BIK and both accounts by their control keys. Empty
    values pass (they are reported as missing when a document is issued). Raises one
    ValidationError naming every bad field."""
    from stdnum.exceptions import ValidationError as NumberError
    from stdnum.ru import inn, ogrn

    cleaned = dict(fields)
    errors: dict[str, ValidationError] = {}

    def attempt(name: str, check: object) -> None:
        value = digits_only(str(cleaned.get(name) or ""))
        if not value:
            return
        try:
            cleaned[name] = check(value)  # type: ignore[operator]
        except ValidationError as exc:
            errors[name] = exc

    def by_stdnum(module: object, message: str) -> object:
        def check(value: str) -> str:
            try:
                return str(module.validate(value))  # type: ignore[attr-defined]
            except NumberError:
                raise ValidationError(message) from None

        return check

    def kpp(value: str) -> str:
        if len(value) != 9 or not value[:4].isdigit() or not value[6:].isdigit():
            raise ValidationError(_("A KPP is 9 characters, digits but the 5th and 6th."))
        return value.upper()

    attempt("inn", by_stdnum(inn, _("This INN fails its check digits.")))
    attempt("ogrn", by_stdnum(ogrn, _("This OGRN fails its check digit.")))
    attempt("kpp", kpp)
    attempt("bik", check_bik)
    bik = cleaned.get("bik") or ""
    if "bik" not in errors and bik:
        attempt("bank_account", lambda v: check_settlement_account(v, bik))
        attempt("correspondent_account", lambda v: check_correspondent_account(v, bik))
    if errors:
        raise ValidationError(errors)
    return cleaned


# What a payer needs to pay an invoice (and a contract prints): who, and where to pay.
NEEDED_FOR_PAYMENT = (
    "full_name",
    "inn",
    "address",
    "bank_name",
    "bik",
    "correspondent_account",
    "bank_account",
    "director",
)


def missing_requisites(ours: Any, kind: str) -> list[str]:
    """The labels of our requisites an invoice or a contract would print blank or wrong;
    empty for quotes (nobody pays by a quote) and when everything is there and checks out."""
    from crm_core.documents.models import Kind, Requisites

    if kind not in (Kind.INVOICE, Kind.CONTRACT):
        return []
    needed = list(NEEDED_FOR_PAYMENT)
    if len(ours.inn) == 10:  # an organisation: its KPP is printed next to the INN
        needed.insert(2, "kpp")
    given = {name: getattr(ours, name) for name in needed}
    if not given["full_name"] and ours.name:
        given["full_name"] = ours.name
    try:
        check_requisites({k: v for k, v in given.items() if v})
        wrong: set[str] = set()
    except ValidationError as exc:
        wrong = set(exc.error_dict)
    return [
        str(getattr(Requisites._meta.get_field(name), "verbose_name", name))
        for name in needed
        if not given[name] or name in wrong
    ]
