"""Contact windows in the customer's local time. Instants in and out are aware UTC datetimes."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from overdue.config.models import ContactWindow


def in_window(instant: datetime, time_zone: str, window: ContactWindow) -> bool:
    local = instant.astimezone(ZoneInfo(time_zone)).time()
    return window.start <= local < window.end


def planned_send_at(day: date, local_time: time, time_zone: str, window: ContactWindow) -> datetime:
    """The instant to send on a customer-local day, moved into the window (after its end: next morning)."""
    zone = ZoneInfo(time_zone)
    if local_time < window.start:
        local_time = window.start
    if local_time >= window.end:
        day, local_time = day + timedelta(days=1), window.start
    return datetime.combine(day, local_time, tzinfo=zone).astimezone(UTC)


def next_window_opening(instant: datetime, time_zone: str, window: ContactWindow) -> datetime:
    """The earliest instant at or after `instant` that lies inside the window."""
    if in_window(instant, time_zone, window):
        return instant
    local = instant.astimezone(ZoneInfo(time_zone))
    day = local.date() if local.time() < window.start else local.date() + timedelta(days=1)
    return datetime.combine(day, window.start, tzinfo=ZoneInfo(time_zone)).astimezone(UTC)


def local_date(instant: datetime, time_zone: str) -> date:
    return instant.astimezone(ZoneInfo(time_zone)).date()
