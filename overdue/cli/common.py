"""Shared by every command: the console, the runtime (with a schema check) and clean failures."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Annotated

import typer
from rich.console import Console
from sqlmodel import Session

from overdue.config import ConfigError, Configuration, load_configuration
from overdue.runtime import Runtime, build_runtime
from overdue.settings import get_settings
from overdue.store.db import session_scope

console = Console()
DatabaseOption = Annotated[str | None, typer.Option("--database-url", help="Overrides OVERDUE_DATABASE_URL.")]


def runtime(database_url: str | None = None, *, needs_schema: bool = True) -> Runtime:
    """Settings, configs and channels; by default also insists the database schema is up to date."""
    try:
        rt = build_runtime(get_settings(), database_url)
    except ConfigError as exc:
        raise config_error(exc) from None
    if needs_schema:
        from overdue.store.migrate import schema_is_current

        if not schema_is_current(rt.database_url):
            raise fail("The database schema is missing or out of date: run `overdue db upgrade` first.", 2)
    return rt


def configuration() -> Configuration:
    """configs/ alone, for commands that need neither a database nor the data keys (template lint, preview)."""
    settings = get_settings()
    try:
        return load_configuration(settings.config_dir, settings.strategy)
    except ConfigError as exc:
        raise config_error(exc) from None


def config_error(exc: ConfigError) -> typer.Exit:
    console.print(f"[red]Configuration error:[/red] {exc}")
    return typer.Exit(2)


def utcnow() -> datetime:
    return datetime.now(UTC)


def fail(message: str, code: int = 1) -> typer.Exit:
    console.print(f"[red]{message}[/red]")
    return typer.Exit(code)


@contextmanager
def refusing(*errors: type[Exception]) -> Iterator[None]:
    """A service's refusal (a decision already made, a bad hold kind, ...) becomes one red line and exit 1."""
    try:
        yield
    except errors as exc:
        raise fail(str(exc)) from None


@contextmanager
def unit_of_work(database_url: str | None) -> Iterator[tuple[Runtime, Session]]:
    """The runtime (schema checked) and one transaction, for a command that changes something."""
    rt = runtime(database_url)
    with session_scope(rt.database_url) as session:
        yield rt, session
