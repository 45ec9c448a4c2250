"""The console wizard's services (apps/campaigns/wizard_services.py)."""

from __future__ import annotations

import json

import pytest

from apps.campaigns.models import Campaign, CampaignRuleVersion
from apps.campaigns.services import campaign_approve, campaign_submit
from apps.campaigns.wizard_services import (
    SCHEMA_FILE_MAX_BYTES,
    wizard_details_save,
    wizard_review_build,
    wizard_schema_upload,
    wizard_section_save,
    wizard_text_feedback,
)
from apps.core.errors import ApplicationError
from apps.rules.models import SourceSchema
from tests.factories.campaigns import CampaignFactory

GOALS = "Individual goal: R$ 50,000 in Premium Line sales; reaching it earns 1,000 points."


def test_feedback_parses_without_writing_anything(tenant):
    campaign = CampaignFactory()

    result = wizard_text_feedback(campaign=campaign, section="goals", text=GOALS)

    assert result.method == "deterministic" and result.document["goals"][0]["target"] == "50000.00"
    assert result.document["name"] == campaign.name  # the campaign's details fill what the text leaves out
    assert not campaign.rule_versions.exists()


def test_saving_a_text_sends_a_pending_campaign_back_to_draft(tenant, make_user):
    campaign = CampaignFactory()
    wizard_section_save(campaign=campaign, section="goals", text=GOALS, user=make_user(role="admin"))
    campaign.status = Campaign.Status.PENDING_APPROVAL
    campaign.save()
    campaign.rule_versions.update(status=CampaignRuleVersion.Status.PENDING)

    wizard_section_save(campaign=campaign, section="prizes", text="Mug: 100 points.", user=None)

    campaign.refresh_from_db()
    version = campaign.rule_versions.get()
    assert campaign.status == Campaign.Status.DRAFT and version.status == CampaignRuleVersion.Status.DRAFT
    assert version.document["prizes"][0]["points_cost"] == 100 and version.document["goals"]


def test_new_rules_for_a_running_campaign_are_a_new_draft_beside_the_approved_one(tenant, campaign_with_source,
                                                                                   make_user):
    campaign = campaign_with_source("en")
    admin = make_user(role="admin")
    campaign_submit(campaign=campaign)
    campaign_approve(campaign=campaign, user=admin)

    wizard_section_save(campaign=campaign, section="prizes", text="A mug for 100 points.", user=admin)

    versions = {v.number: v for v in campaign.rule_versions.all()}
    assert versions[1].status == CampaignRuleVersion.Status.APPROVED
    assert versions[2].status == CampaignRuleVersion.Status.DRAFT
    # Its text was not written by the wizard: it all stays in the goals step, prizes included, and the new
    # prizes text adds to it.
    assert [p["points_cost"] for p in versions[2].document["prizes"]] == [50000, 100000, 100]
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.APPROVED


def test_details_that_do_not_change_the_rules_leave_the_draft_alone(tenant):
    campaign = CampaignFactory()
    wizard_section_save(campaign=campaign, section="goals", text=GOALS, user=None)
    before = campaign.rule_versions.get().updated_at

    wizard_details_save(campaign=campaign, user=None, description="Only the description")

    assert campaign.rule_versions.get().updated_at == before


def test_a_json_schema_file_is_read_as_json(tenant):
    campaign = CampaignFactory()
    description = {"tables": [
        {"name": "orders", "columns": [{"name": "id", "type": "integer"}, {"name": "order_date", "type": "date"},
                                       {"name": "salesperson_id", "type": "integer"},
                                       {"name": "total", "type": "numeric(12,2)"}], "primary_key": ["id"]}]}

    analysis = wizard_schema_upload(campaign=campaign, user=None, language="en", file_name="schema.json",
                                    content=json.dumps(description).encode())

    campaign.refresh_from_db()
    assert campaign.source_schema.format == SourceSchema.Format.JSON and 0 < analysis["score"] < 1


@pytest.mark.parametrize(("content", "code"), [
    (b"\xff\xfe not utf-8 \xff", "schema_invalid"),
    (b"   ", "schema_empty"),
    (b"-" * (SCHEMA_FILE_MAX_BYTES + 1), "schema_too_large"),
    (None, "schema_missing"),
])
def test_unreadable_schema_uploads_are_refused_and_nothing_is_stored(tenant, content, code):
    campaign = CampaignFactory()

    with pytest.raises(ApplicationError) as raised:
        wizard_schema_upload(campaign=campaign, user=None, language="en", file_name="schema.sql", content=content)

    assert raised.value.code == code and "file" in raised.value.fields
    assert not SourceSchema.objects.exists()


def test_the_review_compiles_for_the_connected_database_and_proves_the_sql_read_only(tenant, campaign_with_source):
    campaign = campaign_with_source("en")

    review = wizard_review_build(campaign=campaign, language="es")

    assert review.ok and review.dialect == "sqlite" and review.guard.ok
    assert review.code.compiled.participants.sql.startswith("WITH")
    assert review.code.explanation["language"] == "es"
    assert {offer["body"]["name"] for offer in review.code.action_plan["redemption_offers"]} == {
        "vacation to Cabo", "concert tickets"}


def test_the_review_says_what_is_missing(tenant):
    campaign = CampaignFactory()
    assert wizard_review_build(campaign=campaign, language="en").errors == ["Write the campaign's goals first."]

    wizard_section_save(campaign=campaign, section="goals", text=GOALS, user=None)
    review = wizard_review_build(campaign=campaign, language="en")

    assert not review.ok and review.code is None
    assert review.errors[0] == "This campaign has no schema yet: upload one first."
