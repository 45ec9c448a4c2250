"""Time-driven ledger moves: pending points unlock, old points expire. Both run from periodic jobs and are
safe to run twice or concurrently: members are locked (in id order) before their credits are re-read."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime

from django.db import transaction
from django.db.models import F, Q, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from apps.loyalty.models import LedgerAllocation, LedgerEntry, Member
from apps.loyalty.services.ledger import (
    _save_balances,
    _touch,
    credits_with_remaining,
    debt_settle,
    member_lock,
    members_lock,
)
from apps.tlp.services import tlp_outbox_enqueue_ledger_entries

Kind = LedgerEntry.Kind
Status = LedgerEntry.Status
Source = LedgerEntry.Source


def points_unlock_due(*, now: datetime | None = None, batch: int = 500) -> int:
    """Make pending credits whose pending period is over available. Returns how many were unlocked.
    Safe to run twice or concurrently: each member is handled under its row lock, re-reading the status."""
    now = now or timezone.now()
    unlocked = 0
    while True:
        member_ids = list(
            LedgerEntry.objects.filter(status=Status.PENDING, amount__gt=0, unlock_at__lte=now)
            .values_list("member_id", flat=True).distinct()[:batch]
        )
        if not member_ids:
            return unlocked
        for member_id in member_ids:
            unlocked += member_unlock_due(member_id=member_id, now=now)


@transaction.atomic
def member_unlock_due(*, member_id: uuid.UUID, now: datetime | None = None) -> int:
    now = now or timezone.now()
    member = member_lock(member_id=member_id)
    due = [credit for credit in credits_with_remaining(member_id=member_id, statuses=(Status.PENDING,))
           if credit.unlock_at and credit.unlock_at <= now]
    # Fully reversed pending credits have no remaining and were cancelled by the reversal.
    for credit in due:
        credit.status, credit.status_changed_at = Status.ACTIVE, now
        credit.save(update_fields=["status", "status_changed_at", "updated_at"])
        unlocked = credit.remaining
        member.pending -= unlocked
        member.available += unlocked
        debt_settle(member=member, credit=credit, available=unlocked, now=now)
    if due:
        _touch(member, now)
        _save_balances(member)
    return len(due)


def points_expire_due(*, now: datetime | None = None, batch: int = 200) -> int:
    """Expire active credits past their expiry date: one expire entry per credit with points left.
    Returns the number of credits expired. Safe to run twice or concurrently: members are locked (in id
    order, ``batch`` at a time) before their credits are read."""
    now = now or timezone.now()
    expired = 0
    while True:
        member_ids = list(
            LedgerEntry.objects.filter(status=Status.ACTIVE, amount__gt=0, expires_at__lte=now)
            .order_by("member_id").values_list("member_id", flat=True).distinct()[:batch]
        )
        if not member_ids:
            return expired
        expired += members_expire_due(member_ids=member_ids, now=now)


@transaction.atomic
def members_expire_due(*, member_ids: Iterable[uuid.UUID], now: datetime | None = None) -> int:
    """Expire the due credits of these members (locked here), with one insert per table."""
    now = now or timezone.now()
    members = members_lock(member_ids=member_ids)
    due = list(
        LedgerEntry.objects.filter(member_id__in=list(members), status=Status.ACTIVE, amount__gt=0,
                                   expires_at__lte=now)
        .annotate(used=Coalesce(Sum("drawn_by__points", filter=~Q(drawn_by__spend__status=Status.CANCELLED)), 0))
        .annotate(remaining=F("amount") - F("used"))
        .order_by("member_id", "expires_at", "created_at", "id")
    )
    entries, allocations, changed = [], [], {}
    for credit in due:
        if credit.remaining <= 0:
            continue
        member = members[credit.member_id]
        member.available -= credit.remaining
        expire = LedgerEntry(program_id=member.program_id, member=member, kind=Kind.EXPIRE, source=Source.EXPIRY,
                             amount=-credit.remaining, status=Status.ACTIVE, balance_after=member.available,
                             status_changed_at=now, occurred_at=now, reason="expired")
        entries.append(expire)
        allocations.append(LedgerAllocation(spend=expire, award=credit, points=credit.remaining))
        changed[member.pk] = member
    LedgerEntry.objects.bulk_create(entries)
    LedgerAllocation.objects.bulk_create(allocations)
    tlp_outbox_enqueue_ledger_entries(entries=entries)
    LedgerEntry.objects.filter(pk__in=[credit.pk for credit in due]).update(
        status=Status.EXPIRED, status_changed_at=now, updated_at=now)
    for member in changed.values():
        member.updated_at = now
    Member.objects.bulk_update(list(changed.values()), ["available", "updated_at"])
    return len(due)


def member_expire_due(*, member_id: uuid.UUID, now: datetime | None = None) -> int:
    return members_expire_due(member_ids=[member_id], now=now)
