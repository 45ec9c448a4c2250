"""The admin campaign console's pages (apps/campaigns/views/console.py and console_wizard.py) through the Django
test client: access by role and tenant, every wizard step's validation and writes, the review, approval,
execute now and the monitoring page."""

from __future__ import annotations

import datetime as dt

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django_tenants.utils import schema_context

from apps.campaigns.models import Campaign, CampaignExecution, CampaignRuleVersion
from apps.campaigns.services import campaign_approve, campaign_submit
from apps.campaigns.wizard_text import WizardTexts, wizard_texts_join
from apps.rules.demo_data import sales_ddl
from apps.rules.models import SourceSchema
from apps.tlp.models import TLPConfiguration
from tests.factories.campaigns import CampaignFactory
from tests.support import source_postgres_url

BASE = "/console/campaigns/"
DETAILS = {"name": "Linha Premium 2026", "description": "Premium Line push", "start_date": "2026-01-01",
           "end_date": "2026-06-30", "language": "pt-br", "currency": "BRL"}
GOALS_PT = ("Meta individual: R$ 50.000 em vendas da linha Premium; ao atingir a meta, o vendedor ganha 50.000 "
            "pontos.\nMeta regional: R$ 500.000 em vendas da linha Premium; ao atingir a meta, o vendedor ganha "
            "10.000 pontos.")
ELIGIBILITY_PT = "Funcionários ativos até o último dia da campanha.\nVendas canceladas ou devolvidas não são elegíveis."
PRIZES_PT = "50.000 pontos: viagem para Cabo; 100.000 pontos: ingressos de show."


def _step(campaign: Campaign, step: str) -> str:
    return f"{BASE}{campaign.pk}/wizard/{step}/"


@pytest.fixture
def admin_client(web_client, make_user):  # type: ignore[no-untyped-def]
    user = make_user(role="admin")
    client = web_client(user=user)
    client.user = user
    return client


@pytest.fixture
def draft(tenant, make_user) -> Campaign:  # type: ignore[no-untyped-def]
    return Campaign.objects.create(name="Linha Premium 2026", start_date=dt.date(2026, 1, 1),
                                   end_date=dt.date(2026, 6, 30), language="pt-br", currency="BRL",
                                   created_by=make_user(role="admin"))


# ------------------------------------------------------------------------------------------ access
def test_visitors_are_sent_to_the_login_page(web_client, draft):
    for url in (BASE, f"{BASE}new/", f"{BASE}{draft.pk}/", _step(draft, "goals")):
        response = web_client().get(url)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_participants_get_403_and_nothing_is_written(web_client, make_user, draft):
    client = web_client(user=make_user(role="participant"))
    for url in (BASE, f"{BASE}new/", f"{BASE}{draft.pk}/", f"{BASE}{draft.pk}/runs/", _step(draft, "review")):
        assert client.get(url).status_code == 403
    assert client.post(f"{BASE}new/", DETAILS).status_code == 403
    assert client.post(f"{BASE}{draft.pk}/execute/").status_code == 403
    assert client.post(_step(draft, "goals"), {"text": GOALS_PT, "nav": "next"}).status_code == 403
    assert Campaign.objects.count() == 1 and not CampaignRuleVersion.objects.exists()


def test_analysts_read_the_list_monitoring_and_review_but_change_nothing(web_client, make_user, draft):
    client = web_client(user=make_user(role="analyst"))
    assert client.get(BASE).status_code == 200
    assert client.get(f"{BASE}{draft.pk}/").status_code == 200
    assert client.get(_step(draft, "review")).status_code == 200
    assert client.get(_step(draft, "goals")).status_code == 403
    assert client.get(f"{BASE}new/").status_code == 403
    assert client.post(_step(draft, "review")).status_code == 403
    assert client.post(f"{BASE}{draft.pk}/execute/").status_code == 403
    list_page = client.get(BASE).content.decode()
    assert "New campaign" not in list_page and "Execute now" not in list_page
    draft.refresh_from_db()
    assert draft.status == Campaign.Status.DRAFT and not CampaignRuleVersion.objects.exists()


def test_another_tenants_campaign_is_not_found(admin_client, other_tenant):
    with schema_context("beta"):
        theirs = CampaignFactory()
    connection.set_schema("alpha")
    assert admin_client.get(f"{BASE}{theirs.pk}/").status_code == 404
    assert admin_client.get(_step(theirs, "goals")).status_code == 404
    assert admin_client.post(f"{BASE}{theirs.pk}/execute/").status_code == 404


