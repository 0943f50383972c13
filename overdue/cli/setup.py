"""Setting up: the database schema and the configuration under configs/."""

from __future__ import annotations

import typer
from sqlalchemy.engine import make_url

from overdue.cli.common import DatabaseOption, console, fail, runtime
from overdue.config.models import CHANNELS

db_app = typer.Typer(help="Database schema (Alembic migrations).", no_args_is_help=True)
config_app = typer.Typer(help="Strategy, policies, offer bounds and templates under configs/.", no_args_is_help=True)


# --- db -------------------------------------------------------------------------------------------


@db_app.command("upgrade")
def db_upgrade(database_url: DatabaseOption = None, revision: str = "head") -> None:
    """Create or migrate the schema to the latest revision."""
    from overdue.store.migrate import upgrade

    url = runtime(database_url, needs_schema=False).database_url
    upgrade(url, revision)
    console.print(f"Database at [bold]{make_url(url).render_as_string(hide_password=True)}[/bold] is at {revision}.")


@db_app.command("current")
def db_current(database_url: DatabaseOption = None) -> None:
    """Show the schema revision the database is at."""
    from overdue.store.migrate import current_revision

    console.print(
        current_revision(runtime(database_url, needs_schema=False).database_url)
        or "(empty database: run `overdue db upgrade`)"
    )


# --- config ---------------------------------------------------------------------------------------


@config_app.command("check")
def config_check() -> None:
    """Load and validate every config file, and render every template in both languages: the ones the
    strategy uses must exist in each, and every template file must render with a complete context."""
    import jinja2

    from overdue.channels.context import sample_context

    rt = runtime(needs_schema=False)
    needed = {(step.template, step.channel) for steps in rt.config.strategy.cadence.values() for step in steps}
    shipped = {tuple(name.split("/", 1)[1].removesuffix(".j2").split(".")) for name in rt.renderer.available()}
    problems = []
    for locale in ("en-US", "zh-CN"):
        context = sample_context(rt.sender, locale)
        for template, channel in sorted(needed | shipped):
            name = rt.renderer.name(template, channel, locale)
            try:
                rt.renderer.render(template, channel, locale, context)
            except jinja2.TemplateNotFound:
                problems.append(f"{name}: missing")
            except jinja2.TemplateError as exc:
                problems.append(f"{name}: {exc}")
    if problems:
        raise fail("Template problems:\n  " + "\n  ".join(problems), 2)
    console.print(
        f"OK: strategy '{rt.config.strategy.name}', policies {sorted(rt.config.policies)}, "
        f"{len(needed | shipped) * 2} templates render."
    )
    wiring = ", ".join(f"{channel} {rt.channel.provider_of(channel)}" for channel in CHANNELS)
    console.print(f"Channels: {wiring}.")
