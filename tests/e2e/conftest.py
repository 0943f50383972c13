"""Dashboard fixtures: a database with pending legal escalations, the app as `streamlit run` serves it, and
Debian chromium driven by Playwright (never a downloaded browser)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from overdue.domain.passwords import hash_password
from overdue.settings import get_settings
from overdue.store.db import get_engine, session_scope
from overdue.store.tables import DashboardUser
from tests.support import add_account, add_escalation_task, require

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page
    from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[2]
APP = ROOT / "dashboard" / "app.py"
SERVER = ROOT / "dashboard" / "server.py"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SERVER_START_SECONDS = 60
TIMEOUT_MS = 15_000
IDLE = '[data-testid="stApp"][data-test-script-state="notRunning"]'


PASSWORD = "correct horse battery"
# Who the dashboard tests sign in as: one person per role, and the approvers the approvals tests name.
USERS: dict[str, tuple[str, ...]] = {
    "agent.ann": ("agent",),
    "supervisor.sam": ("supervisor",),
    "legal.lee": ("legal",),
    "manager.mia": ("manager",),
    "engineer.eli": ("engineer",),
    "admin.ada": ("admin",),
    "alice": ("legal",),
    "bob": ("legal",),
    "carol": ("legal",),
    "dora": ("legal",),
    "system:cycle": ("legal",),  # the cycle's own id, to show it cannot decide what it requested
}


@cache
def _password_hash() -> str:
    """Hashed once per test session: scrypt is slow on purpose, and every user here shares the password."""
    return hash_password(PASSWORD)


def seed_users(url: str, users: dict[str, tuple[str, ...]] = USERS, locale: str = "en-US") -> None:
    """Dashboard users as `overdue users add` makes them, all with PASSWORD."""
    now = datetime.now(UTC)
    with session_scope(url) as session:
        for name, roles in users.items():
            session.add(
                DashboardUser(
                    name=name,
                    password_hash=_password_hash(),
                    roles=list(roles),
                    locale=locale,
                    created_at=now,
                    password_changed_at=now,
                )
            )


def sign_in_app(app: AppTest, name: str, password: str = PASSWORD) -> AppTest:
    """Sign in through the sign-in form as a person does, and run the page it lands on."""
    app.text_input(key="signin_name").input(name)
    app.text_input(key="signin_password").input(password)
    app.button[0].click().run()
    assert not app.exception, [e.value for e in app.exception]
    return app


def browser_sign_in(page: Page, name: str, password: str = PASSWORD) -> None:
    """Sign in through the form in chromium; returns once the signed-in page (cookie set) has loaded."""
    from playwright.sync_api import expect

    page.get_by_role("textbox", name="User name").fill(name)
    page.get_by_role("textbox", name="Password").fill(password)
    with page.expect_response(lambda response: "/auth/session" in response.url):  # the cookie hand-off
        page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()
    expect(page.get_by_test_id("stSidebar")).to_contain_text(f"Signed in as {name}")
    wait_idle(page)


@dataclass(frozen=True)
class Seeded:
    """A database with open escalations; `task_ids` are oldest first, as the page lists them."""

    url: str
    task_ids: list[int]
    account_ids: list[int]


def seed_escalations(url: str, count: int) -> Seeded:
    """Open tasks as the daily cycle writes them. The oldest is past its 24 h SLA; the others are 2 h old."""
    now = datetime.now(UTC)
    task_ids: list[int] = []
    account_ids: list[int] = []
    with session_scope(url) as session:
        for n in range(count):
            account = add_account(session, f"E2E{n:04d}", due_date=date(2025, 12, 5))
            account.stage, account.dpd = "negotiation", 95
            created = now - timedelta(hours=30) if n == 0 else now - timedelta(hours=2, minutes=count - n)
            session.add(account)
            task = add_escalation_task(session, account, created_at=created, sla=timedelta(hours=24))
            task_ids.append(task.id)  # type: ignore[arg-type]
            account_ids.append(account.id)  # type: ignore[arg-type]
    return Seeded(url, task_ids, account_ids)


@pytest.fixture
def app_database(sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A migrated database with the dashboard's USERS and no accounts, that the in-process app (AppTest)
    reads through OVERDUE_DATABASE_URL."""
    monkeypatch.setenv("OVERDUE_DATABASE_URL", sqlite_url)
    get_settings.cache_clear()
    seed_users(sqlite_url)
    yield sqlite_url
    get_settings.cache_clear()
    get_engine(sqlite_url).dispose()


