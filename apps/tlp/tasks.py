"""TLP Celery tasks: each runs in one tenant's schema and calls one service; all are safe to repeat."""

from __future__ import annotations

from typing import Any

from apps.core.jobs import tenant_job
from apps.tlp.services import tlp_outbox_drain, tlp_reconcile


@tenant_job(name="tlp.outbox_deliver")
def outbox_deliver() -> dict[str, Any]:
    """Deliver every outbox row that is due (stops early during a TLP outage; beat comes back later)."""
    report = tlp_outbox_drain(max_rounds=50)
    return {"claimed": report.claimed, "delivered": report.delivered, "retried": report.retried,
            "dead": report.dead, "released": report.released, "outage": report.outage}


@tenant_job(name="tlp.reconcile")
def reconcile() -> dict[str, Any]:
    """Compare our balances with TLP's and store a report."""
    report = tlp_reconcile()
    return {"status": report.status, "members_checked": report.members_checked,
            "members_drifting": report.members_drifting, "total_drift": report.total_drift}
