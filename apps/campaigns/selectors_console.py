"""Reads of the admin campaign console (``/console/campaigns/``): who may do what, the campaign list with its
progress, a campaign's runs and ineligible participants, and the wizard's state (which steps hold data, the
texts of the draft rule version, the schema analysis in the reader's language)."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db.models import BooleanField, Count, F, Func, IntegerField, OuterRef, Q, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import formats
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy

from apps.campaigns.models import Campaign, CampaignExecution, CampaignParticipant, CampaignRuleVersion
from apps.campaigns.selectors import (
    campaign_list,
    campaign_open_version,
    campaign_running_version,
    campaign_source_database,
    execution_list,
    participant_list,
)
from apps.campaigns.wizard_text import WizardTexts, wizard_texts_split
from apps.rules.schema_analysis import CONCEPT_LABELS, CONCEPTS, LOGICAL_STATUSES
from apps.rules.selectors import schema_analysis_get, schema_mapping_get
from apps.rules.sql_compile import REASON_REGION, REASON_TERMINATED

# Reading is for every staff role, changing and executing for owners, admins and managers, approving for owners
# and admins (as the API: approval records who approved), the workspace's TLP connection for owners and admins
# (as /api/tlp/).
READ_ROLES = frozenset({"owner", "admin", "manager", "analyst"})
WRITE_ROLES = frozenset({"owner", "admin", "manager"})
APPROVE_ROLES = frozenset({"owner", "admin"})
TLP_ROLES = frozenset({"owner", "admin"})
ACCESS = {"read": READ_ROLES, "write": WRITE_ROLES, "approve": APPROVE_ROLES, "tlp": TLP_ROLES}

STEPS = ("details", "goals", "eligibility", "prizes", "schema", "tlp", "connection", "review", "approval")
STEP_LABELS = {
    "details": gettext_lazy("Details"),
    "goals": gettext_lazy("Goals"),
    "eligibility": gettext_lazy("Eligibility"),
    "prizes": gettext_lazy("Prizes"),
    "schema": gettext_lazy("Schema"),
    "tlp": gettext_lazy("TLP"),
    "connection": gettext_lazy("Database"),
    "review": pgettext_lazy("campaign wizard step", "Review"),
    "approval": gettext_lazy("Approval"),
}
EDITABLE_STATUSES = (Campaign.Status.DRAFT, Campaign.Status.PENDING_APPROVAL, Campaign.Status.APPROVED,
                     Campaign.Status.ACTIVE)
RUNNING_STATUSES = (Campaign.Status.APPROVED, Campaign.Status.ACTIVE)
INELIGIBLE_REASONS = {
    REASON_TERMINATED: gettext_lazy("Employment ended before the campaign's last day"),
    REASON_REGION: gettext_lazy("Region not included in the campaign"),
}
SCOPE_LABELS = {"individual": gettext_lazy("Individual"), "team": gettext_lazy("Team"),
                "region": gettext_lazy("Regional"), "company": gettext_lazy("Company")}
METRIC_LABELS = {"line_amount": gettext_lazy("sales amount"), "quantity": gettext_lazy("units sold"),
                 "order_count": gettext_lazy("orders")}
FILTER_LABELS = {"product_lines": gettext_lazy("product lines"), "categories": gettext_lazy("categories"),
                 "skus": gettext_lazy("SKUs"), "regions": gettext_lazy("regions")}
STATUS_NAMES = {"cancelled": gettext_lazy("cancelled"), "returned": gettext_lazy("returned"),
                "completed": gettext_lazy("completed")}
# A participant reached the individual goal when they are eligible (an ineligible one earns nothing) and an
# individual-scope goal of their latest progress is at 100 % or more.
INDIVIDUAL_REACHED = '$.goals.* ? (@.scope == "individual" && @.percent.double() >= 100)'


def console_can(*, user: Any, action: str) -> bool:
    """Whether ``user`` may ``read``, ``write``, ``approve`` or configure ``tlp`` in the console."""
    return bool(getattr(user, "is_authenticated", False)) and getattr(user, "role", None) in ACCESS[action]


# ------------------------------------------------------------------------------------------ list + monitoring
class _JsonPathExists(Func):
    function = "jsonb_path_exists"
    output_field = BooleanField()


def console_campaign_list(*, status: str | None = None, search: str | None = None) -> QuerySet[Campaign]:
    """Campaigns, newest first, each with its participant count, how many eligible ones reached an individual
    goal and the points allocated so far (three correlated subqueries, whatever the number of campaigns on the page)."""
    participants = CampaignParticipant.objects.filter(campaign=OuterRef("pk")).order_by().values("campaign")
    count = participants.annotate(n=Count("id")).values("n")
    reached = participants.filter(eligible=True).annotate(
        hit=_JsonPathExists(F("progress"), Value(INDIVIDUAL_REACHED))).filter(hit=True).annotate(
        n=Count("id")).values("n")
    allocated = participants.annotate(total=Sum("points_allocated")).values("total")
    return campaign_list(status=status, search=search).annotate(
        participant_count=Coalesce(Subquery(count, output_field=IntegerField()), 0),
        reached_count=Coalesce(Subquery(reached, output_field=IntegerField()), 0),
        points_allocated_total=Coalesce(Subquery(allocated, output_field=IntegerField()), 0),
    )


def console_actions(*, campaign: Campaign, user: Any) -> list[str]:
    """What ``user`` may do with ``campaign`` now: continue (the wizard), approve, execute; view is always there."""
    actions = []
    if console_can(user=user, action="write") and campaign.status in EDITABLE_STATUSES:
        actions.append("continue")
    if console_can(user=user, action="approve") and campaign.status == Campaign.Status.PENDING_APPROVAL:
        actions.append("approve")
    if console_can(user=user, action="write") and campaign.status in RUNNING_STATUSES:
        actions.append("execute")
    return actions


@dataclass(frozen=True)
class CampaignSummary:
    participants: int
    eligible: int
    reached: int
    points_allocated: int
    points_held: int
    last_execution: CampaignExecution | None

    @property
    def reached_percent(self) -> int:
        return round(100 * self.reached / self.participants) if self.participants else 0


def console_campaign_summary(*, campaign: Campaign) -> CampaignSummary:
    """The campaign's participants, eligible ones, eligible ones who reached an individual goal, points
    allocated and held, and its latest run (three queries)."""
    totals = campaign.participants.order_by().aggregate(
        participants=Count("id"), eligible=Count("id", filter=Q(eligible=True)),
        allocated=Coalesce(Sum("points_allocated"), 0), held=Coalesce(Sum("points_held"), 0))
    reached = campaign.participants.filter(eligible=True).annotate(
        hit=_JsonPathExists(F("progress"), Value(INDIVIDUAL_REACHED))).filter(hit=True).count()
    return CampaignSummary(participants=totals["participants"], eligible=totals["eligible"], reached=reached,
                           points_allocated=totals["allocated"], points_held=totals["held"],
                           last_execution=campaign.executions.order_by("-started_at", "id").first())


def console_runs(*, campaign: Campaign, limit: int = 20) -> list[CampaignExecution]:
    return list(execution_list(campaign=campaign)[:limit])


def console_ineligible(*, campaign: Campaign) -> QuerySet[CampaignParticipant]:
    return participant_list(campaign=campaign, eligible=False)


def ineligible_reason_label(code: str) -> str:
    """A translated reason for an ineligibility code of the compiled rules (the code itself when unknown)."""
    label = INELIGIBLE_REASONS.get(code)
    return str(label) if label is not None else (code or _("Not eligible"))


# ------------------------------------------------------------------------------------------ the wizard
def wizard_version(*, campaign: Campaign) -> CampaignRuleVersion | None:
    """The version the wizard edits: the open (draft or pending) one, else the running one, else None."""
    return campaign_open_version(campaign=campaign) or campaign_running_version(campaign=campaign)


@dataclass
class WizardState:
    campaign: Campaign
    version: CampaignRuleVersion | None
    texts: WizardTexts
    done: dict[str, bool] = field(default_factory=dict)

    @property
    def document(self) -> dict[str, Any] | None:
        return self.version.document if self.version is not None else None


def wizard_state(*, campaign: Campaign, tlp_configured: bool) -> WizardState:
    """The wizard's saved state: the texts of the version it edits and which steps hold what they need."""
    version = wizard_version(campaign=campaign)
    texts = wizard_texts_split(source_text=version.source_text if version else "")
    document = version.document if version else {}
    mapping = schema_mapping_get(source_schema=campaign.source_schema) if campaign.source_schema_id else None
    done = {
        "details": True,
        "goals": bool(texts.goals and document.get("goals")),
        "eligibility": bool(texts.eligibility),
        "prizes": bool(texts.prizes),
        "schema": mapping is not None,
        "tlp": tlp_configured,
        "connection": bool(campaign.connection_encrypted) or campaign_source_database(campaign=campaign) is not None,
        "review": bool(version and version.status in (CampaignRuleVersion.Status.PENDING,
                                                      CampaignRuleVersion.Status.APPROVED)),
        "approval": bool(version and version.status == CampaignRuleVersion.Status.APPROVED),
    }
    return WizardState(campaign=campaign, version=version, texts=texts, done=done)


