"""Background jobs: tenant-aware enqueueing, a JobRun record around each execution, per-tenant beat schedules.

The tenant travels with every message in the ``_schema_name`` header (tenant-schemas-celery); the worker
switches its connection to that schema before the task body runs.
"""

from __future__ import annotations

import functools
import json
import logging
import re
from collections.abc import Mapping
from typing import Any

from celery import Task, current_app, shared_task
from celery.exceptions import Retry
from celery.schedules import crontab as celery_crontab
from django.conf import settings
from django.db import connection, transaction
from django.utils.translation import gettext as _
from django_celery_beat.models import CrontabSchedule, IntervalSchedule, PeriodicTask
from django_tenants.utils import get_public_schema_name, schema_context
from tenant_schemas_celery.task import TenantTask

from apps.core.errors import ApplicationError, NotFoundError
from apps.core.models import JobRun
from apps.core.selectors import job_run_has_succeeded
from apps.core.services import job_run_finish, job_run_start

logger = logging.getLogger(__name__)

SCHEMA_HEADER = "_schema_name"
PERIODIC_NAME_SEPARATOR = ":"

_URL_CREDENTIALS = re.compile(r"(?P<scheme>\b[a-z][a-z0-9+.\-]*://)[^\s/@]+@", re.IGNORECASE)
_SECRET_PAIRS = re.compile(
    r"(?P<key>password|passwd|pwd|secret|token|api[_\-]?key|authorization)(?P<sep>\s*[=:]\s*)"
    r"(?P<value>(?:(?:bearer|basic|token)\s+)?(?:\"[^\"]*\"|'[^']*'|[^\s,;&]+))",
    re.IGNORECASE,
)
_BEARER = re.compile(r"\b(?P<key>bearer|basic)\s+(?!\*\*\*)[A-Za-z0-9._~+/=\-]+", re.IGNORECASE)


def job_error_text(exc: BaseException) -> str:
    """The exception's class and message with URL credentials and ``password=…``-style values redacted."""
    text = f"{type(exc).__name__}: {exc}"
    text = _URL_CREDENTIALS.sub(r"\g<scheme>***@", text)
    text = _SECRET_PAIRS.sub(lambda match: f"{match['key']}{match['sep']}***", text)
    return _BEARER.sub(lambda match: f"{match['key']} ***", text)


# ------------------------------------------------------------------------------------------ enqueueing
def enqueue_on_commit(task: Task, *args: Any, schema_name: str | None = None,
                      options: Mapping[str, Any] | None = None, **kwargs: Any) -> None:
    """Send ``task(*args, **kwargs)`` once the current transaction commits (at once outside one), into
    ``schema_name`` or the schema the connection is in now. Nothing is sent if the transaction rolls back.
    ``options`` are extra ``apply_async`` options (queue, countdown, priority)."""
    schema = schema_name or connection.schema_name
    send_options = dict(options or {})
    send_options["headers"] = {**send_options.get("headers", {}), SCHEMA_HEADER: schema}
    transaction.on_commit(functools.partial(task.apply_async, args=args, kwargs=kwargs, **send_options))


# ------------------------------------------------------------------------------------------ job runs
class TenantJob(TenantTask):
    """Base task: records a JobRun in the tenant's schema around each execution.

    With ``acks_late`` a message is redelivered if the worker dies mid-task, so bodies must be idempotent;
    a redelivery of a task id that already succeeded in this schema is skipped instead of run again.
    """

    abstract = True
    acks_late = True
    reject_on_worker_lost = True

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        task_id = self.request.id or ""
        if task_id and job_run_has_succeeded(task_id=task_id):
            logger.info("job %s (%s) already succeeded in %s: skipped", self.name, task_id, connection.schema_name)
            return None
        job_run = job_run_start(task_name=self.name, task_id=task_id)
        try:
            result = super().__call__(*args, **kwargs)
        except Retry as exc:
            _finish_quietly(job_run, JobRun.Status.RETRIED, job_error_text(exc))
            raise
        except Exception as exc:
            _finish_quietly(job_run, JobRun.Status.FAILED, job_error_text(exc))
            raise
        _finish_quietly(job_run, JobRun.Status.SUCCEEDED, "")
        return result


def _finish_quietly(job_run: JobRun, status: str, error: str) -> None:
    # Bookkeeping must never hide the task's own outcome (e.g. when the body broke the connection).
    try:
        job_run_finish(job_run=job_run, status=status, error=error)
    except Exception:
        logger.exception("could not record the end of job run %s", job_run.pk)


def tenant_job(*args: Any, **options: Any) -> Any:
    """Decorator for a tenant-aware task that records JobRuns: ``@tenant_job`` or ``@tenant_job(name=...)``."""
    options.setdefault("base", TenantJob)
    return shared_task(*args, **options)


# ------------------------------------------------------------------------------------------ beat schedules
def periodic_task_full_name(*, schema_name: str, name: str) -> str:
    """PeriodicTask names are unique platform-wide: each tenant's are prefixed with its schema."""
    return f"{schema_name}{PERIODIC_NAME_SEPARATOR}{name}"


