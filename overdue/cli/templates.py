"""Message templates: preview one as a customer would receive it, lint them all against the content rules."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from overdue.cli.common import DatabaseOption, configuration, console, fail, refusing, runtime, utcnow
from overdue.settings import get_settings

if TYPE_CHECKING:
    from overdue.channels.context import Sender
    from overdue.channels.letters.pdf import Letter
    from overdue.config import Configuration
    from overdue.store.tables import Account, Customer

templates_app = typer.Typer(
    help="Message templates under configs/templates: preview one, lint them all.", no_args_is_help=True
)


@templates_app.command("lint")
def templates_lint() -> None:
    """Check every shipped template, in every language, against configs/templates/rules.yaml (opt-outs, the
    validation notice and collection letter content, no threats or claims of arrest, no legal threat on a
    time-barred debt, ...) and the strategy's SMS segment limit. Exits 1 on any finding."""
    from overdue.channels.lint import TemplateLinter
    from overdue.channels.templates import TemplateRenderer
    from overdue.config import ConfigError
    from overdue.config.template_rules import load_template_rules
    from overdue.runtime import build_sender

    config = configuration()
    try:
        rules = load_template_rules(config.templates_dir)
    except ConfigError as exc:
        raise fail(f"Configuration error: {exc}", 2) from None
    renderer = TemplateRenderer(config.templates_dir)
    linter = TemplateLinter(renderer, rules, build_sender(get_settings()), config.strategy.sms_max_segments)
    findings = linter.lint_all()
    for finding in findings:
        console.print(
            f"{config.templates_dir / finding.template}{f':{finding.line}' if finding.line else ''}: "
            f"[bold]{finding.rule}[/bold]: {finding.detail}",
            highlight=False,
        )
    if findings:
        raise fail(f"{len(findings)} problem{'s' if len(findings) != 1 else ''} in the templates.")
    files = renderer.shipped()
    locales = sorted({file.locale for file in files})
    console.print(
        f"OK: {len(files)} templates in {', '.join(locales)} pass {len(rules.rules)} content rules "
        f"and the SMS limit of {config.strategy.sms_max_segments} segments."
    )


@dataclass(frozen=True)
class Addressee:
    """Whom a preview is rendered for: made-up values or a real account, with everything a letter needs."""

    config: Configuration
    sender: Sender
    customer: Customer
    account: Account
    context: dict[str, Any]
    address: str
    described: str


@templates_app.command("preview")
def templates_preview(
    template: Annotated[str, typer.Argument(help="Template name, e.g. reminder_firm, offer, validation_notice.")],
    channel: Annotated[str, typer.Option(help="sms, email, voice or letter.")] = "sms",
    locale: Annotated[str | None, typer.Option(help="en-US or zh-CN (default: en-US, or the customer's).")] = None,
    account: Annotated[
        int | None, typer.Option(help="Render with this account's real context instead of sample values.")
    ] = None,
    time_barred: Annotated[bool, typer.Option(help="Sample values as for a debt past its limitation period.")] = False,
    pdf: Annotated[Path | None, typer.Option(help="A letter only: also write it as a PDF to this file.")] = None,
    database_url: DatabaseOption = None,
) -> None:
    """Render one template as the customer would receive it, with sample values or a real account's."""
    import jinja2

    from overdue.channels.templates import TemplateRenderer
    from overdue.domain.sms import sms_size
    from overdue.services.letters import compose

    if pdf is not None and channel != "letter":
        raise fail("--pdf is for letters: add --channel letter.")
    today = utcnow().date()
    to = (
        _sample(template, locale or "en-US", time_barred) if account is None else _account(account, database_url, today)
    )
    locale = locale or to.customer.locale
    renderer = TemplateRenderer(to.config.templates_dir)
    name = renderer.name(template, channel, locale)
    try:
        out = renderer.render(template, channel, locale, to.context)
    except jinja2.TemplateNotFound:
        raise fail(f"No template {name}.") from None
    except jinja2.UndefinedError as exc:
        raise fail(f"{name} cannot render for {to.described}: {exc}.") from None
    console.print(f"[bold]{name}[/bold] · {to.described}", highlight=False)
    if out.subject:
        console.print(f"[bold]Subject:[/bold] {out.subject}", highlight=False)
    console.print(out.body, markup=False, highlight=False)
    if channel == "sms":
        size, allowed = sms_size(out.body), to.config.strategy.sms_max_segments
        verdict = "[green]within[/green]" if size.segments <= allowed else "[red]over[/red]"
        console.print(f"\nSMS: {size.describe()}, {verdict} the strategy's maximum of {allowed}.")
    if pdf is not None:
        letter = compose(
            to.sender,
            to.account,
            to.customer,
            to_third_party=template == "locate",
            message_id=None,
            dated=today,
            address=to.address,
            body=out.body,
        )
        _write_pdf(pdf, letter)


def _sample(template: str, locale: str, time_barred: bool) -> Addressee:
    from overdue.channels.context import sample_account, sample_context
    from overdue.channels.lint import scoped
    from overdue.runtime import build_sender
    from overdue.services.letters import SAMPLE_ADDRESS

    sender = build_sender(get_settings())
    customer, account = sample_account(locale)
    context = scoped(sample_context(sender, locale, time_barred=time_barred), template)
    debt = "time-barred" if time_barred else "current"
    address = SAMPLE_ADDRESS.get(locale, "")
    return Addressee(configuration(), sender, customer, account, context, address, f"sample values, {debt} debt")


def _account(account_id: int, database_url: str | None, today: date) -> Addressee:
    from overdue.services.letters import postal_address
    from overdue.services.previews import AccountNotFound, account_context
    from overdue.store.db import session_scope

    rt = runtime(database_url)
    with session_scope(rt.database_url) as session, refusing(AccountNotFound):
        customer, account, context = account_context(session, rt.config, rt.sender, account_id, today)
        address = postal_address(session, customer.id) or ""  # type: ignore[arg-type]
    return Addressee(rt.config, rt.sender, customer, account, context, address, f"account {account_id}")


def _write_pdf(path: Path, letter: Letter) -> None:
    from overdue.channels.letters.pdf import LetterError, render_pdf

    with refusing(LetterError):
        path.write_bytes(render_pdf(letter, get_settings().letter_font))
    console.print(f"\nPDF written to {path}.")
