"""The documents in a task's case file (what the customer sent us, what people attached), each downloadable.

A download decrypts the file only when it is clicked (Streamlit runs the button's data callable then, on
another thread and outside the page run), after checking that the person is still signed in with a role that
may; every download is in the audit trail (`evidence.opened`, with who) before the bytes leave the server.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import streamlit as st

from dashboard import access, identity, queries
from dashboard.i18n import fmt_datetime, t
from overdue.runtime import get_runtime
from overdue.services import sessions
from overdue.services.case_file import evidence_file_name
from overdue.services.sessions import SignedIn
from overdue.services.tasks import open_evidence
from overdue.store.db import session_scope

ACTION = "download_evidence"


class DownloadRefused(PermissionError):
    """The person signed out, was disabled or lost the role between drawing the page and the click."""


def render(task_id: int, evidence: list[dict[str, Any]]) -> None:
    with st.expander(t("inbox.cf_evidence", count=len(evidence))):
        if not evidence:
            st.caption(t("inbox.nothing"))
            return
        st.table(
            [
                {
                    t("inbox.col_file"): e["filename"],
                    t("inbox.col_size"): e["size_bytes"],
                    t("inbox.col_from"): t("inbox.from_customer") if e["from"] == "customer" else e["from"],
                    "SHA-256": str(e["sha256"])[:16],
                    t("inbox.col_when"): fmt_datetime(e["received_at"]),
                }
                for e in evidence
            ],
            hide_index=True,
        )
        person = identity.current()
        if person is None or not access.ACTIONS[ACTION] & person.roles:
            return
        buttons = st.container(horizontal=True)
        for e in evidence:
            buttons.download_button(
                e["filename"],
                data=opener(queries.database_url(), int(e["id"]), person),
                file_name=evidence_file_name(int(e["id"]), str(e["filename"])),
                mime=str(e["content_type"]),
                key=f"evidence-{task_id}-{e['id']}",
                icon=":material/download:",
                on_click="ignore",
                help=t("inbox.download_audited"),
            )


def opener(url: str, evidence_id: int, person: SignedIn) -> Callable[[], bytes]:
    """What the download button runs at the click: no Streamlit state there, only the database."""

    def open_file() -> bytes:
        now = datetime.now(UTC)
        with session_scope(url) as session:
            still = sessions.recheck(session, person, now)
            if still is None or not access.ACTIONS[ACTION] & still.roles:
                raise DownloadRefused(f"{person.name} may no longer download evidence")
            _, content = open_evidence(session, get_runtime(url).vault, evidence_id, still.name, now)
        return content

    return open_file
