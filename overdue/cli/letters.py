"""Letters from the outbox as PDF files, made on demand (the dry-run outbox does not make them)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from overdue.cli.common import DatabaseOption, console, fail, refusing, runtime

letters_app = typer.Typer(help="Letters as PDF files.", no_args_is_help=True)


@letters_app.command("render")
def letters_render(
    message_ids: Annotated[
        list[int], typer.Argument(help="Outbox message ids of letters (`outbox list --channel letter`).")
    ],
    output: Annotated[Path | None, typer.Option(help="Write here instead (one letter only).")] = None,
    database_url: DatabaseOption = None,
) -> None:
    """Write letters as PDF files, by default to <data dir>/letters/<idempotency key>.pdf. The PDF embeds its
    font, so it prints the same anywhere; it holds the customer's name and address: keep it as you would them."""
    from overdue.channels.letters.pdf import LetterError
    from overdue.services.letters import LetterNotFound, letter_message, letter_path, write_letter
    from overdue.store.db import session_scope

    if output is not None and len(message_ids) > 1:
        raise fail("--output names one file: give one message id.")
    rt = runtime(database_url)
    with session_scope(rt.database_url) as session, refusing(LetterNotFound, LetterError):
        for message_id in message_ids:
            message = letter_message(session, message_id)
            path = output or letter_path(rt.settings.data_dir, message)
            write_letter(session, rt.sender, rt.settings.letter_font, message, path)
            console.print(f"Letter {message_id}: {path}", highlight=False)
