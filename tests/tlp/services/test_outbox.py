"""The outbox: rows written with the change they mirror, delivered exactly once, in order per member, with
retries, dead letters and outages handled. Delivery runs in-process against the sandbox over real HTTP."""

from __future__ import annotations

import logging
import threading
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.utils import timezone
from django_tenants.utils import schema_context

from apps.core.errors import ApplicationError
from apps.tlp.models import TLPEntity, TLPOutbox
from apps.tlp.selectors import tlp_outbox_stats
from apps.tlp.services import (
    tlp_health_check,
    tlp_outbox_deliver,
    tlp_outbox_drain,
    tlp_outbox_enqueue,
    tlp_outbox_requeue,
)
from apps.tlp.services.outbox import LEASE, _claim
from tests.factories.tlp import TLPOutboxFactory, accrual_payload

Status = TLPOutbox.Status


def enqueue(member: str, points: int, key: str, operation: str = "accrue", point_type: str = "campaign:q1"):
    return tlp_outbox_enqueue(operation=operation, payload=accrual_payload(points, point_type, "Q1 Points"),
                              member_key=member, idempotency_key=key, source_type="test", source_id=key)


def tlp_balance(sandbox, api_key: str, member_key: str) -> int:
    with sandbox.state.lock:
        account = sandbox.state.accounts[api_key]
        member_id = next(mid for mid, m in account.members.items() if m["externalId"] == member_key)
        return sum(account.balances[member_id].values())


def test_enqueue_is_a_no_op_without_an_active_configuration(tenant):
    assert enqueue("participant:a", 10, "k-1") is None
    assert not TLPOutbox.objects.exists()


def test_enqueue_refuses_to_run_outside_a_transaction(committed):
    with schema_context("alpha"), pytest.raises(RuntimeError):
        enqueue("participant:a", 10, "k-outside")


def test_rows_share_the_fate_of_the_transaction(tlp_configured):
    with pytest.raises(ZeroDivisionError), transaction.atomic():
        enqueue("participant:a", 10, "k-rolled-back")
        1 / 0  # noqa: B018 - the change fails after the row was written
    assert not TLPOutbox.objects.exists()


def test_enqueue_is_idempotent_on_its_key(tlp_configured):
    first = enqueue("participant:a", 10, "k-1")
    again = enqueue("participant:a", 10, "k-1")
    assert first is not None and again is not None and first.pk == again.pk
    assert TLPOutbox.objects.count() == 1


def test_an_invalid_payload_is_refused(tlp_configured):
    with pytest.raises(ApplicationError) as refused:
        tlp_outbox_enqueue(operation="accrue", payload={"points": 0}, member_key="m", idempotency_key="bad")
    assert set(refused.value.fields) == {"points", "point_type"}
    with pytest.raises(ApplicationError):
        tlp_outbox_enqueue(operation="transfer", payload={}, member_key="m", idempotency_key="bad2")
    assert not TLPOutbox.objects.exists()


def test_delivery_creates_members_and_point_type_once_and_sends_each_row(tlp_configured, sandbox_clean, tlp_key):
    for number in range(3):
        enqueue("participant:a", 10 + number, f"a-{number}")
        enqueue("participant:b", 100, f"b-{number}")

    report = tlp_outbox_drain()

    assert report.delivered == 6 and report.dead == 0
    assert set(TLPOutbox.objects.values_list("status", flat=True)) == {Status.DELIVERED}
    stats = sandbox_clean.stats(tlp_key)
    assert stats["transactions"]["accrue"] == {"count": 6, "points": 333}
    assert (stats["members"], stats["pointTypes"]) == (2, 1)
    assert tlp_balance(sandbox_clean, tlp_key, "participant:a") == 33
    assert set(TLPEntity.objects.values_list("kind", "local_ref")) == {
        ("point_type", "campaign:q1"), ("member", "participant:a"), ("member", "participant:b")}
    row = TLPOutbox.objects.first()
    assert row.attempts == 1 and row.delivered_at is not None and row.response["id"].startswith("txn_")


def _claimed_ids(**kwargs) -> list[list[int]]:
    return [[row.pk for row in chain] for chain in _claim(**kwargs)]


def test_each_member_is_claimed_from_its_first_open_row_in_order(tlp_configured):
    a1, a2, a3 = (enqueue("participant:a", n, f"a{n}") for n in (1, 2, 3))
    b1 = enqueue("participant:b", 3, "b1")
    now = timezone.now()

    assert _claimed_ids(limit=10, now=now, per_member=2) == [[a1.pk, a2.pk], [b1.pk]]
    assert _claimed_ids(limit=10, now=now, per_member=2) == []  # a3 waits behind a1 and a2, in flight
    # Leases that ran out (a worker died) make the rows claimable again, still in order and ahead of a3.
    later = now + LEASE + timedelta(seconds=1)
    assert _claimed_ids(limit=10, now=later, per_member=5) == [[a1.pk, a2.pk, a3.pk], [b1.pk]]


