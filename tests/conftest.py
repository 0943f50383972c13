"""Shared fixtures. Components a test needs (PostgreSQL, Prefect, chromium) skip loudly on a laptop
without them and fail under CI=true, so a green CI run always means they really ran."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from overdue.store.migrate import upgrade
from overdue.store.sealed import new_key
from tests.prism import MissingComponent, ProviderMocks, provider_mocks
from tests.support import require

# Personal data is sealed under a key made for this session (subprocesses inherit it); the development key
# file a SQLite database falls back to is tested on its own, in a temporary folder.
os.environ.setdefault("OVERDUE_DATA_KEYS", new_key())
PG_ADMIN_URL = os.environ.get("OVERDUE_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")


def _pg_engine(database: str = "") -> sa.Engine:
    url = sa.engine.make_url(PG_ADMIN_URL.replace("postgresql://", "postgresql+psycopg://", 1))
    if database:
        url = url.set(database=database)
    return sa.create_engine(url, isolation_level="AUTOCOMMIT")


@pytest.fixture(scope="session")
def pg_template() -> Iterator[str]:
    """A migrated template database; each test gets a fast copy of it."""
    try:
        admin = _pg_engine()
        with admin.connect() as connection:
            connection.execute(sa.text("select 1"))
    except Exception as exc:
        require(False, "PostgreSQL", f"{PG_ADMIN_URL}: {exc.__class__.__name__}: {exc}")
    name = f"overdue_tmpl_{uuid.uuid4().hex[:8]}"
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = _pg_engine(name).url.render_as_string(hide_password=False)
    upgrade(url)
    from overdue.store.db import get_engine

    get_engine(url).dispose()
    yield name
    with admin.connect() as connection:
        connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.db"
    url = f"sqlite:///{path}"
    upgrade(url)
    from overdue.store.db import get_engine

    get_engine(url).dispose()  # closing the last connection checkpoints the WAL into the file we copy
    return path


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A freshly migrated, empty database: SQLite file or PostgreSQL database."""
    if request.param == "sqlite":
        target = tmp_path / "overdue.db"
        target.write_bytes(request.getfixturevalue("sqlite_template").read_bytes())
        yield f"sqlite:///{target}"
        return
    template = request.getfixturevalue("pg_template")
    name = f"overdue_t_{uuid.uuid4().hex[:10]}"
    admin = _pg_engine()
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
    url = _pg_engine(name).url.render_as_string(hide_password=False)
    yield url
    from overdue.store.db import get_engine

    get_engine(url).dispose()
    with admin.connect() as connection:
        connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def another_database(request: pytest.FixtureRequest, database_url: str, tmp_path: Path) -> Iterator[Callable[[], str]]:
    """More fresh databases of the same kind as `database_url`, for tests comparing two histories."""
    made: list[str] = []
    admin = _pg_engine() if database_url.startswith("postgresql") else None

    def make() -> str:
        if admin is None:
            target = tmp_path / f"another-{len(made)}.db"
            target.write_bytes(request.getfixturevalue("sqlite_template").read_bytes())
            made.append(str(target))
            return f"sqlite:///{target}"
        name = f"overdue_t_{uuid.uuid4().hex[:10]}"
        with admin.connect() as connection:
            connection.execute(sa.text(f'CREATE DATABASE "{name}" TEMPLATE "{request.getfixturevalue("pg_template")}"'))
        made.append(name)
        return _pg_engine(name).url.render_as_string(hide_password=False)

    yield make
    if admin is not None:
        from overdue.store.db import get_engine

        for name in made:
            get_engine(_pg_engine(name).url.render_as_string(hide_password=False)).dispose()
            with admin.connect() as connection:
                connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def sqlite_url(tmp_path: Path, sqlite_template: Path) -> str:
    """SQLite only: for tests about behaviour rather than storage."""
    target = tmp_path / "overdue.db"
    target.write_bytes(sqlite_template.read_bytes())
    return f"sqlite:///{target}"


@pytest.fixture(scope="session")
def prefect_harness() -> Iterator[None]:
    """One temporary Prefect server for the whole session (it takes ~15 s to start)."""
    from prefect.testing.utilities import prefect_test_harness

    import flows  # noqa: F401  (sets offline Prefect defaults before Prefect loads)

    try:
        harness = prefect_test_harness(server_startup_timeout=120)
        harness.__enter__()
    except Exception as exc:  # any start-up failure means the component is missing
        require(False, "Prefect test harness", f"{exc.__class__.__name__}: {exc}")
    yield
    harness.__exit__(None, None, None)


@pytest.fixture(scope="session")
def mocks(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ProviderMocks]:
    """Prism mocks of Twilio and SendGrid from their official specs, started once per session."""
    try:
        with provider_mocks(tmp_path_factory.mktemp("prism")) as running:
            yield running
    except MissingComponent as missing:
        require(False, missing.component, missing.reason)
