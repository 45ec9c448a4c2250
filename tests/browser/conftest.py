"""Browser tests: Playwright drives Debian's Chromium (``/usr/bin/chromium``; never ``playwright install``)
against a real server process.

The server is uvicorn on a free loopback port, in a subprocess whose DATABASE_URL is the *test* database,
so it sees only committed rows (the ``committed`` fixture). Pages are opened at
``http://alpha.localhost:<port>/``: Chromium resolves ``*.localhost`` to loopback by itself, and the Host
header picks the tenant as it does in production. ``scripts/test`` installs Chromium when it is missing and
it can (root with apt-get); otherwise these tests skip and say why.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from django.conf import settings
from django.db import connection, transaction
from django_tenants.utils import schema_context

from apps.campaigns.models import Campaign, PointAllocation, ProgressSnapshot
from apps.campaigns.services import schedule_name
from apps.core.jobs import periodic_task_unschedule
from tests.support import database_url, loyalty_program_purge

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
SERVER_START_TIMEOUT = 60


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _log_tail(path: Path, lines: int = 60) -> str:
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) if path.exists() else ""


@pytest.fixture(scope="session")
def chromium_path() -> Path:
    if not CHROMIUM.exists():
        pytest.skip("Chromium is not installed at /usr/bin/chromium (Debian package `chromium`; scripts/test "
                    "installs it when run as root with apt-get)")
    return CHROMIUM


@pytest.fixture(scope="session")
def live_server_port(django_db_setup, tmp_path_factory) -> Iterator[int]:  # type: ignore[no-untyped-def]
    """uvicorn serving the ASGI app on the test database; yields its port."""
    port = _free_port()
    log = tmp_path_factory.mktemp("server") / "uvicorn.log"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "incentiva.settings.test",
        "DATABASE_URL": database_url(connection.settings_dict),
        "REDIS_URL": settings.REDIS_URL,
        "REDIS_DB_BASE": str(settings.REDIS_DB_BASE),
        "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
    }
    command = [sys.executable, "-m", "uvicorn", "incentiva.asgi:application", "--host", "127.0.0.1",
               "--port", str(port), "--no-access-log", "--log-level", "warning"]
    with log.open("wb") as output:
        process = subprocess.Popen(command, cwd=settings.BASE_DIR, env=env, stdout=output, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + SERVER_START_TIMEOUT
        while True:
            if process.poll() is not None:
                pytest.fail(f"the server exited with {process.returncode}:\n{_log_tail(log)}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"the server did not answer within {SERVER_START_TIMEOUT}s:\n{_log_tail(log)}")
            time.sleep(0.2)
        yield port
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="module")
def browser(chromium_path, django_db_setup) -> Iterator[object]:  # type: ignore[no-untyped-def]
    """One headless Chromium per test module. Playwright gives it a new empty profile (its own temporary
    --user-data-dir, which it refuses to take in ``args``) and every test a fresh context.

    Playwright's sync API keeps an event loop in this thread, which trips Django's async-safety check on
    every ORM call; nothing runs concurrently on that loop, so the check is turned off for as long as the
    browser is up and restored afterwards (module scope, so no other module runs without it)."""
    from playwright.sync_api import sync_playwright

    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            instance = playwright.chromium.launch(executable_path=str(chromium_path), args=CHROMIUM_ARGS)
            try:
                yield instance
            finally:
                instance.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def site(live_server_port) -> SimpleNamespace:  # type: ignore[no-untyped-def]
    """Where alpha and beta are served: ``site.alpha + "/me/"``."""
    return SimpleNamespace(port=live_server_port, alpha=f"http://alpha.localhost:{live_server_port}",
                           beta=f"http://beta.localhost:{live_server_port}")


@pytest.fixture(scope="session")
def screen() -> SimpleNamespace:
    """Browser context options for the two screens every page is checked on:
    ``browser.new_context(**screen.desktop)`` (1280x900) and ``**screen.phone`` (375x812, 2x, touch)."""
    return SimpleNamespace(
        desktop={"viewport": {"width": 1280, "height": 900}},
        phone={"viewport": {"width": 375, "height": 812}, "device_scale_factor": 2, "is_mobile": True,
               "has_touch": True},
    )


@pytest.fixture(scope="session")
def screenshot() -> Callable[[Any, str], None]:
    """``screenshot(page, name)`` saves a full-page ``<name>.png``: under docs/screenshots/ with SCREENSHOTS=1 in the
    environment, otherwise in a temporary folder, so a test run never changes tracked files."""
    folder = (Path(settings.BASE_DIR) / "docs" / "screenshots" if os.environ.get("SCREENSHOTS") == "1"
              else Path(tempfile.mkdtemp(prefix="incentiva-screenshots-")))

    def take(page: Any, name: str) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(folder / f"{name}.png"), full_page=True)

    return take


@pytest.fixture
def sign_in(site) -> Callable[[Any, str, str, str], None]:  # type: ignore[no-untyped-def]
    """``sign_in(page, path, email, password)`` opens ``path`` in alpha, which must send an anonymous visitor to the
    real login page, signs in there and waits to be back on ``path``."""

    def run(page: Any, path: str, email: str, password: str) -> None:
        page.goto(f"{site.alpha}{path}")
        assert "/accounts/login/" in page.url  # sent to the real login page
        page.fill("input[name=login]", email)
        page.fill("input[name=password]", password)
        page.locator("form button[type=submit]").last.click()
        page.wait_for_url(f"{site.alpha}{path}")

    return run


@pytest.fixture(scope="session")
def elsewhere() -> Callable[[Callable[[], Any]], Any]:
    """``elsewhere(func)`` runs ``func`` in alpha's schema in a thread of its own and returns its result: Playwright
    keeps an event loop in the test's thread, where the live broadcast's async_to_sync may not run."""

    def run_elsewhere(func: Callable[[], Any]) -> Any:
        def run() -> Any:
            try:
                with schema_context("alpha"):
                    return func()
            finally:
                connection.close()

        with ThreadPoolExecutor(max_workers=1) as pool:
            return pool.submit(run).result(timeout=60)

    return run_elsewhere


@pytest.fixture(scope="session")
def campaign_purge() -> Callable[[Campaign], None]:
    """``campaign_purge(campaign)`` deletes a committed campaign of alpha (call it in alpha's schema) with all it
    made: its schedule, allocations, snapshots, redemptions, participants, executions, rule versions and its
    loyalty program. What else a test committed (schemas, TLP rows, files) is the test's to remove."""

    def purge(campaign: Campaign) -> None:
        periodic_task_unschedule(schema_name="alpha", name=schedule_name(campaign))
        with transaction.atomic():
            PointAllocation.objects.filter(campaign=campaign).delete()
            ProgressSnapshot.objects.filter(execution__campaign=campaign).delete()
            campaign.redemptions.all().delete()
            campaign.participants.all().delete()
            campaign.executions.all().delete()
            campaign.rule_versions.all().delete()
            program_id = campaign.loyalty_program_id
            campaign.delete()
        if program_id:
            loyalty_program_purge(program_id)

    return purge
