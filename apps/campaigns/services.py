"""Writes of campaigns: creation and edits, the customer database connection, rule document versions and the
lifecycle (draft -> pending approval -> approved -> active -> completed, or cancelled).

Approval freezes a rule version: the document is validated, compiled against the campaign's schema mapping
and proven read-only by the guard (statically, and on the customer's database when one is connected). It
then creates the campaign's loyalty program (type points: each participant is a member keyed by the
salesperson id), provisions the campaign in TLP (skipped, with the reason recorded, when the workspace has no
TLP configuration), gives the participants who joined before approval their loyalty and TLP members, and
schedules the periodic execution. The engine lives in ``apps.campaigns.execution``.

Completion (``campaign_complete``) runs a final execution, pays the top-N leaderboard prizes on the final
ranking through the ledger (once: each prize and winner is an idempotent allocation), and unschedules the
campaign. docs/campaigns.md states the policies (ties, ranking, what a failed final execution does).
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.campaigns.execution import campaign_execute, params_encode
from apps.campaigns.models import (
    MIN_INTERVAL_SECONDS,
    Campaign,
    CampaignExecution,
    CampaignParticipant,
    CampaignRuleVersion,
    LeaderboardPrize,
    PointAllocation,
)
from apps.campaigns.participant_import import (  # noqa: F401 (re-exported)
    participants_import_csv,
    participants_import_source,
)
from apps.campaigns.participant_services import (  # noqa: F401 (re-exported)
    campaign_participant_link,
    campaign_points_allocate,
    campaign_redemption_cancel,
    campaign_redemption_complete,
    participant_redeem,
    participants_members_ensure,
)
from apps.campaigns.selectors import (
    campaign_last_calculation,
    campaign_open_version,
    campaign_running_version,
    leaderboard_rank,
)
from apps.core.crypto import secret_encrypt
from apps.core.errors import ApplicationError, ConflictError, UnprocessableError
from apps.core.jobs import periodic_task_schedule, periodic_task_unschedule
from apps.core.live import campaign_topic, live_broadcast
from apps.loyalty.services import program_create
from apps.loyalty.services.ledger import AwardRow, points_award_rows_bulk
from apps.rules.document import rule_document_validate
from apps.rules.selectors import mapped_tables, schema_mapping_dict
from apps.rules.source_db import SourceDatabase, source_fetch, source_parse_url
from apps.rules.sql_compile import campaign_compile
from apps.rules.sql_guard import sql_validate

logger = logging.getLogger(__name__)

EDITABLE_FIELDS = ("name", "description", "start_date", "end_date", "currency", "language",
                   "execution_interval_seconds", "retroactive_policy", "regional_award_policy")
# Which statuses each transition may leave.
TRANSITIONS: dict[str, tuple[str, ...]] = {
    Campaign.Status.PENDING_APPROVAL: (Campaign.Status.DRAFT,),
    Campaign.Status.APPROVED: (Campaign.Status.PENDING_APPROVAL, Campaign.Status.APPROVED, Campaign.Status.ACTIVE),
    Campaign.Status.ACTIVE: (Campaign.Status.APPROVED, Campaign.Status.ACTIVE),
    Campaign.Status.COMPLETED: (Campaign.Status.APPROVED, Campaign.Status.ACTIVE),
    Campaign.Status.CANCELLED: (Campaign.Status.DRAFT, Campaign.Status.PENDING_APPROVAL, Campaign.Status.APPROVED,
                                Campaign.Status.ACTIVE),
}
CLOSED = (Campaign.Status.COMPLETED, Campaign.Status.CANCELLED)
# A prize redemption holds its points while the prize is delivered: 30 days, then the hold is released.
PRIZE_HOLD_MINUTES = 30 * 24 * 60
EXECUTE_TASK = "campaigns.execute"  # apps.campaigns.tasks.campaign_execute_task (tasks sit above services)


def schedule_name(campaign: Campaign) -> str:
    return f"campaign-execute:{campaign.pk}"


def _transition(campaign: Campaign, target: str) -> None:
    if campaign.status not in TRANSITIONS[target]:
        raise ConflictError(
            _("A campaign that is %(current)s cannot become %(target)s.")
            % {"current": Campaign.Status(campaign.status).label, "target": Campaign.Status(target).label},
            code="invalid_transition", fields={"status": [campaign.status]})
    campaign.status = target


def _lock(campaign: Campaign) -> Campaign:
    """Lock the campaign's row (transitions and executions of one campaign are serialised) and reload it."""
    Campaign.objects.select_for_update().filter(pk=campaign.pk).values_list("pk", flat=True).first()
    campaign.refresh_from_db()
    return campaign


