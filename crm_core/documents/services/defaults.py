"""The starting templates of a new company: Russian paperwork that looks like the real thing."""

from __future__ import annotations

from typing import Any

from crm_core.documents.models import DocumentTemplate, Kind
from crm_core.models import VatRate
from tenants.models import Company

# Body rows carry bgcolor: with it fpdf2 sets the cells' font explicitly, otherwise a table after
# bold text inherits the bold.

_PARTIES = """<p><b>Поставщик:</b> {{ company.full_name }}, ИНН {{ company.inn }}{% if company.kpp %}, КПП {{ company.kpp }}{% endif %}, {{ company.address }}{% if company.phone %}, тел. {{ company.phone }}{% endif %}</p>
<p><b>Покупатель:</b> {{ client.full_name }}{% if client.inn %}, ИНН {{ client.inn }}{% endif %}{% if client.kpp %}, КПП {{ client.kpp }}{% endif %}{% if client.address %}, {{ client.address }}{% endif %}</p>
"""  # noqa: E501

_TABLE = """<table border="1" width="100%">
<thead><tr><th width="5%">№</th><th width="35%">Товары (работы, услуги)</th><th width="9%">Кол-во</th><th width="7%">Ед.</th><th width="13%">Цена</th><th width="9%">Скидка</th><th width="9%">НДС</th><th width="13%">Сумма</th></tr></thead>
<tbody>{% for item in items %}<tr bgcolor="#ffffff"><td>{{ item.n }}</td><td>{{ item.name }}</td><td align="right">{{ item.quantity }}</td><td>{{ item.unit }}</td><td align="right">{{ item.price }}</td><td align="right">{{ item.discount }}</td><td>{{ item.vat_rate }}</td><td align="right">{{ item.total }}</td></tr>{% endfor %}</tbody>
</table>
"""  # noqa: E501

# VAT per rate, as Russian invoices print it: "В том числе НДС 22%: …" when prices include
# VAT, "НДС 22%: …" added on top otherwise; "Без налога (НДС)" for lines without VAT.
_TOTALS = """<p align="right"><b>Итого: {% if totals.vat_included %}{{ totals.total }}{% else %}{{ totals.net }}{% endif %}</b></p>
{% for vat in totals.vat_lines %}<p align="right"><b>{% if vat.with_vat %}{% if totals.vat_included %}В том числе {% endif %}{{ vat.label }}: {{ vat.amount }}{% else %}Без налога (НДС){% endif %}</b></p>
{% endfor %}<p align="right"><b>Всего к оплате: {{ totals.total }}</b></p>
<p>Всего наименований {{ totals.count }}, на сумму {{ totals.total }} руб.</p>
<p><b>{{ totals.total_words }}</b></p>
"""  # noqa: E501

INVOICE = (
    """<table border="1" width="100%">
<tr bgcolor="#ffffff"><td width="60%">{{ company.bank_name }}</td><td width="10%">БИК</td><td width="30%">{{ company.bik }}</td></tr>
<tr bgcolor="#ffffff"><td>Банк получателя</td><td>Сч. №</td><td>{{ company.correspondent_account }}</td></tr>
<tr bgcolor="#ffffff"><td>ИНН {{ company.inn }}   КПП {{ company.kpp }}</td><td>Сч. №</td><td>{{ company.bank_account }}</td></tr>
<tr bgcolor="#ffffff"><td>{{ company.full_name }}</td><td></td><td></td></tr>
<tr bgcolor="#ffffff"><td>Получатель</td><td></td><td></td></tr>
</table>
<h2>Счёт на оплату № {{ document.number }} от {{ document.date }}</h2>
<hr>
"""  # noqa: E501
    + _PARTIES
    + _TABLE
    + _TOTALS
    + """<hr>
<p>Руководитель ____________ {{ company.director }}          Бухгалтер ____________ {{ company.accountant }}</p>
"""  # noqa: E501
)

