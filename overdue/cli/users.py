"""Dashboard users: who may sign in, with which roles and language. Passwords are typed, never arguments."""

from __future__ import annotations

import getpass
import sys
from typing import Annotated

import typer
from rich.table import Table

from overdue.cli.common import DatabaseOption, console, refusing, runtime, unit_of_work, utcnow
from overdue.services.signin_throttle import unlock
from overdue.services.users import ROLES, UserError, add_user, disable_user, enable_user, list_users, set_password
from overdue.store.db import session_scope

users_app = typer.Typer(help=f"Dashboard users and their roles ({', '.join(ROLES)}).", no_args_is_help=True)
ActorOption = Annotated[str | None, typer.Option("--as", help="Who makes the change (default: cli:<login>).")]


def _actor(actor: str | None) -> str:
    return actor or f"cli:{getpass.getuser()}"


def _password() -> str:
    """Asked twice on a terminal; the first line of standard input otherwise (`... < file`, a pipe), so it
    never appears in a command line, a shell history or a process list."""
    if sys.stdin.isatty():
        return str(typer.prompt("Password", hide_input=True, confirmation_prompt=True))
    return sys.stdin.readline().rstrip("\r\n")


@users_app.command("add")
def users_add(
    name: str,
    role: Annotated[list[str], typer.Option("--role", help=f"One of {', '.join(ROLES)}; repeat for several.")],
    locale: Annotated[str, typer.Option(help="The dashboard's language for this person: en-US or zh-CN.")] = "en-US",
    actor: ActorOption = None,
    database_url: DatabaseOption = None,
) -> None:
    """Add a person who may sign in to the dashboard (password prompted, or read from standard input)."""
    password = _password()
    with refusing(UserError), unit_of_work(database_url) as (_, session):
        user = add_user(session, name, password, role, locale, _actor(actor), utcnow())
    console.print(f"User {user.name} added: {', '.join(sorted(user.roles))}, {user.locale}.", markup=False)


@users_app.command("list")
def users_list(database_url: DatabaseOption = None) -> None:
    """Every dashboard user, with roles, language and whether they may sign in."""
    table = Table("name", "roles", "language", "status")
    with session_scope(runtime(database_url).database_url) as session:
        for user in list_users(session):
            status = "disabled" if user.disabled else "active"
            table.add_row(user.name, ", ".join(sorted(user.roles)), user.locale, status)
    console.print(table)


@users_app.command("disable")
def users_disable(name: str, actor: ActorOption = None, database_url: DatabaseOption = None) -> None:
    """Stop a person signing in; their open sessions end at once."""
    with refusing(UserError), unit_of_work(database_url) as (_, session):
        disable_user(session, name, _actor(actor), utcnow())
    console.print(f"User {name} disabled; their sessions are revoked.", markup=False)


@users_app.command("enable")
def users_enable(name: str, actor: ActorOption = None, database_url: DatabaseOption = None) -> None:
    """Let a disabled person sign in again."""
    with refusing(UserError), unit_of_work(database_url) as (_, session):
        enable_user(session, name, _actor(actor), utcnow())
    console.print(f"User {name} enabled.", markup=False)


@users_app.command("passwd")
def users_passwd(name: str, actor: ActorOption = None, database_url: DatabaseOption = None) -> None:
    """Set a new password (prompted, or read from standard input); every session with the old one ends."""
    password = _password()
    with refusing(UserError), unit_of_work(database_url) as (_, session):
        set_password(session, name, password, _actor(actor), utcnow())
    console.print(f"Password of {name} changed; their sessions are revoked.", markup=False)


@users_app.command("unlock")
def users_unlock(name: str, actor: ActorOption = None, database_url: DatabaseOption = None) -> None:
    """End a lock-out after failed sign-ins: forget the failures counted against NAME."""
    with unit_of_work(database_url) as (_, session):
        cleared = unlock(session, name, _actor(actor), utcnow())
    console.print(f"{cleared} failed sign-in(s) of {name} forgotten; {name} may sign in again.", markup=False)
