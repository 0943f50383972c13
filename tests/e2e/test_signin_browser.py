"""Sign-in as a person does it in chromium against `streamlit run dashboard/server.py`: the session cookie
survives a reload, and signing out ends it for good."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from sqlmodel import col, select

from overdue.store.db import get_engine, session_scope
from overdue.store.tables import DashboardSession, DashboardUser
from tests.e2e.conftest import DashboardServer, browser_sign_in, wait_idle


def cookie(page: Page) -> dict[str, object]:
    [found] = [c for c in page.context.cookies() if c["name"] == "overdue_session"]
    return dict(found)


@pytest.mark.browser
def test_sign_in_survives_a_reload_and_sign_out_ends_it(
    dashboard_server: DashboardServer, dashboard_page: Page, test_results: Path
) -> None:
    page = dashboard_page
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    page.screenshot(path=test_results / "signin-form.png", full_page=True)

    browser_sign_in(page, "legal.lee")
    expect(page.get_by_role("heading", name="Ops inbox")).to_be_visible()
    navigation = page.get_by_test_id("stSidebarNav")
    visible = ["Ops inbox", "Account 360", "Configuration"]  # a legal user's pages; not metrics nor engineering
    expect(navigation.get_by_role("link")).to_have_text([re.compile(f"{title}$") for title in visible])
    session_cookie = cookie(page)
    assert session_cookie["httpOnly"] is True
    assert session_cookie["sameSite"] == "Strict"
    assert "ticket" not in page.url
    page.screenshot(path=test_results / "signed-in.png", full_page=True)

    page.reload()
    wait_idle(page)
    expect(page.get_by_test_id("stSidebar")).to_contain_text("Signed in as legal.lee")
    expect(page.get_by_role("heading", name="Ops inbox")).to_be_visible()
    page.screenshot(path=test_results / "after-reload.png", full_page=True)

    page.goto(f"{dashboard_server.base_url}/account?account={dashboard_server.db.account_ids[0]}")  # a link in
    wait_idle(page)
    expect(page.get_by_role("heading", name="Account 360")).to_be_visible()
    expect(page.get_by_text("Test Person · ****0000")).to_be_visible()
    expect(page.get_by_text("Page not found")).to_have_count(0)

    page.goto(f"{dashboard_server.base_url}/metrics")  # a link to a page legal may not see
    wait_idle(page)
    expect(page.get_by_text("Your roles may not open Manager metrics.")).to_be_visible()
    page.screenshot(path=test_results / "refused.png", full_page=True)

    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    wait_idle(page)
    assert [c for c in page.context.cookies() if c["name"] == "overdue_session"] == []
    with session_scope(dashboard_server.db.url) as session:
        lee = session.exec(select(DashboardUser).where(col(DashboardUser.name) == "legal.lee")).one()
        [row] = session.exec(select(DashboardSession).where(col(DashboardSession.user_id) == lee.id)).all()
        assert row.cookie_issued_at is not None
        assert row.revoked_at is not None
    get_engine(dashboard_server.db.url).dispose()

    stolen = {"name": "overdue_session", "value": str(session_cookie["value"]), "url": dashboard_server.base_url}
    page.context.add_cookies([stolen])  # type: ignore[list-item]
    page.reload()
    wait_idle(page)
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()  # a revoked session's cookie opens nothing


@pytest.mark.browser
def test_a_link_opened_before_signing_in_opens_its_page_after(
    dashboard_server: DashboardServer, dashboard_page: Page
) -> None:
    page = dashboard_page
    page.goto(f"{dashboard_server.base_url}/account?account={dashboard_server.db.account_ids[0]}")
    wait_idle(page)
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    expect(page.get_by_text("Page not found")).to_have_count(0)
    browser_sign_in(page, "agent.ann")
    expect(page.get_by_role("heading", name="Account 360")).to_be_visible()
    expect(page.get_by_text("Test Person · ****0000")).to_be_visible()
    assert page.url.endswith(f"/account?account={dashboard_server.db.account_ids[0]}")


@pytest.mark.browser
def test_wrong_password_is_refused(dashboard_page: Page) -> None:
    browser_sign_in_refused = dashboard_page
    browser_sign_in_refused.get_by_role("textbox", name="User name").fill("legal.lee")
    browser_sign_in_refused.get_by_role("textbox", name="Password").fill("not the password")
    browser_sign_in_refused.get_by_role("button", name="Sign in").click()
    expect(browser_sign_in_refused.get_by_text("Wrong user name or password")).to_be_visible()
    assert [c for c in browser_sign_in_refused.context.cookies() if c["name"] == "overdue_session"] == []
