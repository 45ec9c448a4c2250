"""The outbox: every call TLP must receive, written with the change it mirrors, delivered exactly once.

Writing: :func:`tlp_outbox_enqueue` inserts a row inside the caller's transaction, so the row exists if and
only if the change committed. Each row has a stable idempotency key, sent to TLP on every attempt.

Delivering (:func:`tlp_outbox_deliver`, run by the ``tlp.outbox_deliver`` task and by beat):

* Claim: the first undelivered row of each member (rows of one ``member_key`` go strictly in order), due now,
  locked ``FOR UPDATE SKIP LOCKED`` so concurrent workers take different members, then marked ``in_flight``
  with a lease. A worker that dies leaves its rows to be reclaimed when the lease runs out.
* Probe: the first claimed row is sent alone. If TLP gives no answer at all (down, unreachable) or rejects
  the key, the others are put back without an attempt counted: an outage is not the rows' fault.
* Send the rest from a small thread pool (HTTP only; every database write happens on the calling thread).
* Record: delivered; or back to pending with exponential backoff; or, after ``TLP_OUTBOX_MAX_ATTEMPTS``
  failures or a refusal that retrying cannot fix (TLP says the request is invalid), ``dead`` with an
  ERROR log line (the alert), shown in the admin and counted by the health endpoint.
"""

from __future__ import annotations

import hashlib
import json
import logging
import random
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import connection, transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.core.bulk import execute_bound
from apps.core.errors import ApplicationError, NotFoundError
from apps.tlp import wire
from apps.tlp.client import (
    TLPAuthError,
    TLPClient,
    TLPConflict,
    TLPError,
    TLPNotFound,
    TLPUnavailable,
    TLPValidationError,
)
from apps.tlp.models import TLPConfiguration, TLPEntity, TLPOutbox
from apps.tlp.selectors import tlp_configuration_active, tlp_entity_map
from apps.tlp.services.configuration import tlp_client_build, tlp_configuration_record

logger = logging.getLogger(__name__)

Operation = TLPOutbox.Operation
Status = TLPOutbox.Status
TRANSACTION_OPERATIONS = (Operation.ACCRUE, Operation.REDEEM, Operation.ISSUE)
LEASE = timedelta(minutes=5)
MAX_ERROR_LENGTH = 1000
OUTAGE_CODES = frozenset({"connection_error", "connect_timeout"})


def _setting(name: str, default: Any) -> Any:
    return getattr(settings, name, default)


# ------------------------------------------------------------------------------------------ enqueue
@dataclass
class _Switch:
    active: bool | None


_switch: ContextVar[_Switch | None] = ContextVar("tlp_configuration_memo", default=None)


def tlp_active_expression() -> Exists:
    """Whether TLP mirroring is on, as an SQL expression: a ledger service reads it in the statement that locks
    the member (annotated), instead of one more query per entry, and hands it to ``tlp_configuration_memo``."""
    return Exists(TLPConfiguration.objects.filter(is_active=True))


@contextmanager
def tlp_configuration_memo(*, active: bool | None = None) -> Iterator[None]:
    """Within the block (a service call, inside its transaction) the TLP switch is read at most once, however
    many entries it writes: ``active`` when the caller read it already in one of its own statements, else at
    the first enqueue. A block inside another keeps the outer one's answer. Outside any block every enqueue
    reads it."""
    outer = _switch.get()
    token = _switch.set(_Switch(active if active is not None else (outer.active if outer else None)))
    try:
        yield
    finally:
        _switch.reset(token)


def _tlp_active() -> bool:
    switch = _switch.get()
    if switch is None:
        return tlp_configuration_active() is not None
    if switch.active is None:
        switch.active = tlp_configuration_active() is not None
    return switch.active


def _payload_check(operation: str, payload: Mapping[str, Any]) -> None:
    problems: dict[str, list[str]] = {}
    if operation in TRANSACTION_OPERATIONS:
        points = payload.get("points")
        if isinstance(points, bool) or not isinstance(points, int) or points <= 0:
            problems["points"] = [_("Must be a positive integer.")]
        point_type = payload.get("point_type")
        if not isinstance(point_type, Mapping) or not point_type.get("key") or not point_type.get("name"):
            problems["point_type"] = [_("Give the point type's key and name.")]
    elif operation == Operation.OFFER_UPDATE:
        if not payload.get("offer_kind") or not payload.get("offer_ref") or not payload.get("fields"):
            problems["payload"] = [_("Give offer_kind, offer_ref and fields.")]
    elif operation != Operation.MEMBER_UPSERT:
        problems["operation"] = [_("Unknown operation.")]
    if problems:
        raise ApplicationError(_("This TLP outbox row is not valid."), code="invalid", fields=problems)


