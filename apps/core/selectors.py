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


def readiness_checks() -> dict[str, dict[str, Any]]:
    def database() -> None:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")

    def cache() -> None:
        redis.Redis.from_url(settings.CACHE_URL, socket_timeout=1, socket_connect_timeout=1).ping()

    def broker() -> None:
        redis.Redis.from_url(settings.CELERY_BROKER_URL, socket_timeout=1, socket_connect_timeout=1).ping()

    return {"database": _timed(database), "redis": _timed(cache), "broker": _timed(broker)}
