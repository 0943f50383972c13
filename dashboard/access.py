"""Which role sees which page and may take which action: the one table the navigation and the pages read.

Every page is registered for everyone, visible only to its roles; a person who opens a page their roles do
not include (a bookmark, a shared link) gets a refusal that names the page and the roles that may see it,
rather than Streamlit's silent fall-back to the first page.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from importlib import import_module

import streamlit as st

from dashboard.i18n import t
from dashboard.identity import current_roles

SCREENS = "screens"


@dataclass(frozen=True, slots=True)
class PageSpec:
    key: str  # url path, screen file dashboard/screens/<key>.py, view module dashboard/views/<key>.py
    icon: str
    roles: frozenset[str]

    @property
    def title(self) -> str:
        return t(f"nav.{self.key}")

    @property
    def script(self) -> str:
        return f"{SCREENS}/{self.key}.py"


def _roles(*names: str) -> frozenset[str]:
    return frozenset(names)


PAGES: tuple[PageSpec, ...] = (
    PageSpec("inbox", ":material/inbox:", _roles("agent", "supervisor", "legal", "admin")),
    PageSpec("account", ":material/person_search:", _roles("agent", "supervisor", "legal", "manager", "admin")),
    PageSpec("metrics", ":material/monitoring:", _roles("manager", "supervisor", "admin")),
    PageSpec("engineering", ":material/engineering:", _roles("engineer", "admin")),
    PageSpec("configuration", ":material/tune:", _roles("engineer", "manager", "supervisor", "legal", "admin")),
)
BY_KEY = {page.key: page for page in PAGES}

# Actions inside pages, by the roles that may take them.
ACTIONS: dict[str, frozenset[str]] = {
    "reveal_personal_data": _roles("agent", "supervisor", "legal", "admin"),
    "download_evidence": _roles("agent", "supervisor", "legal", "admin"),
    "export_metrics": _roles("manager", "supervisor", "admin"),
}


def may_see(key: str, roles: frozenset[str]) -> bool:
    return bool(BY_KEY[key].roles & roles)


def may(action: str) -> bool:
    return bool(ACTIONS[action] & current_roles())


def show(key: str) -> None:
    """A screen's whole body: the page's view if the person's roles include it, a refusal otherwise."""
    page = BY_KEY[key]
    if not may_see(key, current_roles()):
        st.title(page.title)
        roles = t("access.separator").join(t(f"roles.{role}") for role in sorted(page.roles))
        st.error(t("access.refused", page=page.title, roles=roles), icon=":material/block:")
        return
    render: Callable[[], None] = import_module(f"dashboard.views.{key}").render
    render()
