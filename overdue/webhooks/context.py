"""What every webhook route needs: the runtime, the clock, the replay window and the URL we published."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from fastapi import HTTPException, Request

from overdue.runtime import Runtime
from overdue.webhooks.security import Freshness


@dataclass(frozen=True)
class Hooks:
    runtime: Runtime
    now: Callable[[], datetime]

    @property
    def max_age(self) -> timedelta:
        return timedelta(seconds=self.runtime.settings.webhook_max_age_seconds)

    def public_url_of(self, request: Request) -> str:
        """The URL the provider was given (and signed): behind a proxy the request arrives at another one."""
        base = self.runtime.settings.public_url
        if not base:
            return str(request.url)
        query = request.url.query
        return base.rstrip("/") + request.url.path + (f"?{query}" if query else "")

    @staticmethod
    def refuse_replay(verdict: Freshness) -> None:
        if verdict == Freshness.REPLAY:
            raise HTTPException(403, "replayed request")
