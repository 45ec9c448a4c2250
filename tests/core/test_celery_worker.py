"""A real Celery worker process (``celery -A incentiva worker``) against Redis and the test database.

The worker listens only on a queue made for this run, so it never takes another engineer's or test's
messages, and reads committed rows (the ``committed`` fixture), since it has its own connection.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.conf import settings
from django.contrib.sessions.models import Session
from django.db import connection
from django.utils import timezone
from django_tenants.utils import schema_context

from apps.core.jobs import enqueue_on_commit
from apps.core.models import JobRun
from apps.core.tasks import run_for_all_tenants, session_purge_expired_task
from apps.tenants.models import Client
from incentiva.celery import app as celery_app
from tests.support import broker_queue_delete, database_url

pytestmark = pytest.mark.worker

PURGE = "core.session_purge_expired"
WORKER_START_TIMEOUT = 60
JOB_TIMEOUT = 30


def _log_tail(path: Path, lines: int = 60) -> str:
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) if path.exists() else ""


@pytest.fixture(scope="module")
def worker(django_db_setup, tmp_path_factory) -> Iterator[SimpleNamespace]:  # type: ignore[no-untyped-def]
    queue = f"test-worker-{uuid.uuid4().hex[:12]}"
    hostname = f"{queue}@localhost"
    log = tmp_path_factory.mktemp("celery") / "worker.log"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "incentiva.settings.test",
        "DATABASE_URL": database_url(connection.settings_dict),
        "REDIS_URL": settings.REDIS_URL,
        "REDIS_DB_BASE": str(settings.REDIS_DB_BASE),
        "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
    }
    command = [
        str(Path(sys.executable).with_name("celery")), "-A", "incentiva", "worker", "--pool=solo",
        "-Q", queue, "-n", hostname, "--without-gossip", "--without-mingle", "--without-heartbeat",
        "--loglevel=INFO",
    ]
    with log.open("wb") as output:
        process = subprocess.Popen(command, cwd=settings.BASE_DIR, env=env, stdout=output,
                                   stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + WORKER_START_TIMEOUT
        while not celery_app.control.ping(destination=[hostname], timeout=0.5):
            if process.poll() is not None:
                pytest.fail(f"the worker exited with {process.returncode}:\n{_log_tail(log)}")
            if time.monotonic() > deadline:
                pytest.fail(f"the worker did not answer a ping within {WORKER_START_TIMEOUT}s:\n{_log_tail(log)}")
        yield SimpleNamespace(queue=queue, log=log)
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        broker_queue_delete(queue)


def _expired_session() -> Session:
    return Session.objects.create(session_key=uuid.uuid4().hex, session_data="e30=",
                                  expire_date=timezone.now() - timedelta(hours=1))


def _live_session() -> Session:
    return Session.objects.create(session_key=uuid.uuid4().hex, session_data="e30=",
                                  expire_date=timezone.now() + timedelta(hours=1))


def _session_exists(schema: str, session: Session) -> bool:
    with schema_context(schema):
        return Session.objects.filter(pk=session.pk).exists()


def _wait_for_finished_run(worker: SimpleNamespace, schema: str, **filters: object) -> JobRun:
    deadline = time.monotonic() + JOB_TIMEOUT
    while time.monotonic() < deadline:
        with schema_context(schema):
            run = JobRun.objects.filter(**filters).exclude(status=JobRun.Status.RUNNING).first()
        if run is not None:
            return run
        time.sleep(0.2)
    pytest.fail(f"no finished {filters} run in {schema} after {JOB_TIMEOUT}s:\n{_log_tail(worker.log)}")


def _delete_runs(schemas: list[str], **filters: object) -> None:
    for schema in schemas:
        with schema_context(schema):
            JobRun.objects.filter(**filters).delete()


def test_worker_runs_a_tenant_job_in_its_tenant_only(worker, committed):
    # given expired sessions in alpha and beta, and a live one in alpha (all committed)
    alpha_expired = committed.add("alpha", _expired_session)
    alpha_live = committed.add("alpha", _live_session)
    beta_expired = committed.add("beta", _expired_session)
    task_id = f"worker-{uuid.uuid4()}"
    committed.on_cleanup(lambda: _delete_runs(["alpha", "beta"], task_id=task_id))

    # when the purge is enqueued from alpha (outside a transaction, so it is sent at once)
    with schema_context("alpha"):
        enqueue_on_commit(session_purge_expired_task, options={"queue": worker.queue, "task_id": task_id})

    # then the worker ran it in alpha: a succeeded run and alpha's expired session gone
    run = _wait_for_finished_run(worker, "alpha", task_id=task_id)
    assert run.status == JobRun.Status.SUCCEEDED, run.error
    assert run.task_name == PURGE
    assert run.duration_ms is not None
    assert not _session_exists("alpha", alpha_expired)
    assert _session_exists("alpha", alpha_live)
    # and beta was untouched: its expired session is still there and it has no run
    assert _session_exists("beta", beta_expired)
    with schema_context("beta"):
        assert not JobRun.objects.filter(task_id=task_id).exists()


def test_worker_fans_a_platform_job_out_to_every_active_tenant(worker, committed):
    # given expired sessions in alpha and beta
    alpha_expired = committed.add("alpha", _expired_session)
    beta_expired = committed.add("beta", _expired_session)
    started = timezone.now()
    fan_out_id = f"fan-out-{uuid.uuid4()}"
    tenants = list(Client.objects.exclude(schema_name="public").values_list("schema_name", flat=True))
    committed.on_cleanup(lambda: _delete_runs(tenants, task_name=PURGE, started_at__gte=started))
    committed.on_cleanup(lambda: _delete_runs(["public"], task_id=fan_out_id))

    # when the platform fan-out is sent into the public schema
    enqueue_on_commit(run_for_all_tenants, schema_name="public", task_name=PURGE, queue=worker.queue,
                      options={"queue": worker.queue, "task_id": fan_out_id})

    # then it ran in public and each tenant then ran its own purge
    fan_out = _wait_for_finished_run(worker, "public", task_id=fan_out_id)
    assert fan_out.status == JobRun.Status.SUCCEEDED, fan_out.error
    for schema in ("alpha", "beta"):
        run = _wait_for_finished_run(worker, schema, task_name=PURGE, started_at__gte=started)
        assert run.status == JobRun.Status.SUCCEEDED, run.error
    assert not _session_exists("alpha", alpha_expired)
    assert not _session_exists("beta", beta_expired)
    with schema_context("tenant_template"):
        assert not JobRun.objects.filter(started_at__gte=started).exists()