def _money(value: Any, currency: str | None) -> str:
    try:
        amount = formats.number_format(Decimal(str(value)), decimal_pos=2, use_l10n=True, force_grouping=True)
    except (InvalidOperation, ValueError):
        return str(value)
    return f"{currency} {amount}" if currency else amount


def _integer(value: Any) -> str:
    try:
        return formats.number_format(int(value), decimal_pos=0, use_l10n=True, force_grouping=True)
    except (TypeError, ValueError):
        return str(value)


def document_understood(*, document: dict[str, Any]) -> dict[str, Any]:
    """What the rules engine understood from a (possibly incomplete) rule document, as display rows in the
    reader's language: the period and currency, goals (scope, target, filters, rewards), eligibility
    conditions, prizes and caps."""
    currency = document.get("currency")
    goals = []
    for goal in document.get("goals") or []:
        metric = goal.get("metric")
        target = goal.get("target")
        target_text = (_money(target, currency) if metric == "line_amount" else _integer(Decimal(str(target or 0))))
        filters = [{"label": FILTER_LABELS[key], "values": values}
                   for key, values in (goal.get("filters") or {}).items() if values and key in FILTER_LABELS]
        rewards = [_("%(points)s points at %(percent)s%%") % {"points": _integer(reward.get("points")),
                                                               "percent": reward.get("at_percent")}
                   for reward in goal.get("rewards") or [] if reward.get("points")]
        per_unit = goal.get("points_per_unit")
        if per_unit:
            per = _money(per_unit.get("per"), currency) if metric == "line_amount" else _integer(per_unit.get("per"))
            rewards.append(_("%(points)s points per %(per)s") % {"points": _integer(per_unit.get("points")),
                                                                 "per": per})
        goals.append({"id": goal.get("id"), "scope": SCOPE_LABELS.get(goal.get("scope"), goal.get("scope")),
                      "metric": METRIC_LABELS.get(metric, metric), "target": target_text if target else "",
                      "filters": filters, "rewards": rewards})
    eligibility = document.get("eligibility") or {}
    conditions = []
    if eligibility.get("employed_through_end"):
        conditions.append(_("Participants must be employed until the campaign's last day."))
    statuses = [str(STATUS_NAMES.get(status, status)) for status in eligibility.get("excluded_statuses") or []]
    if statuses:
        conditions.append(_("Orders that are %(statuses)s do not count.") % {"statuses": ", ".join(statuses)})
    if eligibility.get("regions"):
        conditions.append(_("Only these regions take part: %(regions)s.") % {
            "regions": ", ".join(eligibility["regions"])})
    if eligibility.get("min_order_value"):
        conditions.append(_("Orders below %(amount)s do not count.") % {
            "amount": _money(eligibility["min_order_value"], currency)})
    if eligibility.get("new_customers_only"):
        conditions.append(_("Only orders of new customers count."))
    prizes = [{"name": prize.get("name"), "points": _integer(prize.get("points_cost"))}
              for prize in document.get("prizes") or []]
    caps = document.get("caps") or {}
    cap_rows = []
    if caps.get("max_points_per_participant"):
        cap_rows.append(_("At most %(points)s points per participant.") % {
            "points": _integer(caps["max_points_per_participant"])})
    if caps.get("budget_points"):
        cap_rows.append(_("At most %(points)s points in total.") % {"points": _integer(caps["budget_points"])})
    period = document.get("period") or {}
    dates = []
    for key in ("start", "end"):
        try:
            dates.append(formats.date_format(dt.date.fromisoformat(period.get(key) or ""), "SHORT_DATE_FORMAT"))
        except ValueError:
            dates.append("")
    return {"name": document.get("name") or "", "currency": currency or "", "start": dates[0], "end": dates[1],
            "goals": goals, "conditions": conditions, "prizes": prizes, "caps": cap_rows}


