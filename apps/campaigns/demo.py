"""The seed's Premium Line campaign on the demo workspace's own sales database, end to end: schema analysis ->
rule document (from the campaign written in Portuguese) -> approval (TLP provisioning when configured) ->
one execution -> points; then the demo participant linked to the best Premium Line seller and the other
salespeople imported as participants. Each participant's loyalty member (and TLP member) carries their real
email as soon as it is known (ana@acme.test for the seller ana is linked to, the sales database's email for
the others), never a placeholder. Called by ``manage.py demo`` inside the tenant's schema; idempotent.

The customer database here is a local SQLite file: allowed only on this path (``allow_sqlite``), never
through the API.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import transaction

from apps.accounts.selectors import user_get_by_email
from apps.campaigns.execution import campaign_execute
from apps.campaigns.models import Campaign, CampaignExecution
from apps.campaigns.participant_import import participants_import_source
from apps.campaigns.participant_services import campaign_participant_link, participants_members_ensure
from apps.campaigns.selectors import campaign_last_calculation
from apps.campaigns.services import campaign_approve, campaign_connection_set, campaign_create, campaign_submit
from apps.core.errors import ApplicationError
from apps.rules.selectors import schema_mapping_dict, source_schema_get_by_name
from apps.rules.services import rule_document_from_text, schema_mapping_analyse, source_schema_ingest

logger = logging.getLogger(__name__)

DEMO_CAMPAIGN_NAME = "Linha Premium 2026"
DEMO_SCHEMA_NAME = "Acme sales database (demo)"
DEMO_PARTICIPANT_EMAIL = "ana@acme.test"
DEMO_APPROVER_EMAIL = "admin@acme.test"
# The seed's campaign, in Portuguese. The seed gives no period nor points per goal: the period is the first
# half of 2026 (inside the generated sales), and the individual goal pays enough for the vacation to Cabo.
DEMO_TEXT = """Campanha Linha Premium 2026, de 1 de janeiro a 30 de junho de 2026.
Meta individual: R$ 50.000 em vendas da linha Premium; ao atingir a meta, o vendedor ganha 50.000 pontos.
Meta regional: R$ 500.000 em vendas da linha Premium; ao atingir a meta, o vendedor ganha 10.000 pontos.
Funcionários ativos até o último dia da campanha.
Vendas canceladas ou devolvidas não são elegíveis.
Prêmios: 50.000 pontos: viagem para Cabo; 100.000 pontos: ingressos de show."""


@dataclass
class DemoCampaign:
    campaign: Campaign
    created: bool
    execution: CampaignExecution | None
    linked_salesperson: str | None


def _source_schema(sales_db_path: str, language: str) -> Any:
    stored = source_schema_get_by_name(name=DEMO_SCHEMA_NAME)
    if stored is None:
        stored = source_schema_ingest(kind="connection", url=f"sqlite:///{sales_db_path}", name=DEMO_SCHEMA_NAME,
                                      allow_sqlite=True)
    if schema_mapping_dict(source_schema=stored) is None:
        schema_mapping_analyse(source_schema=stored, language=language)
    return stored


def _best_seller(campaign: Campaign) -> str | None:
    """The eligible participant with the highest individual Premium Line attainment who reached the goal."""
    best: tuple[Decimal, str] | None = None
    for participant in campaign.participants.filter(eligible=True):
        goal = (participant.progress.get("goals") or {}).get("individual") or {}
        attained = Decimal(str(goal.get("attained") or 0))
        if goal.get("points") and (best is None or attained > best[0]):
            best = (attained, participant.participant_key)
    return best[1] if best else None


def _campaign_create(sales_db_path: str, language: str, approver: Any) -> Campaign:
    with transaction.atomic():
        source_schema = _source_schema(sales_db_path, language)
        parsed = rule_document_from_text(text=DEMO_TEXT, language=language, use_ai=False,
                                         schema_mapping=schema_mapping_dict(source_schema=source_schema))
        period = parsed.document["period"]
        campaign = campaign_create(name=DEMO_CAMPAIGN_NAME, start_date=dt.date.fromisoformat(period["start"]),
                                   end_date=dt.date.fromisoformat(period["end"]), language=language,
                                   currency=Campaign.Currency.BRL, created_by=approver, document=parsed.document,
                                   source_text=DEMO_TEXT, execution_interval_seconds=3600)
        campaign.source_schema = source_schema
        campaign.save(update_fields=["source_schema", "updated_at"])
        campaign_connection_set(campaign=campaign, url=f"sqlite:///{sales_db_path}", allow_sqlite=True)
        campaign_submit(campaign=campaign, user=approver)
        campaign_approve(campaign=campaign, user=approver, comment="Demo")
    campaign.refresh_from_db()
    return campaign


def campaign_demo_seed(*, sales_db_path: str, language: str = "pt-br") -> DemoCampaign:
    """The demo's Premium Line campaign, created, approved and executed once; the salespeople imported and
    ana@acme.test linked to the best Premium Line seller. A later call creates nothing: it only finishes what
    an interrupted one left (no successful execution yet, ana not linked, salespeople not imported)."""
    approver = user_get_by_email(email=DEMO_APPROVER_EMAIL)
    campaign = Campaign.objects.filter(name=DEMO_CAMPAIGN_NAME).order_by("created_at").first()
    created = campaign is None
    if campaign is None:
        campaign = _campaign_create(sales_db_path, language, approver)
    execution = campaign_last_calculation(campaign=campaign)
    if execution is None and campaign.status in (Campaign.Status.APPROVED, Campaign.Status.ACTIVE):
        execution = campaign_execute(campaign=campaign, user=approver)
        if execution.status != CampaignExecution.Status.SUCCEEDED:
            raise ApplicationError(execution.error, code="demo_execution_failed")
    ana = user_get_by_email(email=DEMO_PARTICIPANT_EMAIL)
    linked = campaign.participants.filter(user__email=DEMO_PARTICIPANT_EMAIL).values_list(
        "participant_key", flat=True).first()
    if linked is None and ana is not None and execution is not None:
        linked = _best_seller(campaign)
        if linked is not None:
            campaign_participant_link(campaign=campaign, participant_key=linked, user=ana)
    if execution is not None and campaign.participants.filter(user__isnull=True).exists():
        participants_import_source(campaign=campaign)
    # Linking and importing give the members their real emails; this also mends a demo seeded before they did.
    participants_members_ensure(campaign=campaign, participants=list(
        campaign.participants.filter(user__isnull=False).select_related("user")))
    return DemoCampaign(campaign=campaign, created=created, execution=execution, linked_salesperson=linked)
