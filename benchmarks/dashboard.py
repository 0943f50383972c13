"""Every dashboard page's server time at scale: `python -m benchmarks dashboard` (target: at most 2 s per page
with 1,000,000 accounts and 10,000,000 audit events on PostgreSQL).

The database is built once (benchmarks/dashboard_data.py) and reused. Each page is run by Streamlit's AppTest
in this process, signed in as a user whose role may see it; after one warm-up run, every `run()` is timed: the
whole script (sign-in check, navigation, the page's queries and elements), which is the server's share of a
page view. The figures are the median and the slowest of the timed runs.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from benchmarks import postgres
from benchmarks.dashboard_data import AS_OF, ensure
from benchmarks.machine import describe
from benchmarks.portfolios import data_keys

ROOT = Path(__file__).resolve().parents[1]
APP = ROOT / "dashboard" / "app.py"
PASSWORD = "benchmark password"
USERS = {"bench.legal": "legal", "bench.agent": "agent", "bench.manager": "manager", "bench.engineer": "engineer"}
TARGET_S = 2.0


def _seed_users(url: str) -> None:
    from sqlmodel import col, select

    from overdue.domain.passwords import hash_password
    from overdue.store.db import session_scope
    from overdue.store.tables import DashboardUser

    now = datetime.now(UTC)
    with session_scope(url) as session:
        known = set(session.exec(select(DashboardUser.name).where(col(DashboardUser.name).in_(list(USERS)))))
        for name, role in USERS.items():
            if name not in known:
                session.add(
                    DashboardUser(
                        name=name,
                        password_hash=hash_password(PASSWORD),
                        roles=[role],
                        created_at=now,
                        password_changed_at=now,
                    )
                )


def _opened(page: str, user: str) -> Any:
    from streamlit.testing.v1 import AppTest

    app = AppTest.from_file(str(APP), default_timeout=300).run()
    app.text_input(key="signin_name").input(user)
    app.text_input(key="signin_password").input(PASSWORD)
    app.button[0].click().run()
    app.switch_page(f"screens/{page}.py").run()
    if app.exception:
        raise RuntimeError(f"{page}: {[e.value for e in app.exception]}")
    return app


def _account(app: Any) -> None:
    app.text_input(key="account_lookup").input("1").run()


def _year(app: Any) -> None:
    app.date_input(key="metrics_range").set_value((date(AS_OF.year - 1, AS_OF.month, AS_OF.day + 1), AS_OF)).run()


def _shows(app: Any, page: str) -> None:
    """The page drew what it is for (a page that failed quietly would be fast for the wrong reason)."""
    drawn = {
        "inbox": len([b for b in app.button if b.key and b.key.startswith("open-")]),
        "account": len(app.metric),
        "metrics": len(app.dataframe) >= 5,
        "engineering": len(app.dataframe),
        "configuration": len(app.dataframe),
    }[page]
    if app.exception or app.error or not drawn:
        raise RuntimeError(f"{page} did not draw: {[e.value for e in [*app.exception, *app.error]]}")


SCENARIOS: tuple[tuple[str, str, str, Callable[[Any], None] | None], ...] = (
    (
        "ops inbox (one page of the legal team's queue, open escalations on 5% of accounts)",
        "inbox",
        "bench.legal",
        None,
    ),
    ("account 360 (one account's history)", "account", "bench.agent", _account),
    ("manager metrics (last 30 days)", "metrics", "bench.manager", None),
    ("manager metrics (a year)", "metrics", "bench.manager", _year),
    ("engineering", "engineering", "bench.engineer", None),
    ("configuration", "configuration", "bench.manager", None),
)


def bench_dashboard(url: str, accounts: int, events: int, runs: int) -> dict[str, object]:
    folder = ROOT / "var" / "bench"
    built = ensure(url, accounts, events, folder)
    os.environ["OVERDUE_DATABASE_URL"] = built
    os.environ["OVERDUE_DATA_KEYS"] = data_keys(folder)
    os.environ.setdefault("OVERDUE_SESSION_SECRET", "benchmark-only-session-secret-0123456789")
    from overdue.settings import get_settings

    get_settings.cache_clear()
    _seed_users(built)
    pages: dict[str, dict[str, float]] = {}
    for label, page, user, prepare in SCENARIOS:
        app = _opened(page, user)
        if prepare is not None:
            prepare(app)
        app.run()  # warm: the first run after a switch imports and caches
        timings = []
        for _ in range(runs):
            started = time.perf_counter()
            app.run()
            timings.append(time.perf_counter() - started)
            _shows(app, page)
        pages[label] = {"median_s": round(statistics.median(timings), 3), "max_s": round(max(timings), 3)}
        print(f"{label}: median {pages[label]['median_s']:.3f} s, slowest {pages[label]['max_s']:.3f} s")
    return {
        "benchmark": "dashboard",
        "accounts": accounts,
        "audit_events": events,
        "runs": runs,
        "database": f"postgresql {postgres.server_version(url)}",
        "target_s": TARGET_S,
        "within_target": all(page["max_s"] <= TARGET_S for page in pages.values()),
        "pages": pages,
        "machine": describe(),
    }


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks dashboard", description=__doc__)
    parser.add_argument("--database-url", default=postgres.PG_URL, help="the PostgreSQL server (default: %(default)s)")
    parser.add_argument("--accounts", type=int, default=1_000_000)
    parser.add_argument("--events", type=int, default=10_000_000, help="audit events")
    parser.add_argument("--runs", type=int, default=5, help="timed runs per page")
    args = parser.parse_args(argv)
    print(json.dumps(bench_dashboard(args.database_url, args.accounts, args.events, args.runs), indent=2))
