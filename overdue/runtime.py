"""Wire settings, configuration, templates, the outreach channel and the data vault once per process (the bootstrap)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from sqlmodel import Session

from overdue.channels.context import Sender
from overdue.channels.router import ChannelRouter
from overdue.channels.templates import TemplateRenderer
from overdue.channels.wiring import build_channels
from overdue.config import Configuration, load_configuration
from overdue.logging_redaction import install_redaction
from overdue.settings import Settings, get_settings
from overdue.store.sealed import Vault, load_vault


@dataclass(frozen=True)
class Runtime:
    settings: Settings
    config: Configuration
    renderer: TemplateRenderer
    sender: Sender
    channel: ChannelRouter
    vault: Vault
    database_url: str


def build_runtime(settings: Settings, database_url: str | None = None) -> Runtime:
    install_redaction()  # the CLI and every cycle task build a runtime before they log anything
    config = load_configuration(settings.config_dir, settings.strategy)
    database_url = database_url or settings.effective_database_url
    return Runtime(
        settings=settings,
        config=config,
        renderer=TemplateRenderer(config.templates_dir),
        sender=build_sender(settings),
        channel=build_channels(settings),
        vault=load_vault(settings, database_url),
        database_url=database_url,
    )


def build_sender(settings: Settings) -> Sender:
    return Sender(settings.business_name, settings.callback_phone, settings.business_address)


@lru_cache(maxsize=4)
def get_runtime(database_url: str | None = None) -> Runtime:
    return build_runtime(get_settings(), database_url)


def runtime_of(session: Session) -> Runtime:
    """The process's runtime for the database `session` works on, for a step inside a transaction that needs the
    templates, the sender or the configuration (a decision's continuation) without every caller passing them."""
    return get_runtime(session.get_bind().engine.url.render_as_string(hide_password=False))
