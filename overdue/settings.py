"""Runtime settings from `OVERDUE_*` environment variables (and a `.env` file).

Secrets never live in configs: they come from the environment only.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parents[1]


def normalize_database_url(url: str) -> str:
    """Accept URLs as people write them: `postgresql://` and `postgres://` use psycopg 3."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="OVERDUE_", env_file=".env", extra="ignore")

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
    shard_size: int = Field(default=10_000, gt=0, description="Accounts per shard (one task run) in the daily cycle.")
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
    data_keys: SecretStr | None = Field(
        default=None,
        description="Comma-separated Fernet keys sealing personal data at rest: the first seals, all open (rotation).",
    )

    @field_validator("database_url")
    @classmethod
    def _normalize(cls, value: str) -> str:
        return normalize_database_url(value)

    @property
    def effective_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'overdue.db'}"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