def _validate_fields(fields: dict[str, Any], start: dt.date, end: dt.date) -> None:
    if end < start:
        raise ApplicationError(_("The campaign cannot end before it starts."),
                               fields={"end_date": [_("Must not be before the start date.")]})
    interval = fields.get("execution_interval_seconds")
    if interval is not None and interval < MIN_INTERVAL_SECONDS:
        raise ApplicationError(_("Campaigns run at most once a minute."),
                               fields={"execution_interval_seconds": [_("Must be at least 60 seconds.")]})


@transaction.atomic
def campaign_create(*, name: str, start_date: dt.date, end_date: dt.date, description: str = "",
                    currency: str = Campaign.Currency.BRL, language: str = "en", created_by: Any = None,
                    execution_interval_seconds: int | None = None, retroactive_policy: str | None = None,
                    regional_award_policy: str | None = None, document: dict[str, Any] | None = None,
                    source_text: str = "", leaderboard_prizes: list[dict[str, Any]] | None = None) -> Campaign:
    """A draft campaign (with a first draft rule version when ``document`` is given, and its top-N leaderboard
    prizes). Refuses a period that ends before it starts, an interval under a minute, invalid prizes (400)."""
    extra = {key: value for key, value in (("execution_interval_seconds", execution_interval_seconds),
                                           ("retroactive_policy", retroactive_policy),
                                           ("regional_award_policy", regional_award_policy)) if value is not None}
    _validate_fields(extra, start_date, end_date)
    campaign = Campaign.objects.create(name=name, description=description, start_date=start_date, end_date=end_date,
                                       currency=currency, language=language, created_by=created_by, **extra)
    if document is not None:
        campaign_rule_version_save(campaign=campaign, document=document, source_text=source_text, user=created_by)
    if leaderboard_prizes:
        campaign_leaderboard_prizes_set(campaign=campaign, prizes=leaderboard_prizes)
    return campaign


@transaction.atomic
def campaign_update(*, campaign: Campaign, user: Any = None, document: dict[str, Any] | None = None,
                    source_text: str = "", leaderboard_prizes: list[dict[str, Any]] | None = None,
                    **fields: Any) -> Campaign:
    """Change a campaign's settings, its rules and/or its leaderboard prizes (``None``: unchanged; a list
    replaces them). A completed or cancelled campaign is refused (409). New rules on an approved or active
    campaign become a new draft version; the approved one keeps running until the new one is approved. The
    period and currency of a running campaign are frozen by its version, and so are its prizes (409)."""
    campaign = _lock(campaign)
    if campaign.status in CLOSED:
        raise ConflictError(_("A completed or cancelled campaign cannot be changed."), code="campaign_closed")
    unknown = set(fields) - set(EDITABLE_FIELDS)
    if unknown:
        raise ApplicationError(_("Unknown field."), fields={name: [_("Unknown field.")] for name in sorted(unknown)})
    running = campaign.status in (Campaign.Status.APPROVED, Campaign.Status.ACTIVE)
    frozen = {"start_date", "end_date", "currency"} & {k for k, v in fields.items() if getattr(campaign, k) != v}
    if running and frozen:
        raise ConflictError(_("The period and currency of a running campaign change through a new rule version."),
                            code="campaign_running", fields={name: [_("Frozen.")] for name in sorted(frozen)})
    _validate_fields(fields, fields.get("start_date", campaign.start_date), fields.get("end_date", campaign.end_date))
    for name, value in fields.items():
        setattr(campaign, name, value)
    campaign.save()
    if document is not None:
        campaign_rule_version_save(campaign=campaign, document=document, source_text=source_text, user=user)
    if leaderboard_prizes is not None:
        campaign_leaderboard_prizes_set(campaign=campaign, prizes=leaderboard_prizes)
    if running and "execution_interval_seconds" in fields:
        _schedule(campaign)
    return campaign


