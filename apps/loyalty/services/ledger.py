"""The points ledger: every balance move, with the member row locked, in one transaction.

Invariants (checked by ``selectors.member_ledger_verify`` and the property tests):

* ``member.available`` == Σ remaining of the member's *active* credit entries, and is never negative;
  ``member.pending`` == Σ remaining of *pending* credits; ``member.debt`` == Σ ``debt_change``.
* remaining(credit) = amount − Σ allocations drawn on it by debits that are not cancelled.
* every debit's −amount == Σ of its allocations: spends consume credits oldest-expiry-first.
* ``member.lifetime`` == Σ credits ever written (it never goes down).

Lock order, everywhere: member row(s) by id, then the reward row, then the program row (budgets).
"""

from __future__ import annotations

import calendar
import secrets
import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, connection, transaction
from django.db.models import AutoField, F, Model, Q, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.core.bulk import execute_bound, rows_copy
from apps.core.compiled_query import CompiledQuery, row_insert, row_update
from apps.core.errors import ApplicationError, ConflictError, NotFoundError, UnprocessableError
from apps.loyalty.models import LedgerAllocation, LedgerEntry, Member, Program, Tier
from apps.loyalty.selectors import members_qualifying_values
from apps.tlp.services import tlp_outbox_enqueue_ledger_entries, tlp_outbox_enqueue_ledger_entry
from apps.tlp.services.outbox import tlp_active_expression, tlp_configuration_memo

Kind = LedgerEntry.Kind
Status = LedgerEntry.Status
Source = LedgerEntry.Source

# Sources a caller of points_award may name; kind follows (manual → adjust, anything else → earn).
AWARD_SOURCES = {
    Source.PURCHASE, Source.SIGNUP, Source.REFERRAL, Source.REVIEW, Source.MANUAL, Source.REDEMPTION,
    Source.CAMPAIGN, Source.BIRTHDAY, Source.SOCIAL_SHARE, Source.CUSTOM,
}
# The same, as an ordered choice list (API serializers, OpenAPI).
AWARD_SOURCE_CHOICES = sorted(AWARD_SOURCES)
SPEND_KINDS = (Kind.REDEEM, Kind.TRANSFER_OUT, Kind.ADJUST, Kind.DEBT_SETTLE)


def add_months(moment: datetime, months: int) -> datetime:
    """``moment`` plus calendar months, clamped to the month's last day (Jan 31 + 1 → Feb 28/29)."""
    month_index = moment.month - 1 + months
    year, month = moment.year + month_index // 12, month_index % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


def member_lock(*, member_id: uuid.UUID) -> Member:
    """The member row, locked FOR UPDATE for the rest of the transaction (must be inside atomic)."""
    return Member.objects.select_for_update(of=("self",)).select_related("program", "tier").get(pk=member_id)


@dataclass(frozen=True)
class MemberRef:
    """A member named as an API request names it: the tenant's customer id within a program. The single-member
    services (``points_award``, ``points_deduct``, ``points_redeem``, ``redemption_reserve``) accept it in
    place of a Member and find and lock the row in one statement, instead of a lookup and then a lock."""

    program_id: uuid.UUID
    customer_id: str


def _members_for_write() -> Any:
    return Member.objects.select_for_update(of=("self",)).select_related("program").annotate(
        tlp_active=tlp_active_expression()).order_by()


# The statements every single award, deduction and redemption runs, compiled once (apps/core/compiled_query.py).
_lock_by_customer = CompiledQuery(lambda program_id, customer_id: _members_for_write().filter(
    program_id=program_id, customer_id=customer_id)[:1])
_lock_by_id = CompiledQuery(lambda member_id: _members_for_write().filter(pk=member_id)[:1])
_entry_by_key = CompiledQuery(lambda key: LedgerEntry.objects.filter(idempotency_key=key).order_by()[:1])


def member_lock_for_write(*, member: Member | MemberRef) -> Member:
    """``member_lock`` for the single-member write paths: the row locked FOR UPDATE with its program (read in
    the same statement, so its status is as fresh as the lock) and, as ``tlp_active``, whether TLP mirroring
    is on (for ``tlp_configuration_memo``: no separate query per entry). Refuses (404) an unknown MemberRef."""
    if not isinstance(member, MemberRef):
        locked = _lock_by_id.first(member_id=member.pk)
        if locked is None:
            raise Member.DoesNotExist("Member matching query does not exist.")
        return locked
    # No ORDER BY: (program, customer id) is unique.
    locked = _lock_by_customer.first(program_id=uuid.UUID(str(member.program_id)), customer_id=member.customer_id)
    if locked is None:
        raise NotFoundError(_("No member with this customer id in the program."), code="member_not_found",
                            fields={"customer_id": [_("Not enrolled.")]})
    return locked


def members_lock(*, member_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, Member]:
    """Several member rows locked in id order, so two transfers in opposite directions cannot deadlock."""
    members = Member.objects.select_for_update(of=("self",)).select_related("program").filter(
        pk__in=set(member_ids))
    return {member.pk: member for member in members.order_by("pk")}


def _credits_queryset(member_id: Any, statuses: Iterable[str]) -> Any:
    return (
        LedgerEntry.objects.filter(member_id=member_id, amount__gt=0, status__in=list(statuses))
        .annotate(used=Coalesce(Sum("drawn_by__points", filter=~Q(drawn_by__spend__status=Status.CANCELLED)), 0))
        .annotate(remaining=F("amount") - F("used"))
        .filter(remaining__gt=0)
        .order_by(F("expires_at").asc(nulls_last=True), "created_at", "id")
    )


# Every spend reads the member's available credits: compiled once (apps/core/compiled_query.py).
_active_credits = CompiledQuery(lambda member_id: _credits_queryset(member_id, (Status.ACTIVE,)))


def credits_with_remaining(*, member_id: uuid.UUID, statuses: Iterable[str] = (Status.ACTIVE,),
                           only: Iterable[uuid.UUID] | None = None) -> list[LedgerEntry]:
    """Credit entries with points left (``.remaining``), oldest expiry first (never-expiring last)."""
    statuses = tuple(statuses)
    if only is None and statuses == (Status.ACTIVE,) and isinstance(member_id, uuid.UUID):
        return _active_credits.run(member_id=member_id)
    queryset = _credits_queryset(member_id, statuses)
    if only is not None:
        queryset = queryset.filter(pk__in=list(only))
    return list(queryset)


def _touch(member: Member, now: datetime | None = None) -> None:
    member.last_activity_at = now or timezone.now()