# ------------------------------------------------------------------------------------------ details
def test_details_validate_next_to_the_fields_then_create_a_draft(admin_client):
    response = admin_client.post(f"{BASE}new/", {**DETAILS, "end_date": "2025-12-31"})

    assert response.status_code == 400
    assert not Campaign.objects.exists()
    page = response.content.decode()
    assert "The campaign cannot end before it starts." in page
    assert 'aria-invalid="true"' in page and 'name="end_date"' in page

    response = admin_client.post(f"{BASE}new/", DETAILS)

    campaign = Campaign.objects.get()
    assert response.status_code == 302 and response["Location"] == _step(campaign, "goals")
    assert (campaign.name, campaign.language, campaign.currency, campaign.status) == (
        "Linha Premium 2026", "pt-br", "BRL", Campaign.Status.DRAFT)
    assert campaign.created_by == admin_client.user


def test_details_errors_are_in_the_admins_language(admin_client):
    admin_client.cookies[settings.LANGUAGE_COOKIE_NAME] = "pt-br"

    response = admin_client.post(f"{BASE}new/", {**DETAILS, "name": ""})

    assert response.status_code == 400
    assert "Este campo é obrigatório." in response.content.decode()
    assert not Campaign.objects.exists()


def test_details_of_an_existing_draft_are_changed_and_its_rules_follow(admin_client, draft):
    admin_client.post(_step(draft, "goals"), {"text": GOALS_PT, "nav": "next"})

    response = admin_client.post(_step(draft, "details"), {**DETAILS, "name": "Premium 2026",
                                                           "end_date": "2026-05-31"})

    assert response.status_code == 302
    draft.refresh_from_db()
    version = draft.rule_versions.get()
    assert draft.name == "Premium 2026" and version.document["name"] == "Premium 2026"
    assert version.document["period"] == {"start": "2026-01-01", "end": "2026-05-31"}


# ------------------------------------------------------------------------------------------ the three texts
def test_goal_text_becomes_the_draft_rule_document_and_going_back_keeps_every_text(admin_client, draft):
    response = admin_client.post(_step(draft, "goals"), {"text": GOALS_PT, "nav": "next"})
    assert response.status_code == 302 and response["Location"] == _step(draft, "eligibility")

    version = draft.rule_versions.get()
    assert version.status == CampaignRuleVersion.Status.DRAFT
    assert [(g["id"], g["target"], g["rewards"][0]["points"]) for g in version.document["goals"]] == [
        ("individual", "50000.00", 50000), ("regional", "500000.00", 10000)]
    assert version.document["goals"][0]["filters"]["product_lines"] == ["Premium Line"]
    assert version.source_text.startswith("Metas:\n")

    # Back from eligibility saves what was typed there, and the goals are still there.
    response = admin_client.post(_step(draft, "eligibility"), {"text": ELIGIBILITY_PT, "nav": "back"})
    assert response.status_code == 302 and response["Location"] == _step(draft, "goals")
    page = admin_client.get(_step(draft, "goals")).content.decode()
    assert "Meta individual: R$ 50.000" in page
    assert ELIGIBILITY_PT.split("\n")[0] in admin_client.get(_step(draft, "eligibility")).content.decode()

    admin_client.post(_step(draft, "prizes"), {"text": PRIZES_PT, "nav": "next"})
    document = draft.rule_versions.get().document
    assert document["eligibility"]["employed_through_end"] is True
    assert document["eligibility"]["excluded_statuses"] == ["cancelled", "returned"]
    assert [(p["name"], p["points_cost"]) for p in document["prizes"]] == [
        ("viagem para Cabo", 50000), ("ingressos de show", 100000)]
    assert document["warnings"] == []


def test_a_goal_text_without_a_goal_stays_on_the_step_with_the_error(admin_client, draft):
    response = admin_client.post(_step(draft, "goals"), {"text": "Vamos vender muito xyzzy", "nav": "next"})

    assert response.status_code == 400
    page = response.content.decode()
    assert 'aria-invalid="true"' in page
    assert "xyzzy" in page  # the phrase it could not understand
    # The draft is kept (a draft may be incomplete): the admin finds it again.
    assert "xyzzy" in draft.rule_versions.get().source_text


