"""Reconciliation: our per-member balances against TLP's, allowing for what the outbox has yet to deliver."""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Mapping
from datetime import datetime

from django.utils import timezone

from apps.tlp import wire
from apps.tlp.client import TLPClient, TLPError
from apps.tlp.models import TLPEntity, TLPOutbox, TLPReconciliationReport
from apps.tlp.selectors import tlp_configuration_active
from apps.tlp.services.configuration import tlp_client_build
from apps.tlp.services.outbox import TRANSACTION_OPERATIONS, ledger_member_key, ledger_point_type_key

logger = logging.getLogger(__name__)

Key = tuple[str, str]  # (member_key, point_type_key)
MAX_DETAILS = 500
PAGE_SIZE = 100


def loyalty_balances() -> dict[Key, int]:
    """Each loyalty member's points as TLP should see them (available + pending: TLP gets credits at once),
    for the members the outbox has mirrored."""
    from apps.loyalty.selectors import member_list

    keys = set(TLPOutbox.objects.filter(source_type="loyalty.ledgerentry").values_list("member_key", flat=True)
               .distinct())
    member_ids = [key.split(":", 1)[1] for key in keys if key.startswith("loyalty-member:")]
    balances: dict[Key, int] = {}
    for member in member_list().filter(pk__in=member_ids):
        balances[(ledger_member_key(member.pk), ledger_point_type_key(member.program_id))] = \
            member.available + member.pending
    return balances


def _undelivered_delta() -> dict[Key, int]:
    """Points still on their way (pending or in flight), by member and point type: TLP lags us by these."""
    delta: dict[Key, int] = defaultdict(int)
    rows = TLPOutbox.objects.filter(status__in=[TLPOutbox.Status.PENDING, TLPOutbox.Status.IN_FLIGHT],
                                    operation__in=TRANSACTION_OPERATIONS).values_list("member_key", "operation",
                                                                                       "payload")
    for member_key, operation, payload in rows:
        sign = -1 if operation == TLPOutbox.Operation.REDEEM else 1
        delta[(member_key, payload["point_type"]["key"])] += sign * int(payload["points"])
    return delta


def _tlp_balances(client: TLPClient, member_keys: set[str]) -> dict[str, dict[str, int]]:
    """``{external id: {point type id: balance}}`` for every TLP member (paged; never from the cache)."""
    found: dict[str, dict[str, int]] = {}
    page_number = 1
    while True:
        page = client.member_search(page=page_number, page_size=PAGE_SIZE, fresh=True)
        for member in page.items:
            external_id = wire.read_member_external_id(member)
            if external_id in member_keys:
                found[external_id] = wire.read_member_balances(member)
        if not page.has_next or not page.items:
            return found
        page_number += 1


def tlp_reconcile(*, balances: Mapping[Key, int] | None = None, client: TLPClient | None = None,
                  now: datetime | None = None) -> TLPReconciliationReport:
    """Compare ``balances`` (``{(member_key, point_type_key): points}``; default: the loyalty ledger's) with
    TLP's member balances and store a report. Undelivered outbox rows are allowed for, so a report shows
    drift only where TLP and we really disagree. A TLP failure is stored as a failed report."""
    started = now or timezone.now()
    report = TLPReconciliationReport(status=TLPReconciliationReport.Status.FAILED, started_at=started)
    configuration = tlp_configuration_active()
    if configuration is None:
        report.error = "TLP is not configured"
        report.finished_at = timezone.now()
        report.save()
        return report
    ours = dict(balances) if balances is not None else loyalty_balances()
    in_transit = _undelivered_delta()
    report.outbox_pending = TLPOutbox.objects.filter(
        status__in=[TLPOutbox.Status.PENDING, TLPOutbox.Status.IN_FLIGHT]).count()
    member_keys = {member_key for member_key, _point_type in ours}
    point_type_ids = dict(TLPEntity.objects.filter(kind=TLPEntity.Kind.POINT_TYPE).values_list("local_ref", "tlp_id"))
    owned_client = client is None
    client = client or tlp_client_build(configuration=configuration)
    try:
        theirs = _tlp_balances(client, member_keys)
    except TLPError as exc:
        report.error = f"{type(exc).__name__}: {exc.message}"[:1000]
        report.finished_at = timezone.now()
        report.save()
        logger.warning("TLP reconciliation failed: %s", report.error)
        return report
    finally:
        if owned_client:
            client.close()
    details = []
    for (member_key, point_type_key), points in sorted(ours.items()):
        expected = points - in_transit.get((member_key, point_type_key), 0)
        point_type_id = point_type_ids.get(point_type_key)
        tlp_points = theirs.get(member_key, {}).get(point_type_id, 0) if point_type_id else 0
        if tlp_points != expected:
            details.append({"member_key": member_key, "point_type_key": point_type_key, "ours": points,
                            "in_transit": in_transit.get((member_key, point_type_key), 0), "tlp": tlp_points,
                            "drift": tlp_points - expected})
    report.members_checked = len(ours)
    report.members_drifting = len(details)
    report.total_drift = sum(item["drift"] for item in details)
    report.details = details[:MAX_DETAILS]
    report.status = TLPReconciliationReport.Status.DRIFT if details else TLPReconciliationReport.Status.OK
    report.finished_at = timezone.now()
    report.save()
    if details:
        logger.error("TLP reconciliation: %d member balance(s) drift from TLP by %d point(s) in total",
                     len(details), report.total_drift)
    return report