def test_a_row_not_due_ends_its_members_chain(tlp_configured):
    a1, a2, a3 = (enqueue("participant:a", n, f"a{n}") for n in (1, 2, 3))
    TLPOutbox.objects.filter(pk=a2.pk).update(next_attempt_at=timezone.now() + timedelta(hours=1))
    assert _claimed_ids(limit=10, now=timezone.now(), per_member=5) == [[a1.pk]]
    assert a3.pk not in {row.pk for row in TLPOutbox.objects.filter(status=Status.IN_FLIGHT)}


def test_a_row_waiting_for_its_retry_holds_back_its_member_only(tlp_configured, sandbox_clean, tlp_key):
    a1 = enqueue("participant:a", 100, "a1")
    enqueue("participant:a", 80, "a2", operation="redeem")
    enqueue("participant:b", 5, "b1")
    TLPOutbox.objects.filter(pk=a1.pk).update(next_attempt_at=timezone.now() + timedelta(hours=1))

    tlp_outbox_drain()
    assert dict(TLPOutbox.objects.values_list("idempotency_key", "status")) == {
        "a1": Status.PENDING, "a2": Status.PENDING, "b1": Status.DELIVERED}

    tlp_outbox_drain(now=timezone.now() + timedelta(hours=2))
    # In order: had the redemption gone first, TLP would have refused it (balance 0).
    assert set(TLPOutbox.objects.values_list("status", flat=True)) == {Status.DELIVERED}
    assert tlp_balance(sandbox_clean, tlp_key, "participant:a") == 20


def test_concurrent_deliverers_skip_rows_another_one_holds(committed, sandbox_clean):
    key = sandbox_clean.account()
    with schema_context("alpha"):
        from apps.tlp.services import tlp_configure

        configuration = tlp_configure(endpoint_url=sandbox_clean.url, api_key=key)
        committed.on_cleanup(lambda: _delete_alpha_tlp())
        with transaction.atomic():
            held = enqueue("participant:held", 1, "held-1")
            behind = enqueue("participant:held", 2, "held-2")
            free = enqueue("participant:free", 3, "free-1")
    assert configuration.pk and held and behind and free
    locked, release = threading.Event(), threading.Event()

    def other_worker() -> None:
        with schema_context("alpha"), transaction.atomic():
            TLPOutbox.objects.select_for_update().get(pk=held.pk)
            locked.set()
            release.wait(10)
        connection.close()

    thread = threading.Thread(target=other_worker)
    thread.start()
    try:
        assert locked.wait(10)
        with schema_context("alpha"):
            claimed = _claimed_ids(limit=10, now=timezone.now(), per_member=5)
        assert claimed == [[free.pk]]  # neither the locked head nor the row behind it
    finally:
        release.set()
        thread.join()


def _delete_alpha_tlp() -> None:
    from apps.tlp.models import TLPConfiguration, TLPReconciliationReport

    with schema_context("alpha"):
        TLPOutbox.objects.all().delete()
        TLPEntity.objects.all().delete()
        TLPReconciliationReport.objects.all().delete()
        TLPConfiguration.objects.all().delete()


def test_failures_are_retried_then_dead_lettered_with_an_alert(tlp_configured, sandbox_clean, settings, caplog):
    settings.TLP_OUTBOX_MAX_ATTEMPTS = 3
    row = enqueue("participant:a", 10, "doomed")
    sandbox_clean.faults(error_rate=1.0, rate_limit_share=0.0, after_apply_share=0.0)
    caplog.set_level(logging.ERROR, logger="apps.tlp.services.outbox")

    later = timezone.now()
    for expected_attempts in (1, 2):
        report = tlp_outbox_deliver(now=later)
        row.refresh_from_db()
        assert (report.retried, row.status, row.attempts) == (1, Status.PENDING, expected_attempts)
        assert "TLPUnavailable" in row.last_error
        later += timedelta(hours=1)
    tlp_outbox_deliver(now=later)

    row.refresh_from_db()
    assert (row.status, row.attempts) == (Status.DEAD, 3)
    assert row.dead_at is not None
    assert any("is dead after 3 attempt(s)" in record.getMessage() for record in caplog.records)
    assert tlp_outbox_stats().dead == 1
    sandbox_clean.faults_off()
    assert tlp_health_check().outbox.dead == 1

    assert tlp_outbox_requeue(row_ids=[row.pk]) == 1
    tlp_outbox_drain()
    row.refresh_from_db()
    assert row.status == Status.DELIVERED