@transaction.atomic
def campaign_rule_version_save(*, campaign: Campaign, document: dict[str, Any], source_text: str = "",
                               user: Any = None) -> CampaignRuleVersion:
    """Store ``document`` as the campaign's open (draft) version: the existing draft is replaced, a pending
    one goes back to draft, otherwise a new version is numbered. Structural validity is checked at approval
    (a draft may be incomplete), but the document must be a JSON object."""
    if not isinstance(document, dict):
        raise ApplicationError(_("The rule document must be a JSON object."), fields={"document": [_("Invalid.")]})
    if campaign.status in CLOSED:
        raise ConflictError(_("A completed or cancelled campaign cannot be changed."), code="campaign_closed")
    version = campaign_open_version(campaign=campaign)
    if version is None:
        last = campaign.rule_versions.order_by("-number").values_list("number", flat=True).first() or 0
        version = CampaignRuleVersion(campaign=campaign, number=last + 1, created_by=user)
    version.document = document
    version.source_text = source_text or version.source_text
    version.status = CampaignRuleVersion.Status.DRAFT
    version.save()
    if campaign.status == Campaign.Status.PENDING_APPROVAL:
        campaign.status = Campaign.Status.DRAFT  # an edited submission needs submitting again
        campaign.save(update_fields=["status", "updated_at"])
    return version


@transaction.atomic
def campaign_connection_set(*, campaign: Campaign, url: str, allow_sqlite: bool = False,
                            timeout_ms: int = 5000) -> Campaign:
    """Connect the campaign to the customer's sales database. The DSN is tried (a read-only ``SELECT 1``)
    before it is saved, and stored encrypted. Refuses SQLite files unless ``allow_sqlite`` (they live on
    our servers: tests and demos only) and the platform's own database."""
    source = source_parse_url(url=url)
    if source.engine == "sqlite" and not allow_sqlite:
        raise ApplicationError(_("Only PostgreSQL and MySQL/MariaDB databases can be connected."),
                               code="source_url_forbidden", fields={"url": [_("Not allowed.")]})
    source_fetch(source=source, sql="SELECT 1", timeout_ms=timeout_ms)
    campaign.connection_encrypted = secret_encrypt(source.url)
    campaign.connection_engine = source.engine
    campaign.save(update_fields=["connection_encrypted", "connection_engine", "updated_at"])
    return campaign


@transaction.atomic
def campaign_submit(*, campaign: Campaign, user: Any = None) -> CampaignRuleVersion:
    """Submit the open rule version for approval (a draft campaign becomes pending approval; a running one
    keeps running its approved version meanwhile). Refuses (409) when there is no draft version."""
    campaign = _lock(campaign)
    if campaign.status in CLOSED:
        raise ConflictError(_("A completed or cancelled campaign cannot be changed."), code="campaign_closed")
    version = campaign_open_version(campaign=campaign)
    if version is None or version.status != CampaignRuleVersion.Status.DRAFT:
        raise ConflictError(_("There is no draft rule version to submit."), code="no_draft_version")
    rule_document_validate(document=version.document)
    version.status = CampaignRuleVersion.Status.PENDING
    version.save(update_fields=["status", "updated_at"])
    if campaign.status == Campaign.Status.DRAFT:
        _transition(campaign, Campaign.Status.PENDING_APPROVAL)
        campaign.save(update_fields=["status", "updated_at"])
    return version


def _source_of(campaign: Campaign) -> SourceDatabase | None:
    from apps.campaigns.selectors import campaign_source_database

    return campaign_source_database(campaign=campaign)


