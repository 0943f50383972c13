"""The approvals page as a person uses it: `streamlit run` in a subprocess, Debian chromium via Playwright."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from playwright.sync_api import Locator, Page, expect
from sqlmodel import col, select

from overdue.store.db import get_engine, session_scope
from overdue.store.tables import Account, HumanTask, LegalCase
from tests.e2e.conftest import DashboardServer, browser_sign_in, wait_idle

LEAD_SCREENSHOT = Path("/tmp/dashboard.png")


def task_form(page: Page, task_id: int) -> Locator:
    return page.get_by_test_id("stForm").filter(has_text=f"Task {task_id} ·")


@pytest.mark.browser
def test_approve_in_browser(dashboard_server: DashboardServer, dashboard_page: Page, tmp_path: Path) -> None:
    task_id = dashboard_server.db.task_ids[0]
    browser_sign_in(dashboard_page, "alice")
    expect(dashboard_page.get_by_test_id("stForm").first).to_contain_text(f"Task {task_id} ·")  # oldest first
    form = task_form(dashboard_page, task_id)
    approve = form.get_by_role("button", name="Approve")
    expect(approve).to_be_enabled()
    dashboard_page.screenshot(path=tmp_path / "pending.png", full_page=True)
    form.get_by_role("textbox", name="Reason").fill("No payment or contact for 95 days")
    approve.click()

    expect(dashboard_page.get_by_text(f"Task {task_id} approved by alice.")).to_be_visible()
    wait_idle(dashboard_page)
    expect(task_form(dashboard_page, task_id)).to_have_count(0)
    dashboard_page.screenshot(path=tmp_path / "dashboard.png", full_page=True)
    shutil.copyfile(tmp_path / "dashboard.png", LEAD_SCREENSHOT)

    with session_scope(dashboard_server.db.url) as session:
        task = session.get(HumanTask, task_id)
        account = session.get(Account, dashboard_server.db.account_ids[0])
        assert task is not None
        assert account is not None
        assert (task.status, task.decided_by, account.stage) == ("approved", "alice", "legal")
    get_engine(dashboard_server.db.url).dispose()


@pytest.mark.browser
def test_double_click_decides_once(dashboard_server: DashboardServer, dashboard_page: Page) -> None:
    task_id, account_id = dashboard_server.db.task_ids[1], dashboard_server.db.account_ids[1]
    browser_sign_in(dashboard_page, "carol")
    form = task_form(dashboard_page, task_id)
    approve = form.get_by_role("button", name="Approve")
    expect(approve).to_be_enabled()
    form.get_by_role("textbox", name="Reason").fill("Promised payment never arrived")
    approve.dblclick()

    expect(dashboard_page.get_by_text(f"Task {task_id} approved by carol.")).to_be_visible()
    wait_idle(dashboard_page)
    expect(dashboard_page.get_by_test_id("stException")).to_have_count(0)
    for warning in dashboard_page.get_by_test_id("stAlertContentWarning").all_inner_texts():
        assert warning == f"Task {task_id} was already approved by carol; nothing changed"

    with session_scope(dashboard_server.db.url) as session:
        task = session.get(HumanTask, task_id)
        assert task is not None
        assert (task.status, task.decided_by, task.version) == ("approved", "carol", 1)
        cases = session.exec(select(LegalCase).where(col(LegalCase.account_id) == account_id)).all()
        assert len(cases) == 1
    get_engine(dashboard_server.db.url).dispose()
