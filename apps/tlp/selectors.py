"""TLP integration reads: the tenant's configuration, TLP ids of our objects, the outbox's state."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, Min, Q, QuerySet
from django.utils import timezone

from apps.tlp.models import TLPConfiguration, TLPEntity, TLPOutbox, TLPReconciliationReport


def tlp_configuration_get() -> TLPConfiguration | None:
    """The tenant's TLP configuration, active or not; None when TLP was never configured."""
    return TLPConfiguration.objects.order_by("created_at").first()


def tlp_configuration_active() -> TLPConfiguration | None:
    """The configuration when TLP is configured and switched on, else None."""
    return TLPConfiguration.objects.filter(is_active=True).order_by("created_at").first()


def tlp_entity_id(*, kind: str, local_ref: str) -> str | None:
    return TLPEntity.objects.filter(kind=kind, local_ref=local_ref).values_list("tlp_id", flat=True).first()


def tlp_entity_map(*, kind: str, local_refs: Iterable[str]) -> dict[str, str]:
    """``{local_ref: tlp_id}`` for those of ``local_refs`` TLP knows."""
    return dict(TLPEntity.objects.filter(kind=kind, local_ref__in=list(local_refs))
                .values_list("local_ref", "tlp_id"))


def tlp_entity_list(*, kind: str | None = None, local_ref_prefix: str | None = None) -> QuerySet[TLPEntity]:
    queryset = TLPEntity.objects.all()
    if kind:
        queryset = queryset.filter(kind=kind)
    if local_ref_prefix:
        queryset = queryset.filter(local_ref__startswith=local_ref_prefix)
    return queryset.order_by("kind", "local_ref")


def tlp_outbox_list(*, status: str | None = None, member_key: str | None = None) -> QuerySet[TLPOutbox]:
    queryset = TLPOutbox.objects.all()
    if status:
        queryset = queryset.filter(status=status)
    if member_key:
        queryset = queryset.filter(member_key=member_key)
    return queryset.order_by("id")


@dataclass(frozen=True)
class OutboxStats:
    pending: int
    in_flight: int
    delivered: int
    dead: int
    oldest_pending_at: datetime | None

    @property
    def depth(self) -> int:
        """Rows not delivered yet and still to be tried."""
        return self.pending + self.in_flight

    def oldest_pending_age_seconds(self, now: datetime | None = None) -> int | None:
        if self.oldest_pending_at is None:
            return None
        return max(0, int(((now or timezone.now()) - self.oldest_pending_at).total_seconds()))


def tlp_outbox_stats() -> OutboxStats:
    waiting = Q(status__in=[TLPOutbox.Status.PENDING, TLPOutbox.Status.IN_FLIGHT])
    totals = TLPOutbox.objects.aggregate(
        pending=Count("id", filter=Q(status=TLPOutbox.Status.PENDING)),
        in_flight=Count("id", filter=Q(status=TLPOutbox.Status.IN_FLIGHT)),
        delivered=Count("id", filter=Q(status=TLPOutbox.Status.DELIVERED)),
        dead=Count("id", filter=Q(status=TLPOutbox.Status.DEAD)),
        oldest=Min("created_at", filter=waiting),
    )
    return OutboxStats(pending=totals["pending"], in_flight=totals["in_flight"], delivered=totals["delivered"],
                       dead=totals["dead"], oldest_pending_at=totals["oldest"])


def tlp_reconciliation_latest() -> TLPReconciliationReport | None:
    return TLPReconciliationReport.objects.order_by("-started_at").first()