def _save_balances(member: Member) -> None:
    # Every points write ends here: one prepared UPDATE (apps/core/compiled_query.py), as save() would write.
    row_update(member, ["available", "pending", "lifetime", "debt", "last_activity_at", "updated_at"])


def _insert(entry: LedgerEntry) -> LedgerEntry:
    """Insert one entry. Its idempotency key was checked under the member's lock, so a duplicate can only be a
    key already used for another member: a 409 (no savepoint: the caller's transaction is rolled back)."""
    try:
        # One prepared INSERT (apps/core/compiled_query.py): LedgerEntry.save() only guards updates.
        row_insert(entry)
    except IntegrityError as exc:
        if entry.idempotency_key and _violates(exc, "loyalty_ledgerentry_idempotency_key_key"):
            raise ConflictError(_("This idempotency key was already used for another request."),
                                code="idempotency_key_reused") from exc
        raise
    # Every entry passes here inside its service's transaction: the TLP mirror is queued atomically with it
    # (a no-op when the tenant has no active TLP configuration).
    tlp_outbox_enqueue_ledger_entry(entry=entry)
    return entry


def _violates(exc: IntegrityError, constraint: str) -> bool:
    diag = getattr(exc.__cause__, "diag", None)
    return getattr(diag, "constraint_name", None) == constraint


def entry_for_key(*, idempotency_key: str | None) -> LedgerEntry | None:
    if not idempotency_key:
        return None
    # No ORDER BY (the key is unique): this runs on every points write, usually to find nothing.
    return _entry_by_key.first(key=idempotency_key)


def _replay_check(entry: LedgerEntry, *, member: Member, points: int | None = None) -> LedgerEntry:
    """A replay must be the same request: same member, same points. Otherwise the key is being misused."""
    if entry.member_id != member.pk or (points is not None and abs(entry.amount) != points):
        raise ConflictError(_("This idempotency key was already used for a different request."),
                            code="idempotency_key_reused")
    return entry


def _require_moving(program: Program, *, manual: bool = False) -> None:
    if program.status == Program.Status.ACTIVE or (manual and program.status == Program.Status.PAUSED):
        return
    raise UnprocessableError(_("Points cannot move in a program that is not active."), code="program_not_active",
                             fields={"program": [_("The program is %(status)s.") % {"status": program.status}]})


def _positive(points: int, field: str = "points") -> None:
    if not isinstance(points, int) or isinstance(points, bool) or points <= 0:
        raise ApplicationError(_("Points must be a positive whole number."), code="invalid",
                               fields={field: [_("Must be a positive integer.")]})


# ---------------------------------------------------------------------------------------------- credits

def credit_build(
    *,
    member: Member,
    points: int,
    kind: str,
    source: str,
    now: datetime,
    pending_days: int = 0,
    expires_at: datetime | bool | None = True,
    **fields: Any,
) -> tuple[LedgerEntry, LedgerEntry | None, LedgerAllocation | None]:
    """A credit in memory, with the member's balances moved: the entry, and when it repaid debt the
    repayment entry and its allocation. Nothing is written: ``credit_write`` inserts at once, the bulk paths
    (``orders_record``, ``members_import``) insert many with one statement per table.

    ``expires_at=True`` means: the program's expiry rule from ``now``; ``None``/``False``: never; a datetime:
    exactly then. Pending credits wait ``pending_days``; available ones first repay any debt."""
    program = member.program
    if expires_at is True:
        expires_at = add_months(now, program.expiration_months) if program.expiration_enabled else None
    elif expires_at is False:
        expires_at = None
    pending = pending_days > 0
    member.lifetime += points
    if pending:
        member.pending += points
    else:
        member.available += points
    _touch(member, now)
    entry = LedgerEntry(
        program_id=member.program_id, member=member, kind=kind, source=source, amount=points,
        status=Status.PENDING if pending else Status.ACTIVE, balance_after=member.available,
        unlock_at=now + timedelta(days=pending_days) if pending else None, expires_at=expires_at,
        status_changed_at=now, occurred_at=now, **fields,
    )
    repay = 0 if pending else min(member.debt, points)
    if repay <= 0:
        return entry, None, None
    member.available -= repay
    member.debt -= repay
    settle = LedgerEntry(
        program_id=member.program_id, member=member, kind=Kind.DEBT_SETTLE, source=Source.REFUND, amount=-repay,
        debt_change=-repay, status=Status.ACTIVE, balance_after=member.available, status_changed_at=now,
        occurred_at=now, reason="debt repayment",
    )
    return entry, settle, LedgerAllocation(spend=settle, award=entry, points=repay)


def credit_write(
    *,
    member: Member,
    points: int,
    kind: str,
    source: str,
    now: datetime | None = None,
    pending_days: int = 0,
    expires_at: datetime | bool | None = True,
    **fields: Any,
) -> LedgerEntry:
    """Write a credit for a member already locked by the caller and save its balances (see
    ``credit_build``). A duplicate caller-supplied idempotency key is a 409."""
    entry, settle, allocation = credit_build(member=member, points=points, kind=kind, source=source,
                                             now=now or timezone.now(), pending_days=pending_days,
                                             expires_at=expires_at, **fields)
    _insert(entry)
    if settle is not None:
        settle.save(force_insert=True)
        allocation.save()  # type: ignore[union-attr]
    _save_balances(member)
    return entry


def debt_settle(*, member: Member, credit: LedgerEntry, available: int,
                now: datetime | None = None) -> LedgerEntry | None:
    """Repay the member's debt from a credit that just became available (``available`` of its points).
    Debt is only ever repaid from points credited or unlocked after it, never from older points. The member
    is locked by the caller, who saves its balances."""
    repay = min(member.debt, available, member.available)
    if repay <= 0:
        return None
    credit.remaining = available
    return debit_write(member=member, points=repay, kind=Kind.DEBT_SETTLE, source=Source.REFUND, now=now,
                       from_credits=[credit], debt_change=-repay, reason="debt repayment")


# ---------------------------------------------------------------------------------------------- debits

