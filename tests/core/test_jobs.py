"""apps/core/jobs.py in-process: enqueueing on commit, JobRun bookkeeping, per-tenant beat schedules, fan-out.

Messages really go to the Redis broker (into a scratch queue deleted afterwards); what was sent is read
from Celery's ``before_task_publish`` signal.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import timedelta

import pytest
from celery.signals import before_task_publish
from django.contrib.sessions.models import Session
from django.db import connection, transaction
from django.utils import timezone
from django_celery_beat.models import CrontabSchedule, PeriodicTask
from django_celery_beat.schedulers import DatabaseScheduler
from django_tenants.utils import schema_context

from apps.core.errors import ApplicationError, NotFoundError
from apps.core.jobs import (
    enqueue_on_commit,
    job_error_text,
    periodic_task_list,
    periodic_task_schedule,
    periodic_task_unschedule,
    tenant_job,
)
from apps.core.models import JobRun
from apps.core.tasks import run_for_all_tenants, session_purge_expired_task
from apps.tenants.models import Client
from incentiva.celery import app as celery_app
from tests.support import broker_queue_delete

PURGE = "core.session_purge_expired"


@tenant_job(name="tests.core.job_that_fails")
def job_that_fails(broker_url: str) -> None:
    raise RuntimeError(f"could not reach {broker_url} (password=hunter2)")


@tenant_job(name="tests.core.job_that_retries_once", bind=True, max_retries=1)
def job_that_retries_once(self) -> str:  # type: ignore[no-untyped-def]
    if self.request.retries == 0:
        raise self.retry(countdown=0, exc=ConnectionError("upstream busy"))
    return "done"


@pytest.fixture
def scratch_queue() -> Iterator[str]:
    name = f"test-jobs-{uuid.uuid4().hex[:12]}"
    yield name
    broker_queue_delete(name)


@pytest.fixture
def published() -> Iterator[list[dict]]:
    """Every task message published during the test: task name, headers, routing key, kwargs."""
    messages: list[dict] = []

    def record(sender=None, headers=None, routing_key=None, body=None, **kwargs):  # type: ignore[no-untyped-def]
        messages.append({"task": sender, "headers": dict(headers or {}), "routing_key": routing_key,
                         "kwargs": body[1] if body else None})

    before_task_publish.connect(record, weak=False)
    yield messages
    before_task_publish.disconnect(record)


def _expired_session() -> Session:
    return Session.objects.create(session_key=uuid.uuid4().hex, session_data="e30=",
                                  expire_date=timezone.now() - timedelta(days=1))


# ------------------------------------------------------------------------------------------ enqueue_on_commit
def test_enqueue_on_commit_sends_nothing_when_the_transaction_rolls_back(
    tenant, published, scratch_queue, django_capture_on_commit_callbacks
):
    # given an enqueue inside a transaction that then fails
    def enqueue_then_fail() -> None:
        with transaction.atomic():
            enqueue_on_commit(session_purge_expired_task, options={"queue": scratch_queue})
            raise RuntimeError("boom")

    with django_capture_on_commit_callbacks(execute=True) as callbacks, pytest.raises(RuntimeError):
        enqueue_then_fail()

    # then no commit hook survived and nothing reached the broker
    assert callbacks == []
    assert published == []


def test_enqueue_on_commit_sends_after_commit_into_the_schema_current_at_enqueue_time(
    tenant, published, scratch_queue, django_capture_on_commit_callbacks
):
    # given an enqueue made in alpha, and the connection moved to beta before the commit
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        enqueue_on_commit(session_purge_expired_task, options={"queue": scratch_queue})
        enqueue_on_commit(session_purge_expired_task, schema_name="beta", options={"queue": scratch_queue})
        assert published == []  # nothing is sent before the commit
    with schema_context("beta"):
        for callback in callbacks:
            callback()

    # then each message carries the schema chosen at enqueue time, into the requested queue
    assert [m["headers"]["_schema_name"] for m in published] == ["alpha", "beta"]
    assert {m["task"] for m in published} == {PURGE}
    assert {m["routing_key"] for m in published} == {scratch_queue}


# ------------------------------------------------------------------------------------------ tenant_job
def test_tenant_job_records_a_succeeded_run_in_the_schema_of_the_message(tenant):
    # given an expired session in beta and one in alpha
    alpha_session = _expired_session()
    with schema_context("beta"):
        beta_session = _expired_session()

    # when the job is executed for beta (the connection is in alpha)
    result = session_purge_expired_task.apply(task_id="purge-1", headers={"_schema_name": "beta"})

    # then it ran in beta: its session is gone, and beta holds the run record
    assert result.successful()
    assert result.result == 1
    with schema_context("beta"):
        assert not Session.objects.filter(pk=beta_session.pk).exists()
        run = JobRun.objects.get(task_id="purge-1")
    assert run.task_name == PURGE
    assert run.status == JobRun.Status.SUCCEEDED
    assert run.finished_at is not None and run.finished_at >= run.started_at
    assert run.duration_ms is not None and run.duration_ms >= 0
    assert run.error == ""
    # and alpha was not touched
    assert connection.schema_name == "alpha"
    assert Session.objects.filter(pk=alpha_session.pk).exists()
    assert not JobRun.objects.filter(task_id="purge-1").exists()


def test_tenant_job_skips_a_redelivery_of_a_task_id_that_already_succeeded(tenant):
    # given a purge that already ran to completion under this task id
    session_purge_expired_task.apply(task_id="purge-2", headers={"_schema_name": "alpha"})
    expired = _expired_session()

    # when the broker redelivers the same message
    result = session_purge_expired_task.apply(task_id="purge-2", headers={"_schema_name": "alpha"})

    # then the body did not run again and no second run was recorded
    assert result.result is None
    assert Session.objects.filter(pk=expired.pk).exists()
    assert JobRun.objects.filter(task_id="purge-2").count() == 1


def test_tenant_job_records_a_failure_without_secrets(tenant):
    # when a job fails with credentials in its error message
    result = job_that_fails.apply(args=["redis://worker:s3cr3t@cache.internal:6379/0"], task_id="fail-1",
                                  headers={"_schema_name": "alpha"})

    # then the run is failed with the error class and message, credentials redacted
    assert result.failed()
    run = JobRun.objects.get(task_id="fail-1")
    assert run.status == JobRun.Status.FAILED
    assert run.error.startswith("RuntimeError: could not reach redis://***@cache.internal:6379/0")
    assert "s3cr3t" not in run.error
    assert "hunter2" not in run.error
    assert run.finished_at is not None


def test_tenant_job_records_a_retry_then_the_successful_attempt(tenant):
    result = job_that_retries_once.apply(task_id="retry-1", headers={"_schema_name": "alpha"})

    assert result.result == "done"
    runs = list(JobRun.objects.filter(task_id="retry-1").order_by("started_at"))
    assert [run.status for run in runs] == [JobRun.Status.RETRIED, JobRun.Status.SUCCEEDED]
    assert "upstream busy" in runs[0].error


@pytest.mark.parametrize(
    ("message", "secret"),
    [
        ("postgres://app:pa55@db/x refused", "pa55"),
        ("token=abc.def.ghi expired", "abc.def.ghi"),
        ("Authorization: Bearer eyJhbGciOi", "eyJhbGciOi"),
        ("api_key='k-123' rejected", "k-123"),
    ],
)
def test_job_error_text_redacts_credentials(message, secret):
    text = job_error_text(ValueError(message))
    assert text.startswith("ValueError: ")
    assert secret not in text


# ------------------------------------------------------------------------------------------ beat schedules
def test_periodic_task_schedule_creates_then_updates_a_tenant_entry(tenant):
    # when alpha schedules a purge every 10 minutes
    periodic = periodic_task_schedule(schema_name="alpha", name="purge", task=session_purge_expired_task,
                                      every_seconds=600, kwargs={"limit": 5})

    # then a public PeriodicTask named after the tenant sends the task into alpha
    assert periodic.name == "alpha:purge"
    assert periodic.task == PURGE
    assert json.loads(periodic.headers) == {"_schema_name": "alpha"}
    assert json.loads(periodic.kwargs) == {"limit": 5}
    assert periodic.interval.every == 600
    assert periodic.crontab is None
    assert periodic.enabled

    # when the same entry moves to a crontab and is disabled
    updated = periodic_task_schedule(schema_name="alpha", name="purge", task=PURGE, crontab="30 3 * * 1",
                                     enabled=False)

    # then it is the same row, now on the crontab only
    assert updated.pk == periodic.pk
    updated.refresh_from_db()
    assert updated.interval is None
    assert (updated.crontab.minute, updated.crontab.hour, updated.crontab.day_of_week) == ("30", "3", "1")
    assert not updated.enabled
    assert [p.name for p in periodic_task_list(schema_name="alpha")] == ["alpha:purge"]
    assert periodic_task_list(schema_name="beta") == []


@pytest.mark.parametrize(
    ("arguments", "error"),
    [
        ({"every_seconds": 60, "crontab": "* * * * *"}, ApplicationError),
        ({}, ApplicationError),
        ({"every_seconds": 0}, ApplicationError),
        ({"crontab": "61 * * * *"}, ApplicationError),
        ({"crontab": "* * *"}, ApplicationError),
        ({"every_seconds": 60, "task": "core.no_such_task"}, ApplicationError),
        ({"every_seconds": 60, "kwargs": {"when": object()}}, ApplicationError),
        ({"every_seconds": 60, "schema_name": "nosuchtenant"}, NotFoundError),
        ({"every_seconds": 60, "schema_name": "tenant_template"}, NotFoundError),
    ],
)
def test_periodic_task_schedule_refuses_bad_input_and_writes_nothing(tenant, arguments, error):
    before = (PeriodicTask.objects.count(), CrontabSchedule.objects.count())
    call = {"schema_name": "alpha", "name": "bad", "task": PURGE, **arguments}

    with pytest.raises(error):
        periodic_task_schedule(**call)

    assert (PeriodicTask.objects.count(), CrontabSchedule.objects.count()) == before


def test_periodic_task_unschedule_removes_only_that_tenants_entry(tenant):
    periodic_task_schedule(schema_name="alpha", name="purge", task=PURGE, every_seconds=60)
    periodic_task_schedule(schema_name="beta", name="purge", task=PURGE, every_seconds=60)

    assert periodic_task_unschedule(schema_name="alpha", name="purge") is True

    assert not PeriodicTask.objects.filter(name="alpha:purge").exists()
    assert PeriodicTask.objects.filter(name="beta:purge").exists()
    assert periodic_task_unschedule(schema_name="alpha", name="purge") is False


def test_beat_database_scheduler_sends_the_entry_into_its_tenant(committed, published, scratch_queue):
    # given the same schedule name in alpha and beta (committed: beat reads and syncs on its own terms)
    for schema in ("alpha", "beta"):
        periodic_task_schedule(schema_name=schema, name="purge", task=PURGE, every_seconds=3600,
                               queue=scratch_queue)
        committed.on_cleanup(lambda schema=schema: periodic_task_unschedule(schema_name=schema, name="purge"))
    assert connection.schema_name == "public"  # beat runs in the public schema

    # when django-celery-beat's scheduler, on the real app, applies alpha's entry
    scheduler = DatabaseScheduler(app=celery_app)
    scheduler.apply_entry(scheduler.schedule["alpha:purge"])

    # then exactly one message went out, for alpha, to the entry's queue
    assert len(published) == 1
    message = published[0]
    assert message["task"] == PURGE
    assert message["headers"]["_schema_name"] == "alpha"
    assert message["headers"]["periodic_task_name"] == "alpha:purge"
    assert message["routing_key"] == scratch_queue

    # and beta's entry goes to beta
    scheduler.apply_entry(scheduler.schedule["beta:purge"])
    assert published[1]["headers"]["_schema_name"] == "beta"


# ------------------------------------------------------------------------------------------ fan-out
def test_run_for_all_tenants_sends_once_per_active_tenant(tenant, published, scratch_queue):
    # given beta suspended (inside the test transaction)
    Client.objects.filter(schema_name="beta").update(status=Client.Status.SUSPENDED)
    active = set(
        Client.objects.filter(status=Client.Status.ACTIVE).exclude(schema_name__in=["public", "tenant_template"])
        .values_list("schema_name", flat=True)
    )

    # when the platform fan-out runs
    result = run_for_all_tenants.apply(kwargs={"task_name": PURGE, "kwargs": {}, "queue": scratch_queue},
                                       headers={"_schema_name": "public"})

    # then one purge was sent into each active tenant and none into beta, public or the template
    assert result.successful(), result.traceback
    sent = [m for m in published if m["task"] == PURGE]
    schemas = sorted(m["headers"]["_schema_name"] for m in sent)
    assert schemas == sorted(active) == sorted(result.result)
    assert "alpha" in schemas
    assert not {"beta", "public", "tenant_template"} & set(schemas)
    assert {m["routing_key"] for m in sent} == {scratch_queue}


def test_run_for_all_tenants_refuses_an_unknown_task_and_sends_nothing(tenant, published, scratch_queue):
    result = run_for_all_tenants.apply(kwargs={"task_name": "core.no_such_task", "queue": scratch_queue},
                                       headers={"_schema_name": "public"})

    assert result.failed()
    assert isinstance(result.result, ApplicationError)
    assert [m for m in published if m["task"] == "core.no_such_task"] == []
