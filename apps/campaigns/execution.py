"""The execution engine: run a campaign's approved SQL on the customer's database and allocate the points
owed, exactly once.

1. The frozen participants query runs read-only with a statement timeout (``apps.rules.source_db``); the
   DSN is decrypted here, in the worker.
2. One transaction, under the campaign's row lock, does the rest: new participants join (each a member of the
   campaign's loyalty program keyed by the salesperson id, and a TLP member queued through the outbox: an
   upsert, or for a member with points in this run the mirror of their first points, which creates it), the
   allocation, participants whose progress changed and their progress snapshots. A failure anywhere rolls back
   all of it; the execution row (written before) records the error.
3. Points owed per participant and goal are what the rules pay now (the highest threshold reached, plus
   continuous accrual, within the per-participant cap); minus what was already allocated for that goal (over
   every rule version), the difference is awarded through the ledger's bulk award with the idempotency key
   ``campaign:<id>:p:<participant>:g:<goal>:n<allocations so far>:to<level>:v<version>`` — the level reached
   is the threshold: running again finds nothing owed, and a replayed key is a no-op in the ledger too.
4. Retroactive changes (a returned order lowering attainment below a paid threshold): policy ``hold`` (the
   default) never takes points back; the shortfall is held against future points, which resume only once
   attainment pays more than was already paid. Policy ``clawback`` reverses the goal's awards in the ledger:
   what the member still has is taken back, the rest is recorded as the member's debt, which the ledger repays
   from their next points first (``unrecovered`` on the allocation and the execution).
5. Regional goals: the SQL pays each eligible participant of a region that reached the target; the campaign's
   ``regional_award_policy`` then decides (``all_eligible``, the default: every one of them, whatever their
   own share; ``contributors_only``: those whose own attainment is above zero; ``none``: nobody). An
   ineligible participant earns nothing.

No query runs per participant, and no model instance is built per participant: participants, members,
allocations so far, awards, snapshots are read and written in bulk from plain tuples (COPY, or one
``INSERT/UPDATE … unnest``). A participant whose query row and rules are those of their last change (the
``progress_digest`` fingerprint) and who is owed nothing new is not written again, and gets no new snapshot:
the history holds one snapshot per change, not per run. The fingerprint leaves out the regional goals'
attainment and percentage, which are the region's: when only those moved (a sale elsewhere in the region),
the participant's progress gets the region's new figures, and a snapshot, from one statement per region
(``_regions_write``), and each execution records every region's figures (``regions``). Progress is pushed on
commit to ``campaign:<id>``, and to ``user:<id>`` of each linked participant whose progress or points changed.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import gc
import hashlib
import json
import logging
import operator
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, NamedTuple

from django.conf import settings
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
from apps.campaigns.selectors import campaign_last_calculation, campaign_running_version, campaign_source_database
from apps.core.bulk import execute_bound, rows_copy
from apps.core.errors import ConflictError
from apps.core.jobs import job_error_text
from apps.core.live import campaign_topic, live_broadcast, user_topic
from apps.loyalty.selectors import program_resolve
from apps.loyalty.services import points_reverse
from apps.loyalty.services.ledger import (
    AwardRow,
    EnrolmentPlan,
    MemberRow,
    members_enroll_plan,
    points_award_rows_bulk,
)
from apps.rules.source_db import source_fetch
from apps.tlp.services import tlp_outbox_enqueue_ledger_entries

logger = logging.getLogger(__name__)


@dataclass
class ExecutionStats:
    participants: int = 0
    eligible: int = 0
    changed: int = 0
    allocated: int = 0
    held: int = 0
    clawed_back: int = 0
    unrecovered: int = 0
    regions: dict[str, dict[str, list[str]]] = field(default_factory=dict)


class MemberRef(NamedTuple):
    """A loyalty member as the TLP outbox reads it (to create or update its TLP member)."""

    pk: uuid.UUID
    email: str
    name: str


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
        with transaction.atomic(), _no_gc_pauses():
            stats = _apply(campaign=campaign, version=version, execution=execution, columns=columns, rows=rows)
    except Exception as exc:  # recorded, never half-applied: the allocation transaction rolled back
        logger.warning("campaign %s execution %s failed: %s", campaign.pk, execution.pk, job_error_text(exc))
        execution.status = CampaignExecution.Status.FAILED
        execution.error = job_error_text(exc)[:2000]
        _finish(execution, started)
        return execution
    execution.status = CampaignExecution.Status.SUCCEEDED
    execution.participants_updated = stats.changed
    execution.points_allocated = stats.allocated
    execution.points_held = stats.held
    execution.points_clawed_back = stats.clawed_back
    execution.points_unrecovered = stats.unrecovered
    execution.regions = stats.regions
    _finish(execution, started)
    return execution


@contextlib.contextmanager
def _no_gc_pauses() -> Iterator[None]:
    """The allocation builds tens of thousands of short-lived tuples and dicts, which trigger Python's cyclic
    garbage collector over and over (each pass walks every live object of the worker); it runs once after."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _finish(execution: CampaignExecution, started: float) -> None:
    execution.finished_at = timezone.now()
    execution.duration_ms = int((time.perf_counter() - started) * 1000)
    execution.save()


