"""Throttles backed by Redis, keyed per tenant (the cache's key function adds the schema).

DRF's own throttles keep each caller's request history as one pickled list in the cache: a ``get`` and a
``set`` per request, two Redis round trips plus a new Redis client object each (Django's cache builds one per
call), and a list that is unpickled and pickled whole every time (600 timestamps at the default rate). Here
the history is a Redis sorted set updated by one Lua script: a single round trip, and the same exact sliding
window as DRF's (a request is allowed when fewer than ``num_requests`` were allowed in the last ``duration``
seconds; refused requests are not counted; ``Retry-After`` is when the oldest one leaves the window).

The script runs on a connection of its own per process and thread, written to and read from directly: redis-py's
general path (pool checkout with its pending-data poll, retry wrapper, script object) cost about as much CPU as
the round trip itself. A connection Redis dropped (restart, idle timeout) is reconnected and the call retried
once, as redis-py's own retry does; a script Redis forgot (restart, ``SCRIPT FLUSH``) is loaded again.
"""

from __future__ import annotations

import os
import threading
import uuid
from typing import Any

import redis
from django.conf import settings
from django.core.cache import cache
from redis.exceptions import NoScriptError
from rest_framework import throttling

# KEYS[1]: the caller's history; ARGV: now, window (s), limit, a unique member for this request.
# Returns {1, 0} when allowed (and recorded), {0, oldest timestamp in the window} when refused.
_SLIDING_WINDOW = """
local now = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[3]) then
  local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
  return {0, oldest[2]}
end
redis.call('ZADD', KEYS[1], now, ARGV[4])
redis.call('EXPIRE', KEYS[1], math.ceil(window))
return {1, 0}
"""

_client_lock = threading.Lock()
_client: tuple[int, Any] | None = None
_local = threading.local()


def _script() -> Any:
    """The registered script on a Redis client made once per process (a forked worker makes its own)."""
    global _client
    current = _client
    if current is None or current[0] != os.getpid():
        with _client_lock:
            location = settings.CACHES["default"]["LOCATION"]
            location = location[0] if isinstance(location, list | tuple) else location
            client = redis.Redis.from_url(location)
            current = _client = (os.getpid(), client.register_script(_SLIDING_WINDOW))
    return current[1]


def _connection(script: Any) -> Any:
    """This thread's own connection to the script's Redis (a forked process makes its own)."""
    held = getattr(_local, "held", None)
    if held is None or held[0] != os.getpid() or held[1] is not script:
        pool = script.registered_client.connection_pool
        held = _local.held = (os.getpid(), script, pool.connection_class(**pool.connection_kwargs))
    return held[2]


def sliding_window_count(key: str, *, now: float, duration: float, limit: int) -> tuple[bool, float]:
    """Record a request under ``key`` if fewer than ``limit`` were recorded in the last ``duration`` seconds, in
    one round trip. Returns (allowed, the oldest recorded time in the window when refused, else 0)."""
    script = _script()
    connection = _connection(script)
    args = ("EVALSHA", script.sha, 1, key, repr(now), duration, limit, uuid.uuid4().hex)
    for attempt in range(3):
        try:
            connection.send_command(*args)
            allowed, oldest = connection.read_response()
            return bool(allowed), float(oldest)
        except NoScriptError:
            # Redis restarted or flushed its scripts: load it again (same text, same SHA) and run it.
            script.sha = script.registered_client.script_load(script.script)
            args = ("EVALSHA", script.sha, *args[2:])
        except (redis.ConnectionError, redis.TimeoutError):
            connection.disconnect()  # the next send connects anew
            if attempt:
                raise
    raise redis.ConnectionError("the throttle script could not be run")


class SlidingWindowThrottle(throttling.SimpleRateThrottle):
    """DRF's SimpleRateThrottle with its history in a Redis sorted set (see the module docstring)."""

    cache_format = "throttle:%(scope)s:%(ident)s"

    def allow_request(self, request, view) -> bool:  # type: ignore[no-untyped-def]
        if self.rate is None:
            return True
        self.key = self.get_cache_key(request, view)
        if self.key is None:
            return True
        self.now = self.timer()
        allowed, self.oldest = sliding_window_count(cache.make_key(self.key), now=self.now, duration=self.duration,
                                                    limit=self.num_requests)
        return allowed

    def wait(self) -> float | None:
        """Seconds until the oldest request in the window leaves it (at least one)."""
        oldest = getattr(self, "oldest", 0.0)
        if not oldest:
            return None
        return max(1.0, oldest + self.duration - self.now)


class UserRateThrottle(SlidingWindowThrottle):
    """Per authenticated user."""

    scope = "user"

    def get_cache_key(self, request, view):  # type: ignore[no-untyped-def]
        if not (request.user and request.user.is_authenticated):
            return None
        return self.cache_format % {"scope": self.scope, "ident": request.user.pk}


class ClientRateThrottle(SlidingWindowThrottle):
    """Per partner client: the OAuth2 application or API key the request was made with."""

    scope = "client"

    def get_cache_key(self, request, view):  # type: ignore[no-untyped-def]
        ident = client_ident(getattr(request, "auth", None))
        if not ident:
            return None
        return self.cache_format % {"scope": self.scope, "ident": ident}


class AnonRateThrottle(SlidingWindowThrottle):
    """Per IP, for requests with no credentials at all (partner clients have their own budget)."""

    scope = "anon"

    def get_cache_key(self, request, view):  # type: ignore[no-untyped-def]
        if client_ident(getattr(request, "auth", None)):
            return None
        if request.user and request.user.is_authenticated:
            return None  # Only throttle unauthenticated requests (as DRF's AnonRateThrottle).
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


def client_ident(auth: Any) -> str | None:
    """``oauth:<client_id>`` for an OAuth2 token, ``apikey:<prefix>`` for an API key, else None."""
    application = getattr(auth, "application", None)
    client_id = getattr(application, "client_id", None)
    if client_id:
        return f"oauth:{client_id}"
    ident = getattr(auth, "client_ident", None)
    return str(ident) if ident else None