def debit_write(
    *,
    member: Member,
    points: int,
    kind: str,
    source: str,
    now: datetime | None = None,
    status: str = Status.ACTIVE,
    from_credits: list[LedgerEntry] | None = None,
    **fields: Any,
) -> LedgerEntry:
    """Take ``points`` from the member's available credits oldest-expiry-first (or from ``from_credits``,
    already annotated with ``remaining``), record the allocations, update the balance. Refuses (422) when
    the member has not enough available points. The member is locked by the caller."""
    credits = from_credits if from_credits is not None else credits_with_remaining(member_id=member.pk)
    if sum(credit.remaining for credit in credits) < points or member.available < points:
        raise UnprocessableError(
            _("Not enough points: %(available)d available, %(needed)d needed.")
            % {"available": member.available, "needed": points},
            code="insufficient_points", fields={"points": [_("Not enough points available.")]},
        )
    now = now or timezone.now()
    member.available -= points
    member.debt += fields.get("debt_change", 0)
    _touch(member, now)
    entry = _insert(LedgerEntry(
        program_id=member.program_id, member=member, kind=kind, source=source, amount=-points, status=status,
        balance_after=member.available, status_changed_at=now, occurred_at=now, **fields,
    ))
    _allocate(entry, credits, points)
    return entry


def _allocate(entry: LedgerEntry, credits: list[LedgerEntry], points: int) -> list[LedgerAllocation]:
    allocations, left = [], points
    for credit in credits:
        if left == 0:
            break
        take = min(left, credit.remaining)
        if take <= 0:
            continue
        credit.remaining -= take
        left -= take
        allocations.append(LedgerAllocation(spend=entry, award=credit, points=take))
    if left:
        raise UnprocessableError(_("Not enough points available."), code="insufficient_points")
    LedgerAllocation.objects.bulk_create(allocations)
    return allocations


# ---------------------------------------------------------------------------------------------- public API

@transaction.atomic
def points_award(
    *,
    member: Member | MemberRef,
    points: int,
    source: str,
    reason: str = "",
    actor: Any = None,
    idempotency_key: str,
    order_id: str | None = None,
    referral_id: uuid.UUID | None = None,
    campaign_id: uuid.UUID | None = None,
    pending_days: int | None = None,
    expires_at: datetime | None = None,
) -> LedgerEntry:
    """Credit ``points`` to a member. Idempotent on ``idempotency_key``: a replay returns the first entry.

    ``source="manual"`` writes an adjustment (reason required); anything else an earn entry, pending for
    the program's pending period unless ``pending_days`` says otherwise. Refuses 0 or negative points."""
    # Found first: an unknown customer is a 404 whatever else is wrong with the request (as the API answers).
    locked = member_lock_for_write(member=member)
    _positive(points)
    if source not in AWARD_SOURCES:
        raise ApplicationError(_("Unknown points source."), code="invalid", fields={"source": [_("Unknown.")]})
    manual = source == Source.MANUAL
    if manual and not reason.strip():
        raise ApplicationError(_("A manual adjustment needs a reason."), code="invalid",
                               fields={"reason": [_("Required for manual adjustments.")]})
    if not idempotency_key:
        raise ApplicationError(_("An idempotency key is required."), code="invalid",
                               fields={"idempotency_key": [_("Required.")]})
    # Read under the lock: a concurrent twin holding it has committed by now, and is seen.
    existing = entry_for_key(idempotency_key=idempotency_key)
    if existing:
        return _replayed(existing, member=locked, points=points)
    _require_moving(locked.program, manual=manual)
    if pending_days is None:
        pending_days = 0 if manual else locked.program.pending_days
    with tlp_configuration_memo(active=locked.tlp_active):
        entry = credit_write(
            member=locked, points=points, kind=Kind.ADJUST if manual else Kind.EARN, source=source,
            reason=reason.strip(), actor=actor, idempotency_key=idempotency_key, order_ref=order_id or "",
            referral_id=referral_id, campaign_id=campaign_id, pending_days=pending_days,
            expires_at=expires_at if expires_at is not None else True,
        )
    if locked.program.tier_basis == Program.TierBasis.POINTS:
        _tier_after_credit(locked)
    _sync(member, locked)
    return entry


def _replayed(entry: LedgerEntry, *, member: Member, points: int | None = None) -> LedgerEntry:
    """``_replay_check``, then the locked member attached to the entry (callers render its customer id)."""
    _replay_check(entry, member=member, points=points)
    entry.member = member
    return entry


def _tier_after_credit(member: Member, now: datetime | None = None) -> None:
    """``tier_recalculate`` after a credit, minus its qualifying-value query when no tier can change: a credit
    only raises the value, so with no qualification window (nothing leaves it) and no downgrade pending only
    an upgrade is possible, and none is while the member's lifetime points (which bound the value from above:
    it counts earned points only, never more than were ever credited) stay below every higher tier's
    threshold. The member is locked by the caller."""
    from apps.loyalty.selectors import member_qualifying_value
    from apps.loyalty.services.tiers import tier_apply  # tiers depend on ledger, not the reverse

    tiers = list(Tier.objects.filter(program_id=member.program_id).order_by("rank"))
    if not tiers:
        return
    if not member.program.tier_window_days and member.tier_downgrade_at is None:
        current = next((tier for tier in tiers if tier.pk == member.tier_id), None)
        floor = current.rank if current is not None else -1
        if all(tier.threshold > member.lifetime for tier in tiers if tier.rank > floor):
            return
    now = now or timezone.now()
    changed = tier_apply(member=member, tiers=tiers, value=member_qualifying_value(member=member, now=now), now=now)
    if changed:
        member.save(update_fields=[*changed, "updated_at"])


@dataclass(frozen=True)
class AwardInput:
    member: Member
    points: int
    source: str = Source.CAMPAIGN
    reason: str = ""
    idempotency_key: str = ""
    pending_days: int | None = None


class AwardRow(NamedTuple):
    """One award of ``points_award_rows_bulk``: plain values, no model instance (batches of thousands)."""

    member_id: uuid.UUID
    points: int
    idempotency_key: str
    source: str = Source.CAMPAIGN
    reason: str = ""
    pending_days: int | None = None
    campaign_id: uuid.UUID | None = None


class MemberRow(NamedTuple):
    """One customer for ``members_enroll_bulk``; the email may be blank (a customer known by id only)."""

    customer_id: str
    email: str = ""
    name: str = ""


BALANCE_FIELDS = ("available", "pending", "lifetime", "debt", "last_activity_at", "tier", "tier_achieved_at",
                  "tier_downgrade_at", "updated_at")


