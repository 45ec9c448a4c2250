"""The TLP tasks: in-process, and once through a real Celery worker process (h3's ``worker`` fixture)."""

from __future__ import annotations

import time
import uuid

import pytest
from django.db import transaction
from django_tenants.utils import schema_context

from apps.core.jobs import enqueue_on_commit
from apps.core.models import JobRun
from apps.tlp.models import TLPConfiguration, TLPEntity, TLPOutbox, TLPReconciliationReport
from apps.tlp.services import tlp_configure, tlp_outbox_enqueue
from apps.tlp.tasks import outbox_deliver, reconcile
from tests.core.test_celery_worker import worker  # noqa: F401 - the real worker fixture, reused
from tests.factories.tlp import accrual_payload


def test_the_delivery_task_drains_the_outbox(tlp_configured, sandbox_clean, tlp_key):
    for number in range(5):
        tlp_outbox_enqueue(operation="accrue", payload=accrual_payload(3), member_key=f"participant:{number % 2}",
                           idempotency_key=f"t-{number}")
    result = outbox_deliver()
    assert result["delivered"] == 5 and result["outage"] == ""
    assert sandbox_clean.stats(tlp_key)["transactions"]["accrue"]["count"] == 5
    assert JobRun.objects.filter(task_name="tlp.outbox_deliver", status="succeeded").exists()


def test_the_reconciliation_task_stores_a_report(tlp_configured):
    result = reconcile()
    assert result["status"] == "ok"
    assert TLPReconciliationReport.objects.get().status == "ok"


def _tlp_cleanup() -> None:
    with schema_context("alpha"):
        TLPOutbox.objects.all().delete()
        TLPEntity.objects.all().delete()
        TLPReconciliationReport.objects.all().delete()
        TLPConfiguration.objects.all().delete()


@pytest.mark.worker
def test_a_real_worker_delivers_the_outbox(worker, committed, sandbox_clean):  # noqa: F811
    api_key = sandbox_clean.account()
    task_id = f"tlp-{uuid.uuid4()}"
    committed.on_cleanup(_tlp_cleanup)
    committed.on_cleanup(lambda: _delete_runs(task_id))
    with schema_context("alpha"):
        tlp_configure(endpoint_url=sandbox_clean.url, api_key=api_key)
        with transaction.atomic():
            for number in range(6):
                tlp_outbox_enqueue(operation="accrue", payload=accrual_payload(7),
                                   member_key=f"participant:{number % 3}", idempotency_key=f"w-{uuid.uuid4()}")
            enqueue_on_commit(outbox_deliver, options={"queue": worker.queue, "task_id": task_id})

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with schema_context("alpha"):
            run = JobRun.objects.filter(task_id=task_id).exclude(status=JobRun.Status.RUNNING).first()
        if run is not None:
            break
        time.sleep(0.2)
    assert run is not None, worker.log.read_text()[-3000:]
    assert run.status == JobRun.Status.SUCCEEDED, run.error
    with schema_context("alpha"):
        assert set(TLPOutbox.objects.values_list("status", flat=True)) == {"delivered"}
    assert sandbox_clean.stats(api_key)["transactions"]["accrue"] == {"count": 6, "points": 42}


def _delete_runs(task_id: str) -> None:
    with schema_context("alpha"):
        JobRun.objects.filter(task_id=task_id).delete()
