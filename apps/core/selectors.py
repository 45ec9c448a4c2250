"""Reads about the platform itself (readiness of its backing services)."""

from __future__ import annotations

import time
from typing import Any

import redis
from django.conf import settings
from django.db import connection


def _timed(check) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    started = time.perf_counter()
    try:
        check()
    except Exception as exc:
        return {"ok": False, "error": exc.__class__.__name__, "ms": round((time.perf_counter() - started) * 1000, 1)}
    return {"ok": True, "ms": round((time.perf_counter() - started) * 1000, 1)}


def _redis_ping(url: str) -> None:
    # A short-lived client, closed at once: a probe every few seconds must not pile up connections.
    with redis.Redis.from_url(url, socket_timeout=1, socket_connect_timeout=1) as client:
        client.ping()


def readiness_checks() -> dict[str, dict[str, Any]]:
    """Each backing service answers within a second: ``{"database": {"ok", "ms"[, "error"]}, ...}``."""
    def database() -> None:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")

    def cache() -> None:
        _redis_ping(settings.CACHE_URL)

    def broker() -> None:
        _redis_ping(settings.CELERY_BROKER_URL)

    return {"database": _timed(database), "redis": _timed(cache), "broker": _timed(broker)}


def job_run_has_succeeded(*, task_id: str) -> bool:
    """Whether a delivery of this task id already ran to completion in the current schema."""
    from apps.core.models import JobRun

    return bool(task_id) and JobRun.objects.filter(task_id=task_id, status=JobRun.Status.SUCCEEDED).exists()
