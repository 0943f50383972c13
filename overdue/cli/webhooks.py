"""`overdue webhooks serve`: the service the providers call back (delivery reports, replies, unsubscribes)."""

from __future__ import annotations

from typing import Annotated

import typer

from overdue.cli.common import DatabaseOption, console, runtime

webhooks_app = typer.Typer(
    help="Provider webhooks: delivery reports, customers' replies, unsubscribe links.", no_args_is_help=True
)


@webhooks_app.command("serve")
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on (0.0.0.0 for every one).")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8800,
    database_url: DatabaseOption = None,
) -> None:
    """Serve Twilio's status callbacks and incoming texts, SendGrid's events and inbound email, and the email
    unsubscribe links, every request verified by its signature. Put it behind HTTPS at OVERDUE_PUBLIC_URL."""
    import uvicorn

    from overdue.webhooks.app import create_app, unverifiable

    rt = runtime(database_url)
    for problem in unverifiable(rt):
        console.print(f"[yellow]{problem}[/yellow]")
    if not rt.settings.public_url:
        console.print(
            "[yellow]OVERDUE_PUBLIC_URL is not set: Twilio signatures are checked against the URL each request "
            "arrives at, which differs from the public one behind a proxy.[/yellow]"
        )
    console.print(f"Webhooks at http://{host}:{port} (health: /healthz)")
    uvicorn.run(create_app(rt), host=host, port=port, log_level="info", proxy_headers=True)