def tlp_outbox_enqueue(*, operation: str, payload: Mapping[str, Any], member_key: str, idempotency_key: str,
                       source_type: str = "", source_id: str = "") -> TLPOutbox | None:
    """Queue a call for TLP as part of the caller's transaction (required: refuses to run outside one).

    ``payload`` for accrue/redeem/issue: ``{"points": int, "point_type": {"key", "name"}, "member": {"email",
    "name"}, "reference", "description"}``. A no-op returning None when the tenant has no active TLP
    configuration. Enqueuing the same ``idempotency_key`` again returns the existing row."""
    if not connection.in_atomic_block:
        raise RuntimeError("tlp_outbox_enqueue must run inside the transaction of the change it mirrors")
    if not _tlp_active():
        return None
    _payload_check(operation, payload)
    row, created = TLPOutbox.objects.get_or_create(
        idempotency_key=idempotency_key,
        defaults={"operation": operation, "payload": dict(payload), "member_key": member_key,
                  "source_type": source_type, "source_id": str(source_id), "next_attempt_at": timezone.now()},
    )
    if created and _setting("TLP_OUTBOX_KICK", True):
        transaction.on_commit(_kick)
    return row


def _kick() -> None:
    """Ask a worker to deliver soon; at most one request per tenant every two seconds."""
    schema = connection.schema_name
    if not cache.add(f"tlp:outbox:kick:{schema}", 1, 2):
        return
    try:
        from apps.core.jobs import send_to_schema

        send_to_schema("tlp.outbox_deliver", schema_name=schema)
    except Exception:  # the broker being down must never break the write that was just committed
        logger.warning("could not ask for a TLP outbox delivery in %s; beat will pick the rows up", schema)


def ledger_member_key(member_id: Any) -> str:
    return f"loyalty-member:{member_id}"


def ledger_point_type_key(program_id: Any) -> str:
    return f"loyalty-program:{program_id}"


def _ledger_parts(entry: Any, points: int | None) -> tuple[str, str, int, str] | None:
    """How one ledger entry is mirrored: (operation, idempotency key, points, description), or None when it moves
    no points."""
    amount = int(entry.amount)
    cancelled = entry.status == "cancelled" and amount < 0
    if amount == 0 or (points is not None and points <= 0):
        return None
    if cancelled:
        operation, key = Operation.ISSUE, f"ledger:{entry.pk}:cancelled"
    elif amount > 0:
        operation, key = (Operation.ACCRUE if entry.kind == "earn" else Operation.ISSUE), f"ledger:{entry.pk}"
    else:
        operation, key = Operation.REDEEM, f"ledger:{entry.pk}"
    description = f"{entry.kind}: {entry.reason}" if entry.reason else str(entry.kind)
    return operation, key, points if points is not None else abs(amount), description[:500]


def _ledger_row(entry: Any, points: int | None) -> dict[str, Any] | None:
    """What mirrors one ledger entry in TLP (operation, key, payload), or None when it moves no points."""
    parts = _ledger_parts(entry, points)
    if parts is None:
        return None
    operation, key, points, description = parts
    member = entry.member
    program = member.program
    payload = {
        "points": points,
        "point_type": {"key": ledger_point_type_key(program.pk), "name": program.name},
        "member": {"email": member.email or "", "name": member.name or ""},
        "reference": key,
        "description": description,
    }
    return {"operation": operation, "payload": payload, "member_key": ledger_member_key(member.pk),
            "idempotency_key": key, "source_type": "loyalty.ledgerentry", "source_id": str(entry.pk)}


def tlp_outbox_enqueue_ledger_entry(*, entry: Any, points: int | None = None) -> TLPOutbox | None:
    """Mirror one loyalty ledger entry in TLP (call it in the transaction that wrote the entry).

    Credits: an ``earn`` entry accrues, other credits (adjustments, transfers in) issue. Debits (redemptions,
    deductions, expiries, reversals, transfers out) redeem. A debit that was later cancelled (a released
    reservation) issues its points back: call again after the status change, with ``points`` = what was
    actually restored when that is less than the debit. Entries that move no points (debt bookkeeping only)
    are not sent."""
    row = _ledger_row(entry, points)
    return None if row is None else tlp_outbox_enqueue(**row)


