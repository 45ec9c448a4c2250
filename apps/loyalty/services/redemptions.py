"""Redemptions: reserve (points and stock held) → complete, or cancel and give both back."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.core.compiled_query import row_insert
from apps.core.errors import ApplicationError, ConflictError, NotFoundError, UnprocessableError
from apps.loyalty.models import LedgerEntry, Member, Program, Redemption, Reward
from apps.loyalty.services.ledger import (
    MemberRef,
    _positive,
    _require_moving,
    _save_balances,
    _sync,
    debit_write,
    entry_for_key,
    member_lock,
    member_lock_for_write,
)
from apps.tlp.services import tlp_outbox_enqueue_ledger_entry
from apps.tlp.services.outbox import tlp_configuration_memo

# Unambiguous: no 0/O, 1/I.
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
Status = LedgerEntry.Status


def code_generate(*, length: int = 12) -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _index in range(length))


def _redemption_create(**fields: Any) -> Redemption:
    """Insert a redemption with a fresh code. A collision (60 bits: about never) is a retryable 409; no
    savepoint, so the caller's transaction is rolled back."""
    redemption = Redemption(code=code_generate(), **fields)
    try:
        row_insert(redemption)  # Redemption.objects.create(), in one prepared INSERT (apps/core/compiled_query.py)
    except IntegrityError as exc:
        raise ConflictError(_("Could not generate a unique reward code. Please retry."),
                            code="code_collision") from exc
    return redemption


def _reward_check(*, reward: Reward, program: Program, now: datetime) -> None:
    if reward.program_id != program.pk:
        raise NotFoundError(_("This reward does not belong to the member's program."), code="reward_not_found",
                            fields={"reward": [_("Not found in this program.")]})
    if not program.rewards_enabled:
        raise UnprocessableError(_("This program does not offer rewards."), code="rewards_disabled")
    if reward.status != Reward.Status.ACTIVE:
        raise UnprocessableError(_("This reward is not available."), code="reward_inactive",
                                 fields={"reward": [_("Inactive.")]})
    if (reward.valid_from and now < reward.valid_from) or (reward.valid_until and now >= reward.valid_until):
        raise UnprocessableError(_("This reward is outside its validity window."), code="reward_not_valid_now",
                                 fields={"reward": [_("Not valid now.")]})


def points_value(*, program: Program, points: int) -> Decimal:
    """Money value of ``points`` at the program's rate (value of 100 points), rounded to cents."""
    return (program.points_value_per_100 * points / 100).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


@transaction.atomic
def redemption_reserve(*, member: Member | MemberRef, reward: Reward | None = None, points: int | None = None,
                       idempotency_key: str, actor: Any = None, now: datetime | None = None) -> Redemption:
    """Hold the points (and one unit of a limited reward) for a redemption. Refuses: not enough points
    (422 insufficient_points), below the program minimum (422), out of stock (409), inactive or expired
    reward (422). Idempotent on ``idempotency_key`` (a replay returns the same redemption)."""
    return _redeem(member=member, reward=reward, points=points, idempotency_key=idempotency_key, actor=actor,
                   now=now or timezone.now(), complete=False)


def _redeem(*, member: Member | MemberRef, reward: Reward | None, points: int | None, idempotency_key: str,
            actor: Any, now: datetime, complete: bool) -> Redemption:
    locked = member_lock_for_write(member=member)  # an unknown customer is a 404 first
    if reward is None and points is None:
        raise ApplicationError(_("Give a reward or a number of points."), code="invalid",
                               fields={"reward": [_("A reward or points are required.")]})
    if points is not None:
        _positive(points)
    existing = entry_for_key(idempotency_key=idempotency_key)
    if existing is not None:
        if existing.member_id != locked.pk or existing.redemption_id is None:
            raise ConflictError(_("This idempotency key was already used for a different request."),
                                code="idempotency_key_reused")
        return Redemption.objects.select_related("member", "reward").get(pk=existing.redemption_id)
    program = locked.program
    _require_moving(program)
    if reward is not None:
        _reward_check(reward=reward, program=program, now=now)
        if points is not None and points != reward.points_cost:
            raise ApplicationError(_("The points do not match the reward's cost."), code="invalid",
                                   fields={"points": [_("Must equal the reward's points cost.")]})
        points = reward.points_cost
        if reward.stock_limited:
            reward = Reward.objects.select_for_update().get(pk=reward.pk)
            if reward.stock_available < 1:
                raise ConflictError(_("This reward is out of stock."), code="out_of_stock",
                                    fields={"reward": [_("Out of stock.")]})
    assert points is not None
    if points < program.min_redeem_points:
        raise UnprocessableError(
            _("At least %(minimum)d points must be redeemed at a time.") % {"minimum": program.min_redeem_points},
            code="below_minimum", fields={"points": [_("Below the program's minimum.")]},
        )
    if locked.available < points:
        raise UnprocessableError(
            _("Not enough points: %(available)d available, %(needed)d needed.")
            % {"available": locked.available, "needed": points},
            code="insufficient_points", fields={"points": [_("Not enough points available.")]},
        )
    redemption = _redemption_create(
        program=program, member=locked, reward=reward, points=points,
        value=reward.value if reward is not None else points_value(program=program, points=points),
        currency=program.currency,
        status=Redemption.Status.COMPLETED if complete else Redemption.Status.RESERVED,
        completed_at=now if complete else None,
        hold_expires_at=None if complete else now + timedelta(minutes=program.reservation_minutes),
    )
    if points:
        with tlp_configuration_memo(active=locked.tlp_active):
            debit_write(member=locked, points=points, kind=LedgerEntry.Kind.REDEEM,
                        source=LedgerEntry.Source.REDEMPTION, now=now,
                        status=Status.ACTIVE if complete else Status.PENDING, reward=reward,
                        redemption=redemption, actor=actor, idempotency_key=idempotency_key,
                        reason=reward.name if reward is not None else "")
        _save_balances(locked)
    if reward is not None and reward.stock_limited:
        reward.stock_available -= 1
        if not complete:
            reward.stock_reserved += 1
        reward.save(update_fields=["stock_available", "stock_reserved", "updated_at"])
    _sync(member, locked)
    return redemption


