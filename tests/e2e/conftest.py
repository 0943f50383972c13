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
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from overdue.settings import get_settings
from overdue.store.db import get_engine, session_scope
from tests.support import add_account, add_escalation_task, require

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

ROOT = Path(__file__).resolve().parents[2]
APP = ROOT / "dashboard" / "app.py"
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
    """An empty migrated database that the in-process app (AppTest) reads through OVERDUE_DATABASE_URL."""
    monkeypatch.setenv("OVERDUE_DATABASE_URL", sqlite_url)
    get_settings.cache_clear()
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
    """`streamlit run dashboard/app.py` once per session, on a free port, against its own seeded SQLite file."""
    folder = tmp_path_factory.mktemp("dashboard")
    database = folder / "overdue.db"
    database.write_bytes(sqlite_template.read_bytes())
    seeded = seed_escalations(f"sqlite:///{database}", 3)
    get_engine(seeded.url).dispose()
    port = _free_port()
    base_url = f"http://127.0.0.1:{port}"
    command = [sys.executable, "-m", "streamlit", "run", str(APP), "--server.headless", "true"]
    command += ["--server.address", "127.0.0.1", "--server.port", str(port), "--browser.gatherUsageStats", "false"]
    command += ["--server.fileWatcherType", "none"]
    log_path = folder / "streamlit.log"
    with log_path.open("wb") as log:
        server = subprocess.Popen(
            command, cwd=ROOT, env={**os.environ, "OVERDUE_DATABASE_URL": seeded.url}, stdout=log, stderr=log
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