def _number(value: Any) -> Decimal:
    return Decimal(str(value)) if value is not None else Decimal(0)


def _text(value: Any) -> str:
    """A number as progress stores it: PostgreSQL's decimals as they are, floats (SQLite) through Decimal."""
    return str(value) if isinstance(value, Decimal) else str(_number(value))


class _Rules:
    """A rule version's reading of the query's rows (plain tuples, by column position)."""

    def __init__(self, campaign: Campaign, version: CampaignRuleVersion, columns: list[str]) -> None:
        index = {name: position for position, name in enumerate(columns)}
        self.goals = version.document["goals"]
        self.key = index["participant_id"]
        self.eligible = index.get("eligible")
        self.reason = index.get("ineligible_reason")
        self.region = index.get("region")
        self.total = index.get("points_total")
        self.points = [(goal["id"], index.get(f"{goal['id']}_points")) for goal in self.goals]
        self.attained = {goal["id"]: index.get(f"{goal['id']}_attained") for goal in self.goals}
        self.percent = {goal["id"]: index.get(f"{goal['id']}_percent") for goal in self.goals}
        self.policy = campaign.regional_award_policy
        self.goal_fragments = [
            (goal["id"], json.dumps(goal["id"]), self.attained[goal["id"]], self.percent[goal["id"]],
             f'"target": {json.dumps(goal["target"])}, "scope": {json.dumps(goal["scope"])}')
            for goal in self.goals]
        # What makes a participant's progress and allocation: the rules (version, policies) and their row, but
        # for a regional goal's attainment and percentage: the region's, the same in every row of the region,
        # kept up to date by one statement per region that changed (``_regions_write``), not per participant.
        self.salt = f"{version.pk}:{self.policy}:{campaign.retroactive_policy}:core:"
        self.region_values = [(goal["id"], self.attained[goal["id"]], self.percent[goal["id"]])
                              for goal in self.goals if goal["scope"] == "region"
                              and self.attained[goal["id"]] is not None and self.percent[goal["id"]] is not None]
        regional = {position for _goal, *positions in self.region_values for position in positions}
        core = [position for position in range(len(columns)) if position not in regional]
        self.core = operator.itemgetter(*core) if len(core) > 1 else (lambda row: tuple(row[i] for i in core))
        individual = [goal for goal in self.goals if goal["scope"] == "individual"]
        # Per region goal, the individual goals whose attainment makes a contributor (contributors_only): the
        # one with the same metric and filters, else every individual goal.
        self.contribution = {
            goal["id"]: [self.attained[g["id"]] for g in (
                [g for g in individual if g.get("metric") == goal.get("metric")
                 and g.get("filters") == goal.get("filters")] or individual)]
            for goal in self.goals if goal["scope"] == "region"}

    @staticmethod
    def at(row: tuple[Any, ...], position: int | None) -> Any:
        return row[position] if position is not None else None

    def digest(self, row: tuple[Any, ...]) -> str:
        return hashlib.md5((self.salt + repr(self.core(row))).encode(), usedforsecurity=False).hexdigest()

    def region_of(self, row: tuple[Any, ...]) -> str:
        return str(self.at(row, self.region) or "")[:200]

    def regional(self, row: tuple[Any, ...]) -> dict[str, list[str]]:
        """The row's regional goals as progress stores them: {goal: [attained, percent]}."""
        return {goal_id: [_text(row[attained]), _text(row[percent])]
                for goal_id, attained, percent in self.region_values}

    def is_eligible(self, row: tuple[Any, ...]) -> bool:
        return bool(int(self.at(row, self.eligible) or 0))

    def owed(self, row: tuple[Any, ...]) -> dict[str, int]:
        """Per goal, the points the rules pay now: the SQL's, within the per-participant cap (in
        ``points_total``, trimming the last goals first), after the regional award policy."""
        points = {goal_id: int(self.at(row, position) or 0) for goal_id, position in self.points}
        excess = sum(points.values()) - int(self.at(row, self.total) or 0)
        for goal_id in reversed(list(points)):
            if excess <= 0:
                break
            cut = min(excess, points[goal_id])
            points[goal_id] -= cut
            excess -= cut
        if self.policy == Campaign.RegionalAwardPolicy.ALL_ELIGIBLE:
            return points
        for goal_id, positions in self.contribution.items():
            if not points.get(goal_id):
                continue
            if self.policy == Campaign.RegionalAwardPolicy.CONTRIBUTORS_ONLY and sum(
                    (_number(self.at(row, position)) for position in positions), Decimal(0)) > 0:
                continue
            points[goal_id] = 0
        return points

    def goals_json(self, row: tuple[Any, ...], owed: dict[str, int]) -> str:
        """Per goal, ``{"attained", "percent", "target", "scope", "points"}`` as a JSON object: written from
        fragments encoded once per execution (attained and percent are decimal strings, which need no
        escaping), since thousands of changed participants made ``json.dumps`` a visible share of the run."""
        at = self.at
        return "{" + ", ".join(
            f'{key}: {{"attained": "{_text(at(row, attained))}", "percent": "{_text(at(row, percent))}", '
            f'{static}, "points": {owed[goal_id]}}}'
            for goal_id, key, attained, percent, static in self.goal_fragments) + "}"


