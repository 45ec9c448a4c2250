"""Core writes shared by every app: job-run bookkeeping, session housekeeping, Idempotency-Key records."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.sessions.models import Session
from django.db import connection
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.core.compiled_query import row_update
from apps.core.errors import ConflictError
from apps.core.models import IdempotencyRecord, JobRun

# ------------------------------------------------------------------------------------------ job runs

JOB_ERROR_MAX_LENGTH = 2000


def job_run_start(*, task_name: str, task_id: str = "") -> JobRun:
    """Record that a job started in the current schema (committed at once outside a transaction)."""
    return JobRun.objects.create(task_name=task_name[:200], task_id=(task_id or "")[:255],
                                 status=JobRun.Status.RUNNING, started_at=timezone.now())


def job_run_finish(*, job_run: JobRun, status: str, error: str = "") -> JobRun:
    """Close a job run with its outcome and duration. ``error`` must already be free of secrets."""
    if status not in (JobRun.Status.SUCCEEDED, JobRun.Status.FAILED, JobRun.Status.RETRIED):
        raise ValueError(f"not a final job status: {status!r}")
    job_run.finished_at = timezone.now()
    job_run.duration_ms = max(0, round((job_run.finished_at - job_run.started_at).total_seconds() * 1000))
    job_run.status = status
    job_run.error = error[:JOB_ERROR_MAX_LENGTH]
    job_run.save(update_fields=["finished_at", "duration_ms", "status", "error", "updated_at"])
    return job_run


def session_purge_expired() -> int:
    """Delete the current schema's expired sessions; returns how many went."""
    deleted, _per_model = Session.objects.filter(expire_date__lt=timezone.now()).delete()
    return deleted


# ------------------------------------------------------------------------------------------ idempotency

@dataclass(frozen=True)
class IdempotencyClaim:
    """``replay`` is true when ``record`` holds a completed response to send back instead of running."""

    record: IdempotencyRecord
    replay: bool


def _in_progress() -> ConflictError:
    return ConflictError(_("A request with this Idempotency-Key is still being processed. Retry later."),
                         code="idempotency_in_progress")


# One statement claims a fresh key (the usual case): a transaction-level advisory lock on the key, taken
# without waiting, and the pending record inserted only if the lock was free and no record holds the key. A
# retry of a request still running finds the lock taken and is answered at once, never waits on a row lock.
_CLAIM_SQL = (
    "WITH lock AS (SELECT pg_try_advisory_xact_lock(%s) AS held), "
    'claimed AS (INSERT INTO "core_idempotencyrecord" ("id", "created_at", "updated_at", "key", "caller", "method", '
    '"path", "request_hash", "status", "response_headers", "expires_at") '
    "SELECT %s, %s, %s, %s, %s, %s, %s, %s, %s, '{}'::jsonb, %s FROM lock WHERE lock.held "
    "ON CONFLICT DO NOTHING RETURNING 1) "
    "SELECT lock.held, EXISTS (SELECT 1 FROM claimed) FROM lock"
)


def _claim_lock_id(caller: str, key: str) -> int:
    """The advisory lock of (schema, caller, key): 64 bits of a hash. Advisory locks are database-wide, hence
    the schema; two keys sharing an id (about never) would only answer "in progress" to each other."""
    text = f"{connection.schema_name}\x00{caller}\x00{key}".encode()
    return int.from_bytes(hashlib.blake2b(text, digest_size=8).digest(), "big", signed=True)


def idempotency_record_claim(
    *, key: str, caller: str, method: str, path: str, request_hash: str, now: datetime | None = None
) -> IdempotencyClaim:
    """Claim ``key`` for ``caller`` inside the caller's open transaction.

    Either inserts a pending record (the caller runs the write, then ``idempotency_record_complete`` in the
    same transaction) or returns the completed record to replay. Refuses with 409 ``idempotency_key_reused``
    when the key was used for another method, path or body, and 409 ``idempotency_in_progress`` while
    another transaction holds the key. An expired record no longer protects anything: the key starts afresh.
    """
    if not connection.in_atomic_block:
        raise RuntimeError("idempotency_record_claim must run inside transaction.atomic()")
    now = now or timezone.now()
    expires_at = now + timedelta(seconds=settings.IDEMPOTENCY_TTL_SECONDS)
    existing = None
    for _attempt in range(2):
        record = IdempotencyRecord(key=key, caller=caller, method=method, path=path, request_hash=request_hash,
                                   status=IdempotencyRecord.Status.PENDING, expires_at=expires_at,
                                   response_headers={}, created_at=now, updated_at=now)
        with connection.cursor() as cursor:
            cursor.execute(_CLAIM_SQL, [_claim_lock_id(caller, key), record.pk, now, now, key, caller, method, path,
                                        request_hash, record.status, expires_at])
            held, inserted = cursor.fetchone()
        if inserted:
            record._state.adding = False
            record._state.db = connection.alias
            return IdempotencyClaim(record=record, replay=False)
        existing = next(iter(IdempotencyRecord.objects.filter(caller=caller, key=key).order_by()[:1]), None)
        if not held or (existing is not None and existing.expires_at > now):
            break
        # The lock is ours and the record gone (purged meanwhile) or expired: take the key afresh.
        if existing is not None:
            IdempotencyRecord.objects.filter(pk=existing.pk).delete()

    if existing is None or existing.status != IdempotencyRecord.Status.COMPLETED or existing.expires_at <= now:
        raise _in_progress()
    if (existing.method, existing.path, existing.request_hash) != (method, path, request_hash):
        raise ConflictError(
            _("This Idempotency-Key was already used for a different request."),
            code="idempotency_key_reused",
        )
    return IdempotencyClaim(record=existing, replay=True)


def idempotency_record_complete(
    *, record: IdempotencyRecord, status_code: int, body: Any, headers: dict[str, str] | None = None
) -> IdempotencyRecord:
    """Store the response of the claimed request; it becomes visible when the request's transaction commits."""
    record.status = IdempotencyRecord.Status.COMPLETED
    record.response_status = status_code
    record.response_body = body
    record.response_headers = headers or {}
    # Every request with an Idempotency-Key ends here: one prepared UPDATE (apps/core/compiled_query.py).
    row_update(record, ["status", "response_status", "response_body", "response_headers", "updated_at"])
    return record


def idempotency_record_purge(*, now: datetime | None = None) -> int:
    """Delete the current schema's expired idempotency records; returns how many went."""
    deleted, _per_model = IdempotencyRecord.objects.filter(expires_at__lte=now or timezone.now()).delete()
    return deleted
