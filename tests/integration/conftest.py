"""Fixtures for integration tests: a wired runtime and a unit of work on each test's fresh database."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlmodel import Session

from overdue.runtime import Runtime
from overdue.store.db import session_scope
from tests.support import make_runtime


@pytest.fixture
def runtime(database_url: str) -> Runtime:
    return make_runtime(database_url)


@pytest.fixture
def session(runtime: Runtime) -> Iterator[Session]:
    with session_scope(runtime.database_url) as session:
        yield session