class _Known(NamedTuple):
    """A participant as an execution reads it: plain values, no model instance."""

    id: uuid.UUID
    member_id: uuid.UUID | None
    user_id: uuid.UUID | None
    email: str
    name: str
    digest: str
    points_allocated: int
    points_held: int


class _Claw(NamedTuple):
    participant_id: uuid.UUID
    member_id: uuid.UUID
    goal_id: str
    level: int
    shortfall: int
    key: str


def _apply(*, campaign: Campaign, version: CampaignRuleVersion, execution: CampaignExecution, columns: list[str],
           rows: list[tuple[Any, ...]]) -> ExecutionStats:
    Campaign.objects.select_for_update().filter(pk=campaign.pk).values_list("pk", flat=True).first()
    campaign.refresh_from_db()
    if campaign.status not in (Campaign.Status.APPROVED, Campaign.Status.ACTIVE):
        raise ConflictError(_("The campaign stopped running during the execution."), code="campaign_not_running")
    rules = _Rules(campaign, version, columns)
    now = timezone.now()
    stamp = now.isoformat()
    known = {row[0]: _Known(*row[1:]) for row in campaign.participants.values_list(
        "participant_key", "id", "member_id", "user_id", "email", "name", "progress_digest", "points_allocated",
        "points_held")}
    records: dict[str, tuple[Any, ...]] = {}
    for row in rows:
        records.setdefault(str(row[rules.key]), row)  # one row per salesperson (a duplicate is ignored)
    fresh = {key: uuid.uuid4() for key in records if key not in known}
    members, enrolment, joining = _members_ensure(campaign, records, known)
    stats = ExecutionStats(participants=len(records))
    regions, mixed = _regions(rules, records)
    stats.regions = regions
    # A participant whose row and rules are those of their last change was settled by that run (everything owed
    # paid, the rest held): nothing to allocate, nothing to write (but their region's attainment, when it moved:
    # ``_regions_write``). Only the others are evaluated.
    pending: list[tuple[str, tuple[Any, ...], _Known | None, str]] = []
    settled: dict[str, list[str]] = {}  # region -> its settled participants' keys
    for key, row in records.items():
        old, digest = known.get(key), rules.digest(row)
        stats.eligible += rules.is_eligible(row)
        region = rules.region_of(row)
        if old is not None and old.digest == digest and old.member_id == members[key] and region not in mixed:
            stats.held += old.points_held
            settled.setdefault(region, []).append(key)
        else:
            pending.append((key, row, old, digest))
    so_far = _allocated_so_far(campaign, [old.id for _k, _r, old, _d in pending if old is not None])
    clawback = campaign.retroactive_policy == Campaign.RetroactivePolicy.CLAWBACK
    awards: list[tuple[uuid.UUID, uuid.UUID, str, int, int, str]] = []  # member, participant, goal, level, Δ, key
    claws: list[_Claw] = []
    changed: list[tuple[str, uuid.UUID, tuple[Any, ...], dict[str, int], int, str, bool]] = []
    for key, row, old, digest in pending:
        participant_id = old.id if old is not None else fresh[key]
        owed = rules.owed(row)
        held, moved = 0, False
        for goal_id, level in owed.items():
            paid, count = so_far.get((participant_id, goal_id), (0, 0))
            delta = level - paid
            if delta == 0:
                continue
            allocation_key = (f"campaign:{campaign.pk}:p:{participant_id}:g:{goal_id}:n{count}:to{level}"
                              f":v{version.number}")
            if delta > 0:
                awards.append((members[key], participant_id, goal_id, level, delta, allocation_key))
                stats.allocated += delta
                moved = True
            elif clawback:
                claws.append(_Claw(participant_id, members[key], goal_id, level, -delta, allocation_key))
                moved = True
            else:
                held += -delta
        stats.held += held
        progressed = old is None or old.digest != digest
        if progressed or moved or held != old.points_held or old.member_id != members[key]:
            changed.append((key, participant_id, row, owed, held, digest, progressed))

    if joining:
        # A joining member with points now gets their TLP member from their first points' mirror (which
        # carries their email and name, and goes out first for them): an upsert too would be a row and a TLP
        # call more per member for the same member.
        awarded = {award[0] for award in awards}
        tlp_outbox_enqueue_ledger_entries(members=[member for member in joining if member.pk not in awarded])
    allocations: list[tuple[Any, ...]] = []
    paid_now: dict[uuid.UUID, int] = {}
    if claws:
        _clawbacks(campaign, claws, allocations, paid_now, stats)
    if awards or enrolment is not None:
        awards.sort(key=lambda award: award[0])  # member id order, the order the ledger locks in
        reason = _("%(campaign)s: goal %(goal)s")
        entry_ids = points_award_rows_bulk(awards=[
            AwardRow(member_id=member_id, points=delta, idempotency_key=allocation_key, pending_days=0,
                     reason=reason % {"campaign": campaign.name, "goal": goal_id}, campaign_id=campaign.pk)
            for member_id, _p, goal_id, _l, delta, allocation_key in awards], enrolment=enrolment)
        for (_m, participant_id, goal_id, level, delta, allocation_key), entry_id in zip(awards, entry_ids,
                                                                                       strict=True):
            allocations.append((participant_id, goal_id, level, PointAllocation.Kind.AWARD, delta, 0,
                                allocation_key, entry_id))
            paid_now[participant_id] = paid_now.get(participant_id, 0) + delta
    with connection.cursor() as cursor:
        if allocations:
            rows_copy(PointAllocation._meta.db_table, (
                "participant_id", "goal_id", "level", "kind", "points", "unrecovered", "idempotency_key",
                "ledger_entry_id"), allocations, constants=(
                ("campaign_id", campaign.pk), ("execution_id", execution.pk), ("rule_version_id", version.pk),
                ("created_at", now)))
        _participants_write(cursor, campaign, execution, rules, known, members, changed, paid_now, now, stamp)
        region_users = _regions_write(campaign, execution, regions, settled, now, stamp)
    stats.changed = len(changed) + len(region_users)
    if campaign.status == Campaign.Status.APPROVED:
        campaign.status = Campaign.Status.ACTIVE
        campaign.save(update_fields=["status", "updated_at"])
    _broadcast(campaign, execution, stats, [
        (known[key].user_id, key) for key, *_rest in changed if key in known and known[key].user_id is not None]
        + [(user_id, key) for key, user_id in region_users if user_id is not None])
    return stats


