"""Small per-process caches with a time to live, keyed by tenant schema: for lookups that run on every API
request (the authenticated user, an API key, the tenant's program, the TLP switch) and change rarely.

Each process keeps its own copy, so a change made elsewhere is seen within the TTL (a few seconds, set per
cache by a setting; 0 turns that cache off). The process that makes the change drops its copy at once: every
cache is cleared for its key by the model signals its owner connects (``discard``/``clear`` below).

Every key is prefixed with the current schema (``connection.schema_name``): a value cached for one tenant is
never served to another, even when the ids look alike.
"""

from __future__ import annotations

import copy
import threading
import time
from collections.abc import Callable, Hashable
from typing import Any

from django.conf import settings
from django.db import connection
from django.db.models import Model
from django.db.models.base import ModelState

_MISSING = object()
_registry: list[LocalCache] = []
_registry_lock = threading.Lock()


class LocalCache:
    """``get_or_load(key, loader)``: the value cached for (schema, key) while fresh, else ``loader()``'s,
    stored for ``settings.<ttl_setting>`` seconds. ``None`` is cached like any value (a miss is worth
    remembering too), but an exception from the loader is not."""

    def __init__(self, name: str, *, ttl_setting: str, default_ttl: float, max_entries: int = 10_000) -> None:
        self.name = name
        self.ttl_setting = ttl_setting
        self.default_ttl = default_ttl
        self.max_entries = max_entries
        self._entries: dict[tuple[str, Hashable], tuple[float, Any]] = {}
        with _registry_lock:
            _registry.append(self)

    @property
    def ttl(self) -> float:
        return getattr(settings, self.ttl_setting, self.default_ttl)

    def get_or_load(self, key: Hashable, loader: Callable[[], Any]) -> Any:
        return self.get_or_load_cached(key, loader)[0]

    def get_or_load_cached(self, key: Hashable, loader: Callable[[], Any]) -> tuple[Any, bool]:
        """Like ``get_or_load``, and whether the value came from the cache (the loader did not run)."""
        ttl = self.ttl
        if ttl <= 0:
            return loader(), False
        full_key = (connection.schema_name, key)
        now = time.monotonic()
        cached = self._entries.get(full_key, _MISSING)
        if cached is not _MISSING and cached[0] > now:  # type: ignore[index]
            return cached[1], True  # type: ignore[index]
        value = loader()
        if len(self._entries) >= self.max_entries:
            self._entries.clear()  # bounded memory; a burst of misses refills it
        self._entries[full_key] = (now + ttl, value)
        return value, False

    def discard(self, key: Hashable, schema: str | None = None) -> None:
        """Forget one key of the current (or the given) schema in this process."""
        self._entries.pop((schema or connection.schema_name, key), None)

    def clear(self) -> None:
        """Forget everything this process cached here (all tenants)."""
        self._entries.clear()


def local_caches_clear() -> None:
    """Forget every local cache of this process (tests call it between tests, whose rollbacks send no
    signals)."""
    with _registry_lock:
        caches = list(_registry)
    for cache in caches:
        cache.clear()


def model_copy(instance: Model) -> Model:
    """What ``copy.copy(instance)`` returns for a model instance (the same field values, its own state and
    related-object cache, the related objects themselves shared), for the cached rows handed to each request.

    ``copy.copy`` goes through pickling's protocol (``__reduce__``, ``__getstate__``, ``__setstate__`` and a
    version check): about 10 microseconds a row, three rows on every API request. A model that changes how it
    is pickled or copied, or holds a ``memoryview`` (which pickling turns into bytes), takes ``copy.copy``.
    """
    cls = type(instance)
    if (cls.__reduce__ is not Model.__reduce__ or cls.__getstate__ is not Model.__getstate__
            or cls.__setstate__ is not Model.__setstate__ or hasattr(cls, "__copy__")):
        return copy.copy(instance)
    state = instance.__dict__.copy()
    for value in state.values():
        if type(value) is memoryview:
            return copy.copy(instance)
    model_state = ModelState()
    model_state.__dict__.update(state["_state"].__dict__)
    model_state.fields_cache = state["_state"].fields_cache.copy()
    state["_state"] = model_state
    clone = cls.__new__(cls)
    clone.__dict__.update(state)
    return clone