def _member_identity(member: Any) -> tuple[str, str, str]:
    """A member's email and name as TLP gets them, and their digest (what the upsert is keyed by)."""
    email, name = (member.email or "").strip(), (member.name or "").strip()
    return email, name, hashlib.sha256(f"{email}\x00{name}".encode()).hexdigest()[:16]


def _member_upsert_row(member: Any) -> dict[str, Any]:
    """A loyalty member's TLP member, created (or updated) explicitly: keyed by what it says, so an unchanged
    member is queued once and a changed email or name once more."""
    email, name, digest = _member_identity(member)
    member_key = ledger_member_key(member.pk)
    return {"operation": Operation.MEMBER_UPSERT, "payload": {"member": {"email": email, "name": name}},
            "member_key": member_key, "idempotency_key": f"member-upsert:{member_key}:{digest}",
            "source_type": "loyalty.member", "source_id": str(member.pk)}


class _BulkRows:
    """Outbox rows as the six columns ``OUTBOX_INSERT`` binds, for thousands of members and entries: the rows of
    ``_member_upsert_row`` and ``_ledger_row``, with each payload written as JSON text from fragments encoded
    once (a program's point type, a member's identity, a description) instead of ``json.dumps`` of a nested
    dict per row, which was most of a campaign's bulk enqueue (tests compare both forms)."""

    def __init__(self) -> None:
        self.columns: tuple[list[str], ...] = ([], [], [], [], [], [])
        self._identities: dict[tuple[str, str], tuple[str, str]] = {}
        self._members: dict[Any, tuple[str, str]] = {}
        self._point_types: dict[Any, str] = {}
        self._texts: dict[str, str] = {}

    def _append(self, *row: str) -> None:
        for column, value in zip(self.columns, row, strict=True):
            column.append(value)

    def _text(self, value: str) -> str:
        text = self._texts.get(value)
        if text is None:
            text = self._texts[value] = json.dumps(value)
        return text

    def member(self, member: Any) -> None:
        email, name, digest = _member_identity(member)
        known = self._identities.get((email, name))
        if known is None:
            known = self._identities[(email, name)] = (
                f'{{"member": {{"email": {self._text(email)}, "name": {self._text(name)}}}}}', digest)
        member_key = ledger_member_key(member.pk)
        self._append(Operation.MEMBER_UPSERT, known[0], member_key, f"member-upsert:{member_key}:{known[1]}",
                     "loyalty.member", str(member.pk))

    def entry(self, entry: Any) -> None:
        parts = _ledger_parts(entry, None)
        if parts is None:
            return
        operation, key, points, description = parts  # the key: "ledger:<uuid>", nothing to escape
        member = entry.member
        known = self._members.get(member.pk)
        if known is None:
            program = member.program
            point_type = self._point_types.get(program.pk)
            if point_type is None:  # the checks _payload_check makes, once per program (points are > 0 here)
                _payload_check(operation, {"points": points, "point_type": {
                    "key": ledger_point_type_key(program.pk), "name": program.name}})
                point_type = self._point_types[program.pk] = (
                    f'{{"key": {self._text(ledger_point_type_key(program.pk))}, "name": {self._text(program.name)}}}')
            known = self._members[member.pk] = (ledger_member_key(member.pk), (
                f'"point_type": {point_type}, "member": {{"email": {self._text(member.email or "")}, '
                f'"name": {self._text(member.name or "")}}}'))
        self._append(operation, f'{{"points": {points}, {known[1]}, "reference": "{key}", '
                                f'"description": {self._text(description)}}}',
                     known[0], key, "loyalty.ledgerentry", str(entry.pk))


OUTBOX_INSERT = (
    'WITH queued AS (INSERT INTO "tlp_tlpoutbox" ("operation", "payload", "member_key", "idempotency_key", '
    '"source_type", "source_id", "status", "attempts", "next_attempt_at", "last_error", "created_at", "updated_at") '
    'SELECT v.operation, v.payload::jsonb, v.member_key, v.idempotency_key, v.source_type, v.source_id, %s, 0, '
    '%s, \'\', %s, %s FROM unnest(%b::varchar[], %b::text[], %b::varchar[], %b::varchar[], %b::varchar[], '
    '%b::varchar[]) WITH ORDINALITY AS v(operation, payload, member_key, idempotency_key, source_type, '
    'source_id, ord) ORDER BY v.ord ON CONFLICT ("idempotency_key") DO NOTHING RETURNING 1) '
    'SELECT count(*) FROM queued'
)