def _regions(rules: _Rules, records: dict[str, tuple[Any, ...]]) -> tuple[dict[str, dict[str, list[str]]], set[str]]:
    """Each region's regional goals as this run's rows give them ({region: {goal: [attained, percent]}}), and
    the regions whose rows disagree (then every participant of theirs is evaluated and written on their own,
    as before: one value per region is what lets one statement update them all)."""
    regions: dict[str, dict[str, list[str]]] = {}
    mixed: set[str] = set()
    if not rules.region_values:
        return regions, mixed
    for row in records.values():
        region, values = rules.region_of(row), rules.regional(row)
        if regions.setdefault(region, values) != values:
            mixed.add(region)
    for region in mixed:
        del regions[region]
    return regions, mixed


def _regions_write(campaign: Campaign, execution: CampaignExecution,
                   regions: dict[str, dict[str, list[str]]], settled: dict[str, list[str]], now: Any,
                   stamp: str) -> list[tuple[str, uuid.UUID | None]]:
    """A region whose attainment moved since the last successful run: its settled participants (nothing else of
    theirs changed) get the region's new figures in their progress, and a snapshot, by one statement per region
    (``jsonb_set`` of each regional goal's attainment and percentage, and of ``taken_at``), where a
    participant-by-participant rewrite would format, send and parse every one of their rows. A new sale in a
    region moves its total at almost every run, so this is the common case of a running campaign. Only rows
    whose stored figures differ are written. Returns the (participant key, user id) of those written."""
    candidates = [(region, values, settled[region]) for region, values in regions.items() if settled.get(region)]
    if not candidates:
        return []
    last = campaign_last_calculation(campaign=campaign)  # this one is still running
    previous = last.regions if last is not None else {}
    table, snapshots = CampaignParticipant._meta.db_table, ProgressSnapshot._meta.db_table
    written: list[tuple[str, uuid.UUID | None]] = []
    for region, values, keys in candidates:
        if previous.get(region) == values:
            continue
        progress, params, differs, compare = '"progress"', [], [], []
        for goal_id, (attained, percent) in values.items():
            progress = (f"jsonb_set(jsonb_set({progress}, ARRAY['goals', %s, 'attained'], to_jsonb(%s::text)), "
                        "ARRAY['goals', %s, 'percent'], to_jsonb(%s::text))")
            params += [goal_id, attained, goal_id, percent]
            differs.append("(p.\"progress\" #>> ARRAY['goals', %s, 'attained']) IS DISTINCT FROM %s OR "
                           "(p.\"progress\" #>> ARRAY['goals', %s, 'percent']) IS DISTINCT FROM %s")
            compare += [goal_id, attained, goal_id, percent]
        written += execute_bound(
            f'WITH moved AS (UPDATE "{table}" AS p SET "progress" = jsonb_set({progress}, \'{{taken_at}}\', '  # noqa: S608
            f'to_jsonb(%s::text)), "last_execution_id" = %s, "updated_at" = %s WHERE p."campaign_id" = %s '
            f'AND p."participant_key" = ANY(%b::varchar[]) AND ({" OR ".join(differs)}) RETURNING p."id", '
            'p."participant_key", p."user_id", p."eligible", p."ineligible_reason", p."progress", p."points_owed"), '
            f'snapshot AS (INSERT INTO "{snapshots}" ("execution_id", "participant_id", "taken_at", "eligible", '
            '"ineligible_reason", "goals", "points_owed") SELECT %s, m."id", %s, m."eligible", '
            'm."ineligible_reason", m."progress" -> \'goals\', m."points_owed" FROM moved m) '
            'SELECT m."participant_key", m."user_id" FROM moved m',
            [*params, stamp, execution.pk, now, campaign.pk, keys, *compare, execution.pk, now])
    return written