@pytest.fixture
def dashboard_db(app_database: str) -> Seeded:
    """Three open escalations for the in-process app."""
    return seed_escalations(app_database, 3)


@dataclass(frozen=True)
class DashboardServer:
    base_url: str
    db: Seeded


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _healthy(base_url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{base_url}/_stcore/health", timeout=2) as response:
            return bool(response.status == 200)
    except OSError:
        return False


@pytest.fixture(scope="session")
def dashboard_server(tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path) -> Iterator[DashboardServer]:
    """`streamlit run dashboard/server.py` (with the /auth cookie routes) once per session, on a free port,
    against its own seeded SQLite file."""
    folder = tmp_path_factory.mktemp("dashboard")
    database = folder / "overdue.db"
    database.write_bytes(sqlite_template.read_bytes())
    seeded = seed_escalations(f"sqlite:///{database}", 3)
    seed_users(seeded.url)
    get_engine(seeded.url).dispose()
    port = _free_port()
    base_url = f"http://127.0.0.1:{port}"
    command = [sys.executable, "-m", "streamlit", "run", str(SERVER), "--server.headless", "true"]
    command += ["--server.address", "127.0.0.1", "--server.port", str(port), "--browser.gatherUsageStats", "false"]
    command += ["--server.fileWatcherType", "none"]
    log_path = folder / "streamlit.log"
    with log_path.open("wb") as log:
        server = subprocess.Popen(
            command,
            cwd=ROOT,
            env={**os.environ, "OVERDUE_DATABASE_URL": seeded.url, "OVERDUE_DATA_DIR": str(folder)},
            stdout=log,
            stderr=log,
        )
        try:
            deadline = time.monotonic() + SERVER_START_SECONDS
            while not _healthy(base_url) and server.poll() is None and time.monotonic() < deadline:
                time.sleep(0.2)
            if not _healthy(base_url):
                tail = log_path.read_text(errors="replace")[-2000:]
                require(False, "streamlit server", f"no answer on {base_url} (exit code {server.poll()}):\n{tail}")
            yield DashboardServer(base_url, seeded)
        finally:
            server.terminate()
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()


def wait_idle(page: Page) -> None:
    """Streamlit marks the app root while a script run is in flight; wait until none is."""
    page.wait_for_selector(IDLE, timeout=TIMEOUT_MS)


@pytest.fixture(scope="session")
def test_results() -> Path:
    """Where browser tests save screenshots: OVERDUE_TEST_RESULTS, else var/test-results (kept after the run)."""
    folder = Path(os.environ.get("OVERDUE_TEST_RESULTS", ROOT / "var" / "test-results")) / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture(scope="session")
def chromium() -> Iterator[Browser]:
    require(CHROMIUM.exists(), "chromium", f"{CHROMIUM} is missing (apt-get install chromium)")
    from playwright.sync_api import Error, sync_playwright

    with sync_playwright() as playwright:
        try:
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        except Error as exc:
            require(False, "chromium", f"{CHROMIUM} did not start: {exc}")
        yield browser
        browser.close()


@pytest.fixture
def dashboard_page(dashboard_server: DashboardServer, chromium: Browser) -> Iterator[Page]:
    """The app in a fresh browser context (no cookies, no session), loaded and idle."""
    context = chromium.new_context(viewport={"width": 1400, "height": 1400})
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    page.goto(dashboard_server.base_url)
    wait_idle(page)
    yield page
    context.close()