def members_balances_write(*, members: Sequence[Member], now: datetime | None = None) -> None:
    """Save many locked members' balances (and tier fields) with one ``UPDATE … FROM unnest(arrays)``: a
    statement whose size and cost grow linearly with the batch (``bulk_update`` builds a CASE branch per
    member, quadratic). The caller holds the rows' locks."""
    if not members:
        return
    now = now or timezone.now()
    fields = [Member._meta.get_field(name) for name in BALANCE_FIELDS]
    for member in members:
        member.updated_at = now
    pk = Member._meta.pk
    columns = [pk, *fields]
    arrays = [[getattr(member, field.attname) for member in members] for field in columns]
    unnest = ", ".join(f"%s::{field.db_type(connection)}[]" for field in columns)
    names = ", ".join(f'"{field.column}"' for field in columns)
    assignments = ", ".join(f'"{field.column}" = v."{field.column}"' for field in fields)
    with connection.cursor() as cursor:
        cursor.execute(
            f'UPDATE "{Member._meta.db_table}" AS m SET {assignments} '  # noqa: S608 - model metadata only
            f'FROM unnest({unnest}) AS v({names}) WHERE m."{pk.column}" = v."{pk.column}"', arrays)


def _tiers_apply_bulk(members: Sequence[Member], *, now: datetime) -> None:
    """``tier_recalculate`` for the members of points-based tier programs, in memory, with one tier query
    and one qualifying-value read per program (the caller then saves the tier fields with the balances)."""
    from apps.loyalty.services.tiers import tier_apply  # tiers depend on ledger, not the reverse

    by_program: dict[uuid.UUID, list[Member]] = defaultdict(list)
    for member in members:
        if member.program.tier_basis == Program.TierBasis.POINTS:
            by_program[member.program_id].append(member)
    for group in by_program.values():
        tiers = list(Tier.objects.filter(program_id=group[0].program_id).order_by("rank"))
        if not tiers:
            continue
        values = members_qualifying_values(program=group[0].program, member_ids=[m.pk for m in group], now=now)
        for member in group:
            tier_apply(member=member, tiers=tiers, value=values[member.pk], now=now)


def _rows_insert(model: type[Model], columns: Sequence[str], rows: Sequence[Sequence[Any]], *,
                 suffix: str = "", **constants: Any) -> list[tuple[Any, ...]]:
    """``INSERT … SELECT FROM unnest(one array per column)``: one statement whose size and cost grow linearly
    with the batch, from plain tuples (no model instance, no per-value preparation). Columns not named take
    ``constants`` or the field's default; rows keep their order (``WITH ORDINALITY``), so sequence ids follow
    it. ``suffix`` is appended (``ON CONFLICT …``, ``RETURNING …``); returns what RETURNING gave. Without a
    suffix the rows go in by COPY instead (same columns and values, in order)."""
    if not rows:
        return []
    meta = model._meta
    fields = {field.attname: field for field in meta.concrete_fields}
    named = [fields[name] for name in columns]
    fixed = []
    for field in meta.concrete_fields:
        if field.attname in columns or (field.primary_key and isinstance(field, AutoField)):
            continue
        value = constants[field.attname] if field.attname in constants else field.get_default()
        if value is None and not field.null:
            raise ValueError(f"{meta.label}.{field.attname} needs a value")
        fixed.append((field, value))
    if not suffix:  # nothing to return: COPY, which the server consumes while the rows are still being sent
        rows_copy(meta.db_table, [field.column for field in named], rows,
                  constants=[(field.column, value) for field, value in fixed])
        return []
    arrays = [list(column) for column in zip(*rows, strict=True)]
    aliases = [f"c{index}" for index in range(len(named))]
    select = [*(f'v."{alias}"' for alias in aliases), *(f"%s::{field.db_type(connection)}" for field, _v in fixed)]
    target = ", ".join(f'"{field.column}"' for field in [*named, *(field for field, _value in fixed)])
    unnest = ", ".join(f"%b::{field.db_type(connection)}[]" for field in named)
    sql = (f'INSERT INTO "{meta.db_table}" ({target}) SELECT {", ".join(select)} '  # noqa: S608 - metadata only
           f'FROM unnest({unnest}) WITH ORDINALITY AS v({", ".join(aliases)}, ord) ORDER BY v.ord {suffix}')
    return execute_bound(sql, [*(value for _field, value in fixed), *arrays])  # in the order they appear


@dataclass(slots=True)
class _Locked:
    """A member locked by ``points_award_rows_bulk``: balances as plain integers, its program's rules."""

    available: int
    pending: int
    lifetime: int
    debt: int
    email: str
    name: str
    program_id: uuid.UUID
    program_status: str
    program_name: str
    pending_days: int
    expiration_enabled: bool
    expiration_months: int
    tier_basis: str
    touched: bool = False

    @property
    def status(self) -> str:  # what ``_require_moving`` reads of a program
        return self.program_status


class _MirrorProgram(NamedTuple):
    pk: uuid.UUID
    name: str


class _MirrorMember(NamedTuple):
    pk: uuid.UUID
    email: str
    name: str
    program: _MirrorProgram


class _MirrorEntry(NamedTuple):
    """What the TLP outbox reads of a ledger entry written without a model instance."""

    pk: uuid.UUID
    kind: str
    status: str
    amount: int
    reason: str
    member: _MirrorMember


ENTRY_COLUMNS = ("id", "program_id", "member_id", "kind", "status", "amount", "balance_after", "debt_change",
                 "source", "reason", "idempotency_key", "unlock_at", "expires_at", "campaign_id")
LOCK_SQL = (
    'SELECT m."id", m."available", m."pending", m."lifetime", m."debt", m."email", m."name", p."id", '
    'p."status", p."name", p."pending_days", p."expiration_enabled", p."expiration_months", p."tier_basis" '
    'FROM "loyalty_member" m JOIN "loyalty_program" p ON p."id" = m."program_id" '
    'WHERE m."id" = ANY(%b::uuid[]) ORDER BY m."id" FOR UPDATE OF m'
)


def _awards_validate(awards: Sequence[Any]) -> None:
    for index, award in enumerate(awards):
        if not isinstance(award.points, int) or isinstance(award.points, bool) or award.points <= 0:
            raise ApplicationError(_("Points must be a positive whole number."), code="invalid",
                                   fields={"awards": {str(index): [_("Must be a positive integer.")]}})
        if award.source not in AWARD_SOURCES or not award.idempotency_key:
            raise ApplicationError(_("Each award needs a known source and an idempotency key."), code="invalid",
                                   fields={"awards": {str(index): [_("Invalid source or key.")]}})
        if award.source == Source.MANUAL and not award.reason.strip():
            raise ApplicationError(_("A manual adjustment needs a reason."), code="invalid",
                                   fields={"awards": {str(index): [_("Required for manual adjustments.")]}})


