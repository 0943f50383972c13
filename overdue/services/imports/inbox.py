"""The payments inbox: a folder the bank's payment feed drops CSV files into (OVERDUE_PAYMENTS_INBOX). The daily
cycle imports every file there first, before any reminder is planned or sent (reconciliation first), each file
in its own transaction, then files it under `done/`, or under `rejected/` beside a report of its problems.
A crash between the import and the move only means the file is imported again: by payment_ref, nothing twice."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

from overdue.services.imports.files import ImportRejected, ImportResult


@dataclass
class InboxResults:
    files: int = 0
    rejected: int = 0
    recorded: int = 0
    already_recorded: int = 0

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


def ingest_inbox(inbox: Path | None, import_file: Callable[[Path], ImportResult]) -> InboxResults:
    """`import_file` imports one file in one transaction (the caller owns the database)."""
    results = InboxResults()
    if inbox is None or not inbox.is_dir():
        return results
    for path in sorted(p for p in inbox.glob("*.csv") if p.is_file()):
        results.files += 1
        try:
            imported = import_file(path)
        except ImportRejected as rejected:
            results.rejected += 1
            _file_away(path, "rejected").with_suffix(".problems.txt").write_text(str(rejected), encoding="utf-8")
            continue
        results.recorded += imported.created
        results.already_recorded += imported.already_present
        _file_away(path, "done")
    return results


def _file_away(path: Path, folder: str) -> Path:
    target = path.parent / folder / path.name
    target.parent.mkdir(exist_ok=True)
    return Path(shutil.move(path, target))