def _allocated_so_far(campaign: Campaign,
                      participant_ids: list[uuid.UUID]) -> dict[tuple[uuid.UUID, str], tuple[int, int]]:
    """Per (participant, goal), the points the rules allocated so far (over every rule version; prizes apart)
    and how many allocations: for the participants evaluated (a short list) or the whole campaign."""
    if not participant_ids:
        return {}
    queryset = PointAllocation.objects.filter(campaign=campaign).exclude(kind=PointAllocation.Kind.PRIZE)
    if len(participant_ids) <= 2000:
        queryset = queryset.filter(participant_id__in=participant_ids)
    return {(participant_id, goal_id): (total or 0, count) for participant_id, goal_id, total, count in
            queryset.values_list("participant_id", "goal_id").annotate(total=Sum("points"), count=Count("id"))
            .values_list("participant_id", "goal_id", "total", "count")}


def _members_ensure(campaign: Campaign, records: dict[str, tuple[Any, ...]], known: dict[str, _Known]
                    ) -> tuple[dict[str, uuid.UUID], EnrolmentPlan | None, list[MemberRef]]:
    """Each participant's loyalty member id. Those without one join now (with their email when known, blank
    otherwise); the members not enrolled yet are only planned here: the ledger's bulk award writes them with
    their balances (one insert, no update). Also returns the joining members, whose TLP member the caller
    queues."""
    members = {key: old.member_id for key, old in known.items() if key in records and old.member_id is not None}
    joining = [(key, (known[key].email if key in known else "").strip().lower(),
                known[key].name if key in known else "") for key in records if key not in members]
    if not joining:
        return members, None, []
    program = program_resolve(program_id=campaign.loyalty_program_id)
    plan = members_enroll_plan(program=program, members=[MemberRow(key, email, name) for key, email, name in joining])
    members.update(zip((key for key, _e, _n in joining), plan.ids, strict=True))
    refs = [MemberRef(member_id, email, name) for (_key, email, name), member_id in zip(joining, plan.ids, strict=True)]
    return members, plan if plan.joining else None, refs


