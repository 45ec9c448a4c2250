"""Every log record carries the request id and tenant schema (``-`` outside a request)."""

from __future__ import annotations

import logging
from contextvars import ContextVar

request_context: ContextVar[dict[str, str] | None] = ContextVar("request_context", default=None)


def request_context_update(**values: str) -> None:
    """Add to the current request's logging context (e.g. the tenant once it is resolved)."""
    current = dict(request_context.get() or {})
    current.update(values)
    request_context.set(current)


class RequestContextFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        context = request_context.get() or {}
        record.request_id = context.get("request_id", "-")
        if not getattr(record, "tenant", None):
            try:
                from django.db import connection

                record.tenant = getattr(connection, "schema_name", "-")
            except Exception:
                record.tenant = context.get("tenant", "-")
        return True
