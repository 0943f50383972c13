"""Runtime settings from `OVERDUE_*` environment variables (and a `.env` file).

Secrets never live in configs: they come from the environment only.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from overdue.config.loader import ConfigError

PROJECT_ROOT = Path(__file__).resolve().parents[1]
PREFIX = "OVERDUE_"
OutreachMode = Literal["dry-run", "live"]


def normalize_database_url(url: str) -> str:
    """Accept URLs as people write them: `postgresql://` and `postgres://` use psycopg 3."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


class SettingsError(ConfigError):
    """A setting that cannot be used; the message names the environment variable to fix."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix=PREFIX, env_file=".env", extra="ignore", populate_by_name=True)

    data_dir: Path = Field(default=PROJECT_ROOT / "var", description="Local data folder.")
    database_url: str = Field(default="", description="SQLAlchemy URL; default: SQLite in data_dir.")
    config_dir: Path = Field(default=PROJECT_ROOT / "configs", description="Strategy, policies, templates.")
    strategy: str = Field(default="default", description="Strategy name under configs/strategies.")
    business_name: str = "Northwind Demo Bank"  # a voicemail may not hint at debt: no "Overdue" here
    callback_phone: str = "+1 800 555 0100"
    business_address: str = Field(
        default="PO Box 1000, Springfield, IL 62701",
        description="Postal address on the letterhead and where customers write to (disputes, the B-1 form).",
    )
    letter_font: Path = Field(
        default=PROJECT_ROOT / "overdue" / "channels" / "letters" / "fonts" / "NotoSansSC-Regular.ttf",
        description="TrueType font (glyf outlines) embedded in letter PDFs; it must cover every customer's script.",
    )
    payments_inbox: Path | None = Field(
        default=None, description="Folder of payment CSV files the daily cycle imports first (reconciliation first)."
    )
    shard_size: int = Field(default=10_000, gt=0, description="Accounts per shard (one task run) in the daily cycle.")
    task_runner: Literal["sequential", "processes", "dask"] = Field(
        default="sequential",
        description="How a cycle's shards run: one after another in the flow's process, side by side in "
        "`cycle_workers` processes on this machine, or on a Dask cluster.",
    )
    cycle_workers: int = Field(
        default_factory=lambda: os.cpu_count() or 1,
        gt=0,
        description="Worker processes for `processes`, and for a local Dask cluster (default: the CPU count).",
    )
    dask_address: str | None = Field(
        default=None, description="The Dask scheduler to use (tcp://host:8786); unset: a local cluster per cycle."
    )
    portfolio_time_zone: str = Field(
        default="UTC", description="IANA zone the business date and the deployments' schedules are read in."
    )
    cycle_cron: str = Field(default="0 2 * * *", description="When the daily cycle runs (portfolio time zone).")
    dispatch_every_minutes: int = Field(default=10, gt=0, description="How often the outbox sends what is due.")
    audit_retention_days: int = Field(
        default=730,
        ge=730,
        description="Minimum days audit events are kept (at least 2 years); the application itself never deletes them.",
    )
    operational_records_keep_days: int = Field(
        default=90,
        ge=7,
        description="Days webhook receipts and errors and ended dashboard sign-ins are kept (`overdue db prune`).",
    )
    data_keys: SecretStr | None = Field(
        default=None,
        description="Comma-separated Fernet keys sealing personal data at rest: the first seals, all open (rotation).",
    )

    # --- dashboard sign-in
    session_secret: SecretStr | None = Field(
        default=None,
        description="Signs the dashboard's session cookie (32+ random bytes, e.g. `openssl rand -hex 32`).",
    )
    session_hours: float = Field(default=12.0, gt=0, le=24 * 30, description="A dashboard sign-in lasts this long.")
    trusted_user_header: str | None = Field(
        default=None,
        description="Sign people in by this header (e.g. X-Forwarded-User) set by a proxy that authenticated them.",
    )
    signin_max_failures: int = Field(
        default=5, gt=0, description="Failed sign-ins for one user name within the window that lock it out."
    )
    signin_max_failures_per_client: int = Field(
        default=20, gt=0, description="Failed sign-ins from one client address (any names) that lock it out."
    )
    signin_window_minutes: float = Field(default=15.0, gt=0, description="The window failed sign-ins count in.")
    signin_lockout_minutes: float = Field(default=15.0, gt=0, description="How long a lock-out lasts.")

    # --- outreach: dry-run unless told otherwise, per channel; the providers' own variable names for their secrets
    outreach_mode: OutreachMode = Field(
        default="dry-run", description="dry-run (nothing leaves the machine) or live (the providers send)."
    )
    outreach_mode_sms: OutreachMode | None = Field(default=None, description="Overrides outreach_mode for SMS.")
    outreach_mode_voice: OutreachMode | None = Field(default=None, description="Overrides outreach_mode for calls.")
    outreach_mode_email: OutreachMode | None = Field(default=None, description="Overrides outreach_mode for email.")
    twilio_account_sid: str | None = Field(default=None, validation_alias="TWILIO_ACCOUNT_SID")
    twilio_auth_token: SecretStr | None = Field(default=None, validation_alias="TWILIO_AUTH_TOKEN")
    twilio_from_number: str | None = Field(default=None, validation_alias="TWILIO_FROM_NUMBER")
    twilio_messaging_service_sid: str | None = Field(default=None, validation_alias="TWILIO_MESSAGING_SERVICE_SID")
    twilio_base_url: str | None = Field(default=None, description="Send Twilio requests here (proxy, edge, mock).")
    sendgrid_api_key: SecretStr | None = Field(default=None, validation_alias="SENDGRID_API_KEY")
    sendgrid_base_url: str | None = Field(default=None, description="Send SendGrid requests here instead.")
    email_from: str | None = Field(default=None, description="The verified sender address of every email.")
    sms_rate: float = Field(default=1.0, gt=0, description="SMS per second (Twilio: 1 per long code).")
    voice_rate: float = Field(default=1.0, gt=0, description="Calls started per second (Twilio default: 1).")
    email_rate: float = Field(
        default=10_000.0, gt=0, description="Emails per second (recipients): ten full mail-send requests a second."
    )
    twilio_concurrency: int = Field(default=10, gt=0, description="Twilio requests in flight at once.")
    email_concurrency: int = Field(default=4, gt=0, description="SendGrid mail-send requests in flight at once.")
    provider_attempts: int = Field(default=5, ge=1, description="Tries per request on 429 and 5xx answers.")
    public_url: str | None = Field(
        default=None, description="Where the providers reach `overdue webhooks serve`, e.g. https://hooks.example.com."
    )
    unsubscribe_secret: SecretStr | None = Field(default=None, description="Signs the unsubscribe link of emails.")
    sendgrid_event_public_key: str | None = Field(default=None, description="Verifies the SendGrid Event Webhook.")
    sendgrid_parse_public_key: str | None = Field(default=None, description="Verifies the SendGrid Inbound Parse.")
    payment_webhook_secret: SecretStr | None = Field(
        default=None,
        description="Shared secret of the payment webhook's HMAC-SHA256 signature (POST /webhooks/payments).",
    )
    webhook_max_age_seconds: int = Field(
        default=300, gt=0, description="A signed webhook older than this (or a duplicate seen longer ago) is a replay."
    )

    def outreach_mode_for(self, channel: str) -> OutreachMode:
        override: OutreachMode | None = getattr(self, f"outreach_mode_{channel}", None)
        return override or self.outreach_mode

    @field_validator("database_url")
    @classmethod
    def _normalize(cls, value: str) -> str:
        return normalize_database_url(value)

    @property
    def effective_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'overdue.db'}"


def env_name(field: str) -> str:
    """The environment variable that sets `field`: the providers' own names for theirs, OVERDUE_* otherwise."""
    alias = Settings.model_fields[field].validation_alias
    return alias if isinstance(alias, str) else PREFIX + field.upper()


def load_settings() -> Settings:
    """Settings from the environment; an invalid value is reported by its variable's name."""
    try:
        return Settings()
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            field = str(error["loc"][0]) if error["loc"] else ""
            name = env_name(field) if field in Settings.model_fields else field
            problems.append(f"{name}: {error['msg']}")
        raise SettingsError("; ".join(problems)) from None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return load_settings()
