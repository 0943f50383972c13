"""The affordability file: statements a partner or a form collected, recorded like an agent's (capacity to
pay, hardship flagged with the reason given or when nothing is left). Idempotent by statement_ref."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated

import sqlalchemy as sa
from pydantic import BeforeValidator, Field, ValidationInfo, field_validator
from sqlmodel import Session, col

from overdue.config import Configuration
from overdue.domain.affordability import Statement
from overdue.services.affordability import record_statement
from overdue.services.imports.cells import Row, amount, currency, show, text
from overdue.services.imports.files import (
    LOOKUP_CHUNK,
    ImportProblem,
    ImportRejected,
    ImportResult,
    actor,
    existing,
    first_lines,
    read,
    validate,
)
from overdue.store.bulk import chunked
from overdue.store.tables import Account, AffordabilityStatement

REQUIRED = ("statement_ref", "account_ref", "currency", "income", "expenses", "dependants")
OPTIONAL = ("hardship_reason", "note")


class AffordabilityRow(Row):
    statement_ref: Annotated[str, text(128)]
    account_ref: Annotated[str, text(64)]
    currency: Annotated[str, BeforeValidator(currency)]  # before the amounts: their precision depends on it
    income: int
    expenses: int
    dependants: int = Field(ge=0, le=50)
    hardship_reason: Annotated[str | None, text(500, required=False)]
    note: Annotated[str | None, text(2000, required=False)]

    @field_validator("income", "expenses", mode="before")
    @classmethod
    def _money(cls, value: str, info: ValidationInfo) -> int:
        return amount(value, info.data.get("currency"), positive=False)


def import_affordability(session: Session, config: Configuration, path: Path, now: datetime) -> ImportResult:
    parsed = read(path, REQUIRED, OPTIONAL)
    problems = list(parsed.problems)
    rows = validate(AffordabilityRow, parsed, problems)
    accounts: dict[str, tuple[int, str]] = {}
    for batch in chunked(sorted({row.account_ref for _, row in rows}), LOOKUP_CHUNK):
        query = sa.select(col(Account.external_ref), col(Account.id), col(Account.currency))
        for ref, account_id, account_currency in session.execute(query.where(col(Account.external_ref).in_(batch))):
            accounts[ref] = (account_id, account_currency)
    seen, repeated = first_lines([(line, row.statement_ref) for line, row in rows], "statement_ref")
    problems += repeated
    for line, row in rows:
        found = accounts.get(row.account_ref)
        if found is None:
            problems.append(ImportProblem(line, "account_ref", f"no account {show(row.account_ref)} on record"))
        elif found[1] != row.currency:
            problems.append(ImportProblem(line, "currency", f"{row.currency} but the account is in {found[1]}"))
    if problems:
        raise ImportRejected(path, sorted(problems, key=lambda p: p.line))
    recorded = existing(session, col(AffordabilityStatement.statement_ref), list(seen))
    new = [row for _, row in rows if row.statement_ref not in recorded]
    for row in new:
        record_statement(
            session,
            config,
            accounts[row.account_ref][0],
            Statement(row.income, row.expenses, row.dependants),
            "import",
            actor(path),
            now,
            hardship_reason=row.hardship_reason,
            note=row.note or "",
            statement_ref=row.statement_ref,
        )
    return ImportResult(created=len(new), already_present=len(rows) - len(new))
