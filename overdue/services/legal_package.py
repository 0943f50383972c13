"""The hand-off package for counsel: one zip with everything a lawyer needs to act on a case.

    case.json                 the case file (overdue/services/case_file.py) and the case's steps
    demand_letter.en-US.pdf   the demand letter (律师函) in English
    demand_letter.zh-CN.pdf   and in Chinese
    statement.csv             the statement: placed balance, payments, interest and fees since, balance now
    evidence/<id>-<name>      every document on the account, opened from its seal

The package holds personal data in clear (the evidence): building one is audited, with its digest.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import zipfile
from datetime import datetime

from sqlmodel import Session

from overdue.domain.money import to_major
from overdue.runtime import Runtime
from overdue.services.audit import record
from overdue.services.case_file import StatementLine, case_file, evidence_file_name, evidence_of
from overdue.services.legal import LETTER_LOCALES, LegalError, case_ref, demand_letter_pdf
from overdue.store.tables import Account, LegalCase

STATEMENT_COLUMNS = ("date", "description", "amount", "balance", "currency")


def build_package(session: Session, runtime: Runtime, case_id: int, user: str, now: datetime) -> bytes:
    case = session.get(LegalCase, case_id)
    if case is None:
        raise LegalError(f"legal case {case_id} does not exist")
    account = session.get(Account, case.account_id)
    assert account is not None
    file = case_file(session, case.account_id)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        data = {"case_ref": case_ref(case), "generated_at": now.isoformat(), "generated_by": user} | file.as_json()
        archive.writestr("case.json", json.dumps(data, ensure_ascii=False, indent=2))
        for locale in LETTER_LOCALES:
            archive.writestr(f"demand_letter.{locale}.pdf", demand_letter_pdf(session, runtime, case_id, locale))
        archive.writestr("statement.csv", statement_csv(file.statement, account.currency))
        for evidence in evidence_of(session, case.account_id):
            name = evidence_file_name(evidence.id, evidence.filename)  # type: ignore[arg-type]
            archive.writestr(f"evidence/{name}", runtime.vault.open_bytes(evidence.content_sealed))
    package = buffer.getvalue()
    record(
        session,
        "legal_case.package_exported",
        user,
        now,
        case.account_id,
        case_id=case_id,
        sha256=hashlib.sha256(package).hexdigest(),
        size_bytes=len(package),
    )
    return package


def statement_csv(lines: list[StatementLine], currency: str) -> str:
    """Amounts as decimals in major units (a spreadsheet sums them), with the currency on every row."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(STATEMENT_COLUMNS)
    for line in lines:
        writer.writerow(
            [
                line.on.isoformat(),
                line.description,
                str(to_major(line.amount_minor, currency)),
                str(to_major(line.balance_minor, currency)),
                currency,
            ]
        )
    return out.getvalue()
