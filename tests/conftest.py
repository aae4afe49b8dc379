"""Test set-up: every test session gets its own Casework home, ports and database."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from stack.ports import free_port as _free_port

# Before anything imports prefect or reads settings: a private home and private ports.
_SESSION_HOME = Path(tempfile.mkdtemp(prefix="casework-tests-"))
os.environ["CASEWORK_HOME"] = str(_SESSION_HOME)
os.environ["CASEWORK_PREFECT_PORT"] = str(_free_port())
os.environ["CASEWORK_SMTP_PORT"] = str(_free_port())
os.environ["CASEWORK_WEB_PORT"] = str(_free_port())
for _key in [k for k in os.environ if k.startswith("PREFECT_")]:
    del os.environ[_key]

from casework.prefect_env import apply_prefect_env  # noqa: E402
from casework.settings import PROJECT_DIR, get_settings  # noqa: E402

apply_prefect_env(get_settings())

from tests.factories import reset_database  # noqa: E402

SCREENSHOTS = PROJECT_DIR / "test-artifacts" / "screenshots"
CHROMIUM = shutil.which("chromium")


# The flow tier runs on each case database an office may use: SQLite (the embedded default) and
# PostgreSQL (a district's). CASEWORK_TEST_DATABASES narrows it, e.g. to "sqlite".
TEST_DATABASES = os.environ.get("CASEWORK_TEST_DATABASES", "sqlite,postgresql").split(",")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "fresh_db" in metafunc.fixturenames and metafunc.definition.get_closest_marker("flow"):
        metafunc.parametrize("case_database", TEST_DATABASES, indirect=True)


@pytest.fixture
def case_database(request: pytest.FixtureRequest) -> str:
    """Which case database `fresh_db` makes: a flow test runs on each, anything else on SQLite."""
    return str(getattr(request, "param", "sqlite"))


@pytest.fixture
def fresh_db(
    request: pytest.FixtureRequest,
    case_database: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[Path]:
    """A new, migrated case database (and letters folder) for one test: SQLite, or a new
    database on a private PostgreSQL server."""
    path = tmp_path / "case.db"
    if case_database == "postgresql":
        monkeypatch.setenv(
            "CASEWORK_DATABASE_URL", request.getfixturevalue("postgres").new_database()
        )
    else:
        monkeypatch.setenv("CASEWORK_DATABASE_URL", f"sqlite:///{path}")
    monkeypatch.setenv("CASEWORK_HOME", str(tmp_path))
    reset_database()
    yield path
    monkeypatch.undo()
    reset_database()


@pytest.fixture
def smtp_server(smtp_handler: object) -> list:
    """The messages the test's real SMTP server accepted."""
    return smtp_handler.messages  # type: ignore[attr-defined]


@pytest.fixture
def smtp_handler(monkeypatch: pytest.MonkeyPatch) -> Iterator[object]:
    """A real aiosmtpd server on a free port; yields its handler (messages, scripted answers)."""
    from aiosmtpd.controller import Controller

    from tests.factories import RecordingHandler

    handler = RecordingHandler()
    controller = Controller(handler, hostname="127.0.0.1", port=_free_port())
    with serving(controller, monkeypatch, {"CASEWORK_SMTP_PORT": str(controller.port)}):
        yield handler


@contextmanager
def serving(
    controller: Any, monkeypatch: pytest.MonkeyPatch, environment: dict[str, str]
) -> Iterator[None]:
    """Run an aiosmtpd controller with Casework's settings pointed at it, then undo both."""
    controller.start()
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    try:
        yield
    finally:
        controller.stop()
        monkeypatch.undo()
        get_settings.cache_clear()


@pytest.fixture(scope="session")
def postgres(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A private PostgreSQL server (Debian's binaries) on a free port, for this test session."""
    from stack.postgres import PostgresServer

    server = PostgresServer.start(_free_port())
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def certificates(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """A private CA and a server certificate for 127.0.0.1 (TLS tests of SMTP and IMAP)."""
    from tests.factories import make_certificates

    return make_certificates(tmp_path_factory.mktemp("tls"))


@pytest.fixture(scope="session")
def stack() -> Iterator[object]:
    """The real local stack (Prefect server + process worker + SMTP Maildir server)."""
    from stack.processes import Stack

    reset_database()
    running = Stack(get_settings())
    try:
        # Inside the try: a service that would not start must not leave the others running.
        running.up()
        yield running
    finally:
        running.down()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Debian's chromium driven by Playwright (fails in CI if chromium is missing). One per
    module: Playwright's sync API keeps an event loop running in this thread while it lives,
    and the mail relay's asyncio.run() in later tests cannot start beside it."""
    if CHROMIUM is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is not installed: `make test` installs it (as root)")
        pytest.skip("chromium is not installed (make test installs it when run as root)")
    from playwright.sync_api import sync_playwright

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        try:
            yield launched
        finally:
            launched.close()


# `make test` runs the suite on two processes (pytest-xdist, one module per process at a
# time, each process with its own stack). A long module started last keeps the other waiting,
# so the longest go first; about how long each took with two processes (2026-12-05).
LONGEST_MODULES_FIRST = (
    "faults/test_outages.py",  # 240 s
    "faults/test_kills.py",  # 200 s
    "test_stories.py",  # 200 s
    "test_bench.py",  # 150 s
    "test_reconcile.py",  # 100 s
    "test_scheduler.py",  # 75 s
    "test_shen_story.py",  # 60 s
    "test_managers_view.py",  # 50 s
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    rank = {name: index for index, name in enumerate(LONGEST_MODULES_FIRST)}

    def place(item: pytest.Item) -> int:
        module = item.path.relative_to(Path(__file__).parent).as_posix()
        return rank.get(module, len(rank))

    items.sort(key=place)  # stable: the rest keep their order