def _joining_states(plan: EnrolmentPlan, member_ids: set[uuid.UUID]) -> dict[uuid.UUID, _Locked]:
    """Members of a plan, not yet written: zero balances and their program's rules (one read). Nothing to lock:
    no other transaction can see a row before this one commits, and a concurrent enrolment of the same customer
    waits on the unique (program, customer id) index, then fails ours (``_members_insert``)."""
    program = Program.objects.get(pk=plan.program_id)
    return {member_id: _Locked(0, 0, 0, 0, plan.joining[member_id].email, plan.joining[member_id].name, program.pk,
                               program.status, program.name, program.pending_days, program.expiration_enabled,
                               program.expiration_months, program.tier_basis) for member_id in member_ids}


def _members_lock_rows(member_ids: set[uuid.UUID]) -> dict[uuid.UUID, _Locked]:
    """Lock the members' rows in id order (the order every ledger path locks in) and read their balances."""
    locked = {row[0]: _Locked(*row[1:]) for row in execute_bound(LOCK_SQL, [list(member_ids)])}
    if len(locked) != len(member_ids):
        raise NotFoundError(_("Member not found."), code="member_not_found")
    return locked


def _balances_write(locked: dict[uuid.UUID, _Locked], *, now: datetime) -> None:
    """Save the touched members' balances: one ``UPDATE … FROM unnest`` of plain values; members of programs
    whose tiers follow points are loaded (already locked) so their tier is decided as ``points_award`` would."""
    plain = [(pk, state) for pk, state in locked.items()
             if state.touched and state.tier_basis != Program.TierBasis.POINTS]
    tiered = {pk: state for pk, state in locked.items()
              if state.touched and state.tier_basis == Program.TierBasis.POINTS}
    if plain:
        execute_bound(f'UPDATE "{Member._meta.db_table}" AS m SET "available" = v.a, '  # noqa: S608 - metadata only
               '"pending" = v.p, "lifetime" = v.l, "debt" = v.d, "last_activity_at" = %s, "updated_at" = %s '
               'FROM unnest(%b::uuid[], %b::bigint[], %b::bigint[], %b::bigint[], %b::bigint[]) '
               'AS v(id, a, p, l, d) WHERE m."id" = v.id',
               [now, now, [pk for pk, _state in plain], [state.available for _pk, state in plain],
                [state.pending for _pk, state in plain], [state.lifetime for _pk, state in plain],
                [state.debt for _pk, state in plain]])
    if tiered:
        members = list(Member.objects.select_related("program").filter(pk__in=list(tiered)).order_by("pk"))
        for member in members:
            state = tiered[member.pk]
            member.available, member.pending, member.lifetime, member.debt = (
                state.available, state.pending, state.lifetime, state.debt)
            member.last_activity_at = now
        _tiers_apply_bulk(members, now=now)
        members_balances_write(members=members, now=now)


@transaction.atomic
def points_award_rows_bulk(*, awards: Sequence[AwardRow], actor: Any = None,
                           enrolment: EnrolmentPlan | None = None) -> list[uuid.UUID]:
    """``points_award_bulk`` on plain rows, for batches of thousands: the same promises (each award idempotent on
    its key, a key seen again — in the database or earlier in the batch — is a replay of the first entry; every
    member locked once, in id order; debt repaid first; all or nothing), one ledger entry id per award. Writes
    one statement per table and builds no model instance (but for members of points-based tier programs).
    With an ``enrolment`` (``members_enroll_plan``), its new members are written here, each with its balances
    after the awards: no lock and no balance update for a row this transaction inserts. Refuses (400) invalid
    awards, (404) an unknown member, (409) a key used for another request or a customer enrolled meanwhile,
    (422) a program that is not active."""
    joining = enrolment.joining if enrolment is not None else {}
    if not awards:
        if enrolment is not None:
            _members_insert(enrolment, {}, now=timezone.now())
        return []
    _awards_validate(awards)
    now = timezone.now()
    locked = _members_lock_rows({award.member_id for award in awards if award.member_id not in joining})
    if joining:
        locked.update(_joining_states(enrolment, {award.member_id for award in awards if award.member_id in joining}))
    seen: dict[str, tuple[uuid.UUID, uuid.UUID, int]] = {}
    for key, entry_id, member_id, amount in execute_bound(
            'SELECT "idempotency_key", "id", "member_id", "amount" '  # noqa: S608 - metadata only
            f'FROM "{LedgerEntry._meta.db_table}" WHERE "idempotency_key" = ANY(%b::varchar[])',
            [[award.idempotency_key for award in awards]]):
        seen[key] = (entry_id, member_id, amount)
    expiry: dict[uuid.UUID, datetime | None] = {}
    ids: list[uuid.UUID] = []
    rows: list[tuple[Any, ...]] = []
    allocations: list[tuple[uuid.UUID, uuid.UUID, int]] = []
    for award in awards:
        state = locked[award.member_id]
        replay = seen.get(award.idempotency_key)
        if replay is not None:
            if replay[1] != award.member_id or abs(replay[2]) != award.points:
                raise ConflictError(_("This idempotency key was already used for a different request."),
                                    code="idempotency_key_reused")
            ids.append(replay[0])
            continue
        manual = award.source == Source.MANUAL
        _require_moving(state, manual=manual)  # type: ignore[arg-type] - reads .status only
        pending_days = award.pending_days if award.pending_days is not None else (0 if manual else state.pending_days)
        if state.program_id not in expiry:
            expiry[state.program_id] = (add_months(now, state.expiration_months) if state.expiration_enabled
                                        else None)
        points, pending = award.points, pending_days > 0
        state.lifetime += points
        if pending:
            state.pending += points
        else:
            state.available += points
        state.touched = True
        entry_id = uuid.uuid4()
        rows.append((entry_id, state.program_id, award.member_id, Kind.ADJUST if manual else Kind.EARN,
                     Status.PENDING if pending else Status.ACTIVE, points, state.available, 0, award.source,
                     award.reason.strip(), award.idempotency_key, now + timedelta(days=pending_days) if pending
                     else None, expiry[state.program_id], award.campaign_id))
        repay = 0 if pending else min(state.debt, points)
        if repay > 0:  # debt is repaid from the first points that become available (as ``credit_build``)
            state.available -= repay
            state.debt -= repay
            settle_id = uuid.uuid4()
            rows.append((settle_id, state.program_id, award.member_id, Kind.DEBT_SETTLE, Status.ACTIVE, -repay,
                         state.available, -repay, Source.REFUND, "debt repayment", None, None, None, None))
            allocations.append((settle_id, entry_id, repay))
        seen[award.idempotency_key] = (entry_id, award.member_id, points)
        ids.append(entry_id)
    if not rows:
        if enrolment is not None:
            _members_insert(enrolment, {}, now=now)
        return ids
    if enrolment is not None:  # the new members, written once, with the balances the awards leave them
        _members_insert(enrolment, locked, now=now)
        for member_id in joining:
            if member_id in locked:
                locked[member_id].touched = False  # written with its final balances, nothing to update
    try:
        _rows_insert(LedgerEntry, ENTRY_COLUMNS, rows, created_at=now, updated_at=now, status_changed_at=now,
                     occurred_at=now, actor_id=getattr(actor, "pk", None))
    except IntegrityError as exc:  # a key taken meanwhile by another member's request
        if _violates(exc, "loyalty_ledgerentry_idempotency_key_key"):
            raise ConflictError(_("This idempotency key was already used for another request."),
                                code="idempotency_key_reused") from exc
        raise
    if allocations:
        _rows_insert(LedgerAllocation, ("spend_id", "award_id", "points"), allocations)
    _mirror(rows, locked)
    _balances_write(locked, now=now)
    return ids