def tlp_outbox_enqueue_ledger_entries(*, entries: Sequence[Any] = (), members: Sequence[Any] = ()) -> int:
    """The bulk form, for entries written in bulk (model instances, or plain rows with the attributes
    ``_ledger_row`` reads): one configuration check and one ``INSERT … SELECT FROM unnest`` in the caller's
    transaction; rows keep the entries' order, so each member's calls go out in ledger order. ``members``
    (anything with ``pk``, ``email`` and ``name``) are loyalty members whose TLP member is created or updated
    explicitly, queued ahead of the entries: a campaign participant gets their TLP member when they join, not
    on their first points. Rows already queued are skipped. Returns how many rows it queued."""
    if not connection.in_atomic_block:
        raise RuntimeError("tlp_outbox_enqueue_ledger_entries must run inside the transaction that wrote them")
    if (not entries and not members) or tlp_configuration_active() is None:
        return 0
    rows = _BulkRows()
    for member in members:
        rows.member(member)
    for entry in entries:
        rows.entry(entry)
    if not rows.columns[0]:
        return 0
    now = timezone.now()
    # Bound on the server: interpolated into the SQL text, 20,000 payloads took longer to quote than to insert.
    created = execute_bound(OUTBOX_INSERT, [Status.PENDING, now, now, now, *rows.columns])[0][0]
    if created and _setting("TLP_OUTBOX_KICK", True):
        transaction.on_commit(_kick)
    return created


# ------------------------------------------------------------------------------------------ deliver
@dataclass
class _Job:
    """What a worker thread needs to send one row: plain values, no model instances."""

    row_id: int
    operation: str
    payload: dict[str, Any]
    member_key: str
    idempotency_key: str
    member_id: str | None
    point_type_id: str | None
    offer_id: str | None = None


@dataclass
class _Outcome:
    row_id: int
    ok: bool
    response: dict[str, Any] | None = None
    error: TLPError | None = None
    member_id: str | None = None  # a member TLP created or found while sending


@dataclass
class DeliveryReport:
    claimed: int = 0
    delivered: int = 0
    retried: int = 0
    dead: int = 0
    released: int = 0
    outage: str = ""
    errors: list[str] = field(default_factory=list)


@dataclass
class _Known:
    """TLP ids learnt during one delivery call, so each row does not look them up again."""

    point_types: dict[str, str] = field(default_factory=dict)
    members: dict[str, str] = field(default_factory=dict)


def _retry_delay(attempts: int, retry_after: float | None = None) -> float:
    base = float(_setting("TLP_OUTBOX_RETRY_BASE_SECONDS", 5.0))
    cap = float(_setting("TLP_OUTBOX_RETRY_MAX_SECONDS", 1800.0))
    step = min(cap, base * (2 ** max(0, attempts - 1)))
    delay = step / 2 + random.uniform(0, step / 2)  # noqa: S311 - jitter
    return max(delay, retry_after or 0.0)


# ------------------------------------------------------------------------------------------ claim
def _claim(*, limit: int, now: datetime, per_member: int = 1) -> list[list[TLPOutbox]]:
    """Claim work for up to ``limit`` members: each member's first open row, if due, followed by up to
    ``per_member`` − 1 of its next rows that are due too (a chain, sent in order by one thread). Claimed rows
    are locked ``FOR UPDATE SKIP LOCKED`` and marked in flight with a lease."""
    earlier_open = TLPOutbox.objects.filter(
        member_key=OuterRef("member_key"), id__lt=OuterRef("id"), status__in=[Status.PENDING, Status.IN_FLIGHT])
    due = Q(status=Status.PENDING, next_attempt_at__lte=now) | Q(status=Status.IN_FLIGHT, lease_expires_at__lte=now)
    with transaction.atomic():
        heads = list(
            TLPOutbox.objects.filter(due).filter(~Exists(earlier_open)).order_by("id")
            .select_for_update(skip_locked=True, of=("self",))[:limit]
        )
        chains = {head.member_key: [head] for head in heads}
        if heads and per_member > 1:
            # Nobody else can claim rows behind a head we hold, so waiting for their locks is safe (and
            # skipping one would break the order). A row that is not due ends its member's chain.
            followers = (
                TLPOutbox.objects.filter(member_key__in=list(chains), status__in=[Status.PENDING, Status.IN_FLIGHT],
                                         id__gt=min(head.id for head in heads))
                .order_by("member_key", "id").select_for_update(of=("self",))
            )
            ended: set[str] = set()
            for row in followers:
                chain = chains[row.member_key]
                if row.member_key in ended or row.id <= chain[0].id:
                    continue
                is_due = (row.status == Status.PENDING and row.next_attempt_at <= now) or (
                    row.status == Status.IN_FLIGHT and row.lease_expires_at is not None
                    and row.lease_expires_at <= now)
                if not is_due or len(chain) >= per_member:
                    ended.add(row.member_key)
                    continue
                chain.append(row)
        claimed = [row.id for chain in chains.values() for row in chain]
        if claimed:
            TLPOutbox.objects.filter(id__in=claimed).update(status=Status.IN_FLIGHT, lease_expires_at=now + LEASE,
                                                            updated_at=now)
    return sorted(chains.values(), key=lambda chain: chain[0].id)


