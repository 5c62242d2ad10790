"""Read a credit portfolio (the UCI "default of credit card clients" layout) into accounts.

Amounts in the file are read as the client's currency units, one to one, and stored in cents.
Repayment status k >= 1 means k months late, so days past due is 30 * k. Protected attributes
(sex, education, marriage, age) are never read. The file carries no people, so each account gets
a synthetic debtor generated from its ID: the same ID always gives the same person, marked
``synthetic``.
"""

from __future__ import annotations

import csv
import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path

from pydantic import BaseModel, ConfigDict

# Columns in the file: repayment status, bill and amount paid, newest month (Sep 2005) first.
STATUS_COLUMNS = ("X6", "X7", "X8", "X9", "X10", "X11")
BILL_COLUMNS = ("X12", "X13", "X14", "X15", "X16", "X17")
PAID_COLUMNS = ("X18", "X19", "X20", "X21", "X22", "X23")
MONTHS = ("2005-09", "2005-08", "2005-07", "2005-06", "2005-05", "2005-04")
REQUIRED_COLUMNS = ("ID", "X1", *STATUS_COLUMNS, *BILL_COLUMNS, *PAID_COLUMNS)

_FIRST_NAMES = (
    "Thabo",
    "Lerato",
    "Sipho",
    "Naledi",
    "Johan",
    "Annelie",
    "Pieter",
    "Zanele",
    "Ayesha",
    "Kagiso",
    "Nomvula",
    "Themba",
    "Priya",
    "Riaan",
    "Lindiwe",
    "Mpho",
    "Charlene",
    "Bongani",
    "Elna",
    "Tshepo",
)
_LAST_NAMES = (
    "Mokoena",
    "Naidoo",
    "van der Merwe",
    "Dlamini",
    "Botha",
    "Nkosi",
    "Pillay",
    "Khumalo",
    "Smit",
    "Mahlangu",
    "Adams",
    "Ndlovu",
    "Pretorius",
    "Molefe",
    "Jacobs",
    "Sithole",
    "du Plessis",
    "Zulu",
)


class PortfolioError(Exception):
    """The file cannot be read as a portfolio at all (missing, empty, unknown column layout)."""


@dataclass(frozen=True)
class RowError:
    row_number: int
    field: str
    message: str


class MonthRecord(BaseModel):
    model_config = ConfigDict(frozen=True)

    month: str
    status: int
    bill_cents: int
    paid_cents: int


class SyntheticDebtor(BaseModel):
    model_config = ConfigDict(frozen=True)

    first_name: str
    last_name: str
    phone: str
    email: str
    language: str
    timezone: str = "Africa/Johannesburg"
    stated_channel: str | None = None
    synthetic: bool = True


class PortfolioAccount(BaseModel):
    model_config = ConfigDict(frozen=True)

    account_id: str
    credit_limit_cents: int
    balance_cents: int
    days_past_due: int
    history: tuple[MonthRecord, ...]
    debtor: SyntheticDebtor

    @property
    def in_arrears(self) -> bool:
        return self.days_past_due >= 30


@dataclass
class PortfolioRead:
    accounts: list[PortfolioAccount]
    errors: list[RowError]
    rows_read: int


def synthetic_debtor(source_id: int) -> SyntheticDebtor:
    """A made-up person for an account, always the same for the same ID."""
    digest = hashlib.sha256(f"rapport-synthetic-{source_id}".encode()).digest()
    first = _FIRST_NAMES[digest[0] % len(_FIRST_NAMES)]
    last = _LAST_NAMES[digest[1] % len(_LAST_NAMES)]
    # 0x reserved-looking ranges are avoided; these are well-formed SA mobile numbers, made up.
    prefix = ("60", "61", "71", "72", "73", "74", "76", "79", "82", "83", "84")[digest[2] % 11]
    subscriber = int.from_bytes(digest[3:7], "big") % 10_000_000
    email_name = f"{first}.{last}".lower().replace(" ", "")
    stated = (None, None, None, "email", "sms", "whatsapp")[digest[7] % 6]
    return SyntheticDebtor(
        first_name=first,
        last_name=last,
        phone=f"+27{prefix}{subscriber:07d}",
        email=f"{email_name}.{source_id}@example.com",
        language="af" if digest[8] % 5 == 0 else "en",
        stated_channel=stated,
    )


def _cents(value: str) -> int:
    # The file writes some large limits in scientific notation ("1.00E+05").
    return int(Decimal(value.strip()) * 100)


def _parse_row(row: dict[str, str]) -> PortfolioAccount:
    source_id = int(row["ID"])
    history = tuple(
        MonthRecord(
            month=month,
            status=int(Decimal(row[status])),
            bill_cents=_cents(row[bill]),
            paid_cents=_cents(row[paid]),
        )
        for month, status, bill, paid in zip(MONTHS, STATUS_COLUMNS, BILL_COLUMNS, PAID_COLUMNS, strict=True)
    )
    latest = history[0]
    return PortfolioAccount(
        account_id=f"ACC-{source_id:06d}",
        credit_limit_cents=_cents(row["X1"]),
        balance_cents=max(0, latest.bill_cents - latest.paid_cents),
        days_past_due=30 * max(0, latest.status),
        history=history,
        debtor=synthetic_debtor(source_id),
    )


def _first_bad_field(row: dict[str, str]) -> str:
    for column in REQUIRED_COLUMNS:
        value = row.get(column)
        try:
            Decimal((value or "").strip())
        except InvalidOperation:
            return column
    return "ID"


def iter_portfolio(path: Path, limit: int | None = None) -> Iterator[PortfolioAccount | RowError]:
    """Yield an account per good row and a :class:`RowError` per bad one; never stop at a bad row."""
    try:
        handle = path.open(newline="", encoding="utf-8")
    except OSError as error:
        raise PortfolioError(f"{path}: cannot open portfolio ({error.strerror})") from error
    with handle:
        reader = csv.DictReader(handle)
        if reader.fieldnames is None:
            raise PortfolioError(f"{path}: the file is empty")
        missing = [column for column in REQUIRED_COLUMNS if column not in reader.fieldnames]
        if missing:
            raise PortfolioError(
                f"{path}: unknown column layout, missing {', '.join(missing)} "
                "(expected the UCI default-of-credit-card-clients columns ID, X1..X23, Y)"
            )
        for row_number, row in enumerate(reader, start=2):
            if limit is not None and row_number - 1 > limit:
                return
            try:
                yield _parse_row(row)
            except (InvalidOperation, ValueError, TypeError, AttributeError) as error:
                field = _first_bad_field(row)
                value_problem = "missing value" if not row.get(field) else "not a number"
                yield RowError(row_number, field, f"{value_problem} ({type(error).__name__})")


def read_portfolio(path: Path, limit: int | None = None) -> PortfolioRead:
    accounts: list[PortfolioAccount] = []
    errors: list[RowError] = []
    for item in iter_portfolio(path, limit):
        (errors if isinstance(item, RowError) else accounts).append(item)
    return PortfolioRead(accounts=accounts, errors=errors, rows_read=len(accounts) + len(errors))
