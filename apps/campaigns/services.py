"""Writes of campaigns: creation and edits, the customer database connection, rule document versions and the
lifecycle (draft -> pending approval -> approved -> active -> completed, or cancelled).

Approval freezes a rule version: the document is validated, compiled against the campaign's schema mapping
and proven read-only by the guard (statically, and on the customer's database when one is connected). It
then creates the campaign's loyalty program (type points: each participant is a member keyed by the
salesperson id), provisions the campaign in TLP (skipped, with the reason recorded, when the workspace has no
TLP configuration) and schedules the periodic execution. The engine lives in ``apps.campaigns.execution``.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.campaigns.execution import params_encode
from apps.campaigns.models import MIN_INTERVAL_SECONDS, Campaign, CampaignRuleVersion
from apps.campaigns.participant_import import (  # noqa: F401 (re-exported)
    participants_import_csv,
    participants_import_source,
)
from apps.campaigns.participant_services import (  # noqa: F401 (re-exported)
    campaign_participant_link,
    campaign_points_allocate,
    campaign_prizes,
    campaign_redemption_cancel,
    campaign_redemption_complete,
    participant_redeem,
)
from apps.campaigns.selectors import campaign_open_version, campaign_running_version
from apps.core.crypto import secret_encrypt
from apps.core.errors import ApplicationError, ConflictError, UnprocessableError
from apps.core.jobs import periodic_task_schedule, periodic_task_unschedule
from apps.loyalty.services import program_create
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
                    source_text: str = "") -> Campaign:
    """A draft campaign (with a first draft rule version when ``document`` is given). Refuses a period that
    ends before it starts and an interval under a minute."""
    extra = {key: value for key, value in (("execution_interval_seconds", execution_interval_seconds),
                                           ("retroactive_policy", retroactive_policy),
                                           ("regional_award_policy", regional_award_policy)) if value is not None}
    _validate_fields(extra, start_date, end_date)
    campaign = Campaign.objects.create(name=name, description=description, start_date=start_date, end_date=end_date,
                                       currency=currency, language=language, created_by=created_by, **extra)
    if document is not None:
        campaign_rule_version_save(campaign=campaign, document=document, source_text=source_text, user=created_by)
    return campaign


@transaction.atomic
def campaign_update(*, campaign: Campaign, user: Any = None, document: dict[str, Any] | None = None,
                    source_text: str = "", **fields: Any) -> Campaign:
    """Change a campaign's settings and/or its rules. A completed or cancelled campaign is refused (409).
    New rules on an approved or active campaign become a new draft version; the approved one keeps running
    until the new one is approved. The period and currency of a running campaign are frozen by its version."""
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
    campaign.save(update_fields=["status", "updated_at"])
    periodic_task_unschedule(schema_name=connection.schema_name, name=schedule_name(campaign))
    return campaign


@transaction.atomic
def campaign_complete(*, campaign: Campaign) -> Campaign:
    """End a running campaign (after its last execution): no more scheduled runs."""
    return _stop(campaign, Campaign.Status.COMPLETED)


@transaction.atomic
def campaign_cancel(*, campaign: Campaign) -> Campaign:
    """Cancel a campaign that is not over: no more runs; points already allocated stay in the ledger."""
    return _stop(campaign, Campaign.Status.CANCELLED)


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
