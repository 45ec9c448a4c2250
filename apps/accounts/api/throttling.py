"""Failed API sign-ins per client IP and submitted email, counted in the Redis cache (scope ``auth_login``).

Every attempt reserves a slot atomically (so a burst of parallel guesses cannot slip past the count) and the
slot is given back unless the attempt ended as a failed sign-in. The limit is read from
``REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["auth_login"]`` at request time; the window slides.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from rest_framework.request import Request
from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle

from apps.accounts.errors import AuthenticationError

_RESERVATION_ATTR = "_auth_login_throttle_key"


def _submitted_email(request: Request) -> str:
    data = request.data
    email = data.get("email", "") if hasattr(data, "get") else ""
    return email.strip().lower() if isinstance(email, str) else ""


class LoginFailureThrottle(SimpleRateThrottle):
    scope = "auth_login"

    def get_rate(self) -> str | None:
        # Read per request (not frozen at import like DRF's THROTTLE_RATES) so settings overrides apply.
        try:
            return api_settings.DEFAULT_THROTTLE_RATES[self.scope]
        except KeyError as exc:
            raise ImproperlyConfigured(f"No DEFAULT_THROTTLE_RATES entry for scope {self.scope!r}.") from exc

    def get_cache_key(self, request: Request, view: Any) -> str:
        ident = f"{self.get_ident(request)}|{_submitted_email(request)}"
        # Hashed: the email is personal data and the cache key must stay short and printable.
        return self.cache_format % {"scope": self.scope, "ident": hashlib.sha256(ident.encode()).hexdigest()}

    def allow_request(self, request: Request, view: Any) -> bool:
        if self.rate is None:
            return True
        # Sliding-window counter: this window's count plus the previous window's, weighted by how much of it
        # still overlaps the last `duration` seconds. Failures just before a window boundary keep counting.
        now = self.timer()
        window, elapsed = divmod(now, self.duration)
        base = self.get_cache_key(request, view)
        key = f"{base}_{int(window)}"
        previous = self.cache.get(f"{base}_{int(window) - 1}", 0)
        self.cache.add(key, 0, self.duration * 2)  # kept through the next window, where it is the previous one
        try:
            current = self.cache.incr(key)
        except ValueError:  # expired between add and incr
            self.cache.set(key, 1, self.duration * 2)
            current = 1
        weight = 1 - elapsed / self.duration
        if previous * weight + current <= self.num_requests:
            setattr(request, _RESERVATION_ATTR, key)
            return True
        # Refused attempts are not failures of their own: give the slot back so Retry-After stays true.
        self._decr(key)
        current -= 1
        if previous and current + 1 <= self.num_requests:
            # When the previous window's weight has decayed enough to leave room for one attempt.
            ready_at = (1 - (self.num_requests - current - 1) / previous) * self.duration
            self.retry_after = max(1.0, ready_at - elapsed)
        else:
            self.retry_after = max(1.0, self.duration - elapsed)
        return False

    @classmethod
    def _decr(cls, key: str) -> None:
        with contextlib.suppress(ValueError):  # expired meanwhile: nothing to give back
            cls.cache.decr(key)

    def wait(self) -> float | None:
        return getattr(self, "retry_after", None)

    @classmethod
    def release(cls, request: Request) -> None:
        """Give back the slot this request reserved: it did not end as a failed sign-in."""
        key = getattr(request, _RESERVATION_ATTR, None)
        if key is None:
            return
        setattr(request, _RESERVATION_ATTR, None)
        cls._decr(key)


@contextmanager
def login_failures_counted(request: Request) -> Iterator[None]:
    """Keep the throttle's slot only when the block raises ``AuthenticationError`` (a failed sign-in)."""
    try:
        yield
    except AuthenticationError:
        raise
    except BaseException:
        LoginFailureThrottle.release(request)
        raise
    LoginFailureThrottle.release(request)