def _clawbacks(campaign: Campaign, claws: list[_Claw], allocations: list[tuple[Any, ...]],
               paid_now: dict[uuid.UUID, int], stats: ExecutionStats) -> None:
    """Reverse the goal's awards in the ledger, newest first, for the shortfall: what the member still has is
    taken, the rest becomes their debt (repaid by their next points). One ledger call per award reversed:
    claw-backs are rare (a configured policy and returned orders)."""
    entries: dict[tuple[uuid.UUID, str], list[uuid.UUID]] = {}
    for participant_id, goal_id, entry_id in PointAllocation.objects.filter(
            campaign=campaign, participant_id__in={claw.participant_id for claw in claws},
            kind__in=[PointAllocation.Kind.AWARD], ledger_entry_id__isnull=False).order_by("-id").values_list(
            "participant_id", "goal_id", "ledger_entry_id"):
        entries.setdefault((participant_id, goal_id), []).append(entry_id)
    reason = _("%(campaign)s: goal %(goal)s no longer reached")
    for claw in sorted(claws, key=lambda claw: claw.member_id):  # the ledger's lock order
        left, taken, debt, first = claw.shortfall, 0, 0, None
        for entry_id in entries.get((claw.participant_id, claw.goal_id), []):
            if left <= 0:
                break
            reversal = points_reverse(entry_id=entry_id, points=left, idempotency_key=f"{claw.key}:{entry_id}",
                                      reason=reason % {"campaign": campaign.name, "goal": claw.goal_id})
            if reversal is None:  # nothing left of that award to reverse
                continue
            asked = -reversal.amount + reversal.debt_change + reversal.waived
            left -= asked
            taken += -reversal.amount
            debt += reversal.debt_change
            first = first or reversal.pk
        requested = claw.shortfall - left
        if requested <= 0:
            continue
        allocations.append((claw.participant_id, claw.goal_id, claw.level, PointAllocation.Kind.CLAWBACK,
                            -requested, debt, claw.key, first))
        paid_now[claw.participant_id] = paid_now.get(claw.participant_id, 0) - requested
        stats.clawed_back += taken
        stats.unrecovered += debt


def _copy_to_temp(cursor: Any, columns: dict[str, str], rows: Any) -> str:
    """Stream ``rows`` with COPY into a new temporary table (dropped at commit); returns its name. The
    planner sizes a temporary table (and joins it by index) better than an ``unnest`` of bound arrays."""
    name = f"campaign_tmp_{uuid.uuid4().hex[:16]}"
    definition = ", ".join(f'"{column}" {kind}' for column, kind in columns.items())
    cursor.execute(f'CREATE TEMPORARY TABLE "{name}" ({definition}) ON COMMIT DROP')
    rows_copy(name, tuple(columns), rows)
    return name


PARTICIPANT_COLUMNS = {
    "id": "uuid", "member_id": "uuid", "region": "text", "eligible": "boolean", "ineligible_reason": "text",
    "points_owed": "bigint", "points_held": "bigint", "points_allocated": "bigint", "progress": "jsonb",
    "progress_digest": "text",
}
# What an updated participant's row carries besides: did its progress change (then a snapshot).
CHANGE_COLUMNS = {**PARTICIPANT_COLUMNS, "progressed": "boolean"}


