"""django-tenants' PostgreSQL backend, with a health check that costs no round trip on a quiet connection.

With ``CONN_HEALTH_CHECKS`` (production), Django checks a kept connection at the first query of each request
by sending ``SELECT 1``: a round trip on every request, about 3 % of a balance read's CPU plus the database's
share. A connection that the server closed (backend terminated, server restarted or crashed) has something
to read on its socket between requests: the server's FATAL message, or the end of the stream. So the check
first asks the kernel, without waiting, whether the idle socket has anything to read: nothing (and psycopg
still sees an idle, healthy session), the connection is kept as it is; anything at all, and Django's own
``SELECT 1`` check decides, reconnecting when it fails. Pinned by tests/core/test_postgresql_backend.py.

What neither check can see in time is a peer that vanished without a word (its host powered off, a firewall
dropping the flow silently): ``SELECT 1`` would wait on TCP there as the first query does. Kept connections
live ``CONN_MAX_AGE`` (60 s), below the idle timeouts of the usual load balancers and NAT gateways.

``server_bound_cursor()`` is a cursor that sends its parameters apart from the SQL (psycopg's server-side
binding), for the few statements every points request runs (apps/core/compiled_query.py): Django's default,
client-side binding, quotes each value into the SQL text in Python, several percent of an award's CPU. The rest
of the product keeps Django's default. No statement is prepared on the server (``prepare_threshold`` stays
Django's None), so poolers and schema switches see the same unnamed statements as before.
"""

from __future__ import annotations

import select
from typing import Any

from django.db.backends.postgresql.base import TIMESTAMPTZ_OID, ServerBindingCursor
from django.db.backends.postgresql.psycopg_any import register_tzloader
from django_tenants.postgresql_backend.base import DatabaseWrapper as TenantDatabaseWrapper
from psycopg import pq

__all__ = ["DatabaseWrapper"]


class DatabaseWrapper(TenantDatabaseWrapper):
    _server_binding = False

    def server_bound_cursor(self) -> Any:
        """``cursor()``, with server-side binding of its parameters (see the module docstring)."""
        self._server_binding = True
        try:
            return self.cursor()
        finally:
            self._server_binding = False

    def create_cursor(self, name: str | None = None) -> Any:
        if name or not self._server_binding:
            return super().create_cursor(name)
        cursor = ServerBindingCursor(self.connection)
        # As Django's create_cursor: the cursor's timezone only when the connection's differs.
        if self.timezone != self.connection.adapters.get_loader(TIMESTAMPTZ_OID, pq.Format.TEXT).timezone:
            register_tzloader(self.timezone, cursor)
        return cursor

    def close_if_health_check_failed(self) -> None:
        if (self.connection is not None and self.health_check_enabled and not self.health_check_done
                and not self.pool and self._idle_and_quiet()):
            self.health_check_done = True
            return
        super().close_if_health_check_failed()

    def _idle_and_quiet(self) -> bool:
        """The connection is open and idle (no transaction), and its socket has nothing to read."""
        try:
            pgconn = self.connection.pgconn
            if pgconn.status != pq.ConnStatus.OK or pgconn.transaction_status != pq.TransactionStatus.IDLE:
                return False
            poller = select.poll()
            poller.register(pgconn.socket, select.POLLIN | select.POLLPRI)
            return not poller.poll(0)
        except Exception:  # a closed or broken connection: leave it to Django's own check
            return False
