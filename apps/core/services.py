"""Core writes shared by every app: job-run bookkeeping, session housekeeping, Idempotency-Key records."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.sessions.models import Session
from django.db import IntegrityError, OperationalError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

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
# How long a retry waits for the first request holding the same key before it is told to come back.
IDEMPOTENCY_LOCK_WAIT_MS_DEFAULT = 200
_LOCK_NOT_AVAILABLE = "55P03"


@dataclass(frozen=True)
class IdempotencyClaim:
    """``replay`` is true when ``record`` holds a completed response to send back instead of running."""

    record: IdempotencyRecord
    replay: bool


@contextmanager
def _lock_wait_bounded(milliseconds: int) -> Iterator[None]:
    # SET LOCAL lasts until the end of the transaction; restore it so the view's own row locks
    # (e.g. a points balance FOR UPDATE) wait as long as they normally would.
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('lock_timeout'), set_config('lock_timeout', %s, true)",
                       [f"{int(milliseconds)}ms"])
        previous = cursor.fetchone()[0]
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT set_config('lock_timeout', %s, true)", [previous])


def _in_progress() -> ConflictError:
    return ConflictError(_("A request with this Idempotency-Key is still being processed. Retry later."),
                         code="idempotency_in_progress")


def idempotency_record_claim(
    *, key: str, caller: str, method: str, path: str, request_hash: str, now: datetime | None = None
) -> IdempotencyClaim:
    """Claim ``key`` for ``caller`` inside the caller's open transaction.

    Either inserts a pending record (the caller runs the write, then ``idempotency_record_complete`` in the
    same transaction) or returns the completed record to replay. Refuses with 409 ``idempotency_key_reused``
    when the key was used for another method, path or body, and 409 ``idempotency_in_progress`` while
    another transaction holds the key.
    """
    if not connection.in_atomic_block:
        raise RuntimeError("idempotency_record_claim must run inside transaction.atomic()")
    now = now or timezone.now()
    wait_ms = getattr(settings, "IDEMPOTENCY_LOCK_WAIT_MS", IDEMPOTENCY_LOCK_WAIT_MS_DEFAULT)
    expires_at = now + timedelta(seconds=settings.IDEMPOTENCY_TTL_SECONDS)
    try:
        with _lock_wait_bounded(wait_ms):
            # Insert first: a fresh key (the usual case) costs one statement. Only when the key is taken is an
            # expired record looked for; it no longer protects anything, so the key then starts afresh.
            for _attempt in range(2):
                try:
                    with transaction.atomic():
                        record = IdempotencyRecord.objects.create(
                            key=key, caller=caller, method=method, path=path, request_hash=request_hash,
                            status=IdempotencyRecord.Status.PENDING, expires_at=expires_at,
                        )
                    return IdempotencyClaim(record=record, replay=False)
                except IntegrityError:
                    pass
                with transaction.atomic():
                    expired, _per_model = IdempotencyRecord.objects.filter(
                        caller=caller, key=key, expires_at__lte=now).delete()
                if not expired:
                    break
    except OperationalError as exc:
        # The unique index made us wait on a transaction that still holds this key: it is in flight.
        if getattr(exc.__cause__, "sqlstate", None) == _LOCK_NOT_AVAILABLE:
            raise _in_progress() from exc
        raise

    existing = IdempotencyRecord.objects.filter(caller=caller, key=key).first()
    if existing is None or existing.status != IdempotencyRecord.Status.COMPLETED:
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
    record.save(update_fields=["status", "response_status", "response_body", "response_headers", "updated_at"])
    return record


def idempotency_record_purge(*, now: datetime | None = None) -> int:
    """Delete the current schema's expired idempotency records; returns how many went."""
    deleted, _per_model = IdempotencyRecord.objects.filter(expires_at__lte=now or timezone.now()).delete()
    return deleted