@transaction.atomic
def campaign_approve(*, campaign: Campaign, user: Any, comment: str = "") -> CampaignRuleVersion:
    """Approve the pending rule version: validate, compile, prove read-only, freeze it (the previous approved
    version is superseded), then create the loyalty program, provision TLP and schedule execution.
    Refuses (409) without a pending version or an analysed schema, (422) rules that do not compile or SQL the
    guard rejects; nothing is written then."""
    campaign = _lock(campaign)
    version = campaign_open_version(campaign=campaign)
    if version is None or version.status != CampaignRuleVersion.Status.PENDING:
        raise ConflictError(_("There is no rule version pending approval."), code="no_pending_version")
    _transition(campaign, Campaign.Status.APPROVED if campaign.status == Campaign.Status.PENDING_APPROVAL
                else campaign.status)
    if campaign.source_schema is None:
        raise ConflictError(_("This campaign has no schema yet: upload one first."), code="schema_missing")
    mapping = schema_mapping_dict(source_schema=campaign.source_schema)
    if mapping is None:
        raise ConflictError(_("Compiling rules needs an analysed schema."), code="schema_missing")
    document = rule_document_validate(document=version.document)
    source = _source_of(campaign)
    dialect = source.engine if source is not None else campaign.source_schema.dialect
    compiled = campaign_compile(document=document, mapping=mapping, dialect=dialect,
                                definition=campaign.source_schema.definition)
    query = compiled.participants
    report = sql_validate(sql=query.sql, params=query.params, dialect=dialect,
                          definition=campaign.source_schema.definition, mapped_tables=mapped_tables(mapping=mapping),
                          source=source)
    if not report.ok:
        raise UnprocessableError(_("The compiled SQL did not pass the read-only guard."), code="sql_rejected",
                                 fields={"sql": [issue.message for issue in report.errors]})
    _prize_goals_check(campaign, document)
    previous = campaign_running_version(campaign=campaign)
    if previous is not None:
        previous.status = CampaignRuleVersion.Status.SUPERSEDED
        previous.save(update_fields=["status", "updated_at"])
    version.status = CampaignRuleVersion.Status.APPROVED
    version.sql, version.params, version.columns = query.sql, params_encode(query.params), list(query.columns)
    version.dialect = dialect
    version.approved_by, version.approved_at, version.approval_comment = user, timezone.now(), comment.strip()
    version.save()
    campaign.start_date = dt.date.fromisoformat(document["period"]["start"])
    campaign.end_date = dt.date.fromisoformat(document["period"]["end"])
    campaign.currency = document["currency"]
    _program_ensure(campaign)
    _tlp_provision(campaign, document)
    campaign.save()
    # Participants imported or linked before approval join the campaign's points now.
    participants_members_ensure(campaign=campaign, participants=list(campaign.participants.all()))
    _schedule(campaign)
    return version


def _program_ensure(campaign: Campaign) -> None:
    """Each campaign's points live in a loyalty program of its own (type points), active from approval."""
    if campaign.loyalty_program_id is not None:
        return
    program = program_create(name=(_("Campaign: %(name)s") % {"name": campaign.name})[:200],
                             type="points", status="active", currency=campaign.currency,
                             reservation_minutes=PRIZE_HOLD_MINUTES,
                             description=_("Points of the sales-incentive campaign %(name)s.")
                             % {"name": campaign.name})
    campaign.loyalty_program_id = program.pk


def _tlp_provision(campaign: Campaign, document: dict[str, Any]) -> None:
    """TLP is optional: without a configuration the step is skipped and the reason recorded; a TLP failure is
    recorded too (approval stands: provisioning is idempotent and runs again at the next approval)."""
    from apps.tlp.client import TLPError
    from apps.tlp.selectors import tlp_configuration_active
    from apps.tlp.services import tlp_campaign_provision

    if tlp_configuration_active() is None:
        campaign.tlp_status = Campaign.TlpStatus.SKIPPED
        campaign.tlp_note = _("TLP is not configured for this workspace: the campaign was not provisioned there.")
        return
    try:
        result = tlp_campaign_provision(campaign_key=str(campaign.pk), name=campaign.name, rule_document=document,
                                        currency=campaign.currency)
    except (TLPError, ApplicationError) as exc:
        logger.warning("TLP provisioning of campaign %s failed: %s", campaign.pk, exc)
        campaign.tlp_status = Campaign.TlpStatus.FAILED
        campaign.tlp_note = str(exc)[:1000]
        return
    campaign.tlp_status = Campaign.TlpStatus.PROVISIONED
    campaign.tlp_point_type_id = result.point_type_id
    campaign.tlp_note = _("%(offers)d offers provisioned.") % {
        "offers": len(result.accrual_offers) + len(result.redemption_offers)}


