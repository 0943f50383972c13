"""How the inbox says things: task kinds and states in the person's language, SLA timers, data shown as text."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

from dashboard.i18n import fmt_datetime, t
from overdue.domain import tasks as rules
from overdue.domain.refusals import Refused
from overdue.services.task_queue import TaskRow

OPEN_KEY = "inbox_open"  # the task opened on the page: its id, set by the click that opened it
OUTCOMES_KEY = "inbox_outcomes"
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:])")


def md(text: object) -> str:
    """Data is shown as text, never interpreted: `****7890` must not turn bold, a name must not become a link."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", str(text))


def labels(texts: Mapping[Any, str]) -> Callable[[Any], str]:
    """A widget's option labels, translated while the page runs: a `format_func` that called `t` itself would
    also be called outside the run (when the widget's value is serialized) and answer in the default language."""
    return lambda option: texts[option]


def kind_label(kind: str) -> str:
    return t(f"inbox.kind_{kind}")


def status_label(status: str) -> str:
    return t(f"inbox.state_{status}")


def sla_timer(row: TaskRow, now: datetime) -> str:
    """ "Due in 5 h 10 min", a red badge once breached, or a pause while the task waits for information; an
    escalation to the supervisor shows beside it."""
    if row.due_at is None:
        return t("inbox.no_sla")
    escalation = " " + t("inbox.escalated_badge") if row.escalated_at is not None else ""
    due = md(fmt_datetime(row.due_at))
    if rules.sla_paused(row.status):
        since = md(fmt_datetime(row.waiting_since)) if row.waiting_since else "-"
        return t("inbox.sla_paused", since=since, due=due) + escalation
    if rules.sla_breached(row.status, row.due_at, now):
        return t("inbox.sla_breached_by", late=duration(now - row.due_at), due=due) + escalation
    return t("inbox.sla_due_in", left=duration(row.due_at - now), due=due) + escalation


def duration(delta: timedelta) -> str:
    minutes = max(0, int(delta.total_seconds() // 60))
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    if days:
        return t("inbox.days_hours", days=days, hours=hours)
    if hours:
        return t("inbox.hours_minutes", hours=hours, minutes=minutes)
    return t("inbox.minutes", minutes=minutes)


def refusal_text(error: Refused, *, phrase: bool = False) -> str:
    """A refused step in the person's language when its code is known, else as the service said it: a sentence
    of its own, or with `phrase` the part that goes into another ("the call was not logged: ...")."""
    if error.refusal is None:
        text = str(error)
    else:
        params = {key: md(value) for key, value in error.refusal.params.items()}
        if "status" in params:
            params["status"] = status_label(str(error.refusal.params["status"]))
        code = error.refusal.code  # the task queue's rules are the inbox's; the other services' in refusals.yaml
        text = t(f"inbox.refused_{code}" if code in rules.REFUSALS else f"refusals.{code}", **params)
    return text if phrase else text[:1].upper() + text[1:]
