"""The approvals page as a person uses it: `streamlit run` in a subprocess, Debian chromium via Playwright."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from overdue.store.db import get_engine, session_scope
from overdue.store.tables import Account, HumanTask
from tests.e2e.conftest import DashboardServer

IDLE = '[data-testid="stApp"][data-test-script-state="notRunning"]'
TIMEOUT_MS = 15_000
LEAD_SCREENSHOT = Path("/tmp/dashboard.png")


def wait_idle(page: Page) -> None:
    page.wait_for_selector(IDLE, timeout=TIMEOUT_MS)


@pytest.mark.browser
def test_approve_in_browser(dashboard_server: DashboardServer, chromium: Browser, tmp_path: Path) -> None:
    task_id = dashboard_server.db.task_ids[0]
    context = chromium.new_context(viewport={"width": 1400, "height": 1400})
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    try:
        page.goto(dashboard_server.base_url)
        wait_idle(page)
        form = page.get_by_test_id("stForm").first
        expect(form).to_contain_text(f"Task {task_id}")
        approve = form.get_by_role("button", name="Approve")
        expect(approve).to_be_disabled()

        user_id = page.get_by_role("textbox", name="Your user id")
        user_id.fill("alice")
        user_id.press("Enter")
        expect(approve).to_be_enabled()
        wait_idle(page)
        page.screenshot(path=tmp_path / "pending.png", full_page=True)
        form.get_by_role("textbox", name="Reason").fill("No payment or contact for 95 days")
        approve.click()

        expect(page.get_by_text(f"Task {task_id} approved by alice.")).to_be_visible()
        wait_idle(page)
        expect(page.get_by_test_id("stForm")).to_have_count(len(dashboard_server.db.task_ids) - 1)
        page.screenshot(path=tmp_path / "dashboard.png", full_page=True)
        shutil.copyfile(tmp_path / "dashboard.png", LEAD_SCREENSHOT)
    finally:
        context.close()

    with session_scope(dashboard_server.db.url) as session:
        task = session.get(HumanTask, task_id)
        account = session.get(Account, dashboard_server.db.account_ids[0])
        assert task is not None and account is not None
        assert (task.status, task.decided_by, account.stage) == ("approved", "alice", "legal")
    get_engine(dashboard_server.db.url).dispose()
