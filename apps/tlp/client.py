"""The TLP client: one per tenant configuration, all 15 operations, resilient and safe to retry.

* A pooled ``requests.Session`` (one per thread: the outbox delivers from a thread pool) with separate
  connect and read timeouts.
* Retries with exponential backoff and jitter on connection failures, timeouts, 429 (``Retry-After`` is
  honoured) and 5xx. Every write carries an ``Idempotency-Key`` that stays the same across those retries,
  so a write whose answer was lost is replayed by TLP, never applied twice.
* Errors become typed exceptions (:class:`TLPAuthError`, :class:`TLPValidationError`, :class:`TLPNotFound`,
  :class:`TLPConflict`, :class:`TLPUnavailable`).
* Searches, which the dashboards read often, are cached for a short while in the tenant's Redis cache;
  any write through the same configuration invalidates them.

The API key is sent in a header and never logged, printed or put in an exception.
"""

from __future__ import annotations

import hashlib
import json
import logging
import random
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import requests
from django.conf import settings
from django.core.cache import cache
from requests.adapters import HTTPAdapter

from apps.tlp import wire

logger = logging.getLogger(__name__)

RETRYABLE_STATUSES = frozenset({429, 500, 502, 503, 504})
MAX_RETRY_AFTER_SECONDS = 30.0