def test_a_refusal_tlp_will_repeat_goes_dead_at_once(tlp_configured, sandbox_clean, tlp_key):
    row = enqueue("participant:a", 50, "overdraft", operation="redeem")
    later = enqueue("participant:a", 5, "after")

    report = tlp_outbox_drain()

    row.refresh_from_db()
    assert (row.status, row.attempts, report.dead) == (Status.DEAD, 1, 1)
    assert "insufficient_balance" in row.last_error
    later.refresh_from_db()
    assert later.status == Status.DELIVERED  # a dead row does not block its member forever
    assert sandbox_clean.stats(tlp_key)["transactions"]["redeem"]["count"] == 0


def test_an_outage_counts_no_attempts_and_everything_goes_once_tlp_is_back(tlp_configured, sandbox_clean, tlp_key):
    for number in range(20):
        enqueue(f"participant:{number % 4}", 10, f"o-{number}")
    port = sandbox_clean.stop()
    try:
        report = tlp_outbox_deliver()
        assert report.outage and report.released == 20 and report.delivered == 0
        assert set(TLPOutbox.objects.values_list("attempts", flat=True)) == {0}
        # Meanwhile the product keeps writing.
        for number in range(20, 30):
            enqueue(f"participant:{number % 4}", 10, f"o-{number}")
        health = tlp_health_check()
        assert health.reachable is False
        assert health.outbox.depth == 30
        assert health.outbox.oldest_pending_age_seconds is not None
    finally:
        sandbox_clean.restart(port)

    total = tlp_outbox_drain(now=timezone.now() + timedelta(minutes=5))

    assert total.delivered == 30
    assert tlp_health_check().outbox.depth == 0
    assert sandbox_clean.stats(tlp_key)["transactions"]["accrue"] == {"count": 30, "points": 300}


def test_rows_for_another_tenant_are_not_delivered_here(tlp_configured, other_tenant):
    TLPOutboxFactory()
    with schema_context(other_tenant.schema_name):
        assert tlp_outbox_deliver().claimed == 0  # beta has no TLP configured and its own (empty) outbox
    assert TLPOutbox.objects.get().status == Status.PENDING


# ------------------------------------------------------------------------------------------ the switch, read once
def _switch_reads(captured) -> int:  # type: ignore[no-untyped-def]
    """Statements that read the configuration on their own (not as a subquery of another statement)."""
    return sum(query["sql"].startswith('SELECT "tlp_tlpconfiguration"') for query in captured.captured_queries)


def test_inside_a_memo_block_the_switch_is_read_once(tlp_configured):
    from django.test.utils import CaptureQueriesContext

    from apps.tlp.services.outbox import tlp_configuration_memo

    with transaction.atomic(), CaptureQueriesContext(connection) as outside:
        enqueue("m-1", 5, "memo-a")
        enqueue("m-1", 5, "memo-b")
    with transaction.atomic(), CaptureQueriesContext(connection) as inside, tlp_configuration_memo():
        enqueue("m-2", 5, "memo-c")
        enqueue("m-2", 5, "memo-d")
    assert _switch_reads(outside) == 2
    assert _switch_reads(inside) == 1
    assert TLPOutbox.objects.filter(idempotency_key__startswith="memo-").count() == 4


def test_a_memo_given_by_the_caller_is_trusted_and_reads_nothing(tlp_configured):
    from django.test.utils import CaptureQueriesContext

    from apps.tlp.services.outbox import tlp_configuration_memo

    with transaction.atomic(), CaptureQueriesContext(connection) as ctx:
        with tlp_configuration_memo(active=False):
            assert enqueue("m-3", 5, "memo-off") is None
        with tlp_configuration_memo(active=True), tlp_configuration_memo():  # an inner block keeps the answer
            assert enqueue("m-3", 5, "memo-on") is not None
    assert _switch_reads(ctx) == 0


def test_a_points_award_reads_the_switch_with_its_member_lock(tlp_configured):
    from django.test.utils import CaptureQueriesContext

    from apps.loyalty.services import points_award
    from apps.loyalty.services.ledger import MemberRef
    from tests.factories.loyalty import ProgramFactory, member_make

    program = ProgramFactory()
    member = member_make(program)
    with CaptureQueriesContext(connection) as ctx:
        entry = points_award(member=MemberRef(program_id=program.pk, customer_id=member.customer_id), points=7,
                             source="purchase", idempotency_key="switch-in-lock")
    assert _switch_reads(ctx) == 0  # read inside the lock statement, as EXISTS (...)
    assert any('"tlp_tlpconfiguration"' in query["sql"] and "FOR UPDATE" in query["sql"]
               for query in ctx.captured_queries)
    assert TLPOutbox.objects.filter(idempotency_key=f"ledger:{entry.pk}", operation="accrue").exists()
