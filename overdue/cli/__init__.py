"""`overdue ...`: the command line for engineers and ops. Every command has --help."""

from __future__ import annotations

import typer

from overdue.cli import (
    accounts,
    audit,
    bench,
    casework,
    compliance,
    contacts,
    data,
    demo,
    legal,
    letters,
    negotiation,
    outreach,
    payments,
    pii,
    queue,
    report,
    setup,
    stack,
    templates,
    users,
    webhooks,
)

app = typer.Typer(help="overdue: collections for overdue accounts, compliant by construction.", no_args_is_help=True)
for command in (demo.simulate, demo.demo, demo.dashboard, stack.serve, stack.up):
    app.command()(command)
for sub, name in (
    (setup.db_app, "db"),
    (data.import_app, "import"),
    (payments.payments_app, "payments"),
    (outreach.cycle_app, "cycle"),
    (outreach.outbox_app, "outbox"),
    (queue.tasks_app, "tasks"),
    (negotiation.offers_app, "offers"),
    (negotiation.affordability_app, "affordability"),
    (negotiation.promises_app, "promises"),
    (casework.holds_app, "holds"),
    (accounts.accounts_app, "accounts"),
    (casework.disputes_app, "disputes"),
    (legal.legal_app, "legal"),
    (contacts.contacts_app, "contacts"),
    (setup.config_app, "config"),
    (setup.strategy_app, "strategy"),
    (templates.templates_app, "templates"),
    (letters.letters_app, "letters"),
    (audit.audit_app, "audit"),
    (compliance.compliance_app, "compliance"),
    (report.report_app, "report"),
    (pii.pii_app, "pii"),
    (webhooks.webhooks_app, "webhooks"),
    (bench.bench_app, "bench"),
    (users.users_app, "users"),
):
    app.add_typer(sub, name=name)

__all__ = ["app"]