PATH_LABELS = {
    "goals": gettext_lazy("Goals"), "eligibility": gettext_lazy("Eligibility"), "prizes": gettext_lazy("Prizes"),
    "caps": gettext_lazy("Limits"), "currency": gettext_lazy("Currency"), "period": gettext_lazy("Period"),
    "name": gettext_lazy("Name"), "target": gettext_lazy("target"), "rewards": gettext_lazy("points paid"),
    "points": gettext_lazy("points"), "at_percent": gettext_lazy("threshold"), "points_cost": gettext_lazy("points"),
    "points_per_unit": gettext_lazy("points per unit"), "filters": gettext_lazy("filters"),
    "min_order_value": gettext_lazy("minimum order value"),
}
_PATH_PART = re.compile(r"\.([a-z_]+)|\[(\d+)\]")


def document_error_text(*, path: str, message: str, document: dict[str, Any]) -> str:
    """A rule document error worded for the admin: ``$.goals[0].rewards`` becomes “Goal “individual”, points
    paid: …” rather than a JSON path."""
    parts: list[str] = []
    container: Any = document
    for match in _PATH_PART.finditer(path):
        key, index = match.group(1), match.group(2)
        if key is not None:
            container = container.get(key) if isinstance(container, dict) else None
            parts.append(str(PATH_LABELS.get(key, key)))
            continue
        item = container[int(index)] if isinstance(container, list) and int(index) < len(container) else {}
        label = parts.pop() if parts else ""
        if label == str(PATH_LABELS["goals"]):
            parts.append(_("Goal “%(id)s”") % {"id": item.get("id") or int(index) + 1})
        elif label == str(PATH_LABELS["prizes"]):
            parts.append(_("Prize “%(name)s”") % {"name": item.get("name") or int(index) + 1})
        else:
            parts.append(f"{label} {int(index) + 1}".strip())
        container = item
    return f"{', '.join(parts)}: {message}" if parts else message