def _participants_write(cursor: Any, campaign: Campaign, execution: CampaignExecution, rules: _Rules,
                        known: dict[str, _Known], members: dict[str, uuid.UUID], changed: list[tuple[Any, ...]],
                        paid_now: dict[uuid.UUID, int], now: Any, stamp: str) -> None:
    """New participants are COPYed straight into their table, and their snapshots copied from it by one
    ``INSERT … SELECT``; the other changed participants' new values go through one COPY into a temporary table,
    from which one statement updates them (Django's ``bulk_update`` would write a CASE per column with a branch
    per row, quadratic) and one adds a snapshot for each whose progress changed. Unchanged participants are not
    touched."""
    if not changed:
        return
    fresh, others = [], []
    for key, participant_id, row, owed, held, digest, progressed in changed:
        old = known.get(key)
        eligible = rules.is_eligible(row)
        reason = "" if eligible else str(rules.at(row, rules.reason) or "")[:100]
        goals = rules.goals_json(row, owed)
        progress = (f'{{"goals": {goals}, "eligible": {"true" if eligible else "false"}, '
                    f'"ineligible_reason": {json.dumps(reason)}, "taken_at": "{stamp}"}}')
        values = (participant_id, members[key], str(rules.at(row, rules.region) or "")[:200], eligible, reason,
                  sum(owed.values()), held,
                  (old.points_allocated if old is not None else 0) + paid_now.get(participant_id, 0), progress,
                  digest)
        if old is None:
            fresh.append((*values, key))
        else:
            others.append((*values, progressed))
    table, snapshots = CampaignParticipant._meta.db_table, ProgressSnapshot._meta.db_table
    if fresh:
        # No temporary table for them: one write per row instead of two.
        rows_copy(table, (*PARTICIPANT_COLUMNS, "participant_key"), fresh, constants=(
            ("last_execution_id", execution.pk), ("updated_at", now), ("created_at", now),
            ("campaign_id", campaign.pk), ("name", ""), ("email", "")))
        # Inserted by this execution = created at its timestamp and last written by it (an updated participant
        # existed before the execution began, so its creation time is earlier).
        cursor.execute(
            f'INSERT INTO "{snapshots}" ("execution_id", "participant_id", "taken_at", "eligible", '  # noqa: S608
            f'"ineligible_reason", "goals", "points_owed") SELECT %s, p."id", %s, p."eligible", '
            f'p."ineligible_reason", p."progress" -> \'goals\', p."points_owed" FROM "{table}" p '
            f'WHERE p."campaign_id" = %s AND p."last_execution_id" = %s AND p."created_at" = %s',
            [execution.pk, now, campaign.pk, execution.pk, now])
    if not others:
        return
    temp = _copy_to_temp(cursor, CHANGE_COLUMNS, others)
    assignments = ", ".join(f'"{name}" = v."{name}"' for name in PARTICIPANT_COLUMNS if name != "id")
    cursor.execute(f'UPDATE "{table}" AS p SET {assignments}, "last_execution_id" = %s, "updated_at" = %s '  # noqa: S608
                   f'FROM "{temp}" v WHERE p."id" = v."id"', [execution.pk, now])
    cursor.execute(
        f'INSERT INTO "{snapshots}" ("execution_id", "participant_id", "taken_at", '  # noqa: S608
        f'"eligible", "ineligible_reason", "goals", "points_owed") SELECT %s, v."id", %s, v."eligible", '
        f'v."ineligible_reason", v."progress" -> \'goals\', v."points_owed" FROM "{temp}" v WHERE v."progressed"',
        [execution.pk, now])


def _broadcast(campaign: Campaign, execution: CampaignExecution, stats: ExecutionStats,
               users: list[tuple[uuid.UUID, str]]) -> None:
    """One event for the campaign's admins; one per linked participant whose progress or points changed (read
    back after the writes, in one query)."""
    live_broadcast(topic=campaign_topic(campaign.pk), event="campaign.progress", payload={
        "campaign_id": str(campaign.pk), "execution_id": str(execution.pk), "participants": stats.participants,
        "changed": stats.changed, "eligible": stats.eligible,
        "points_allocated": stats.allocated, "points_held": stats.held, "points_clawed_back": stats.clawed_back,
        "points_unrecovered": stats.unrecovered,
    })
    if not users:
        return
    for user_id, progress, allocated, held in campaign.participants.filter(
            participant_key__in=[key for _user, key in users]).values_list(
            "user_id", "progress", "points_allocated", "points_held"):
        live_broadcast(topic=user_topic(user_id), event="campaign.my_progress", payload={
            "campaign_id": str(campaign.pk), "progress": progress, "points_allocated": allocated,
            "points_held": held})