def _crontab_fields(expression: str) -> dict[str, str]:
    parts = expression.split()
    if len(parts) != 5:
        raise ApplicationError(_("A crontab needs five fields: minute hour day-of-month month day-of-week."),
                               code="invalid_schedule", fields={"crontab": [expression]})
    fields = dict(zip(["minute", "hour", "day_of_month", "month_of_year", "day_of_week"], parts, strict=True))
    try:
        celery_crontab(**fields)
    except ValueError as exc:
        raise ApplicationError(_("This crontab expression is not valid."), code="invalid_schedule",
                               fields={"crontab": [expression]}) from exc
    return fields


def _tenant_schema_exists(schema_name: str) -> bool:
    from apps.tenants.selectors import tenant_get_by_slug

    if schema_name == settings.TENANT_BASE_SCHEMA:
        return False
    return schema_name == get_public_schema_name() or tenant_get_by_slug(slug=schema_name) is not None


def periodic_task_schedule(
    *,
    schema_name: str,
    name: str,
    task: str | Task,
    every_seconds: int | None = None,
    crontab: str | None = None,
    kwargs: Mapping[str, Any] | None = None,
    enabled: bool = True,
    queue: str | None = None,
) -> PeriodicTask:
    """Create or update the beat entry ``name`` of a tenant (or of the platform, schema ``public``): beat
    sends ``task`` into that schema every ``every_seconds`` or on a five-field UTC ``crontab``.
    Refuses both or neither schedule, an unknown task or schema, and kwargs that are not JSON."""
    task_name = task if isinstance(task, str) else task.name
    if (every_seconds is None) == (crontab is None):
        raise ApplicationError(_("Give either an interval or a crontab."), code="invalid_schedule")
    if every_seconds is not None and every_seconds < 1:
        raise ApplicationError(_("The interval must be at least one second."), code="invalid_schedule",
                               fields={"every_seconds": [str(every_seconds)]})
    cron_fields = _crontab_fields(crontab) if crontab is not None else None
    if task_name not in current_app.tasks:
        raise ApplicationError(_("Unknown task."), code="unknown_task", fields={"task": [task_name]})
    try:
        kwargs_json = json.dumps(dict(kwargs or {}))
    except TypeError as exc:
        raise ApplicationError(_("Task arguments must be JSON."), code="invalid", fields={"kwargs": [str(exc)]}) \
            from exc
    full_name = periodic_task_full_name(schema_name=schema_name, name=name)
    if len(full_name) > 200:
        raise ApplicationError(_("The schedule name is too long."), code="invalid", fields={"name": [name]})

    with schema_context(get_public_schema_name()), transaction.atomic():
        if not _tenant_schema_exists(schema_name):
            raise NotFoundError(_("Unknown tenant."), code="unknown_tenant", fields={"schema_name": [schema_name]})
        interval = None
        cron = None
        if every_seconds is not None:
            interval, _created = IntervalSchedule.objects.get_or_create(every=every_seconds,
                                                                        period=IntervalSchedule.SECONDS)
        else:
            assert cron_fields is not None
            cron = CrontabSchedule.objects.filter(**cron_fields, timezone="UTC").first() \
                or CrontabSchedule.objects.create(**cron_fields, timezone="UTC")
        periodic, _created = PeriodicTask.objects.update_or_create(
            name=full_name,
            defaults={
                "task": task_name,
                "interval": interval,
                "crontab": cron,
                "solar": None,
                "clocked": None,
                "args": "[]",
                "kwargs": kwargs_json,
                "headers": json.dumps({SCHEMA_HEADER: schema_name}),
                "queue": queue,
                "enabled": enabled,
                "one_off": False,
            },
        )
    return periodic


def periodic_task_unschedule(*, schema_name: str, name: str) -> bool:
    """Remove a tenant's beat entry; False when there was none."""
    with schema_context(get_public_schema_name()):
        deleted = 0
        for periodic in PeriodicTask.objects.filter(name=periodic_task_full_name(schema_name=schema_name, name=name)):
            periodic.delete()  # one by one, so PeriodicTask.delete() tells beat that the schedule changed
            deleted += 1
    return deleted > 0


def periodic_task_list(*, schema_name: str) -> list[PeriodicTask]:
    """A tenant's beat entries, by name."""
    prefix = periodic_task_full_name(schema_name=schema_name, name="")
    with schema_context(get_public_schema_name()):
        return list(PeriodicTask.objects.filter(name__startswith=prefix).select_related("interval", "crontab")
                    .order_by("name"))


def send_to_schema(task_name: str, *, schema_name: str, kwargs: Mapping[str, Any] | None = None,
                   queue: str | None = None) -> Any:
    """Send a registered task by name into one schema at once (no transaction coupling)."""
    options: dict[str, Any] = {"headers": {SCHEMA_HEADER: schema_name}}
    if queue:
        options["queue"] = queue
    return current_app.send_task(task_name, kwargs=dict(kwargs or {}), **options)