# ------------------------------------------------------------------------------------------ resolve
def _ensure_point_types(client: TLPClient, rows: list[TLPOutbox], known: _Known) -> dict[str, str | TLPError]:
    """TLP ids of the point types the rows name, creating the missing ones (on this thread: there are few)."""
    wanted = {row.payload["point_type"]["key"]: row.payload["point_type"]["name"]
              for row in rows if row.operation in TRANSACTION_OPERATIONS}
    missing = [key for key in wanted if key not in known.point_types]
    if missing:
        known.point_types.update(tlp_entity_map(kind=TLPEntity.Kind.POINT_TYPE, local_refs=missing))
    result: dict[str, str | TLPError] = {key: known.point_types[key] for key in wanted if key in known.point_types}
    for key, name in wanted.items():
        if key in result:
            continue
        try:
            created = client.point_type_create(name=name[:100], description="", rank=1, enabled=True,
                                               show_zero_balance=True, idempotency_key=f"point_type:{key}")
        except TLPError as exc:
            result[key] = exc
            continue
        tlp_id = wire.read_id(created)
        TLPEntity.objects.update_or_create(kind=TLPEntity.Kind.POINT_TYPE, local_ref=key,
                                           defaults={"tlp_id": tlp_id, "data": {"name": name}})
        result[key] = known.point_types[key] = tlp_id
    return result


def _job_or_failure(row: TLPOutbox, point_types: Mapping[str, str | TLPError], known: _Known,
                    offers: Mapping[tuple[str, str], str]) -> _Job | _Outcome:
    point_type_id = None
    if row.operation in TRANSACTION_OPERATIONS:
        resolved = point_types.get(row.payload["point_type"]["key"])
        if not isinstance(resolved, str):
            return _Outcome(row.id, False, error=resolved or TLPError("point type unresolved"))
        point_type_id = resolved
    offer_id = None
    if row.operation == Operation.OFFER_UPDATE:
        offer_id = offers.get((row.payload["offer_kind"], row.payload["offer_ref"]))
    return _Job(row_id=row.id, operation=row.operation, payload=row.payload, member_key=row.member_key,
                idempotency_key=row.idempotency_key, member_id=known.members.get(row.member_key),
                point_type_id=point_type_id, offer_id=offer_id)


def _prepare(client: TLPClient, chains: list[list[TLPOutbox]],
             known: _Known) -> tuple[list[list[_Job]], list[_Outcome], list[TLPOutbox]]:
    """Jobs per chain, with the TLP ids we know. A row that cannot be sent (its point type could not be
    created) fails and ends its chain; the rows behind it are returned to be released."""
    rows = [row for chain in chains for row in chain]
    point_types = _ensure_point_types(client, rows, known)
    missing = {row.member_key for row in rows} - set(known.members)
    if missing:
        known.members.update(tlp_entity_map(kind=TLPEntity.Kind.MEMBER, local_refs=missing))
    offer_refs: dict[str, set[str]] = {}
    for row in rows:
        if row.operation == Operation.OFFER_UPDATE:
            offer_refs.setdefault(row.payload["offer_kind"], set()).add(row.payload["offer_ref"])
    offers = {(kind, ref): tlp_id for kind, refs in offer_refs.items()
              for ref, tlp_id in tlp_entity_map(kind=kind, local_refs=refs).items()}
    job_chains, failed, untouched = [], [], []
    for chain in chains:
        jobs: list[_Job] = []
        for index, row in enumerate(chain):
            prepared = _job_or_failure(row, point_types, known, offers)
            if isinstance(prepared, _Outcome):
                failed.append(prepared)
                untouched.extend(chain[index + 1:])
                break
            jobs.append(prepared)
        if jobs:
            job_chains.append(jobs)
    return job_chains, failed, untouched


