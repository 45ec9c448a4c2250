"""The execution engine: run a campaign's approved SQL on the customer's database and allocate the points
owed, exactly once.

1. The frozen participants query runs read-only with a statement timeout (``apps.rules.source_db``); the
   DSN is decrypted here, in the worker.
2. One transaction, under the campaign's row lock, does the rest: participants upserted (each a member of the
   campaign's loyalty program, keyed by the salesperson id), a progress snapshot per participant, and the
   allocation. A failure anywhere rolls back all of it; the execution row (written before) records the error.
3. Points owed per participant and goal are what the rules pay now (the highest threshold reached, plus
   continuous accrual, within the per-participant cap); minus what was already allocated for that goal (over
   every rule version), the difference is awarded through ``points_award_bulk`` with the idempotency key
   ``campaign:<id>:p:<participant>:g:<goal>:n<allocations so far>:to<level>:v<version>`` — the level reached
   is the threshold: running again finds nothing owed, and a replayed key is a no-op in the ledger too.
4. Retroactive changes (a returned order lowering attainment below a paid threshold): policy ``hold`` (the
   default) never takes points back; the shortfall is held against future points, which resume only once
   attainment pays more than was already paid. Policy ``clawback`` deducts the shortfall (at most the member's
   available balance: a claw-back never creates debt).
5. Regional goals: the SQL pays each eligible participant of a region that reached the target; the campaign's
   ``regional_award_policy`` then decides (``all_eligible``, the default: every one of them, whatever their
   own share; ``contributors_only``: those whose own attainment is above zero; ``none``: nobody). An
   ineligible participant earns nothing.

No query runs per participant: participants, members, allocations so far, snapshots and awards are read and
written in bulk. Progress is pushed on commit to ``campaign:<id>`` and each linked user's ``user:<id>``.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import time
import uuid
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from django.db.models import Count, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.campaigns.models import (
    Campaign,
    CampaignExecution,
    CampaignParticipant,
    CampaignRuleVersion,
    PointAllocation,
    ProgressSnapshot,
)
from apps.campaigns.selectors import campaign_running_version, campaign_source_database
from apps.core.errors import ConflictError
from apps.core.jobs import job_error_text
from apps.core.live import campaign_topic, live_broadcast, user_topic
from apps.loyalty.selectors import member_list, program_resolve
from apps.loyalty.services import AwardInput, MemberInput, members_import, points_award_bulk, points_deduct
from apps.rules.source_db import source_fetch

logger = logging.getLogger(__name__)
PLACEHOLDER_EMAIL_DOMAIN = "participants.invalid"  # RFC 2606: never delivered


@dataclass
class ExecutionStats:
    participants: int = 0
    allocated: int = 0
    held: int = 0
    clawed_back: int = 0
    summary: dict[str, Any] = field(default_factory=dict)


def params_encode(params: list[Any]) -> list[dict[str, Any]]:
    """The compiled query's parameters as JSON, with their types (decimals and dates must come back typed)."""
    encoded = []
    for value in params:
        if isinstance(value, Decimal):
            encoded.append({"type": "decimal", "value": str(value)})
        elif isinstance(value, dt.date):
            encoded.append({"type": "date", "value": value.isoformat()})
        else:
            encoded.append({"type": "plain", "value": value})
    return encoded


def params_decode(encoded: list[Any]) -> list[Any]:
    values = []
    for item in encoded:
        if isinstance(item, dict) and item.get("type") == "decimal":
            values.append(Decimal(item["value"]))
        elif isinstance(item, dict) and item.get("type") == "date":
            values.append(dt.date.fromisoformat(item["value"]))
        elif isinstance(item, dict):
            values.append(item.get("value"))
        else:
            values.append(item)
    return values


def _timeout_ms() -> int:
    return int(getattr(settings, "CAMPAIGN_QUERY_TIMEOUT_MS", 60_000))


