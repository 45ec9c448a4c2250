"""TLP test harness: one sandbox server per session over real HTTP (a thread of the test process), a fresh
sandbox account (own API key, own state) per test, fast client/outbox backoff, faults off between tests."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests

from apps.tlp.client import TLPClient
from apps.tlp.models import TLPConfiguration
from apps.tlp.sandbox import Faults, SandboxServer
from apps.tlp.services import tlp_configure


class Sandbox:
    """The running sandbox: its URL, its state, faults to switch on and off, per-account statistics."""

    def __init__(self, server: SandboxServer) -> None:
        self.server = server

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def state(self) -> Any:
        return self.server.state

    def account(self) -> str:
        """A new, empty TLP account; returns its API key."""
        response = requests.post(f"{self.url}/_sandbox/accounts", json={}, timeout=5)
        response.raise_for_status()
        return response.json()["apiKey"]

    def stats(self, api_key: str) -> dict[str, Any]:
        response = requests.get(f"{self.url}/_sandbox/stats", headers={"Authorization": f"Bearer {api_key}"},
                                timeout=5)
        response.raise_for_status()
        return response.json()

    def faults(self, **values: Any) -> None:
        self.server.faults_set(**values)

    def faults_off(self) -> None:
        defaults = Faults()
        self.server.faults_set(**{name: getattr(defaults, name) for name in vars(defaults)})

    def stop(self) -> int:
        """Take the sandbox down (its state is kept); returns the port to come back on."""
        port = self.server.port
        self.server.stop()
        return port

    def restart(self, port: int) -> None:
        self.server = SandboxServer(port=port, state=self.server.state, faults=self.server.faults).start()


@pytest.fixture(scope="session")
def sandbox() -> Iterator[Sandbox]:
    server = SandboxServer(faults=Faults(hang_seconds=1.5)).start()
    handle = Sandbox(server)
    yield handle
    handle.server.stop()


@pytest.fixture(autouse=True)
def _fast_retries(settings) -> None:  # type: ignore[no-untyped-def]
    settings.TLP_CLIENT_BACKOFF_BASE_SECONDS = 0.01
    settings.TLP_CLIENT_BACKOFF_MAX_SECONDS = 0.05
    settings.TLP_OUTBOX_RETRY_BASE_SECONDS = 0.0
    settings.TLP_OUTBOX_KICK = False


@pytest.fixture
def sandbox_clean(sandbox) -> Iterator[Sandbox]:  # type: ignore[no-untyped-def]
    """The sandbox with no faults, and none left behind for the next test."""
    sandbox.faults_off()
    yield sandbox
    sandbox.faults_off()


@pytest.fixture
def tlp_key(sandbox_clean) -> str:  # type: ignore[no-untyped-def]
    return sandbox_clean.account()


@pytest.fixture
def make_client(sandbox_clean) -> Callable[..., TLPClient]:  # type: ignore[no-untyped-def]
    clients: list[TLPClient] = []

    def make(api_key: str, **options: Any) -> TLPClient:
        options.setdefault("connect_timeout", 1.0)
        options.setdefault("read_timeout", 1.0)
        client = TLPClient(endpoint_url=sandbox_clean.url, api_key=api_key, **options)
        clients.append(client)
        return client

    yield make  # type: ignore[misc]
    for client in clients:
        client.close()


@pytest.fixture
def tlp_configured(tenant, sandbox_clean, tlp_key) -> TLPConfiguration:  # type: ignore[no-untyped-def]
    """Alpha's TLP pointed at a fresh sandbox account, through the real service (live check included)."""
    return tlp_configure(endpoint_url=sandbox_clean.url, api_key=tlp_key, connect_timeout=1.0, read_timeout=1.0)
