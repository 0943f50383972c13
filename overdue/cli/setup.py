"""Setting up: the database schema and the configuration under configs/."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy.engine import make_url

from overdue.cli.common import DatabaseOption, console, fail, runtime, utcnow
from overdue.config.models import CHANNELS

db_app = typer.Typer(help="Database schema (Alembic migrations) and retention.", no_args_is_help=True)
strategy_app = typer.Typer(help="Collection strategies (configs/strategies/*.yaml).", no_args_is_help=True)
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


@db_app.command("prune")
def db_prune(
    keep_days: Annotated[
        int | None, typer.Option(min=7, help="Keep this many days (default: OVERDUE_OPERATIONAL_RECORDS_KEEP_DAYS).")
    ] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Count what would go; delete nothing.")] = False,
    database_url: DatabaseOption = None,
) -> None:
    """Prune operational records past their retention: webhook receipts and errors, ended dashboard sign-ins.
    Audit events are never pruned. The served `housekeeping` deployment does this daily."""
    from overdue.services.retention import prune
    from overdue.store.db import session_scope

    rt = runtime(database_url)
    days = keep_days or rt.settings.operational_records_keep_days
    with session_scope(rt.database_url) as session:
        counts = prune(session, utcnow(), days, dry_run=dry_run)
    verb = "would prune" if dry_run else "pruned"
    console.print(
        f"Older than {days} days, {verb}: " + ", ".join(f"{n:,} {name.replace('_', ' ')}" for name, n in counts.items())
    )


# --- config ---------------------------------------------------------------------------------------


@config_app.command("check")
def config_check() -> None:
    """Load and validate every config file, and render every template in both languages: the ones the
    strategy uses must exist in each, and every template file must render with a complete context."""
    import jinja2

    from overdue.channels.context import sample_context
    from overdue.config import ConfigError
    from overdue.config.template_rules import load_template_rules

    rt = runtime(needs_schema=False)
    needed = {
        (step.template, step.channel)
        for strategy in rt.config.strategies.values()
        for steps in strategy.cadence.values()
        for step in steps
    }
    shipped = {(file.template, file.channel) for file in rt.renderer.shipped()}
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
    try:
        rules = load_template_rules(rt.config.templates_dir)
    except ConfigError as exc:
        problems.append(str(exc))
    if problems:
        raise fail("Template problems:\n  " + "\n  ".join(problems), 2)
    arms = ", ".join(f"{c.strategy} {c.share:.0%}" for c in rt.config.experiment.challengers)
    console.print(
        f"OK: champion strategy '{rt.config.strategy.name}'" + (f" (challengers: {arms})" if arms else "") + ", "
        f"policies {sorted(rt.config.policies)}, "
        f"{len(needed | shipped) * 2} templates render, {len(rules.rules)} content rules load "
        "(`overdue templates lint` applies them)."
    )


@strategy_app.command("check")
def strategy_check(path: Annotated[Path, typer.Argument(help="A strategy YAML file, e.g. a new challenger.")]) -> None:
    """Validate one strategy file: its stages, conditions, cadence and escalation rules, and that every
    template its cadence names exists in both languages. Errors name the file, the key and the problem."""
    from overdue.config import ConfigError
    from overdue.config.loader import load_model
    from overdue.config.models import Strategy

    rt = runtime(needs_schema=False)
    try:
        strategy = load_model(path, Strategy)
    except ConfigError as exc:
        raise fail(str(exc), 2) from None
    shipped = {(file.template, file.channel, file.locale) for file in rt.renderer.shipped()}
    missing = sorted(
        f"{path}: key 'cadence.{stage}': template {step.template}.{step.channel} is missing in {locale}"
        for stage, steps in strategy.cadence.items()
        for step in steps
        for locale in ("en-US", "zh-CN")
        if (step.template, step.channel, locale) not in shipped
    )
    if missing:
        raise fail("\n".join(missing), 2)
    stages = " > ".join(stage.name for stage in strategy.stages)
    steps = sum(len(steps) for steps in strategy.cadence.values())
    console.print(
        f"OK: strategy '{strategy.name}': stages {stages}; {steps} cadence steps; "
        f"{len(strategy.escalation.rules)} escalation rules."
    )
    wiring = ", ".join(f"{channel} {rt.channel.provider_of(channel)}" for channel in CHANNELS)
    console.print(f"Channels: {wiring}.")
