"""``Idempotency-Key`` for DRF write endpoints: a retried write answers with the first response.

Usage, on a viewset method or an ``@action``::

    @idempotent
    def create(self, request, *args, **kwargs): ...

- no header: the view runs normally, unless the view sets ``idempotency_required = True`` (400);
- first request with a key: the view body and the stored record commit in one transaction;
  2xx and 4xx answers are stored (except 409 and 429, which are worth retrying), 5xx never. A view that
  fails with a client error has its writes rolled back with the whole transaction (no savepoint around the
  view: the usual, successful request pays nothing for the rare failing one), and its error answer is then
  stored under the key in a transaction of its own;
- same key, same method, path and body: the stored answer, with ``Idempotent-Replayed: true``;
- same key, another path or body: 409 ``idempotency_key_reused``;
- same key while the first request is still running: 409 ``idempotency_in_progress``.

Keys are scoped per tenant (the record lives in the tenant's schema) and per caller (user, OAuth
application or API key), and expire after ``settings.IDEMPOTENCY_TTL_SECONDS``.

A response that carries a secret shown once (a new API key, a client secret) names it in
``@idempotent(redact=("key",))``: the stored copy, and so a replay, has ``null`` there, because secrets
are never stored in clear.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
from collections.abc import Callable
from typing import Any

from django.db import transaction
from django.http.request import RawPostDataException
from django.utils.translation import gettext as _
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.encoders import JSONEncoder

from apps.core.errors import ApplicationError
from apps.core.services import idempotency_record_claim, idempotency_record_complete

IDEMPOTENCY_HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
KEY_MAX_LENGTH = 255
# Response headers worth replaying (the rest are recomputed for every response).
_STORED_HEADERS = ("Location", "Content-Location")


class _Discard(Exception):  # noqa: N818 - control flow, not an error
    """Carries a response that must not be stored out of the transaction, rolling it back."""

    def __init__(self, response: Response) -> None:
        super().__init__()
        self.response = response


class _Failed(Exception):  # noqa: N818 - control flow, not an error
    """Carries what the view raised out of the transaction, rolling back its writes and the claim."""

    def __init__(self, error: Exception) -> None:
        super().__init__()
        self.error = error


def idempotency_caller(request: Request) -> str:
    """Who a key belongs to: the OAuth application (and its user), the API key, the user, or ``anon``."""
    auth = getattr(request, "auth", None)
    application = getattr(auth, "application", None)
    client_id = getattr(application, "client_id", None)
    user = getattr(request, "user", None)
    user_id = user.pk if user is not None and user.is_authenticated else None
    if client_id:
        return f"oauth:{client_id}" + (f":{user_id}" if user_id else "")
    client_ident = getattr(auth, "client_ident", None)
    if client_ident:
        return str(client_ident)
    if user_id:
        return f"user:{user_id}"
    return "anon"


def request_fingerprint(request: Request) -> str:
    """SHA-256 of the body; a JSON body is canonicalised first so key order and spacing do not matter."""
    try:
        raw = request.body
    except RawPostDataException:
        # The stream was consumed before us (e.g. a multipart upload): fall back to the parsed data.
        raw = json.dumps(request.data, sort_keys=True, cls=JSONEncoder).encode()
    with contextlib.suppress(ValueError):
        raw = json.dumps(json.loads(raw), sort_keys=True, separators=(",", ":")).encode()
    return hashlib.sha256(raw).hexdigest()


def _storable(status_code: int) -> bool:
    return 200 <= status_code < 300 or (400 <= status_code < 500 and status_code not in (409, 429))


def _stored_body(data: Any, redact: tuple[str, ...]) -> Any:
    body = None if data is None else json.loads(json.dumps(data, cls=JSONEncoder))
    if redact and isinstance(body, dict):
        body = {name: (None if name in redact else value) for name, value in body.items()}
    return body


def _replay(record: Any) -> Response:
    headers = {**(record.response_headers or {}), REPLAYED_HEADER: "true"}
    return Response(record.response_body, status=record.response_status, headers=headers)


def _store_failure(view: Any, request: Request, error: Exception, *, key: str, caller: str, fingerprint: str,
                   redact: tuple[str, ...]) -> Response:
    """The answer to a view that raised, after its transaction was rolled back: a client error is stored under
    the key, in a transaction of its own (unless another request took the key meanwhile: then that one's
    answer stands, and this one is returned unstored). Anything else propagates, as without a key."""
    response = view.handle_exception(error)  # re-raises what the exception handler does not turn into a response
    if not _storable(response.status_code):
        return response
    try:
        with transaction.atomic():
            claim = idempotency_record_claim(key=key, caller=caller, method=request.method,
                                             path=request.get_full_path(), request_hash=fingerprint)
            if claim.replay:
                return _replay(claim.record)
            idempotency_record_complete(record=claim.record, status_code=response.status_code,
                                        body=_stored_body(getattr(response, "data", None), redact), headers={})
    except ApplicationError:
        pass  # in progress elsewhere, or reused for another body: the key is someone else's now
    return response


def idempotent(
    handler: Callable[..., Response] | None = None, *, redact: tuple[str, ...] = ()
) -> Any:
    """Make a DRF view method honour the ``Idempotency-Key`` header (see the module docstring).
    ``@idempotent`` or ``@idempotent(redact=("secret_field",))``."""
    if handler is None:
        return functools.partial(idempotent, redact=tuple(redact))

    @functools.wraps(handler)
    def wrapper(self: Any, request: Request, *args: Any, **kwargs: Any) -> Response:
        key = (request.headers.get(IDEMPOTENCY_HEADER) or "").strip()
        if not key:
            if getattr(self, "idempotency_required", False):
                message = _("This request needs an Idempotency-Key header.")
                raise ApplicationError(message, code="idempotency_key_required",
                                       fields={IDEMPOTENCY_HEADER: [message]})
            return handler(self, request, *args, **kwargs)
        if len(key) > KEY_MAX_LENGTH or not key.isprintable():
            message = _("An Idempotency-Key has at most 255 printable characters.")
            raise ApplicationError(message, code="invalid_idempotency_key", fields={IDEMPOTENCY_HEADER: [message]})

        caller = idempotency_caller(request)
        fingerprint = request_fingerprint(request)
        try:
            with transaction.atomic():
                claim = idempotency_record_claim(key=key, caller=caller, method=request.method,
                                                 path=request.get_full_path(), request_hash=fingerprint)
                if claim.replay:
                    return _replay(claim.record)
                try:
                    response = handler(self, request, *args, **kwargs)
                except Exception as exc:
                    raise _Failed(exc) from exc
                if not _storable(response.status_code):
                    raise _Discard(response)
                headers = {name: response[name] for name in _STORED_HEADERS if response.has_header(name)}
                idempotency_record_complete(record=claim.record, status_code=response.status_code,
                                            body=_stored_body(getattr(response, "data", None), redact),
                                            headers=headers)
                return response
        except _Discard as discard:
            return discard.response
        except _Failed as failed:
            return _store_failure(self, request, failed.error, key=key, caller=caller, fingerprint=fingerprint,
                                  redact=redact)

    wrapper.idempotent = True  # type: ignore[attr-defined]  # read by the OpenAPI schema (header parameter)
    return wrapper