# ------------------------------------------------------------------------------------------ send
def _member_resolve(client: TLPClient, job: _Job) -> str:
    """The member's TLP id: the known one, or found by external id, or created (idempotently)."""
    if job.member_id:
        return job.member_id
    page = client.member_search(external_id=job.member_key, page_size=1, fresh=True)
    if page.items:
        return wire.read_id(page.items[0])
    member = job.payload.get("member") or {}
    first, _sep, last = (member.get("name") or "").strip().partition(" ")
    try:
        created = client.member_create(external_id=job.member_key, email=member.get("email") or None,
                                       first_name=first[:100] or None, last_name=last[:100] or None,
                                       idempotency_key=f"member:{job.member_key}")
    except TLPConflict:
        # Created meanwhile by another path (or a lost answer with another key): it exists now.
        page = client.member_search(external_id=job.member_key, page_size=1, fresh=True)
        if not page.items:
            raise
        return wire.read_id(page.items[0])
    return wire.read_id(created)


def _send(client: TLPClient, job: _Job) -> _Outcome:
    """One row over HTTP. Runs on a worker thread: touches no database."""
    try:
        if job.operation == Operation.OFFER_UPDATE:
            if not job.offer_id:
                raise TLPNotFound("The offer is not known in TLP.", code="offer_unknown")
            response = client.offer_update(offer_id=job.offer_id, idempotency_key=job.idempotency_key,
                                           **job.payload["fields"])
            return _Outcome(job.row_id, True, {"id": wire.read_id(response)})
        member_id = _member_resolve(client, job)
        if job.operation == Operation.MEMBER_UPSERT:
            member = job.payload.get("member") or {}
            first, _sep, last = (member.get("name") or "").strip().partition(" ")
            client.member_update(member_id=member_id, email=member.get("email") or None,
                                 first_name=first[:100] or None, last_name=last[:100] or None,
                                 idempotency_key=job.idempotency_key)
            return _Outcome(job.row_id, True, {"id": member_id}, member_id=member_id)
        assert job.point_type_id is not None
        send = {Operation.ACCRUE: client.points_accrue, Operation.REDEEM: client.points_redeem,
                Operation.ISSUE: client.points_issue}[Operation(job.operation)]
        response = send(member_id=member_id, point_type=job.point_type_id, points=int(job.payload["points"]),
                        reference=job.payload.get("reference") or job.idempotency_key,
                        description=job.payload.get("description") or None, idempotency_key=job.idempotency_key)
        return _Outcome(job.row_id, True, {"id": wire.read_id(response)}, member_id=member_id)
    except TLPError as exc:
        return _Outcome(job.row_id, False, error=exc)
    except (KeyError, ValueError, TypeError) as exc:
        return _Outcome(job.row_id, False, error=TLPError(f"Unexpected answer from TLP: {exc}", code="bad_response"))


def _send_chain(client: TLPClient, jobs: list[_Job]) -> list[_Outcome]:
    """A member's rows in order; stops at the first failure (the rest stay for later, in order)."""
    outcomes = []
    member_id = jobs[0].member_id
    for job in jobs:
        job.member_id = job.member_id or member_id
        outcome = _send(client, job)
        outcomes.append(outcome)
        if not outcome.ok:
            break
        member_id = outcome.member_id or member_id
    return outcomes


# ------------------------------------------------------------------------------------------ record
def _is_outage(error: TLPError | None) -> bool:
    """No answer at all, or the key refused: TLP as a whole is out of reach, not this row."""
    return isinstance(error, TLPAuthError) or (isinstance(error, TLPUnavailable) and error.code in OUTAGE_CODES)


def _is_permanent(error: TLPError) -> bool:
    """TLP understood the request and refused it: sending it again cannot succeed."""
    return isinstance(error, TLPValidationError | TLPNotFound | TLPConflict)


