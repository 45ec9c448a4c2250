from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.conf import settings
from django.core.cache import cache


def _forget_rate_limits() -> None:
    # Throttle, allauth rate-limit and used-TOTP-code entries live in Redis across tests. Only this test run's
    # keys (its KEY_PREFIX, in any schema) are removed: never flush a database others may share.
    prefix = settings.CACHES["default"]["KEY_PREFIX"]
    client = cache._cache.get_client(write=True)  # type: ignore[attr-defined]
    keys = list(client.scan_iter(match=f"*:{prefix}:*", count=500))
    if keys:
        client.delete(*keys)


@pytest.fixture(autouse=True)
def fresh_rate_limits() -> Iterator[None]:
    _forget_rate_limits()
    yield
    _forget_rate_limits()
