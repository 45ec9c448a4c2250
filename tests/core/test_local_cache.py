"""apps/core/local_cache.py: per-process caches with a TTL, keyed by tenant schema, and the copy of a cached row."""

from __future__ import annotations

import copy
import itertools
from types import SimpleNamespace

import pytest
from django_tenants.utils import schema_context

from apps.core.local_cache import LocalCache, local_caches_clear, model_copy
from apps.loyalty.models import Member
from tests.factories.loyalty import ProgramFactory, member_make

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


# ------------------------------------------------------------------------------------------ model_copy
def test_a_model_copy_is_what_copy_copy_makes(tenant):
    # given a member row with its program and tier caches filled (as a cached row handed out per request is)
    member = member_make(ProgramFactory())
    member.program  # noqa: B018 - fills the related-object cache
    clone = model_copy(member)
    expected = copy.copy(member)
    # then the copy has the same class, field values, state and related objects as copy.copy's
    assert type(clone) is Member
    assert {k: v for k, v in vars(clone).items() if k != "_state"} == {
        k: v for k, v in vars(expected).items() if k not in ("_state", "_django_version")}
    assert (clone._state.db, clone._state.adding) == (expected._state.db, expected._state.adding) == ("default", False)
    assert clone._state.fields_cache == expected._state.fields_cache
    assert clone.program is member.program  # related objects are shared, as copy.copy shares them


def test_what_a_request_sets_on_its_copy_never_reaches_the_cached_row(tenant):
    member = member_make(ProgramFactory())
    clone = model_copy(member)
    clone.email = "changed@example.test"
    clone.program = ProgramFactory()
    clone._state.adding = True
    assert member.email != "changed@example.test"
    assert member.program != clone.program
    assert member._state.adding is False
    assert member._state.fields_cache["program"] is not clone.program


def test_a_model_with_a_memoryview_is_copied_by_copy_copy(tenant, monkeypatch):
    calls = []
    real_copy = copy.copy
    spy = SimpleNamespace(copy=lambda obj: calls.append(obj) or real_copy(obj))
    monkeypatch.setattr("apps.core.local_cache.copy", spy)
    member = member_make(ProgramFactory())
    member.blob = memoryview(b"raw")
    clone = model_copy(member)
    assert calls == [member]
    assert bytes(clone.blob) == b"raw"
    assert clone.blob is not member.blob  # pickling's path: a new memoryview over a copy of the bytes
