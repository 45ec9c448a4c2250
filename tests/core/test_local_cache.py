"""apps/core/local_cache.py: per-process caches with a TTL, keyed by tenant schema."""

from __future__ import annotations

import itertools

import pytest
from django_tenants.utils import schema_context

from apps.core.local_cache import LocalCache, local_caches_clear

_names = itertools.count()


@pytest.fixture
def cache(settings):  # type: ignore[no-untyped-def]
    settings.TEST_LOCAL_CACHE_SECONDS = 5
    return LocalCache(f"test-{next(_names)}", ttl_setting="TEST_LOCAL_CACHE_SECONDS", default_ttl=5)


def _counting(value: object):  # type: ignore[no-untyped-def]
    calls = []

    def load() -> object:
        calls.append(1)
        return value

    return load, calls


def test_a_value_is_loaded_once_within_the_ttl(db, cache):
    load, calls = _counting("row")
    assert cache.get_or_load("k", load) == "row"
    assert cache.get_or_load("k", load) == "row"
    assert len(calls) == 1


def test_a_tenant_never_gets_another_tenants_value(db, cache):
    # given the same key cached for alpha
    with schema_context("alpha"):
        cache.get_or_load("user-1", lambda: "alpha's user")
    # when beta asks for it, then beta's own loader runs
    with schema_context("beta"):
        assert cache.get_or_load("user-1", lambda: "beta's user") == "beta's user"
    with schema_context("alpha"):
        assert cache.get_or_load("user-1", lambda: "reloaded") == "alpha's user"


def test_the_value_expires_after_the_ttl(db, cache, monkeypatch):
    clock = [1000.0]
    monkeypatch.setattr("apps.core.local_cache.time.monotonic", lambda: clock[0])
    load, calls = _counting("row")
    cache.get_or_load("k", load)
    clock[0] += 4.9
    cache.get_or_load("k", load)
    assert len(calls) == 1
    clock[0] += 0.2
    cache.get_or_load("k", load)
    assert len(calls) == 2


def test_a_ttl_of_zero_turns_the_cache_off(db, cache, settings):
    settings.TEST_LOCAL_CACHE_SECONDS = 0
    load, calls = _counting("row")
    cache.get_or_load("k", load)
    cache.get_or_load("k", load)
    assert len(calls) == 2


def test_none_is_remembered_but_an_error_is_not(db, cache):
    load, calls = _counting(None)
    assert cache.get_or_load("missing", load) is None
    assert cache.get_or_load("missing", load) is None
    assert len(calls) == 1

    def broken() -> object:
        raise LookupError("database down")

    with pytest.raises(LookupError):
        cache.get_or_load("broken", broken)
    assert cache.get_or_load("broken", lambda: "fine now") == "fine now"


def test_discard_forgets_one_key_of_the_current_tenant_only(db, cache):
    with schema_context("alpha"):
        cache.get_or_load("k", lambda: "alpha")
        cache.get_or_load("other", lambda: "kept")
    with schema_context("beta"):
        cache.get_or_load("k", lambda: "beta")
    with schema_context("alpha"):
        cache.discard("k")
        assert cache.get_or_load("k", lambda: "alpha again") == "alpha again"
        assert cache.get_or_load("other", lambda: "reloaded") == "kept"
    with schema_context("beta"):
        assert cache.get_or_load("k", lambda: "reloaded") == "beta"


def test_clearing_all_caches_forgets_everything(db, cache):
    cache.get_or_load("k", lambda: "old")
    local_caches_clear()
    assert cache.get_or_load("k", lambda: "new") == "new"


def test_the_cache_stays_bounded(db, settings):
    settings.TEST_LOCAL_CACHE_SECONDS = 5
    small = LocalCache("test-small", ttl_setting="TEST_LOCAL_CACHE_SECONDS", default_ttl=5, max_entries=3)
    for key in range(10):
        small.get_or_load(key, lambda key=key: key)
    assert len(small._entries) <= 3
