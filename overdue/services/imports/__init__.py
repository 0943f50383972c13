"""CSV imports of accounts, payments and affordability statements: all-or-nothing and idempotent.

The whole file is validated before anything is written, so a person fixing a file sees every problem at
once (by the line number their spreadsheet shows) and a rejected file leaves the database as it was.
Rows already in the database are counted and left alone, so re-running an import is always safe.
The formats are documented in docs/csv-formats.md.
"""

from overdue.services.imports.accounts import import_accounts
from overdue.services.imports.affordability import import_affordability
from overdue.services.imports.files import ImportProblem, ImportRejected, ImportResult
from overdue.services.imports.payments import import_payments

__all__ = [
    "ImportProblem",
    "ImportRejected",
    "ImportResult",
    "import_accounts",
    "import_affordability",
    "import_payments",
]