def _mirror(rows: list[tuple[Any, ...]], locked: dict[uuid.UUID, _Locked]) -> None:
    """Queue the TLP mirror of the written entries, in ledger order (nothing is built without a TLP
    configuration)."""
    from apps.tlp.selectors import tlp_configuration_active

    if tlp_configuration_active() is None:
        return
    members: dict[uuid.UUID, _MirrorMember] = {}
    entries = []
    for row in rows:  # ENTRY_COLUMNS
        member = members.get(row[2])
        if member is None:
            state = locked[row[2]]
            member = members[row[2]] = _MirrorMember(row[2], state.email, state.name,
                                                     _MirrorProgram(row[1], state.program_name))
        entries.append(_MirrorEntry(row[0], row[3], row[4], row[5], row[9], member))
    tlp_outbox_enqueue_ledger_entries(entries=entries)


@transaction.atomic
def points_award_bulk(*, awards: Sequence[AwardInput], actor: Any = None) -> list[LedgerEntry]:
    """Many awards at once, as that many ``points_award`` calls would (each idempotent on its own key; a key
    seen again, in the database or earlier in the batch, is a replay), with every member locked once (in id
    order) and one insert per table. All or nothing: one refused award refuses the batch. The callers'
    member instances get the new balances."""
    _awards_validate(awards)
    ids = points_award_rows_bulk(actor=actor, awards=[
        AwardRow(member_id=award.member.pk, points=award.points, idempotency_key=award.idempotency_key,
                 source=award.source, reason=award.reason, pending_days=award.pending_days) for award in awards])
    entries = LedgerEntry.objects.in_bulk(list(set(ids)))
    fresh = Member.objects.in_bulk(list({award.member.pk for award in awards}))
    for award in awards:
        _sync(award.member, fresh[award.member.pk])
    return [entries[entry_id] for entry_id in ids]


def _referral_codes(count: int) -> list[str]:
    from apps.loyalty.services.programs import REFERRAL_ALPHABET, REFERRAL_CODE_LENGTH

    size = len(REFERRAL_ALPHABET)  # 32: a byte modulo 32 is uniform
    raw = secrets.token_bytes(count * REFERRAL_CODE_LENGTH)
    return ["".join(REFERRAL_ALPHABET[byte % size] for byte in raw[start:start + REFERRAL_CODE_LENGTH])
            for start in range(0, len(raw), REFERRAL_CODE_LENGTH)]


class EnrolmentPlan(NamedTuple):
    """Customers ``members_enroll_plan`` found enrolled or will enrol: ``ids`` (one per row given, in order)
    and, for those not enrolled yet, the member ids chosen for them and their rows, written by
    ``members_enroll_bulk`` or by ``points_award_rows_bulk(enrolment=…)`` with their balances after the awards."""

    program_id: uuid.UUID
    ids: list[uuid.UUID]
    joining: dict[uuid.UUID, MemberRow]


@transaction.atomic
def members_enroll_plan(*, program: Program, members: Sequence[MemberRow]) -> EnrolmentPlan:
    """Validate many customers and find those already enrolled (one read); the others get a member id now, and
    a row once the plan is written. A program with sign-up earn rules or tiers enrols at once through
    ``members_import``, which runs them (and needs emails). Refuses (422) a draft program, (400) a row without
    a customer id or with an invalid email."""
    from apps.loyalty.services.programs import MemberInput, members_import

    if program.status == Program.Status.DRAFT:
        raise UnprocessableError(_("Members cannot join a draft program."), code="program_not_active")
    rows: dict[str, MemberRow] = {}
    errors: dict[str, list[str]] = {}
    for index, row in enumerate(members):
        customer_id, email = (row.customer_id or "").strip(), (row.email or "").strip().lower()
        problems = []
        if not customer_id or len(customer_id) > 100:
            problems.append(_("A customer id of at most 100 characters is required."))
        if email:
            try:
                validate_email(email)
            except ValidationError:
                problems.append(_("Enter a valid email address."))
        if problems:
            errors[str(index)] = problems
        rows.setdefault(customer_id, MemberRow(customer_id, email, (row.name or "").strip()[:200]))
    if errors:
        raise ApplicationError(_("The data is not valid."), code="invalid", fields={"members": errors})
    if not rows:
        return EnrolmentPlan(program.pk, [], {})
    from apps.loyalty.models import EarnRule

    if Tier.objects.filter(program=program).exists() or EarnRule.objects.filter(
            program=program, event=EarnRule.Event.SIGNUP, is_active=True).exists():
        enrolled = members_import(program=program, members=[
            MemberInput(customer_id=row.customer_id, email=row.email, name=row.name) for row in rows.values()])
        by_customer = {member.customer_id: member.pk for member in enrolled}
        return EnrolmentPlan(program.pk, [by_customer[(row.customer_id or "").strip()] for row in members], {})
    found: dict[str, uuid.UUID] = dict(execute_bound(
        f'SELECT "customer_id", "id" FROM "{Member._meta.db_table}" '  # noqa: S608 - metadata only
        'WHERE "program_id" = %s AND "customer_id" = ANY(%b::varchar[])', [program.pk, list(rows)]))
    joining: dict[uuid.UUID, MemberRow] = {}
    for key, row in rows.items():
        if key not in found:
            found[key] = uuid.uuid4()
            joining[found[key]] = row
    return EnrolmentPlan(program.pk, [found[(row.customer_id or "").strip()] for row in members], joining)


