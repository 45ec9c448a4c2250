"""Acceptance: with TLP failing 30 % of requests (half of them after applying the write), adding latency and
leaving some requests unanswered, 1,000 accruals across 50 members all arrive exactly once once the faults
stop: the sandbox's count and sum equal ours, and reconciliation finds no drift."""

from __future__ import annotations

import random
import time

import pytest

from apps.tlp.models import TLPOutbox
from apps.tlp.services import tlp_configure, tlp_outbox_deliver, tlp_outbox_drain, tlp_reconcile
from tests.factories.tlp import accrual_payload

MEMBERS = 50
ACCRUALS = 1000


@pytest.mark.slow  # about 20-40 s on a shared two-core machine
def test_a_thousand_accruals_arrive_exactly_once_through_faults(tenant, sandbox_clean, settings):
    settings.TLP_OUTBOX_MAX_ATTEMPTS = 1000  # this test is about exactly-once, not about giving up
    settings.TLP_OUTBOX_CONCURRENCY = 8
    settings.TLP_OUTBOX_ROWS_PER_MEMBER = 5  # short calls, so the faults stop between two of them
    api_key = sandbox_clean.account()
    tlp_configure(endpoint_url=sandbox_clean.url, api_key=api_key, connect_timeout=1.0, read_timeout=0.5)
    rng = random.Random(20260101)
    ours: dict[tuple[str, str], int] = {}
    from apps.tlp.services import tlp_outbox_enqueue

    for number in range(ACCRUALS):
        member_key = f"participant:{number % MEMBERS:02d}"
        points = rng.randint(1, 500)
        tlp_outbox_enqueue(operation="accrue", payload=accrual_payload(points, "campaign:acceptance", "Acceptance"),
                           member_key=member_key, idempotency_key=f"acceptance-{number}", source_type="test",
                           source_id=str(number))
        ours[(member_key, "campaign:acceptance")] = ours.get((member_key, "campaign:acceptance"), 0) + points

    sandbox_clean.faults(error_rate=0.3, timeout_rate=0.05, latency_min_ms=5, latency_max_ms=40, hang_seconds=1.0,
                         after_apply_share=0.5, rate_limit_share=0.1, retry_after_seconds=0)
    # The fault phase lasts until enough faults have hit, not for a wall-clock window (a slower machine
    # would see fewer); the time bound only stops a broken run.
    started = time.monotonic()
    rounds_with_faults = 0
    faults_injected = 0
    while (faults_injected < 120 and time.monotonic() - started < 120
           and TLPOutbox.objects.exclude(status="delivered").exists()):
        tlp_outbox_deliver(limit=25)
        rounds_with_faults += 1
        faults_injected = sandbox_clean.stats(api_key)["faultsInjected"]
    sandbox_clean.faults_off()

    tlp_outbox_drain()

    assert faults_injected > 100 and rounds_with_faults > 1
    statuses = dict.fromkeys(["pending", "in_flight", "dead"], 0)
    for status in TLPOutbox.objects.exclude(status="delivered").values_list("status", flat=True):
        statuses[status] += 1
    assert statuses == {"pending": 0, "in_flight": 0, "dead": 0}
    stats = sandbox_clean.stats(api_key)
    assert stats["transactions"]["accrue"] == {"count": ACCRUALS, "points": sum(ours.values())}
    assert stats["duplicateReferences"] == []
    assert stats["members"] == MEMBERS and stats["pointTypes"] == 1
    assert stats["replays"] > 0  # some writes were applied, lost on the way back, and replayed
    report = tlp_reconcile(balances=ours)
    assert (report.status, report.members_checked, report.members_drifting) == ("ok", MEMBERS, 0)
