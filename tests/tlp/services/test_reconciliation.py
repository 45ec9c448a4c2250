"""Reconciliation reports: drift found, drift explained by rows in transit, failures recorded."""

from __future__ import annotations

from apps.tlp.models import TLPReconciliationReport
from apps.tlp.services import tlp_outbox_drain, tlp_outbox_enqueue, tlp_reconcile
from tests.factories.tlp import accrual_payload

KEY = ("participant:a", "campaign:q1")


def _accrue(points: int, key: str) -> None:
    tlp_outbox_enqueue(operation="accrue", payload=accrual_payload(points, "campaign:q1"), member_key=KEY[0],
                       idempotency_key=key)


def test_balances_that_match_are_ok_and_a_difference_is_drift(tlp_configured):
    _accrue(120, "r-1")
    tlp_outbox_drain()

    assert tlp_reconcile(balances={KEY: 120}).status == "ok"
    report = tlp_reconcile(balances={KEY: 100, ("participant:never-sent", "campaign:q1"): 5})
    assert (report.status, report.members_checked, report.members_drifting, report.total_drift) == ("drift", 2, 2, 15)
    by_member = {item["member_key"]: item for item in report.details}
    assert (by_member["participant:a"]["ours"], by_member["participant:a"]["tlp"]) == (100, 120)
    assert by_member["participant:never-sent"]["tlp"] == 0


def test_rows_not_yet_delivered_are_not_drift(tlp_configured):
    _accrue(120, "r-1")
    tlp_outbox_drain()
    _accrue(30, "r-2")
    tlp_outbox_enqueue(operation="redeem", payload=accrual_payload(50, "campaign:q1"), member_key=KEY[0],
                       idempotency_key="r-3")
    report = tlp_reconcile(balances={KEY: 100})  # 120 delivered, +30 −50 still in the outbox
    assert (report.status, report.outbox_pending) == ("ok", 2)


def test_a_tlp_failure_is_a_failed_report(tlp_configured, sandbox_clean):
    port = sandbox_clean.stop()
    try:
        report = tlp_reconcile(balances={KEY: 1})
    finally:
        sandbox_clean.restart(port)
    assert report.status == "failed" and "TLPUnavailable" in report.error
    assert TLPReconciliationReport.objects.count() == 1


def test_without_configuration_the_report_says_so(tenant):
    report = tlp_reconcile(balances={KEY: 1})
    assert (report.status, report.error) == ("failed", "TLP is not configured")
