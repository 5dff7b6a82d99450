"""What a reader hands the engine: one source row turned into plain CRM-shaped values.

Readers know file formats; the engine knows the CRM. These dataclasses are the contract.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal


@dataclass
class PersonIn:
    external_id: str = ""
    last_name: str = ""
    first_name: str = ""
    middle_name: str = ""
    position: str = ""
    phones: list[str] = field(default_factory=list)
    emails: list[str] = field(default_factory=list)


@dataclass
class ClientIn:
    external_id: str = ""
    name: str = ""
    full_name: str = ""
    kind: str = "legal"
    relationship: str = "customer"  # Client.Relationship: customer, partner or supplier
    inn: str = ""
    kpp: str = ""
    legal_address: str = ""
    postal_address: str = ""
    bank_name: str = ""
    bik: str = ""
    bank_account: str = ""
    correspondent_account: str = ""
    website: str = ""
    industry: str = ""
    source: str = ""
    phones: list[str] = field(default_factory=list)
    emails: list[str] = field(default_factory=list)
    persons: list[PersonIn] = field(default_factory=list)
    # The row of the client this row only adds a contact person to: a sheet that lists a
    # company's people on the rows below it, the name cell left empty (or merged over them).
    continues: int = 0
    # Notes for the client's feed (a «Примечание» column), and values for the client's own
    # (custom) fields by key, as the cells said them (the engine reads them by the field's type).
    notes: list[str] = field(default_factory=list)
    custom: dict[str, str] = field(default_factory=dict)


@dataclass
class ItemIn:
    name: str
    external_id: str = ""
    sku: str = ""
    unit: str = ""
    quantity: Decimal = Decimal(1)
    price: Decimal = Decimal(0)


@dataclass
class DealIn:
    external_id: str = ""
    title: str = ""
    amount: Decimal | None = None
    currency: str = ""
    date: str = ""  # ISO date
    items: list[ItemIn] = field(default_factory=list)
    # The cells as typed, when the reader could not read them as an amount or a date: the
    # engine says so in the row's reason instead of quietly using no amount or today.
    unread_amount: str = ""
    unread_date: str = ""


@dataclass
class ProductIn:
    external_id: str = ""
    name: str = ""
    sku: str = ""
    unit: str = ""
    price: Decimal | None = None
    vat_rate: str = ""  # one of crm_core's VatRate values; "" when the file does not say
    # Offers (prices) may arrive without the catalogue: they only update what exists,
    # unless they carry a name to create a product from.
    price_only: bool = False


@dataclass
class SourceRow:
    """One row of a sheet, or one element of an XML file (counterparty, document, product)."""

    number: int
    client: ClientIn | None = None
    deal: DealIn | None = None
    product: ProductIn | None = None
    rejected: str = ""  # a reader's reason to reject the row outright
    values: dict[str, str] = field(default_factory=dict)  # what the row said, for the report
