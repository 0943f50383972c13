"""Message templates: lint them all against the content rules."""

from __future__ import annotations

import typer

from overdue.cli.common import configuration, console, fail
from overdue.settings import get_settings

templates_app = typer.Typer(help="Message templates under configs/templates: lint them all.", no_args_is_help=True)


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
