"""apps/core/postgresql_backend: the health check of a kept connection (production's CONN_HEALTH_CHECKS) sends
nothing while the connection is quiet, and still replaces a connection the server closed between requests."""

from __future__ import annotations

import copy
import select
import time

import pytest
from django.db import OperationalError, connection, connections

from apps.core.postgresql_backend.base import DatabaseWrapper


def _wrapper(alias: str, *, health_checks: bool = True) -> DatabaseWrapper:
    """A second connection to the test database (outside the test's transaction), kept between requests."""
    settings_dict = copy.deepcopy(connections["default"].settings_dict)
    settings_dict.update(CONN_HEALTH_CHECKS=health_checks, CONN_MAX_AGE=60)
    return DatabaseWrapper(settings_dict, alias=alias)


@pytest.fixture
def kept(db):  # type: ignore[no-untyped-def]
    wrapper = _wrapper("health_check_test")
    yield wrapper
    wrapper.close()


@pytest.fixture
def checks(kept, monkeypatch):  # type: ignore[no-untyped-def]
    """The SELECT 1 checks Django's own health check sends on ``kept``."""
    sent = []
    original = kept.is_usable

    def is_usable() -> bool:
        sent.append(1)
        return original()

    monkeypatch.setattr(kept, "is_usable", is_usable)
    return sent


def _request(wrapper: DatabaseWrapper) -> int:
    """What a request does with a kept connection: Django's request_started check, then a tenant query.
    Returns the server process that answered."""
    wrapper.close_if_unusable_or_obsolete()
    wrapper.set_schema("alpha")
    with wrapper.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid(), count(*) FROM accounts_user")
        return cursor.fetchone()[0]


def _terminate(pid: int, wrapper: DatabaseWrapper) -> None:
    """Terminate the server process behind ``wrapper`` and wait until its goodbye reached the socket."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
    poller = select.poll()
    poller.register(wrapper.connection.pgconn.socket, select.POLLIN)
    deadline = time.monotonic() + 5
    while not poller.poll(50) and time.monotonic() < deadline:
        pass


def test_a_quiet_kept_connection_is_reused_without_a_check_query(kept, checks):
    first = _request(kept)
    second = _request(kept)
    assert second == first
    assert checks == []  # no SELECT 1 round trip


def test_a_connection_the_server_terminated_is_replaced_before_the_next_request(kept, checks):
    # given a kept connection whose server process was terminated between two requests
    first = _request(kept)
    _terminate(first, kept)
    # when the next request runs, then it is answered on a new connection, in its tenant's schema
    second = _request(kept)
    assert second != first
    assert checks == [1]  # Django's own check ran, failed, and the connection was replaced
    with kept.cursor() as cursor:
        cursor.execute("SELECT current_setting('search_path')")
        assert cursor.fetchone()[0] == "alpha, public"


def test_without_health_checks_the_terminated_connection_fails_the_request(db):
    # The case the check exists for: the same sequence with CONN_HEALTH_CHECKS off breaks the next request.
    wrapper = _wrapper("no_health_check_test", health_checks=False)
    try:
        first = _request(wrapper)
        _terminate(first, wrapper)
        with pytest.raises(OperationalError):
            _request(wrapper)
    finally:
        wrapper.close()


def test_input_on_a_live_connection_is_checked_and_the_connection_kept(kept, checks):
    # given a kept connection that received a notification between two requests (readable, yet healthy)
    first = _request(kept)
    with kept.cursor() as cursor:
        cursor.execute("LISTEN health_check_test")
    notifier = _wrapper("health_check_notifier", health_checks=False)
    try:
        with notifier.cursor() as cursor:
            cursor.execute("NOTIFY health_check_test")
    finally:
        notifier.close()
    poller = select.poll()
    poller.register(kept.connection.pgconn.socket, select.POLLIN)
    assert poller.poll(5000)
    # when the next request runs, then SELECT 1 decides, and the healthy connection is kept
    assert _request(kept) == first
    assert checks == [1]