def _members_insert(plan: EnrolmentPlan, balances: dict[uuid.UUID, _Locked], *, now: datetime,
                    adopt: bool = False) -> dict[uuid.UUID, uuid.UUID]:
    """Write the plan's new members, with their balances when ``balances`` has them (zero otherwise), in one
    ``INSERT … ON CONFLICT DO NOTHING`` per round. A referral code taken (32^8 codes) draws a new one. A
    customer enrolled meanwhile by another transaction: with ``adopt``, that member is theirs (returned as
    planned id -> actual id); otherwise refused (409), since the caller's writes name the planned id (a retry
    finds the member)."""
    adopted: dict[uuid.UUID, uuid.UUID] = {}
    missing = dict(plan.joining)
    for attempt in range(6):
        if not missing:
            return adopted
        if attempt == 5:  # pragma: no cover - five referral code collisions in a row
            raise ConflictError(_("Could not generate a unique referral code. Please retry."),
                                code="code_collision")
        rows = []
        for (member_id, row), code in zip(missing.items(), _referral_codes(len(missing)), strict=True):
            state = balances.get(member_id)
            rows.append((member_id, row.customer_id, row.email, row.name, code,
                         *((state.available, state.pending, state.lifetime, state.debt) if state else (0, 0, 0, 0))))
        inserted = _rows_insert(
            Member, ("id", "customer_id", "email", "name", "referral_code", "available", "pending", "lifetime",
                     "debt"), rows, suffix='ON CONFLICT DO NOTHING RETURNING "id"',
            program_id=plan.program_id, created_at=now, updated_at=now, enrolled_at=now, last_activity_at=now)
        for (member_id,) in inserted:
            del missing[member_id]
        if not missing:
            return adopted
        planned = {row.customer_id: member_id for member_id, row in missing.items()}
        taken = execute_bound(f'SELECT "customer_id", "id" FROM "{Member._meta.db_table}" '  # noqa: S608 - metadata only
                       'WHERE "program_id" = %s AND "customer_id" = ANY(%b::varchar[])',
                       [plan.program_id, list(planned)])
        if taken and not adopt:
            raise ConflictError(_("A member joined the program at the same time. Please retry."),
                                code="member_enrolled_concurrently")
        for customer_id, member_id in taken:
            adopted[planned[customer_id]] = member_id
            del missing[planned[customer_id]]
    return adopted


@transaction.atomic
def members_enroll_bulk(*, program: Program, members: Sequence[MemberRow]) -> list[uuid.UUID]:
    """Enrol many customers from plain rows, for batches of thousands: one member id per row, in order; a
    customer already enrolled keeps their member, unchanged (``member_enroll``'s promise). One read and one
    ``INSERT … ON CONFLICT DO NOTHING``, no model instance. A program with sign-up earn rules or tiers goes
    through ``members_import``, which runs them (and needs emails). A concurrent enrolment is found, not
    duplicated. Refuses (422) a draft program, (400) a row without a customer id or with an invalid email."""
    plan = members_enroll_plan(program=program, members=members)
    adopted = _members_insert(plan, {}, now=timezone.now(), adopt=True)
    return [adopted.get(member_id, member_id) for member_id in plan.ids]

@transaction.atomic
def points_deduct(*, member: Member | MemberRef, points: int, reason: str, actor: Any = None,
                  idempotency_key: str) -> LedgerEntry:
    """Take points off a member (a manual negative adjustment, oldest-expiry-first). Refuses (422) more
    than the available balance: a deduction never creates debt. Idempotent on ``idempotency_key``."""
    locked = member_lock_for_write(member=member)  # an unknown customer is a 404 first
    _positive(points)
    if not reason.strip():
        raise ApplicationError(_("A deduction needs a reason."), code="invalid", fields={"reason": [_("Required.")]})
    existing = entry_for_key(idempotency_key=idempotency_key)
    if existing:
        return _replayed(existing, member=locked, points=points)
    _require_moving(locked.program, manual=True)
    with tlp_configuration_memo(active=locked.tlp_active):
        entry = debit_write(member=locked, points=points, kind=Kind.ADJUST, source=Source.MANUAL,
                            reason=reason.strip(), actor=actor, idempotency_key=idempotency_key)
    _save_balances(locked)
    _sync(member, locked)
    return entry


@transaction.atomic
def points_transfer(*, sender: Member, recipient: Member, points: int, idempotency_key: str, reason: str = "",
                    actor: Any = None) -> LedgerEntry:
    """Move points from one member to another of the same program (the program must allow transfers).

    The recipient receives one credit per expiry date drawn on, so transferred points keep their expiry.
    Returns the sender's transfer_out entry. Idempotent on ``idempotency_key``."""
    _positive(points)
    if sender.pk == recipient.pk:
        raise ApplicationError(_("A member cannot transfer points to themselves."), code="invalid",
                               fields={"recipient": [_("Must be another member.")]})
    if sender.program_id != recipient.program_id:
        raise UnprocessableError(_("Points can only be transferred within one program."), code="program_mismatch",
                                 fields={"recipient": [_("Belongs to another program.")]})
    existing = entry_for_key(idempotency_key=idempotency_key)
    if existing:
        return _replay_check(existing, member=sender, points=points)
    locked = members_lock(member_ids=[sender.pk, recipient.pk])
    source_member, target = locked[sender.pk], locked[recipient.pk]
    existing = entry_for_key(idempotency_key=idempotency_key)
    if existing:
        return _replay_check(existing, member=source_member, points=points)
    program = source_member.program
    _require_moving(program)
    if not program.transfers_enabled:
        raise UnprocessableError(_("This program does not allow points transfers."), code="transfers_disabled")
    now = timezone.now()
    out = debit_write(member=source_member, points=points, kind=Kind.TRANSFER_OUT, source=Source.TRANSFER,
                      now=now, reason=reason, actor=actor, idempotency_key=idempotency_key)
    by_expiry: dict[datetime | None, int] = defaultdict(int)
    for allocation in out.allocations.select_related("award"):
        by_expiry[allocation.award.expires_at] += allocation.points
    first_in = None
    for expires_at, amount in sorted(by_expiry.items(), key=lambda item: (item[0] is None, item[0] or now)):
        entry = credit_write(member=target, points=amount, kind=Kind.TRANSFER_IN, source=Source.TRANSFER, now=now,
                             expires_at=expires_at or False, reason=reason, actor=actor, counterpart=out)
        first_in = first_in or entry
    _save_balances(source_member)
    _save_balances(target)
    _sync(sender, source_member)
    _sync(recipient, target)
    return out


@dataclass(frozen=True)
class ReversalResult:
    entry: LedgerEntry | None
    requested: int
    taken_from_award: int
    taken_from_others: int
    debt_recorded: int
    waived: int


