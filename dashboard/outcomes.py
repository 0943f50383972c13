"""What the last clicks did, shown in the run those clicks cause.

Click callbacks run before the rerun a click causes; they record their outcome here (in the session, mutated in
place) and the page shows it at the top. Any other interaction clears it, so an old message never reads as
the result of a new click.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Literal

import streamlit as st

Level = Literal["success", "warning", "error"]


KEEP_SUCCESS_SECONDS = 10.0


@dataclass(frozen=True, slots=True)
class Outcome:
    task_id: int
    level: Level
    message: str
    at: float = field(default_factory=time.monotonic)


@dataclass
class Outcomes:
    items: list[Outcome] = field(default_factory=list)
    cleared: list[Outcome] = field(default_factory=list)
    fresh: bool = False

    def add(self, task_id: int, level: Level, message: str) -> None:
        """Earlier outcomes go, except a decision recorded on the same task moments ago: after a double click the
        person sees both the decision and the refused repeat, even when a rerun came between the two clicks."""
        now = time.monotonic()
        kept = [
            o
            for o in self.cleared + self.items
            if o.task_id == task_id and o.level == "success" and now - o.at < KEEP_SUCCESS_SECONDS
        ]
        self.items, self.cleared = [*kept, Outcome(task_id, level, message, now)], []
        self.fresh = True

    def to_show(self) -> list[Outcome]:
        if not self.fresh:
            self.items, self.cleared = [], self.items
        self.fresh = False
        return list(self.items)


def outcomes(key: str) -> Outcomes:
    found = st.session_state.get(key)
    if not isinstance(found, Outcomes):  # first run, or the module was reloaded during development
        found = st.session_state[key] = Outcomes()
    return found


def show(key: str) -> None:
    draw = {"success": st.success, "warning": st.warning, "error": st.error}
    for outcome in outcomes(key).to_show():
        draw[outcome.level](outcome.message)