@dataclass(frozen=True)
class SchemaView:
    """A campaign's schema analysis as the schema step shows it."""

    source_schema: Any
    score: float
    feedback: str
    questions: list[str]
    concepts: list[dict[str, Any]]
    columns: list[str]
    status_values: dict[str, str]

    @property
    def score_percent(self) -> int:
        return round(self.score * 100)


def wizard_schema_view(*, campaign: Campaign, language: str) -> SchemaView | None:
    """The campaign's schema analysis worded in ``language`` with the admin's corrections, every column of the
    schema (the choices a correction offers) and the order status values; None before a schema is uploaded."""
    source_schema = campaign.source_schema
    if source_schema is None or schema_mapping_get(source_schema=source_schema) is None:
        return None
    analysis = schema_analysis_get(source_schema=source_schema, language=language)
    columns = [f"{table['name']}.{column['name']}" for table in source_schema.definition.get("tables", [])
               for column in table.get("columns", [])]
    concepts = []
    for concept in CONCEPTS:
        entry = analysis["concepts"][concept]
        where = ""
        if entry.get("table"):
            where = f"{entry['table']}.{entry['column']}" if entry.get("column") else entry["table"]
            if entry.get("expression"):
                where = f"{entry['table']}: {entry['expression']}"
        concepts.append({"concept": concept, "label": CONCEPT_LABELS[concept], "where": where,
                         "current": f"{entry['table']}.{entry['column']}" if entry.get("column") else "",
                         "confidence": round(float(entry.get("confidence") or 0) * 100),
                         "corrected": bool(entry.get("corrected_by_admin"))})
    status = analysis["concepts"]["order_status"]
    values = status.get("values") or {}
    return SchemaView(source_schema=source_schema, score=float(analysis["score"]), feedback=analysis["feedback"],
                      questions=list(analysis["questions"]), concepts=concepts, columns=columns,
                      status_values={logical: ", ".join(values.get(logical) or []) for logical in LOGICAL_STATUSES}
                      if status.get("table") else {})