def campaign_execute(*, campaign: Campaign, trigger: str = CampaignExecution.Trigger.MANUAL,
                     user: Any = None) -> CampaignExecution:
    """Run the approved rules and allocate what is owed; returns the recorded execution (status succeeded or
    failed, with the error). Refuses (409) a campaign that is not approved or active, or has no database."""
    version = campaign_running_version(campaign=campaign)
    if campaign.status not in (Campaign.Status.APPROVED, Campaign.Status.ACTIVE) or version is None:
        raise ConflictError(_("Only an approved or active campaign can be executed."), code="campaign_not_running")
    source = campaign_source_database(campaign=campaign)
    if source is None:
        raise ConflictError(_("The campaign has no customer database connection."), code="source_missing")
    execution = CampaignExecution.objects.create(campaign=campaign, rule_version=version, trigger=trigger,
                                                 triggered_by=user, started_at=timezone.now())
    started = time.perf_counter()
    try:
        columns, rows = source_fetch(source=source, sql=version.sql, params=params_decode(version.params),
                                     timeout_ms=_timeout_ms())
        execution.query_ms = int((time.perf_counter() - started) * 1000)
        execution.rows_scanned = len(rows)
        with transaction.atomic():
            stats = _apply(campaign=campaign, version=version, execution=execution, columns=columns, rows=rows)
    except Exception as exc:  # recorded, never half-applied: the allocation transaction rolled back
        logger.warning("campaign %s execution %s failed: %s", campaign.pk, execution.pk, job_error_text(exc))
        execution.status = CampaignExecution.Status.FAILED
        execution.error = job_error_text(exc)[:2000]
        _finish(execution, started)
        return execution
    execution.status = CampaignExecution.Status.SUCCEEDED
    execution.participants_updated = stats.participants
    execution.points_allocated = stats.allocated
    execution.points_held = stats.held
    execution.points_clawed_back = stats.clawed_back
    _finish(execution, started)
    return execution


def _finish(execution: CampaignExecution, started: float) -> None:
    execution.finished_at = timezone.now()
    execution.duration_ms = int((time.perf_counter() - started) * 1000)
    execution.save()


def _number(value: Any) -> Decimal:
    return Decimal(str(value)) if value is not None else Decimal(0)


def _goal_points(document: dict[str, Any], row: dict[str, Any]) -> dict[str, int]:
    """Per goal, the points the rules pay now; a per-participant cap (in ``points_total``) trims the last goals
    first."""
    points = {goal["id"]: int(row.get(f"{goal['id']}_points") or 0) for goal in document["goals"]}
    total = int(row.get("points_total") or 0)
    excess = sum(points.values()) - total
    for goal_id in reversed(list(points)):
        if excess <= 0:
            break
        cut = min(excess, points[goal_id])
        points[goal_id] -= cut
        excess -= cut
    return points


def _regional_policy_apply(campaign: Campaign, document: dict[str, Any], row: dict[str, Any],
                           points: dict[str, int]) -> dict[str, int]:
    """The campaign's regional award policy on what the SQL pays for region goals (it pays every eligible
    participant of a region that reached the target): ``none`` pays nothing; ``contributors_only`` pays only a
    participant whose own attainment is above zero — read from the individual goal with the same metric and
    filters, else from every individual goal (no individual goal: nobody contributed)."""
    policy = campaign.regional_award_policy
    if policy == Campaign.RegionalAwardPolicy.ALL_ELIGIBLE:
        return points
    individual = [goal for goal in document["goals"] if goal["scope"] == "individual"]
    for goal in document["goals"]:
        if goal["scope"] != "region" or not points.get(goal["id"]):
            continue
        if policy == Campaign.RegionalAwardPolicy.CONTRIBUTORS_ONLY:
            same = [g for g in individual if g.get("metric") == goal.get("metric")
                    and g.get("filters") == goal.get("filters")]
            own = sum(_number(row.get(f"{g['id']}_attained")) for g in (same or individual))
            if own > 0:
                continue
        points[goal["id"]] = 0
    return points