def test_an_empty_goal_text_is_required(admin_client, draft):
    response = admin_client.post(_step(draft, "goals"), {"text": "  ", "nav": "next"})

    assert response.status_code == 400
    assert "Write the campaign&#x27;s goals" in response.content.decode()
    assert not draft.rule_versions.exists()


def test_live_feedback_says_what_was_understood_and_what_was_not_without_writing(admin_client, draft):
    response = admin_client.post(f"{BASE}{draft.pk}/wizard/goals/feedback/",
                                 {"text": GOALS_PT + "\nE também um bônus flamingo."}, HTTP_HX_REQUEST="true")

    assert response.status_code == 200
    fragment = response.content.decode()
    assert "Premium Line" in fragment and "BRL 50,000.00" in fragment and "50,000 points at 100%" in fragment
    assert "flamingo" in fragment  # the unparsed phrase, quoted back
    assert not draft.rule_versions.exists()


def test_live_feedback_of_the_prizes_uses_the_saved_goals(admin_client, draft):
    admin_client.post(_step(draft, "goals"), {"text": GOALS_PT, "nav": "next"})

    response = admin_client.post(f"{BASE}{draft.pk}/wizard/prizes/feedback/", {"text": PRIZES_PT})

    assert "viagem para Cabo" in response.content.decode() and "100,000" in response.content.decode()
    assert draft.rule_versions.get().document["prizes"] == []


# ------------------------------------------------------------------------------------------ schema
def test_a_dropped_ddl_file_is_analysed_and_corrections_change_the_score(admin_client, draft):
    ddl = SimpleUploadedFile("sales.sql", sales_ddl(shape="en", dialect="postgres").encode(),
                             content_type="application/sql")

    response = admin_client.post(_step(draft, "schema"), {"action": "upload", "file": ddl, "dialect": "postgres"})

    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.source_schema.format == SourceSchema.Format.DDL
    page = admin_client.get(_step(draft, "schema")).content.decode()
    assert 'data-testid="schema-score">100%' in page
    assert "Which values of orders.status" in page

    response = admin_client.post(_step(draft, "schema"), {
        "action": "correct", "concept_region": "__none__", "status_completed": "completed",
        "status_cancelled": "cancelled", "status_returned": "returned"})

    assert response.status_code == 302
    page = admin_client.get(_step(draft, "schema")).content.decode()
    assert 'data-testid="schema-score">100%' not in page
    assert "Which values of orders.status" not in page
    concepts = {row.concept: row for row in draft.source_schema.mapping.concepts.all()}
    assert concepts["region"].table == "" and concepts["region"].corrected_by == admin_client.user
    assert concepts["order_status"].values["cancelled"] == ["cancelled"]


def test_an_unreadable_schema_is_refused_next_to_the_file_field(admin_client, draft):
    response = admin_client.post(_step(draft, "schema"), {
        "action": "upload", "dialect": "postgres",
        "file": SimpleUploadedFile("sales.sql", b"this is not SQL at all", content_type="application/sql")})

    assert response.status_code == 400
    assert 'aria-invalid="true"' in response.content.decode()
    draft.refresh_from_db()
    assert draft.source_schema is None and not SourceSchema.objects.exists()


def test_the_schema_step_cannot_be_left_without_a_schema(admin_client, draft):
    response = admin_client.post(_step(draft, "schema"), {"action": "next"})

    assert response.status_code == 400 and 'data-testid="nav-error"' in response.content.decode()


# ------------------------------------------------------------------------------------------ TLP + database
def test_tlp_is_configured_only_after_a_live_check_and_its_connectivity_checked(
        admin_client, draft, tlp_sandbox, web_client, make_user):
    import requests

    response = admin_client.post(_step(draft, "tlp"), {"action": "configure", "endpoint_url": tlp_sandbox.url,
                                                      "api_key": "wrong-key-123456"})
    assert response.status_code == 400 and "TLP did not accept this API key." in response.content.decode()
    assert not TLPConfiguration.objects.exists()

    api_key = requests.post(f"{tlp_sandbox.url}/_sandbox/accounts", json={}, timeout=5).json()["apiKey"]
    response = admin_client.post(_step(draft, "tlp"), {"action": "configure", "endpoint_url": tlp_sandbox.url,
                                                      "api_key": api_key})
    assert response.status_code == 302
    assert TLPConfiguration.objects.get().endpoint_url == tlp_sandbox.url

    response = admin_client.post(_step(draft, "tlp"), {"action": "check"})
    assert response.status_code == 200 and "TLP answered in" in response.content.decode()

    manager = web_client(user=make_user(role="manager"))
    assert manager.post(_step(draft, "tlp"), {"action": "configure", "endpoint_url": tlp_sandbox.url,
                                              "api_key": api_key}).status_code == 403