def _redemption_lock(redemption: Redemption) -> tuple[Member, Redemption]:
    member = member_lock(member_id=redemption.member_id)
    current = Redemption.objects.select_for_update(of=("self",)).select_related("reward").get(pk=redemption.pk)
    return member, current


@transaction.atomic
def redemption_complete(*, redemption: Redemption, now: datetime | None = None) -> Redemption:
    """Turn a reservation into a completed redemption (points spent for good). Completing twice is a no-op;
    completing a cancelled redemption is refused (409)."""
    now = now or timezone.now()
    _member, current = _redemption_lock(redemption)
    if current.status == Redemption.Status.COMPLETED:
        return current
    if current.status == Redemption.Status.CANCELLED:
        raise ConflictError(_("This redemption was cancelled."), code="redemption_cancelled")
    for entry in current.ledger.filter(status=Status.PENDING):
        entry.status, entry.status_changed_at = Status.ACTIVE, now
        entry.save(update_fields=["status", "status_changed_at", "updated_at"])
    if current.reward is not None and current.reward.stock_limited:
        reward = Reward.objects.select_for_update().get(pk=current.reward_id)
        reward.stock_reserved -= 1
        reward.save(update_fields=["stock_reserved", "updated_at"])
    current.status, current.completed_at = Redemption.Status.COMPLETED, now
    current.save(update_fields=["status", "completed_at", "updated_at"])
    return current


@transaction.atomic
def redemption_cancel(*, redemption: Redemption, reason: str = "", now: datetime | None = None) -> Redemption:
    """Cancel a reservation: its points go back to the awards they came from, with their original expiry
    (points whose award expired meanwhile are gone), and the reward unit back to stock. Cancelling twice is
    a no-op; a completed redemption cannot be cancelled (409)."""
    now = now or timezone.now()
    member, current = _redemption_lock(redemption)
    if current.status == Redemption.Status.CANCELLED:
        return current
    if current.status == Redemption.Status.COMPLETED:
        raise ConflictError(_("A completed redemption cannot be cancelled."), code="redemption_completed")
    with tlp_configuration_memo():  # the TLP switch read once, however many entries come back
        for entry in current.ledger.filter(status=Status.PENDING):
            restored = entry.allocations.filter(award__status=Status.ACTIVE).aggregate(
                total=Coalesce(Sum("points"), 0))["total"]
            entry.status, entry.status_changed_at = Status.CANCELLED, now
            entry.save(update_fields=["status", "status_changed_at", "updated_at"])
            tlp_outbox_enqueue_ledger_entry(entry=entry, points=restored)
            member.available += restored
    member.last_activity_at = now
    _save_balances(member)
    if current.reward is not None and current.reward.stock_limited:
        reward = Reward.objects.select_for_update().get(pk=current.reward_id)
        reward.stock_reserved -= 1
        reward.stock_available += 1
        reward.save(update_fields=["stock_available", "stock_reserved", "updated_at"])
    current.status, current.cancelled_at, current.cancel_reason = Redemption.Status.CANCELLED, now, reason[:200]
    current.save(update_fields=["status", "cancelled_at", "cancel_reason", "updated_at"])
    return current


@transaction.atomic
def points_redeem(*, member: Member | MemberRef, reward: Reward | None = None, points: int | None = None,
                  idempotency_key: str, actor: Any = None) -> Redemption:
    """Redeem at once (the Category 1 ``POST /points/redeem``): what a reservation completed in the same
    transaction would leave, written directly. Same refusals and idempotency as ``redemption_reserve``."""
    return _redeem(member=member, reward=reward, points=points, idempotency_key=idempotency_key, actor=actor,
                   now=timezone.now(), complete=True)


def redemption_issue_free(*, member: Member, reward: Reward, now: datetime | None = None) -> Redemption | None:
    """Issue a reward that costs no points (a full punch card) to a locked member; None when out of stock."""
    now = now or timezone.now()
    if reward.stock_limited:
        reward = Reward.objects.select_for_update().get(pk=reward.pk)
        if reward.stock_available < 1:
            return None
        reward.stock_available -= 1
        reward.save(update_fields=["stock_available", "updated_at"])
    return _redemption_create(program_id=member.program_id, member=member, reward=reward, points=0,
                              value=reward.value, currency=member.program.currency,
                              status=Redemption.Status.COMPLETED, completed_at=now)


def redemptions_release_expired(*, now: datetime | None = None) -> int:
    """Cancel reservations whose hold ran out. Safe to run twice (cancel is a no-op the second time)."""
    now = now or timezone.now()
    stale = Redemption.objects.filter(status=Redemption.Status.RESERVED, hold_expires_at__lte=now)
    released = 0
    for redemption in list(stale):
        if redemption_cancel(redemption=redemption, reason="hold expired", now=now).cancelled_at == now:
            released += 1
    return released
