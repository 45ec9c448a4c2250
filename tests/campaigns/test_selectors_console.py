"""Reads of the admin campaign console (apps/campaigns/selectors_console.py)."""

from __future__ import annotations

import datetime as dt

import pytest

from apps.campaigns.models import Campaign, CampaignParticipant
from apps.campaigns.selectors_console import (
    console_actions,
    console_campaign_list,
    console_campaign_summary,
    console_can,
    document_error_text,
    document_understood,
    ineligible_reason_label,
    wizard_state,
)
from apps.rules.document import rule_document_empty
from tests.factories.campaigns import CampaignFactory, CampaignRuleVersionFactory


def _participant(campaign: Campaign, key: str, *, percent: str, eligible: bool = True, allocated: int = 0,
                 scope: str = "individual") -> CampaignParticipant:
    return CampaignParticipant.objects.create(
        campaign=campaign, participant_key=key, eligible=eligible, points_allocated=allocated,
        progress={"goals": {"g": {"scope": scope, "percent": percent, "attained": "1", "target": "1"}}})


def test_the_list_counts_participants_those_who_reached_and_points_in_one_query(tenant, django_assert_num_queries):
    busy = CampaignFactory(name="Busy")
    CampaignFactory(name="Empty")
    _participant(busy, "1", percent="120.50", allocated=1000)
    _participant(busy, "2", percent="100", allocated=500)
    _participant(busy, "3", percent="99.99")
    _participant(busy, "4", percent="150", eligible=False)  # reached, but earns nothing
    _participant(busy, "5", percent="300", scope="region", allocated=10)  # a regional goal is not the individual

    with django_assert_num_queries(1):
        rows = {c.name: c for c in console_campaign_list()}

    assert (rows["Busy"].participant_count, rows["Busy"].reached_count, rows["Busy"].points_allocated_total) == \
        (5, 2, 1510)
    assert (rows["Empty"].participant_count, rows["Empty"].reached_count, rows["Empty"].points_allocated_total) == \
        (0, 0, 0)
    assert [c.name for c in console_campaign_list(status=Campaign.Status.ACTIVE)] == []
    assert [c.name for c in console_campaign_list(search="bus")] == ["Busy"]


def test_the_summary_of_one_campaign(tenant):
    campaign = CampaignFactory()
    _participant(campaign, "1", percent="100", allocated=50)
    _participant(campaign, "2", percent="10", eligible=False)

    summary = console_campaign_summary(campaign=campaign)

    assert (summary.participants, summary.eligible, summary.reached, summary.points_allocated,
            summary.reached_percent, summary.last_execution) == (2, 1, 1, 50, 50, None)


@pytest.mark.parametrize(("role", "status", "expected"), [
    ("admin", "draft", ["continue"]),
    ("admin", "pending_approval", ["continue", "approve"]),
    ("manager", "pending_approval", ["continue"]),
    ("manager", "active", ["continue", "execute"]),
    ("owner", "approved", ["continue", "execute"]),
    ("analyst", "active", []),
    ("admin", "completed", []),
])
def test_actions_follow_the_status_and_the_role(tenant, make_user, role, status, expected):
    campaign = CampaignFactory(status=status)

    assert console_actions(campaign=campaign, user=make_user(role=role)) == expected


def test_roles(tenant, make_user):
    assert console_can(user=make_user(role="analyst"), action="read")
    assert not console_can(user=make_user(role="analyst"), action="write")
    assert console_can(user=make_user(role="manager"), action="write")
    assert not console_can(user=make_user(role="manager"), action="approve")
    assert not console_can(user=make_user(role="manager"), action="tlp")
    assert not console_can(user=make_user(role="participant"), action="read")


def test_what_was_understood_of_an_incomplete_document_is_shown_without_failing():
    document = rule_document_empty(language="en")
    document["goals"] = [{"id": "individual", "scope": "individual", "metric": "line_amount", "target": None,
                          "filters": {"product_lines": ["Premium Line"], "categories": [], "skus": [], "regions": []},
                          "rewards": [], "points_per_unit": {"points": 1, "per": "10"}}]
    document["eligibility"]["excluded_statuses"] = ["cancelled"]

    understood = document_understood(document=document)

    goal = understood["goals"][0]
    assert goal["target"] == "" and goal["rewards"] == ["1 points per 10.00"]
    assert goal["filters"] == [{"label": "product lines", "values": ["Premium Line"]}]
    assert understood["conditions"] == ["Orders that are cancelled do not count."]
    assert (understood["currency"], understood["start"]) == ("", "")


def test_ineligibility_reasons_are_worded():
    assert ineligible_reason_label("terminated_before_end") == "Employment ended before the campaign's last day"
    assert ineligible_reason_label("something_new") == "something_new"


def test_the_wizard_state_says_which_steps_hold_what_they_need(tenant):
    campaign = CampaignFactory(start_date=dt.date(2026, 1, 1))
    state = wizard_state(campaign=campaign, tlp_configured=False)
    assert state.version is None and state.done["details"] and not state.done["goals"]

    CampaignRuleVersionFactory(campaign=campaign, source_text="Goals:\nIndividual goal: $ 1,000.",
                               document={"goals": [{"id": "individual"}]})
    state = wizard_state(campaign=campaign, tlp_configured=True)

    assert state.texts.goals == "Individual goal: $ 1,000."
    assert (state.done["goals"], state.done["eligibility"], state.done["schema"], state.done["tlp"],
            state.done["connection"], state.done["review"]) == (True, False, False, True, False, False)


def test_document_errors_are_worded_with_where_they_are_not_a_json_path():
    document = {"goals": [{"id": "individual", "rewards": []}], "prizes": [{"name": "Mug"}]}

    assert document_error_text(path="$.goals", message="Must have at least 1 item.", document={}) == \
        "Goals: Must have at least 1 item."
    assert document_error_text(path="$.goals[0].rewards", message="Must have at least 1 item.",
                               document=document) == "Goal “individual”, points paid: Must have at least 1 item."
    assert document_error_text(path="$.prizes[0].points_cost", message="Required.", document=document) == \
        "Prize “Mug”, points: Required."
    assert document_error_text(path="$", message="Invalid.", document=document) == "Invalid."