def _schedule(campaign: Campaign) -> None:
    periodic_task_schedule(schema_name=connection.schema_name, name=schedule_name(campaign),
                           task=EXECUTE_TASK, every_seconds=campaign.execution_interval_seconds,
                           kwargs={"campaign_id": str(campaign.pk)})


def _stop(campaign: Campaign, status: str) -> Campaign:
    campaign = _lock(campaign)
    _transition(campaign, status)
    if status == Campaign.Status.COMPLETED:
        campaign.completed_at = timezone.now()
    campaign.save(update_fields=["status", "completed_at", "updated_at"])
    periodic_task_unschedule(schema_name=connection.schema_name, name=schedule_name(campaign))
    return campaign


def campaign_complete(*, campaign: Campaign, user: Any = None, final_execution: bool = True) -> Campaign:
    """End a running campaign: a final execution first (unless ``final_execution`` is false: the latest
    progress then stands), then, in one transaction, the status, the top-N leaderboard prizes paid on the final
    ranking and the schedule removed. Refuses (409) a campaign that is not approved or active, and
    (409 ``final_execution_failed``) when the final execution fails: the campaign keeps running, the failed
    execution stays recorded and nothing else is written."""
    if campaign.status not in TRANSITIONS[Campaign.Status.COMPLETED]:
        _transition(campaign, Campaign.Status.COMPLETED)  # raises the 409 with the statuses
    if final_execution:
        execution = campaign_execute(campaign=campaign, user=user)
        if execution.status != CampaignExecution.Status.SUCCEEDED:
            raise ConflictError(_("The final execution failed, so the campaign was not completed: %(error)s")
                                % {"error": execution.error}, code="final_execution_failed")
    with transaction.atomic():
        campaign = _stop(campaign, Campaign.Status.COMPLETED)
        paid = _prizes_pay(campaign)
    live_broadcast(topic=campaign_topic(campaign.pk), event="campaign.completed", payload={
        "campaign_id": str(campaign.pk), "prize_winners": len(paid), "prize_points": sum(paid.values())})
    return campaign


@transaction.atomic
def campaign_cancel(*, campaign: Campaign) -> Campaign:
    """Cancel a campaign that is not over: no more runs; points already allocated stay in the ledger, and no
    leaderboard prize is paid."""
    return _stop(campaign, Campaign.Status.CANCELLED)


# ------------------------------------------------------------------------------------------ leaderboard prizes
PRIZE_FIELDS = ("scope", "goal_id", "rank_from", "rank_to", "points", "name")
MAX_PRIZE_RANK = 1000