def _error_text(error: TLPError) -> str:
    parts = [f"{type(error).__name__}"]
    if error.status:
        parts.append(str(error.status))
    if error.code:
        parts.append(error.code)
    text = " ".join(parts) + f": {error.message}"
    if error.fields:
        text += " " + "; ".join(f"{name}: {', '.join(messages)}" for name, messages in error.fields.items())
    return text[:MAX_ERROR_LENGTH]


def _dead_letter(row: TLPOutbox, *, error: str, now: datetime) -> None:
    TLPOutbox.objects.filter(pk=row.pk).update(status=Status.DEAD, attempts=row.attempts + 1, last_error=error,
                                               lease_expires_at=None, dead_at=now, updated_at=now)
    logger.error("TLP outbox row %s (%s for %s) is dead after %d attempt(s): %s", row.pk, row.operation,
                 row.member_key, row.attempts + 1, error)


def _record(rows: Mapping[int, TLPOutbox], outcomes: list[_Outcome], *, now: datetime, report: DeliveryReport,
            known: _Known) -> None:
    """Write the outcomes: delivered rows in one statement, failures one by one (retry or dead letter)."""
    delivered = []
    for outcome in outcomes:
        row = rows[outcome.row_id]
        if outcome.member_id and known.members.get(row.member_key) != outcome.member_id:
            TLPEntity.objects.get_or_create(kind=TLPEntity.Kind.MEMBER, local_ref=row.member_key,
                                            defaults={"tlp_id": outcome.member_id})
            known.members[row.member_key] = outcome.member_id
        if outcome.ok:
            row.status, row.attempts, row.response = Status.DELIVERED, row.attempts + 1, outcome.response
            row.delivered_at, row.last_error, row.lease_expires_at, row.updated_at = now, "", None, now
            delivered.append(row)
            continue
        error = outcome.error or TLPError("unknown failure")
        text = _error_text(error)
        report.errors.append(text)
        attempts = row.attempts + 1
        if _is_permanent(error) or attempts >= int(_setting("TLP_OUTBOX_MAX_ATTEMPTS", 12)):
            _dead_letter(row, error=text, now=now)
            report.dead += 1
            continue
        delay = _retry_delay(attempts, error.retry_after)
        TLPOutbox.objects.filter(pk=row.pk).update(status=Status.PENDING, attempts=attempts, last_error=text,
                                                   next_attempt_at=now + timedelta(seconds=delay),
                                                   lease_expires_at=None, updated_at=now)
        report.retried += 1
    if delivered:
        TLPOutbox.objects.bulk_update(delivered, ["status", "attempts", "response", "delivered_at", "last_error",
                                                  "lease_expires_at", "updated_at"])
        report.delivered += len(delivered)


def _release(rows: list[TLPOutbox], *, now: datetime, error: TLPError | None = None) -> None:
    """Put claimed rows back untouched (no attempt counted): after an outage with a delay, else at once."""
    if not rows:
        return
    changes: dict[str, Any] = {"status": Status.PENDING, "lease_expires_at": None, "updated_at": now,
                               "next_attempt_at": now}
    if error is not None:
        outage_runs = int(cache.get(f"tlp:outage:{connection.schema_name}") or 0)
        changes["next_attempt_at"] = now + timedelta(seconds=_retry_delay(outage_runs + 1, error.retry_after))
        changes["last_error"] = _error_text(error)
    TLPOutbox.objects.filter(id__in=[row.id for row in rows], status=Status.IN_FLIGHT).update(**changes)


def _outage(rows: list[TLPOutbox], *, error: TLPError, now: datetime, report: DeliveryReport) -> DeliveryReport:
    _release(rows, now=now, error=error)
    report.released, report.outage = len(rows), _error_text(error)
    _outage_counter(failed=True)
    tlp_configuration_record(success=False, error=error, now=timezone.now())
    logger.warning("TLP unavailable for %s (%s): %d outbox row(s) wait for it", connection.schema_name,
                   error.code or type(error).__name__, len(rows))
    return report


def _outage_counter(*, failed: bool) -> None:
    key = f"tlp:outage:{connection.schema_name}"
    if not failed:
        cache.delete(key)
    elif not cache.add(key, 1, 86400):
        try:
            cache.incr(key)
        except ValueError:
            cache.set(key, 1, 86400)