def test_the_database_connection_is_tried_before_it_is_saved(admin_client, draft, tmp_path):
    sqlite_url = f"sqlite:///{tmp_path}/sales.db"
    response = admin_client.post(_step(draft, "connection"), {"action": "save", "url": sqlite_url})
    assert response.status_code == 400 and "Only PostgreSQL and MySQL/MariaDB" in response.content.decode()

    response = admin_client.post(_step(draft, "connection"), {"action": "save",
                                                             "url": "postgresql://nobody@127.0.0.1:1/sales"})
    assert response.status_code == 400 and "Could not connect" in response.content.decode()
    draft.refresh_from_db()
    assert draft.connection_encrypted == ""
    assert admin_client.post(_step(draft, "connection"), {"action": "next"}).status_code == 400

    url = source_postgres_url("postgres")  # a database other than the platform's, always there
    response = admin_client.post(_step(draft, "connection"), {"action": "save", "url": url})

    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.connection_engine == "postgres" and draft.connection_encrypted and url not in \
        draft.connection_encrypted
    assert url not in admin_client.get(_step(draft, "connection")).content.decode()
    assert admin_client.post(_step(draft, "connection"), {"action": "next"})["Location"] == _step(draft, "review")


# ------------------------------------------------------------------------------------------ review, approval, runs
def test_review_shows_the_document_sql_explanation_and_tlp_plan_then_submits(admin_client, campaign_with_source):
    campaign = campaign_with_source("en")

    response = admin_client.get(_step(campaign, "review"))

    page = response.content.decode()
    assert response.status_code == 200
    assert 'data-testid="sql"' in page and "SELECT" in page and 'data-testid="guard-ok"' in page
    assert "Campaign “Campaign Premium Line Q1 2026” runs from" in page  # the explanation (named by its text)
    assert "concert tickets" in page and "Redemption" in page  # the TLP action plan
    assert "TLP is not configured: approval will skip provisioning" in page

    response = admin_client.post(_step(campaign, "review"))

    assert response.status_code == 302 and response["Location"] == _step(campaign, "approval")
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.PENDING_APPROVAL


def test_review_without_a_schema_says_so_and_cannot_be_submitted(admin_client, draft):
    admin_client.post(_step(draft, "goals"), {"text": GOALS_PT, "nav": "next"})

    page = admin_client.get(_step(draft, "review")).content.decode()

    assert "This campaign has no schema yet" in page and 'data-testid="submit"' not in page


def test_only_owners_and_admins_approve_with_a_comment(admin_client, campaign_with_source, web_client, make_user):
    campaign = campaign_with_source("en")
    campaign_submit(campaign=campaign)
    manager = web_client(user=make_user(role="manager"))

    assert "waiting for an owner or an admin" in manager.get(_step(campaign, "approval")).content.decode()
    assert manager.post(_step(campaign, "approval"), {"comment": "ok"}).status_code == 403
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.PENDING_APPROVAL

    response = admin_client.post(_step(campaign, "approval"), {"comment": "Approved for H1"})

    assert response.status_code == 302 and response["Location"] == f"{BASE}{campaign.pk}/"
    campaign.refresh_from_db()
    version = campaign.rule_versions.get()
    assert campaign.status == Campaign.Status.APPROVED and campaign.tlp_status == Campaign.TlpStatus.SKIPPED
    assert (version.status, version.approval_comment, version.approved_by) == (
        CampaignRuleVersion.Status.APPROVED, "Approved for H1", admin_client.user)
    assert "SELECT" in version.sql