def _apply(*, campaign: Campaign, version: CampaignRuleVersion, execution: CampaignExecution, columns: list[str],
           rows: list[tuple[Any, ...]]) -> ExecutionStats:
    Campaign.objects.select_for_update().filter(pk=campaign.pk).values_list("pk", flat=True).first()
    campaign.refresh_from_db()
    if campaign.status not in (Campaign.Status.APPROVED, Campaign.Status.ACTIVE):
        raise ConflictError(_("The campaign stopped running during the execution."), code="campaign_not_running")
    document = version.document
    now = timezone.now()
    records = [dict(zip(columns, row, strict=True)) for row in rows]
    participants = _participants_upsert(campaign, records)
    _members_enroll(campaign, participants)

    so_far: dict[tuple[Any, str], tuple[int, int]] = {
        (row["participant_id"], row["goal_id"]): (row["total"] or 0, row["count"])
        for row in PointAllocation.objects.filter(campaign=campaign).values("participant_id", "goal_id")
        .annotate(total=Sum("points"), count=Count("id"))
    }
    stats = ExecutionStats()
    awards: list[tuple[CampaignParticipant, int, str, str]] = []
    planned: list[PointAllocation] = []
    clawbacks: list[tuple[PointAllocation, CampaignParticipant]] = []
    snapshots: list[CampaignParticipant] = []
    for record in records:
        participant = participants[str(record["participant_id"])]
        eligible = bool(int(record.get("eligible") or 0))
        owed = _regional_policy_apply(campaign, document, record, _goal_points(document, record))
        goals = {goal["id"]: {"attained": str(_number(record.get(f"{goal['id']}_attained"))),
                              "percent": str(_number(record.get(f"{goal['id']}_percent"))),
                              "target": goal["target"], "scope": goal["scope"], "points": owed[goal["id"]]}
                 for goal in document["goals"]}
        held = 0
        for goal_id, level in owed.items():
            paid, count = so_far.get((participant.pk, goal_id), (0, 0))
            delta = level - paid
            if delta == 0:  # the steady state: nothing to build
                continue
            key = f"campaign:{campaign.pk}:p:{participant.pk}:g:{goal_id}:n{count}:to{level}:v{version.number}"
            allocation = PointAllocation(campaign_id=campaign.pk, participant=participant, execution_id=execution.pk,
                                         rule_version_id=version.pk, goal_id=goal_id, level=level, points=delta,
                                         idempotency_key=key)
            if delta > 0:
                awards.append((participant, delta, key, _("%(campaign)s: goal %(goal)s") % {
                    "campaign": campaign.name, "goal": goal_id}))
                planned.append(allocation)
                stats.allocated += delta
            elif delta < 0 and campaign.retroactive_policy == Campaign.RetroactivePolicy.CLAWBACK:
                allocation.kind = PointAllocation.Kind.CLAWBACK
                clawbacks.append((allocation, participant))
            elif delta < 0:
                held += -delta
        participant.region = str(record.get("region") or "")[:200]
        participant.eligible = eligible
        participant.ineligible_reason = "" if eligible else str(record.get("ineligible_reason") or "")[:100]
        participant.points_owed = sum(owed.values())
        participant.points_held = held
        participant.progress = {"goals": goals, "eligible": eligible,
                                "ineligible_reason": participant.ineligible_reason, "taken_at": now.isoformat()}
        participant.last_execution_id = execution.pk
        participant.updated_at = now
        stats.held += held
        snapshots.append(participant)

    # Members are loaded only for participants whose points move (none, in a steady-state run).
    members = {m.pk: m for m in member_list().filter(
        pk__in={p.member_id for p, *_rest in awards} | {p.member_id for _a, p in clawbacks})}
    # Awards in member id order, the order the ledger locks the members in.
    order = sorted(range(len(awards)), key=lambda index: str(awards[index][0].member_id))
    awards, planned = [awards[i] for i in order], [planned[i] for i in order]
    # One call: the ledger locks every member in one statement (id order) and writes each table once, in
    # statements that grow linearly with the batch.
    entries = points_award_bulk(awards=[
        AwardInput(member=members[participant.member_id], points=delta, idempotency_key=key, pending_days=0,
                   reason=reason) for participant, delta, key, reason in awards]) if awards else []
    if entries:
        for allocation, entry in zip(planned, entries, strict=True):
            allocation.ledger_entry_id = entry.pk
    for allocation, participant in clawbacks:  # rare (a configured policy and a returned order): one call each
        member = members[participant.member_id]
        member.refresh_from_db(fields=["available"])
        points = min(-allocation.points, member.available)
        if points <= 0:
            continue
        entry = points_deduct(member=member, points=points, idempotency_key=allocation.idempotency_key,
                              reason=_("%(campaign)s: goal %(goal)s no longer reached") % {
                                  "campaign": campaign.name, "goal": allocation.goal_id})
        allocation.points, allocation.ledger_entry_id = -points, entry.pk
        planned.append(allocation)
        stats.clawed_back += points
    PointAllocation.objects.bulk_create(planned)
    _snapshots_insert(execution, now, snapshots)
    paid: dict[Any, int] = {}
    for allocation in planned:
        paid[allocation.participant_id] = paid.get(allocation.participant_id, 0) + allocation.points
    for participant in participants.values():
        participant.points_allocated += paid.get(participant.pk, 0)
    _participants_save(list(participants.values()))
    stats.participants = len(records)
    if campaign.status == Campaign.Status.APPROVED:
        campaign.status = Campaign.Status.ACTIVE
        campaign.save(update_fields=["status", "updated_at"])
    _broadcast(campaign, execution, participants, stats)
    return stats


def _participants_upsert(campaign: Campaign, records: list[dict[str, Any]]) -> dict[str, CampaignParticipant]:
    keys = [str(record["participant_id"]) for record in records]
    # All of the campaign's participants in one read (an IN list of every key costs more to bind than it saves).
    known = {p.participant_key: p for p in campaign.participants.all()}
    fresh = [CampaignParticipant(campaign=campaign, participant_key=key) for key in dict.fromkeys(keys)
             if key not in known]
    if fresh:
        CampaignParticipant.objects.bulk_create(fresh, batch_size=2000)
        known.update({p.participant_key: p for p in fresh})
    return {key: known[key] for key in keys}