def _prizes_clean(prizes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each prize complete and sane, and no two bands of one leaderboard (scope and goal) overlapping: a rank
    pays at most one prize per leaderboard. Refuses (400) with the errors per prize."""
    cleaned, errors = [], {}
    for index, prize in enumerate(prizes):
        problems = []
        item = {"scope": prize.get("scope") or LeaderboardPrize.Scope.CAMPAIGN,
                "goal_id": str(prize.get("goal_id") or "").strip(), "name": str(prize.get("name") or "").strip(),
                "rank_from": prize.get("rank_from", 1), "points": prize.get("points")}
        item["rank_to"] = prize.get("rank_to") or item["rank_from"]
        if item["scope"] not in LeaderboardPrize.Scope.values:
            problems.append(_("Unknown leaderboard."))
        if not item["goal_id"] or len(item["goal_id"]) > 40:
            problems.append(_("Name the goal whose leaderboard pays the prize."))
        ranks = (item["rank_from"], item["rank_to"])
        if not all(isinstance(rank, int) and not isinstance(rank, bool) for rank in ranks) \
                or not 1 <= item["rank_from"] <= item["rank_to"] <= MAX_PRIZE_RANK:
            problems.append(_("Ranks go from 1 to %(max)d, the first not after the last.") % {"max": MAX_PRIZE_RANK})
        if not isinstance(item["points"], int) or isinstance(item["points"], bool) or item["points"] <= 0:
            problems.append(_("Points must be a positive whole number."))
        if len(item["name"]) > 200:
            problems.append(_("At most 200 characters."))
        if problems:
            errors[str(index)] = problems
        cleaned.append(item)
    if not errors:
        for index, item in enumerate(cleaned):
            for other in cleaned[:index]:
                if (other["scope"], other["goal_id"]) == (item["scope"], item["goal_id"]) and \
                        other["rank_from"] <= item["rank_to"] and item["rank_from"] <= other["rank_to"]:
                    errors[str(index)] = [_("Overlaps another prize of the same leaderboard.")]
    if errors:
        raise ApplicationError(_("The leaderboard prizes are not valid."), code="invalid",
                               fields={"leaderboard_prizes": errors})
    return cleaned


def _prize_goals_check(campaign: Campaign, document: dict[str, Any]) -> None:
    """Every prize ranks an individual goal of the rules (422 otherwise: at approval, the rules are final)."""
    individual = {goal["id"] for goal in document.get("goals") or [] if goal.get("scope") == "individual"}
    unknown = sorted({prize.goal_id for prize in campaign.leaderboard_prizes.all()} - individual)
    if unknown:
        raise UnprocessableError(_("A leaderboard prize names a goal that is not an individual goal of the rules."),
                                 code="prize_goal_unknown", fields={"leaderboard_prizes": unknown})


@transaction.atomic
def campaign_leaderboard_prizes_set(*, campaign: Campaign, prizes: list[dict[str, Any]]) -> list[LeaderboardPrize]:
    """Replace the campaign's top-N leaderboard prizes (``scope`` campaign or region, ``goal_id``, ``rank_from``,
    ``rank_to``, ``points`` per winner, ``name``). They pay out of the approved rules' budget, so they are set
    before approval: refused (409 ``campaign_running``) once the campaign is approved, and (400) invalid."""
    campaign = _lock(campaign)
    if campaign.status not in (Campaign.Status.DRAFT, Campaign.Status.PENDING_APPROVAL):
        raise ConflictError(_("Leaderboard prizes are set before the campaign is approved."),
                            code="campaign_running", fields={"leaderboard_prizes": [_("Frozen.")]})
    cleaned = _prizes_clean(prizes)
    campaign.leaderboard_prizes.all().delete()
    return LeaderboardPrize.objects.bulk_create([LeaderboardPrize(campaign=campaign, **item) for item in cleaned])


def leaderboard_prize_check(*, campaign: Campaign, prize: LeaderboardPrize | None = None,
                            **fields: Any) -> dict[str, Any]:
    """One prize added (or ``prize`` changed) as it would be saved, checked with the campaign's other prizes
    (``campaign_leaderboard_prizes_set``'s rules); refuses (409) after approval, (400) invalid."""
    if campaign.status not in (Campaign.Status.DRAFT, Campaign.Status.PENDING_APPROVAL):
        raise ConflictError(_("Leaderboard prizes are set before the campaign is approved."),
                            code="campaign_running")
    others = [{name: getattr(other, name) for name in PRIZE_FIELDS}
              for other in campaign.leaderboard_prizes.exclude(pk=getattr(prize, "pk", None))]
    current = {name: getattr(prize, name) for name in PRIZE_FIELDS} if prize is not None else {}
    merged = {**current, **{name: value for name, value in fields.items() if name in PRIZE_FIELDS}}
    return _prizes_clean([*others, merged])[-1]


@transaction.atomic
def leaderboard_prize_save(*, campaign: Campaign, prize: LeaderboardPrize | None = None,
                           **fields: Any) -> LeaderboardPrize:
    """Add one prize, or change ``prize`` (the back office's form); see ``leaderboard_prize_check``."""
    campaign = _lock(campaign)
    item = leaderboard_prize_check(campaign=campaign, prize=prize, **fields)
    prize = prize or LeaderboardPrize(campaign=campaign)
    for name, value in item.items():
        setattr(prize, name, value)
    prize.save()
    return prize


@transaction.atomic
def leaderboard_prize_delete(*, prize: LeaderboardPrize) -> None:
    campaign = _lock(prize.campaign)
    if campaign.status not in (Campaign.Status.DRAFT, Campaign.Status.PENDING_APPROVAL):
        raise ConflictError(_("Leaderboard prizes are set before the campaign is approved."),
                            code="campaign_running")
    prize.delete()


def _prizes_pay(campaign: Campaign) -> dict[Any, int]:
    """Pay each leaderboard prize to the participants at its ranks on the final ranking (``leaderboard_rank``:
    eligible participants with attainment above zero, ties sharing a rank), through the ledger, once: the
    allocation and ledger key is ``campaign:<id>:prize:<prize>:p:<participant>``. Returns points per
    participant id."""
    prizes = list(campaign.leaderboard_prizes.all())
    version = campaign_running_version(campaign=campaign)
    execution = campaign_last_calculation(campaign=campaign)
    if not prizes or version is None or execution is None:
        return {}
    winners: list[tuple[LeaderboardPrize, Any, int]] = []  # prize, ranked participant, rank
    for scope, goal_id in {(prize.scope, prize.goal_id) for prize in prizes}:
        boards = leaderboard_rank(campaign=campaign, goal_id=goal_id, by_region=scope == LeaderboardPrize.Scope.REGION)
        bands = [prize for prize in prizes if (prize.scope, prize.goal_id) == (scope, goal_id)]
        for board in boards.values():
            for entry in board:
                prize = next((band for band in bands if band.rank_from <= entry.rank <= band.rank_to), None)
                if prize is not None:
                    winners.append((prize, entry, entry.rank))
    if not winners:
        return {}
    winners.sort(key=lambda winner: str(winner[1].member_id))  # the ledger's lock order
    keys = [f"campaign:{campaign.pk}:prize:{prize.pk}:p:{entry.participant_id}" for prize, entry, _r in winners]
    reason = _("%(campaign)s: %(prize)s (rank %(rank)d)")
    entry_ids = points_award_rows_bulk(awards=[
        AwardRow(member_id=entry.member_id, points=int(prize.points), idempotency_key=key, pending_days=0,
                 campaign_id=campaign.pk, reason=reason % {
                     "campaign": campaign.name, "rank": rank,
                     "prize": prize.name or _ranks(prize)})
        for (prize, entry, rank), key in zip(winners, keys, strict=True)])
    PointAllocation.objects.bulk_create([
        PointAllocation(campaign=campaign, participant_id=entry.participant_id, execution=execution,
                        rule_version=version, goal_id=prize.goal_id, level=rank, kind=PointAllocation.Kind.PRIZE,
                        points=int(prize.points), prize=prize, idempotency_key=key, ledger_entry_id=entry_id)
        for (prize, entry, rank), key, entry_id in zip(winners, keys, entry_ids, strict=True)])
    paid: dict[Any, int] = {}
    for prize, entry, _rank in winners:
        paid[entry.participant_id] = paid.get(entry.participant_id, 0) + int(prize.points)
    participants = list(CampaignParticipant.objects.filter(pk__in=list(paid)))
    for participant in participants:
        participant.points_allocated += paid[participant.pk]
    CampaignParticipant.objects.bulk_update(participants, ["points_allocated"], batch_size=500)
    return paid


def _ranks(prize: LeaderboardPrize) -> str:
    """An unnamed prize's name: "top 3", "ranks 4-10"."""
    if prize.rank_from == 1:
        return _("top %(count)d") % {"count": prize.rank_to}
    return _("ranks %(first)d-%(last)d") % {"first": prize.rank_from, "last": prize.rank_to}


@transaction.atomic
def campaign_delete(*, campaign: Campaign) -> None:
    """Delete a draft, pending or cancelled campaign that never ran. One that ran keeps its history (409)."""
    campaign = _lock(campaign)
    if campaign.status not in (Campaign.Status.DRAFT, Campaign.Status.PENDING_APPROVAL, Campaign.Status.CANCELLED) \
            or campaign.executions.exists():
        raise ConflictError(_("Only a campaign that never ran can be deleted; cancel it instead."),
                            code="campaign_in_use")
    periodic_task_unschedule(schema_name=connection.schema_name, name=schedule_name(campaign))
    campaign.delete()