# ------------------------------------------------------------------------------------------ errors
class TLPError(Exception):
    """TLP refused or could not answer. ``status`` is TLP's HTTP status (None when there was no answer)."""

    def __init__(self, message: str, *, status: int | None = None, code: str = "", fields: dict | None = None,
                 retry_after: float | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code
        self.fields: dict[str, list[str]] = fields or {}
        self.retry_after = retry_after


class TLPAuthError(TLPError):
    """The API key is missing, wrong or not allowed (401/403)."""


class TLPValidationError(TLPError):
    """TLP rejected the request's content (400/422); ``fields`` says which fields and why."""


class TLPNotFound(TLPError):  # noqa: N818 - names from the integration's contract
    """An id in the path is unknown to TLP (404)."""


class TLPConflict(TLPError):  # noqa: N818 - names from the integration's contract
    """The request conflicts with TLP's state (409: a duplicate, an idempotency key reused)."""


class TLPInsufficientBalance(TLPConflict):
    """A redemption above the member's TLP balance."""


class TLPUnavailable(TLPError):  # noqa: N818 - names from the integration's contract
    """No usable answer after the retries: TLP down, timing out, rate limiting or failing (5xx)."""


@dataclass(frozen=True)
class TLPResponse:
    status: int
    data: dict[str, Any]
    latency_ms: int
    replayed: bool = False
    cached: bool = False


def _setting(name: str, default: Any) -> Any:
    return getattr(settings, name, default)


class TLPClient:
    """A client for one TLP endpoint and key. Cheap to build; reuse it for a batch of calls."""

    def __init__(
        self,
        *,
        endpoint_url: str,
        api_key: str,
        connect_timeout: float = 3.0,
        read_timeout: float = 10.0,
        max_retries: int | None = None,
        backoff_base: float | None = None,
        backoff_max: float | None = None,
        cache_ttl: int | None = None,
        cache_namespace: str = "",
        pool_size: int = 16,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.endpoint_url = endpoint_url.rstrip("/")
        self._api_key = api_key
        self.timeout = (connect_timeout, read_timeout)
        self.max_retries = _setting("TLP_CLIENT_MAX_RETRIES", 3) if max_retries is None else max_retries
        self.backoff_base = _setting("TLP_CLIENT_BACKOFF_BASE_SECONDS", 0.5) if backoff_base is None else backoff_base
        self.backoff_max = _setting("TLP_CLIENT_BACKOFF_MAX_SECONDS", 8.0) if backoff_max is None else backoff_max
        self.cache_ttl = _setting("TLP_CACHE_TTL_SECONDS", 60) if cache_ttl is None else cache_ttl
        # The cache key function prefixes the schema of *this thread's* connection; worker threads have none,
        # so the namespace carries the tenant and a digest of the endpoint and key itself.
        digest = hashlib.sha256(f"{self.endpoint_url}\n{api_key}".encode()).hexdigest()[:16]
        self.cache_namespace = f"tlp:{cache_namespace}:{digest}"
        self.pool_size = pool_size
        self._sleep = sleep
        self._local = threading.local()
        self._sessions: list[requests.Session] = []
        self._sessions_lock = threading.Lock()
        self._rng = random.Random()  # noqa: S311 - jitter, not cryptography

    def __repr__(self) -> str:
        return f"<TLPClient {self.endpoint_url}>"

    # ---------------------------------------------------------------- transport
    @property
    def session(self) -> requests.Session:
        session = getattr(self._local, "session", None)
        if session is None:
            session = requests.Session()
            adapter = HTTPAdapter(pool_connections=2, pool_maxsize=self.pool_size, max_retries=0)
            session.mount("http://", adapter)
            session.mount("https://", adapter)
            session.headers.update({"Accept": "application/json", "User-Agent": "Incentiva-TLP/1.0"})
            self._local.session = session
            with self._sessions_lock:
                self._sessions.append(session)
        return session

    def close(self) -> None:
        """Close every thread's pooled connections."""
        with self._sessions_lock:
            sessions, self._sessions = self._sessions, []
        for session in sessions:
            session.close()
        self._local = threading.local()

    def backoff_delay(self, attempt: int) -> float:
        """Exponential backoff with equal jitter: half the step fixed, half random (attempt 0 = first retry)."""
        step = min(self.backoff_max, self.backoff_base * (2 ** attempt))
        return step / 2 + self._rng.uniform(0, step / 2)

    def request(
        self,
        operation: wire.Operation,
        *,
        resource_id: str | None = None,
        body: dict[str, Any] | None = None,
        params: dict[str, str] | None = None,
        idempotency_key: str | None = None,
        cache_result: bool = False,
        retries: int | None = None,
    ) -> TLPResponse:
        """Send one operation, retrying what is worth retrying; returns the parsed answer or raises TLPError."""
        cache_key = self._cache_key(operation, resource_id, params) if cache_result and self.cache_ttl else None
        if cache_key:
            cached = cache.get(cache_key)
            if cached is not None:
                return TLPResponse(status=200, data=cached, latency_ms=0, cached=True)
        headers = {wire.AUTH_HEADER: wire.auth_header_value(self._api_key)}
        if operation.write:
            headers[wire.IDEMPOTENCY_HEADER] = idempotency_key or str(uuid.uuid4())
        url = self.endpoint_url + operation.url_path(resource_id)
        data = json.dumps(body).encode() if body is not None else None
        if data is not None:
            headers["Content-Type"] = "application/json"
        retries = self.max_retries if retries is None else retries
        attempt = 0
        while True:
            started = time.monotonic()
            try:
                raw = self.session.request(operation.method, url, params=params, data=data, headers=headers,
                                           timeout=self.timeout, allow_redirects=False)
            except requests.RequestException as exc:
                code = _transport_code(exc)
                if code == "invalid_url":
                    raise TLPError(_transport_message(exc), code=code) from None
                error: TLPError = TLPUnavailable(_transport_message(exc), code=code)
                latency = int((time.monotonic() - started) * 1000)
                logger.info("tlp %s %s failed after %d ms: %s (attempt %d)", operation.method, operation.path,
                            latency, error.code, attempt + 1)
            else:
                latency = int((time.monotonic() - started) * 1000)
                logger.log(logging.DEBUG if raw.status_code < 400 else logging.INFO,
                           "tlp %s %s → %d in %d ms (attempt %d)", operation.method, operation.path,
                            raw.status_code, latency, attempt + 1)
                if raw.status_code < 300:
                    return self._success(raw, latency, operation, cache_key)
                error = _error_from(raw)
            if not isinstance(error, TLPUnavailable) or attempt >= retries:
                raise error
            delay = self.backoff_delay(attempt)
            if error.retry_after is not None:
                if error.retry_after > MAX_RETRY_AFTER_SECONDS:
                    raise error  # the caller (the outbox) schedules the next try for then
                delay = max(delay, error.retry_after)
            self._sleep(delay)
            attempt += 1

    def _success(self, raw: requests.Response, latency: int, operation: wire.Operation,
                 cache_key: str | None) -> TLPResponse:
        try:
            data = raw.json()
        except ValueError as exc:
            raise TLPError("TLP answered with something that is not JSON.", status=raw.status_code,
                           code="bad_response") from exc
        if not isinstance(data, dict):
            raise TLPError("TLP answered with an unexpected JSON document.", status=raw.status_code,
                           code="bad_response")
        if operation.write:
            self._cache_invalidate()
        elif cache_key:
            cache.set(cache_key, data, self.cache_ttl)
        return TLPResponse(status=raw.status_code, data=data, latency_ms=latency,
                           replayed=raw.headers.get(wire.REPLAYED_HEADER, "").lower() == "true")

    # ---------------------------------------------------------------- cache
    def _generation(self) -> int:
        return int(cache.get(f"{self.cache_namespace}:gen") or 0)

    def _cache_key(self, operation: wire.Operation, resource_id: str | None, params: dict[str, str] | None) -> str:
        query = json.dumps([resource_id, sorted((params or {}).items())])
        digest = hashlib.sha256(query.encode()).hexdigest()[:24]
        return f"{self.cache_namespace}:{self._generation()}:{operation.name}:{digest}"

    def _cache_invalidate(self) -> None:
        key = f"{self.cache_namespace}:gen"
        if not cache.add(key, 1, None):
            try:
                cache.incr(key)
            except ValueError:
                cache.set(key, 1, None)

    # ---------------------------------------------------------------- health
    def ping(self) -> int:
        """One cheap authenticated read, without retries or cache; returns the latency in ms."""
        response = self.request(wire.OFFER_SEARCH, params=wire.offer_search_params(page_size=1), retries=0)
        wire.read_page(response.data)
        return response.latency_ms

    # ---------------------------------------------------------------- point types
    def point_type_create(self, *, name: str, description: str = "", rank: int = 1, enabled: bool = True,
                          show_zero_balance: bool = True, idempotency_key: str | None = None) -> dict[str, Any]:
        body = wire.point_type_body(name=name, description=description, rank=rank, enabled=enabled,
                                    show_zero_balance=show_zero_balance)
        return self.request(wire.POINT_TYPE_CREATE, body=body, idempotency_key=idempotency_key).data

    def point_type_update(self, *, point_type_id: str, name: str | None = None, description: str | None = None,
                          rank: int | None = None, enabled: bool | None = None,
                          show_zero_balance: bool | None = None,
                          idempotency_key: str | None = None) -> dict[str, Any]:
        body = wire.point_type_body(name=name, description=description, rank=rank, enabled=enabled,
                                    show_zero_balance=show_zero_balance)
        return self.request(wire.POINT_TYPE_UPDATE, resource_id=point_type_id, body=body,
                            idempotency_key=idempotency_key).data

    # ---------------------------------------------------------------- offers
    def offer_create(self, *, offer_type: str, offer_subtype: str, name: str, points: int, point_type: str,
                     description: str = "", minimum_spend: int | float | None = None, enabled: bool = True,
                     online: bool | None = None, location: bool | None = None, image_url: str | None = None,
                     idempotency_key: str | None = None) -> dict[str, Any]:
        body = wire.offer_body(offer_type=offer_type, offer_subtype=offer_subtype, name=name, points=points,
                               point_type=point_type, description=description, minimum_spend=minimum_spend,
                               enabled=enabled, online=online, location=location, image_url=image_url)
        return self.request(wire.OFFER_CREATE, body=body, idempotency_key=idempotency_key).data

    def offer_update(self, *, offer_id: str, idempotency_key: str | None = None, **fields: Any) -> dict[str, Any]:
        """Change the named fields only (keyword names as in :meth:`offer_create`)."""
        return self.request(wire.OFFER_UPDATE, resource_id=offer_id, body=wire.offer_body(**fields),
                            idempotency_key=idempotency_key).data

    def offer_search(self, *, offer_type: str | None = None, offer_subtype: str | None = None,
                     point_type: str | None = None, enabled: bool | None = None, query: str | None = None,
                     page: int = 1, page_size: int = 50, fresh: bool = False) -> wire.Page:
        params = wire.offer_search_params(offer_type=offer_type, offer_subtype=offer_subtype, point_type=point_type,
                                          enabled=enabled, query=query, page=page, page_size=page_size)
        return wire.read_page(self.request(wire.OFFER_SEARCH, params=params, cache_result=not fresh).data)

    # ---------------------------------------------------------------- transactions
    def _transaction(self, operation: wire.Operation, *, member_id: str, point_type: str, points: int | None,
                     offer_id: str | None, reference: str | None, description: str | None,
                     idempotency_key: str) -> dict[str, Any]:
        body = wire.transaction_body(member_id=member_id, point_type=point_type, points=points, offer_id=offer_id,
                                     reference=reference, description=description)
        return self.request(operation, body=body, idempotency_key=idempotency_key).data

    def points_accrue(self, *, member_id: str, point_type: str, points: int | None = None, offer_id: str | None = None,
                      reference: str | None = None, description: str | None = None,
                      idempotency_key: str) -> dict[str, Any]:
        return self._transaction(wire.POINTS_ACCRUE, member_id=member_id, point_type=point_type, points=points,
                                 offer_id=offer_id, reference=reference, description=description,
                                 idempotency_key=idempotency_key)

    def points_redeem(self, *, member_id: str, point_type: str, points: int | None = None, offer_id: str | None = None,
                      reference: str | None = None, description: str | None = None,
                      idempotency_key: str) -> dict[str, Any]:
        return self._transaction(wire.POINTS_REDEEM, member_id=member_id, point_type=point_type, points=points,
                                 offer_id=offer_id, reference=reference, description=description,
                                 idempotency_key=idempotency_key)

    def points_issue(self, *, member_id: str, point_type: str, points: int, reference: str | None = None,
                     description: str | None = None, idempotency_key: str) -> dict[str, Any]:
        return self._transaction(wire.POINTS_ISSUE, member_id=member_id, point_type=point_type, points=points,
                                 offer_id=None, reference=reference, description=description,
                                 idempotency_key=idempotency_key)

    # ---------------------------------------------------------------- members
    def member_create(self, *, external_id: str, email: str | None = None, first_name: str | None = None,
                      last_name: str | None = None, idempotency_key: str | None = None) -> dict[str, Any]:
        body = wire.member_body(external_id=external_id, email=email or None, first_name=first_name,
                                last_name=last_name)
        return self.request(wire.MEMBER_CREATE, body=body, idempotency_key=idempotency_key).data

    def member_update(self, *, member_id: str, email: str | None = None, first_name: str | None = None,
                      last_name: str | None = None, status: str | None = None, tier_id: str | None = None,
                      idempotency_key: str | None = None) -> dict[str, Any]:
        body = wire.member_body(email=email or None, first_name=first_name, last_name=last_name, status=status,
                                tier_id=tier_id)
        return self.request(wire.MEMBER_UPDATE, resource_id=member_id, body=body,
                            idempotency_key=idempotency_key).data

    def member_search(self, *, external_id: str | None = None, email: str | None = None, query: str | None = None,
                      page: int = 1, page_size: int = 50, fresh: bool = False) -> wire.Page:
        params = wire.member_search_params(external_id=external_id, email=email, query=query, page=page,
                                           page_size=page_size)
        return wire.read_page(self.request(wire.MEMBER_SEARCH, params=params, cache_result=not fresh).data)

    # ---------------------------------------------------------------- tiers, partners, locations
    def tier_create(self, *, name: str, rank: int, point_type: str | None = None, threshold: int | None = None,
                    description: str | None = None, idempotency_key: str | None = None) -> dict[str, Any]:
        body = wire.tier_body(name=name, rank=rank, point_type=point_type, threshold=threshold,
                              description=description)
        return self.request(wire.TIER_CREATE, body=body, idempotency_key=idempotency_key).data

    def tier_update(self, *, tier_id: str, name: str | None = None, rank: int | None = None,
                    point_type: str | None = None, threshold: int | None = None, description: str | None = None,
                    idempotency_key: str | None = None) -> dict[str, Any]:
        body = wire.tier_body(name=name, rank=rank, point_type=point_type, threshold=threshold,
                              description=description)
        return self.request(wire.TIER_UPDATE, resource_id=tier_id, body=body, idempotency_key=idempotency_key).data

    def partner_create(self, *, name: str, code: str | None = None, description: str | None = None,
                       idempotency_key: str | None = None) -> dict[str, Any]:
        body = wire.partner_body(name=name, code=code, description=description)
        return self.request(wire.PARTNER_CREATE, body=body, idempotency_key=idempotency_key).data

    def location_create(self, *, name: str, partner_id: str | None = None, address: str | None = None,
                        city: str | None = None, country: str | None = None, latitude: float | None = None,
                        longitude: float | None = None, idempotency_key: str | None = None) -> dict[str, Any]:
        body = wire.location_body(name=name, partner_id=partner_id, address=address, city=city, country=country,
                                  latitude=latitude, longitude=longitude)
        return self.request(wire.LOCATION_CREATE, body=body, idempotency_key=idempotency_key).data


# ------------------------------------------------------------------------------------------ error mapping
def _retry_after(raw: requests.Response) -> float | None:
    value = raw.headers.get(wire.RETRY_AFTER_HEADER)
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        from email.utils import parsedate_to_datetime

        try:
            return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
        except (TypeError, ValueError):
            return None


def _error_from(raw: requests.Response) -> TLPError:
    try:
        body = raw.json()
    except ValueError:
        body = None
    info = wire.read_error(body)
    status = raw.status_code
    message = info.message or f"TLP answered {status}."
    kwargs = {"status": status, "code": info.code, "fields": info.fields}
    if status in RETRYABLE_STATUSES:
        return TLPUnavailable(message, retry_after=_retry_after(raw), **kwargs)
    if status in (401, 403):
        return TLPAuthError(message, **kwargs)
    if status == 404:
        return TLPNotFound(message, **kwargs)
    if info.code == wire.ErrorCode.INSUFFICIENT_BALANCE:
        return TLPInsufficientBalance(message, **kwargs)
    if status == 409:
        return TLPConflict(message, **kwargs)
    if status in (400, 413, 422):
        return TLPValidationError(message, **kwargs)
    return TLPError(message, **kwargs)


def _transport_code(exc: requests.RequestException) -> str:
    if isinstance(exc, requests.ConnectTimeout):
        return "connect_timeout"
    if isinstance(exc, requests.Timeout):
        return "read_timeout"
    if isinstance(exc, requests.ConnectionError):
        return "connection_error"
    if isinstance(exc, requests.exceptions.InvalidURL | requests.exceptions.MissingSchema):
        return "invalid_url"
    return "transport_error"


def _transport_message(exc: requests.RequestException) -> str:
    # Never the exception's own text: it can quote the URL, and a URL may carry credentials.
    host = urlsplit(exc.request.url).hostname if exc.request is not None and exc.request.url else None
    messages = {
        "connect_timeout": "Timed out connecting to TLP",
        "read_timeout": "TLP did not answer in time",
        "connection_error": "Could not connect to TLP",
        "invalid_url": "The TLP endpoint URL is not valid",
    }
    text = messages.get(_transport_code(exc), "The request to TLP failed")
    return f"{text} ({host})." if host else f"{text}."
