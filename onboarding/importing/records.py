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
    # {"telegram": "@handle", "whatsapp": "+7…"}: Contact.messengers
    messengers: dict[str, str] = field(default_factory=dict)
    responsible: str = ""
    # The file's "consent to mailings" cell said yes: a consent is recorded (source "import").
    consent: bool = False
    # The person a deal row names as its contact («Основной контакт», «Контакт»): linked to
    # the deal, found on its client first, then alone of that name in the CRM (engine).
    of_deal: bool = False


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
    # The company is known by its name alone, whatever phones and e-mails its people bring
    # (a vCard's ORG): the same name is the same client, in the file and in the CRM.
    known_by_name: bool = False
    # The company named only by its id in the source (HubSpot's "Associated Company IDs"):
    # `external_id` points at a company an earlier file brought, it is no name of its own.
    by_ref: bool = False
    # The responsible person as the file names them (an e-mail or a full name): matched to
    # the company's members by the engine (switching.Directory).
    responsible: str = ""


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
    # What another CRM's export says of the deal (switching.py): where it stands, who has it,
    # when it closed or should, and the records it is linked to by their ids there.
    pipeline: str = ""
    stage: str = ""
    outcome: str = ""  # "won", "lost", or "" (the stage tells)
    lost_reason: str = ""
    responsible: str = ""
    author: str = ""  # who made the deal there («Кем создана»)
    closed: str = ""  # ISO date
    expected_close: str = ""  # ISO date
    company_ref: str = ""
    contact_ref: str = ""
    unread_dates: list[str] = field(default_factory=list)  # other date cells not read
    unread_currency: str = ""


@dataclass
class LinksIn:
    """What a task or a timeline entry is about: records by their ids in the source system,
    or a name."""

    deal: str = ""
    contact: str = ""
    company: str = ""
    name: str = ""


@dataclass
class TaskIn:
    external_id: str = ""
    title: str = ""
    due: str = ""  # ISO date or date-time
    unread_due: str = ""
    done: bool = False
    kind: str = ""
    responsible: str = ""
    author: str = ""
    links: LinksIn = field(default_factory=LinksIn)


@dataclass
class TimelineIn:
    """A note, a call or another entry of a record's history, with its original date."""

    external_id: str = ""
    kind: str = "note"  # Activity.Kind
    text: str = ""
    when: str = ""  # ISO date or date-time
    unread_when: str = ""
    author: str = ""
    links: LinksIn = field(default_factory=LinksIn)


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
class AssociationIn:
    """A row of another CRM's associations export (HubSpot's): two or three records, by their
    ids there, that belong together, and the association's label there."""

    links: LinksIn
    label: str = ""


@dataclass
class SourceRow:
    """One row of a sheet, or one element of an XML file (counterparty, document, product)."""

    number: int
    client: ClientIn | None = None
    deal: DealIn | None = None
    product: ProductIn | None = None
    task: TaskIn | None = None
    timeline: TimelineIn | None = None
    association: AssociationIn | None = None
    rejected: str = ""  # a reader's reason to reject the row outright
    values: dict[str, str] = field(default_factory=dict)  # what the row said, for the report
    # What the reader could not use (a contact of a type the CRM has no place for, contact
    # information it could not read): said in the row's reason, the row still imported.
    notes: list[str] = field(default_factory=list)
