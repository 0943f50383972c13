"""Personal data: masked by default, revealed with a reason (audited), sealed under keys that rotate."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from overdue.cli.common import DatabaseOption, console, fail, refusing, runtime, unit_of_work, utcnow
from overdue.services.personal_data import PersonalField, RevealRefused, masked_details, reveal, rotate_sealed
from overdue.store.db import session_scope
from overdue.store.sealed import SealError, new_key

pii_app = typer.Typer(
    help="Personal data: national ID, card and bank account numbers are sealed at rest and shown masked.",
    no_args_is_help=True,
)


@pii_app.command("show")
def pii_show(account_id: int, database_url: DatabaseOption = None) -> None:
    """An account's personal data, masked (the last 4 characters of each number)."""
    with session_scope(runtime(database_url).database_url) as session:
        details = masked_details(session, [account_id]).get(account_id)
    if details is None:
        raise fail(f"No account {account_id}.")
    table = Table("field", "value")
    for field in PersonalField:
        table.add_row(field.label, getattr(details, field.value) or "-")
    console.print(table)


@pii_app.command("reveal")
def pii_reveal(
    account_id: int,
    field: Annotated[PersonalField, typer.Option(help="Which value to reveal.")],
    reason: Annotated[str, typer.Option(help="Why (at least 5 characters); recorded in the audit trail.")],
    user: Annotated[str, typer.Option("--as", help="Who is asking; recorded in the audit trail.")],
    database_url: DatabaseOption = None,
) -> None:
    """Show one full value. The reveal (who, which field, why; never the value) is recorded first."""
    with refusing(RevealRefused, SealError), unit_of_work(database_url) as (rt, session):
        value = reveal(session, rt.vault, account_id, field, user, reason, utcnow())
    console.print(f"{field.label}: {value}", markup=False, highlight=False)
    console.print(f"Recorded in the audit trail as pii.revealed by {user.strip()}.", markup=False)


@pii_app.command("rotate-keys")
def pii_rotate_keys(
    batch: Annotated[int, typer.Option(min=1, help="Values re-sealed per transaction.")] = 1000,
    database_url: DatabaseOption = None,
) -> None:
    """Re-seal every value under the first key of OVERDUE_DATA_KEYS; safe to stop and run again.

    Rotation: put the new key first (OVERDUE_DATA_KEYS=new,old), run this, then drop the old key."""
    rt = runtime(database_url)
    with refusing(SealError), session_scope(rt.database_url) as session:
        count = rotate_sealed(session, rt.vault, batch)
    console.print(f"Re-sealed {count} value(s) under the primary key.")


@pii_app.command("new-key")
def pii_new_key() -> None:
    """Print a new random key for OVERDUE_DATA_KEYS (keep it in a secret store, never in configs/)."""
    typer.echo(new_key())