QUOTE = (
    """<h2>Коммерческое предложение № {{ document.number }} от {{ document.date }}</h2>
<p>{{ company.full_name }} предлагает {{ client.full_name }}: {{ deal.title }}.</p>
"""
    + _TABLE
    + _TOTALS
    + """<p>Предложение действительно 14 дней. {% if company.phone %}Тел. {{ company.phone }}{% endif %} {{ company.email }}</p>
<p>{{ company.director }}</p>
"""  # noqa: E501
)

CONTRACT = (
    """<h2>Договор № {{ document.number }}</h2>
<p align="right">{{ document.date }}</p>
<p>{{ company.full_name }} (Исполнитель), в лице руководителя {{ company.director }}, и {{ client.full_name }} (Заказчик) заключили настоящий договор о нижеследующем.</p>
<p><b>1. Предмет договора.</b> Исполнитель выполняет для Заказчика: {{ deal.title }}, в составе:</p>
"""  # noqa: E501
    + _TABLE
    + """<p><b>2. Цена и оплата.</b> Цена договора {{ totals.total }} руб. ({{ totals.total_words }}), {% if totals.with_vat %}{% if totals.vat_included %}в том числе{% else %}включая начисленный сверх цены{% endif %} {% for vat in totals.vat_lines %}{% if vat.with_vat %}{{ vat.label }} {{ vat.amount }} руб.{% else %}без НДС на часть позиций{% endif %}{% if not forloop.last %}, {% endif %}{% endfor %}.{% else %}НДС не облагается.{% endif %} Заказчик оплачивает счёт Исполнителя в течение 5 банковских дней.</p>
<p><b>3. Реквизиты сторон.</b></p>
<table border="1" width="100%">
<thead><tr><th width="20%">Реквизит</th><th width="40%">Исполнитель</th><th width="40%">Заказчик</th></tr></thead>
<tbody><tr bgcolor="#ffffff"><td>Наименование</td><td>{{ company.full_name }}</td><td>{{ client.full_name }}</td></tr>
<tr bgcolor="#ffffff"><td>ИНН</td><td>{{ company.inn }}</td><td>{{ client.inn }}</td></tr>
<tr bgcolor="#ffffff"><td>КПП</td><td>{{ company.kpp }}</td><td>{{ client.kpp }}</td></tr>
<tr bgcolor="#ffffff"><td>Адрес</td><td>{{ company.address }}</td><td>{{ client.address }}</td></tr>
<tr bgcolor="#ffffff"><td>Расчётный счёт</td><td>{{ company.bank_account }}</td><td>{{ client.bank_account }}</td></tr>
<tr bgcolor="#ffffff"><td>Банк</td><td>{{ company.bank_name }}</td><td>{{ client.bank_name }}</td></tr>
<tr bgcolor="#ffffff"><td>БИК</td><td>{{ company.bik }}</td><td>{{ client.bik }}</td></tr>
<tr bgcolor="#ffffff"><td>Корр. счёт</td><td>{{ company.correspondent_account }}</td><td>{{ client.correspondent_account }}</td></tr>
</tbody></table>
"""  # noqa: E501
)

DEFAULTS = [
    ("Счёт на оплату", Kind.INVOICE, INVOICE),
    ("Коммерческое предложение", Kind.QUOTE, QUOTE),
    ("Договор", Kind.CONTRACT, CONTRACT),
]


def install_default_templates() -> list[DocumentTemplate]:
    """Add the starting templates to the current company's schema (once: kinds it has stay)."""
    have = set(DocumentTemplate.objects.values_list("kind", flat=True))
    return [
        DocumentTemplate.objects.create(
            name=name, kind=kind, body=body, vat_rate=VatRate.TWENTY_TWO
        )
        for name, kind, body in DEFAULTS
        if kind not in have
    ]


def on_company_provisioned(sender: Any, company: Company, **kwargs: Any) -> None:
    install_default_templates()