# ------------------------------------------------------------------------------------------ deliver
def tlp_outbox_deliver(*, limit: int | None = None, now: datetime | None = None,
                       client: TLPClient | None = None) -> DeliveryReport:
    """Deliver what is due for up to ``limit`` members (up to ``TLP_OUTBOX_ROWS_PER_MEMBER`` rows each, in
    order). Safe to run concurrently and to repeat. Does nothing when TLP is not configured or is off."""
    report = DeliveryReport()
    configuration = tlp_configuration_active()
    if configuration is None:
        return report
    explicit_now = now is not None
    now = now or timezone.now()
    chains = _claim(limit=limit or int(_setting("TLP_OUTBOX_BATCH_SIZE", 200)), now=now,
                    per_member=max(1, int(_setting("TLP_OUTBOX_ROWS_PER_MEMBER", 20))))
    rows = {row.id: row for chain in chains for row in chain}
    report.claimed = len(rows)
    if not rows:
        return report
    owned_client = client is None
    client = client or tlp_client_build(configuration=configuration)
    known = _Known()
    try:
        job_chains, failed, untouched = _prepare(client, chains, known)
        outage = next((outcome.error for outcome in failed if _is_outage(outcome.error)), None)
        if outage is not None:
            return _outage(list(rows.values()), error=outage, now=now, report=report)
        _record(rows, failed, now=now, report=report, known=known)
        _release(untouched, now=now)
        if not job_chains:
            return _finish(report)
        # Probe with one row first: if TLP is down, nothing else is tried (and no attempt is counted).
        first = job_chains[0]
        probe = _send(client, first[0])
        if not probe.ok and probe.error is not None and _is_outage(probe.error):
            _release([rows[job.row_id] for chain in job_chains for job in chain], now=now, error=probe.error)
            report.released, report.outage = sum(len(chain) for chain in job_chains), _error_text(probe.error)
            _outage_counter(failed=True)
            tlp_configuration_record(success=False, error=probe.error, now=timezone.now())
            return report
        outcomes = [probe]
        rest = [first[1:]] if probe.ok and len(first) > 1 else []
        if probe.ok and probe.member_id:
            for job in first[1:]:
                job.member_id = probe.member_id
        elif not probe.ok:
            _release([rows[job.row_id] for job in first[1:]], now=now)
        rest.extend(job_chains[1:])
        if rest:
            workers = max(1, min(int(_setting("TLP_OUTBOX_CONCURRENCY", 8)), len(rest)))
            with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="tlp-outbox") as pool:
                for chain, chain_outcomes in zip(rest, pool.map(lambda jobs: _send_chain(client, jobs), rest),
                                                 strict=True):
                    outcomes.extend(chain_outcomes)
                    _release([rows[job.row_id] for job in chain[len(chain_outcomes):]], now=now)
        _record(rows, outcomes, now=now if explicit_now else timezone.now(), report=report, known=known)
    finally:
        if owned_client:
            client.close()
    return _finish(report)


def _finish(report: DeliveryReport) -> DeliveryReport:
    _outage_counter(failed=False)
    if report.delivered:
        tlp_configuration_record(success=True, now=timezone.now())
    elif report.errors:
        tlp_configuration_record(success=False, error=TLPError(report.errors[-1]), now=timezone.now())
    return report


def tlp_outbox_drain(*, max_rounds: int = 1000, now: datetime | None = None,
                     client: TLPClient | None = None) -> DeliveryReport:
    """Deliver batch after batch until nothing is due (or an outage stops it); totals of all rounds."""
    total = DeliveryReport()
    for _round in range(max_rounds):
        report = tlp_outbox_deliver(now=now, client=client)
        for name in ("claimed", "delivered", "retried", "dead", "released"):
            setattr(total, name, getattr(total, name) + getattr(report, name))
        total.errors.extend(report.errors)
        if report.outage or not report.claimed:
            total.outage = report.outage
            break
    return total


# ------------------------------------------------------------------------------------------ operator actions
def tlp_outbox_requeue(*, row_ids: list[int]) -> int:
    """Send dead rows again (after the cause was fixed): back to pending, attempts reset. Returns how many."""
    now = timezone.now()
    count = TLPOutbox.objects.filter(id__in=row_ids, status=Status.DEAD).update(
        status=Status.PENDING, attempts=0, next_attempt_at=now, dead_at=None, updated_at=now)
    if count and _setting("TLP_OUTBOX_KICK", True):
        transaction.on_commit(_kick)
    return count


def tlp_outbox_row_get(*, row_id: int) -> TLPOutbox:
    row = TLPOutbox.objects.filter(pk=row_id).first()
    if row is None:
        raise NotFoundError(_("Outbox row not found."))
    return row