def reversal_requested_so_far(*, award: LedgerEntry) -> int:
    """Points of ``award`` already asked back by earlier reversals (taken, charged or waived)."""
    totals = award.reversals.aggregate(
        taken=Coalesce(Sum("amount"), 0), debt=Coalesce(Sum("debt_change"), 0), waived=Coalesce(Sum("waived"), 0)
    )
    return -totals["taken"] + totals["debt"] + totals["waived"]


def reversal_write(*, member: Member, award: LedgerEntry, points: int, reason: str, source: str = Source.REFUND,
                   actor: Any = None, idempotency_key: str | None = None, now: datetime | None = None,
                   **fields: Any) -> ReversalResult:
    """Reverse ``points`` of ``award`` for a member already locked by the caller.

    Taken first from what is left of the award (pending or available); the part that had expired unused is
    waived; the part already spent follows the program's refund policy: ``negative_balance`` takes it from
    the member's other available points (oldest expiry first) and records only what is still missing as
    debt, ``debt`` records it all as debt. Debt is repaid from the next points that become available."""
    now = now or timezone.now()
    points = min(points, award.amount - reversal_requested_so_far(award=award))
    if points <= 0:
        return ReversalResult(None, 0, 0, 0, 0, 0)
    own = credits_with_remaining(member_id=member.pk, statuses=(Status.ACTIVE, Status.PENDING, Status.EXPIRED),
                                 only=[award.pk])
    award_remaining = own[0].remaining if own else 0
    from_award = min(points, award_remaining) if award.status in (Status.ACTIVE, Status.PENDING) else 0
    shortfall = points - from_award
    waived = 0
    if shortfall:
        expired = award.drawn_by.filter(spend__kind=Kind.EXPIRE).aggregate(total=Coalesce(Sum("points"), 0))["total"]
        if award.status == Status.EXPIRED:
            expired += award_remaining  # returned by a cancelled reservation after the expiry: gone too
        already_waived = award.reversals.aggregate(total=Coalesce(Sum("waived"), 0))["total"]
        waived = max(0, min(shortfall, expired - already_waived))
        shortfall -= waived
    from_others = 0
    if shortfall and member.program.refund_policy == Program.RefundPolicy.NEGATIVE_BALANCE:
        others = [credit for credit in credits_with_remaining(member_id=member.pk) if credit.pk != award.pk]
        from_others = min(shortfall, sum(credit.remaining for credit in others), member.available)
    else:
        others = []
    debt = shortfall - from_others
    allocations: list[LedgerAllocation] = []
    if award.status == Status.PENDING:
        member.pending -= from_award
    else:
        member.available -= from_award
    member.available -= from_others
    member.debt += debt
    _touch(member, now)
    entry = _insert(LedgerEntry(
        program_id=member.program_id, member=member, kind=Kind.REVERSE, source=source,
        amount=-(from_award + from_others), debt_change=debt, waived=waived, status=Status.ACTIVE,
        balance_after=member.available, reverses=award, reason=reason, actor=actor,
        idempotency_key=idempotency_key, status_changed_at=now, occurred_at=now, **fields,
    ))
    if from_award:
        allocations.append(LedgerAllocation(spend=entry, award=award, points=from_award))
    if from_others:
        allocations.extend(_plan(others, from_others, entry))
    LedgerAllocation.objects.bulk_create(allocations)
    if award.status == Status.PENDING and from_award == award_remaining:
        award.status, award.status_changed_at = Status.CANCELLED, now
        award.save(update_fields=["status", "status_changed_at", "updated_at"])
    return ReversalResult(entry, points, from_award, from_others, debt, waived)


def _plan(credits: list[LedgerEntry], points: int, entry: LedgerEntry) -> list[LedgerAllocation]:
    allocations, left = [], points
    for credit in credits:
        take = min(left, credit.remaining)
        if take > 0:
            allocations.append(LedgerAllocation(spend=entry, award=credit, points=take))
            left -= take
        if left == 0:
            break
    return allocations


@transaction.atomic
def points_reverse(*, entry: LedgerEntry | None = None, entry_id: uuid.UUID | None = None, reason: str,
                   idempotency_key: str, points: int | None = None, actor: Any = None,
                   source: str | None = None) -> LedgerEntry | None:
    """Reverse a credit (all of it not yet reversed, or ``points`` of it), e.g. a referral award later judged
    fraudulent. A still-pending credit is simply taken back (and cancelled when nothing is left); points
    already spent follow the program's refund policy (see ``reversal_write``). Returns the reversal entry,
    or None when nothing was left to reverse. Idempotent on ``idempotency_key``.

    For apps.referrals: ``points_reverse(entry_id=<id of the entry points_award returned>, reason=str,
    idempotency_key=str)`` (or ``entry=<LedgerEntry>``); optional ``points``, ``actor``, ``source``
    (defaults to the reversed credit's source)."""
    if entry is None and entry_id is None:
        raise ApplicationError(_("Name the entry to reverse."), code="invalid", fields={"entry": [_("Required.")]})
    award = entry if entry is not None else LedgerEntry.objects.filter(pk=entry_id).first()
    if award is None:
        raise NotFoundError(_("Ledger entry not found."), code="entry_not_found")
    if award.amount <= 0:
        raise ApplicationError(_("Only credits can be reversed."), code="invalid",
                               fields={"entry": [_("Not a credit.")]})
    if not reason.strip():
        raise ApplicationError(_("A reversal needs a reason."), code="invalid", fields={"reason": [_("Required.")]})
    if points is not None:
        _positive(points)
    existing = entry_for_key(idempotency_key=idempotency_key)
    if existing:
        return _replay_check(existing, member=award.member)
    locked = member_lock(member_id=award.member_id)
    existing = entry_for_key(idempotency_key=idempotency_key)
    if existing:
        return existing
    award = LedgerEntry.objects.get(pk=award.pk)
    if award.status == Status.CANCELLED:
        return None
    result = reversal_write(member=locked, award=award, points=points or award.amount, reason=reason.strip(),
                            source=source or award.source, actor=actor, idempotency_key=idempotency_key)
    _save_balances(locked)
    from apps.loyalty.services.tiers import tier_recalculate

    tier_recalculate(member=locked)
    return result.entry


def _sync(target: Member | MemberRef, source: Member) -> None:
    """Reflect the locked copy's balances on the caller's instance, so it is not left stale (a MemberRef has
    none)."""
    if target is source or not isinstance(target, Member):
        return
    for field in ("available", "pending", "lifetime", "debt", "last_activity_at", "tier_id", "tier_achieved_at",
                  "tier_downgrade_at", "purchase_count"):
        setattr(target, field, getattr(source, field))
