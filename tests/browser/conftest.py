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
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.conf import settings
from django.db import connection

from tests.support import database_url

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