def test_execute_now_records_the_run_and_the_monitoring_page_shows_it(admin_client, campaign_with_source):
    campaign = campaign_with_source("en")
    campaign_submit(campaign=campaign)
    campaign_approve(campaign=campaign, user=admin_client.user)
    assert 'data-testid="no-runs"' in admin_client.get(f"{BASE}{campaign.pk}/").content.decode()

    response = admin_client.post(f"{BASE}{campaign.pk}/execute/")

    assert response.status_code == 302 and response["Location"] == f"{BASE}{campaign.pk}/"
    execution = campaign.executions.get()
    assert execution.status == CampaignExecution.Status.SUCCEEDED and execution.triggered_by == admin_client.user
    page = admin_client.get(f"{BASE}{campaign.pk}/").content.decode()
    assert page.count('data-testid="run-row"') == 1 and f'data-execution="{execution.pk}"' in page
    assert "The campaign ran:" in page
    assert "Employment ended before the campaign" in page  # the ineligible participants, with the reason
    assert f'"topic": "campaign:{campaign.pk}"' in page  # the websocket topic for live updates

    # From console.js: the result comes back as a fragment, and the runs fragment has both runs.
    response = admin_client.post(f"{BASE}{campaign.pk}/execute/", HTTP_X_REQUESTED_WITH="fetch")
    assert response.status_code == 200 and "The campaign ran:" in response.content.decode()
    fragment = admin_client.get(f"{BASE}{campaign.pk}/runs/").content.decode()
    assert fragment.count('data-testid="run-row"') == 2


def test_execute_now_of_a_draft_is_refused_with_the_reason(admin_client, draft):
    response = admin_client.post(f"{BASE}{draft.pk}/execute/", follow=True)

    assert "Only an approved or active campaign can be executed." in response.content.decode()
    assert not draft.executions.exists()


def test_the_list_shows_status_progress_and_the_actions_each_role_may_take(
        admin_client, campaign_with_source, web_client, make_user):
    campaign = campaign_with_source("en")
    campaign_submit(campaign=campaign)
    campaign_approve(campaign=campaign, user=admin_client.user)
    admin_client.post(f"{BASE}{campaign.pk}/execute/")
    participants = campaign.participants.count()
    reached = sum(1 for p in campaign.participants.filter(eligible=True)
                  if float(p.progress["goals"]["individual"]["percent"]) >= 100)
    allocated = sum(campaign.participants.values_list("points_allocated", flat=True))
    assert participants and allocated

    page = admin_client.get(BASE).content.decode()

    assert "Active" in page and f"{participants:,}" in page and f"{allocated:,}" in page
    assert f"{reached} ({round(100 * reached / participants)}%)" in page
    assert "Execute now" in page and "Edit rules" in page
    manager_page = web_client(user=make_user(role="manager")).get(BASE).content.decode()
    assert "Execute now" in manager_page and f"{BASE}{campaign.pk}/wizard/approval/" not in manager_page
    assert admin_client.get(f"{BASE}?status=draft").content.decode().count('data-testid="campaign-row"') == 0


def test_a_closed_campaigns_wizard_sends_back_to_its_monitoring(admin_client, draft):
    draft.status = Campaign.Status.CANCELLED
    draft.save()

    response = admin_client.get(_step(draft, "goals"))

    assert response.status_code == 302 and response["Location"] == f"{BASE}{draft.pk}/"


def test_wizard_texts_written_by_the_wizard_are_split_back_per_step(admin_client, draft):
    texts = WizardTexts(goals=GOALS_PT, eligibility=ELIGIBILITY_PT, prizes=PRIZES_PT)
    admin_client.post(_step(draft, "goals"), {"text": GOALS_PT, "nav": "next"})
    admin_client.post(_step(draft, "eligibility"), {"text": ELIGIBILITY_PT, "nav": "next"})
    admin_client.post(_step(draft, "prizes"), {"text": PRIZES_PT, "nav": "next"})

    assert draft.rule_versions.get().source_text == wizard_texts_join(texts=texts, language="pt-br")


def test_every_step_renders_for_an_admin_with_the_stepper(admin_client, campaign_with_source):
    campaign = campaign_with_source("en")

    for step in ("details", "goals", "eligibility", "prizes", "schema", "tlp", "connection", "review", "approval"):
        response = admin_client.get(_step(campaign, step))
        assert response.status_code == 200, step
        assert 'aria-current="step"' in response.content.decode(), step
    assert admin_client.get(f"{BASE}new/").status_code == 200
    assert admin_client.get(f"{BASE}{campaign.pk}/wizard/unknown/")["Location"] == _step(campaign, "details")