def _members_enroll(campaign: Campaign, participants: dict[str, CampaignParticipant]) -> None:
    """Enrol the participants who have no loyalty member yet (in bulk), keyed by the salesperson id."""
    missing = [p for p in participants.values() if p.member_id is None]
    if not missing:
        return
    program = program_resolve(program_id=campaign.loyalty_program_id)
    enrolled = members_import(program=program, members=[
        MemberInput(customer_id=p.participant_key, name=p.name,
                    email=p.email or f"{p.participant_key}@{PLACEHOLDER_EMAIL_DOMAIN}".lower().replace(" ", "-"))
        for p in missing])
    for participant, member in zip(missing, enrolled, strict=True):
        participant.member_id = member.pk
    _participants_save(missing, columns=("member_id",))


def _copy_to_temp(cursor: Any, columns: dict[str, str], rows: Any) -> str:
    """Stream ``rows`` with COPY into a new temporary table (dropped at commit); returns its name. Binding
    thousands of values as parameters costs more than the statement that uses them."""
    name = f"campaign_tmp_{uuid.uuid4().hex[:16]}"
    definition = ", ".join(f'"{column}" {kind}' for column, kind in columns.items())
    cursor.execute(f'CREATE TEMPORARY TABLE "{name}" ({definition}) ON COMMIT DROP')
    names = ", ".join(f'"{column}"' for column in columns)
    with cursor.cursor.copy(f'COPY "{name}" ({names}) FROM STDIN') as copy:
        for row in rows:
            copy.write_row(row)
    return name


def _snapshots_insert(execution: CampaignExecution, now: Any, participants: list[CampaignParticipant]) -> None:
    """One progress snapshot per participant."""
    if not participants:
        return
    table = ProgressSnapshot._meta.db_table
    columns = {"participant_id": "uuid", "eligible": "boolean", "reason": "text", "goals": "jsonb",
               "points": "bigint"}
    with connection.cursor() as cursor:
        temp = _copy_to_temp(cursor, columns, (
            (p.pk, p.eligible, p.ineligible_reason, json.dumps(p.progress["goals"], cls=DjangoJSONEncoder),
             p.points_owed) for p in participants))
        cursor.execute(
            f'INSERT INTO "{table}" ("execution_id", "participant_id", "taken_at", "eligible", '  # noqa: S608
            f'"ineligible_reason", "goals", "points_owed") SELECT %s, v."participant_id", %s, v."eligible", '
            f'v."reason", v."goals", v."points" FROM "{temp}" v', [execution.pk, now])


PARTICIPANT_COLUMNS = {
    "region": "text", "eligible": "boolean", "ineligible_reason": "text", "points_owed": "bigint",
    "points_held": "bigint", "points_allocated": "bigint", "progress": "jsonb", "last_execution_id": "uuid",
    "updated_at": "timestamptz", "member_id": "uuid",
}


def _participants_save(participants: list[CampaignParticipant],
                       columns: tuple[str, ...] = ("region", "eligible", "ineligible_reason", "points_owed",
                                                   "points_held", "points_allocated", "progress",
                                                   "last_execution_id", "updated_at")) -> None:
    """Save many participants: COPY their new values into a temporary table, then one ``UPDATE ... FROM``.
    Django's ``bulk_update`` writes a CASE per column with a branch per row, which PostgreSQL evaluates row
    by row (quadratic)."""
    if not participants:
        return
    table = CampaignParticipant._meta.db_table

    def value(participant: CampaignParticipant, name: str) -> Any:
        raw = getattr(participant, name)
        return json.dumps(raw, cls=DjangoJSONEncoder) if name == "progress" else raw

    with connection.cursor() as cursor:
        temp = _copy_to_temp(cursor, {"id": "uuid", **{name: PARTICIPANT_COLUMNS[name] for name in columns}},
                             ((p.pk, *(value(p, name) for name in columns)) for p in participants))
        assignments = ", ".join(f'"{name}" = v."{name}"' for name in columns)
        cursor.execute(f'UPDATE "{table}" AS p SET {assignments} FROM "{temp}" v '  # noqa: S608
                       'WHERE p."id" = v."id"')


def _broadcast(campaign: Campaign, execution: CampaignExecution, participants: dict[str, CampaignParticipant],
               stats: ExecutionStats) -> None:
    eligible = sum(1 for p in participants.values() if p.eligible)
    live_broadcast(topic=campaign_topic(campaign.pk), event="campaign.progress", payload={
        "campaign_id": str(campaign.pk), "execution_id": str(execution.pk), "participants": len(participants),
        "eligible": eligible, "points_allocated": stats.allocated, "points_held": stats.held,
        "points_clawed_back": stats.clawed_back,
    })
    for participant in participants.values():
        if participant.user_id is not None:
            live_broadcast(topic=user_topic(participant.user_id), event="campaign.my_progress", payload={
                "campaign_id": str(campaign.pk), "progress": participant.progress,
                "points_allocated": participant.points_allocated, "points_held": participant.points_held,
            })
