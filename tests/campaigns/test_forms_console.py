"""The console's forms (apps/campaigns/forms_console.py): what they validate and the shape they hand to the
services."""

from __future__ import annotations

from apps.campaigns.forms_console import (
    NOT_IN_DATA,
    CampaignDetailsForm,
    CampaignTextForm,
    SchemaCorrectionForm,
    form_error_apply,
)
from apps.campaigns.selectors_console import SchemaView
from apps.core.errors import ApplicationError

SCHEMA = SchemaView(
    source_schema=None, score=0.9, feedback="", questions=[],
    concepts=[{"concept": "order", "label": "order", "where": "orders.id", "current": "orders.id", "confidence": 90,
               "corrected": False},
              {"concept": "region", "label": "region", "where": "regions.name", "current": "regions.name",
               "confidence": 100, "corrected": False},
              {"concept": "order_status", "label": "order status", "where": "orders.status",
               "current": "orders.status", "confidence": 100, "corrected": False}],
    columns=["orders.id", "orders.status", "regions.name", "salespeople.region_id"],
    status_values={"completed": "done", "cancelled": "cancelled, Cancelled", "returned": "returned"})


def test_details_refuse_an_end_before_the_start_on_the_end_date():
    form = CampaignDetailsForm({"name": "X", "start_date": "2026-06-30", "end_date": "2026-01-01", "language": "en",
                                "currency": "BRL"})

    assert not form.is_valid()
    assert list(form.errors) == ["end_date"]


def test_only_the_goals_text_is_required():
    assert not CampaignTextForm({"text": ""}, section="goals").is_valid()
    assert CampaignTextForm({"text": ""}, section="eligibility").is_valid()
    assert CampaignTextForm({"text": ""}, section="prizes").is_valid()


def test_corrections_hold_what_was_set_confirmed_or_removed_and_the_changed_status_values():
    form = SchemaCorrectionForm({"concept_order": "orders.id", "concept_region": NOT_IN_DATA,
                                 "concept_order_status": "", "status_completed": "done",
                                 "status_cancelled": "CANC", "status_returned": "returned",
                                 "join_from": "salespeople.region_id", "join_to": "regions.name"}, schema=SCHEMA)

    assert form.is_valid(), form.errors
    assert form.corrections() == {
        "order": {"table": "orders", "column": "id"},  # confirmed: the analysis was only 90 % sure
        "region": {"table": None, "column": None},
        "order_status": {"table": None, "column": None,
                         "values": {"completed": ["done"], "cancelled": ["CANC"], "returned": ["returned"]}},
    }
    assert form.joins() == [{"from": "salespeople.region_id", "to": "regions.name"}]


def test_untouched_corrections_change_nothing_and_half_a_join_is_refused():
    untouched = SchemaCorrectionForm({"status_completed": "done", "status_cancelled": "cancelled, Cancelled",
                                      "status_returned": "returned"}, schema=SCHEMA)
    assert untouched.is_valid() and untouched.corrections() == {} and untouched.joins() == []

    half = SchemaCorrectionForm({"join_from": "orders.id"}, schema=SCHEMA)
    assert not half.is_valid() and "join_to" in half.errors


def test_a_column_outside_the_schema_is_not_a_choice():
    form = SchemaCorrectionForm({"concept_order": "secret.table"}, schema=SCHEMA)

    assert not form.is_valid() and "concept_order" in form.errors


def test_a_service_refusal_goes_next_to_its_field_and_above_the_form():
    form = CampaignDetailsForm({"name": "X", "start_date": "2026-01-01", "end_date": "2026-02-01", "language": "en",
                                "currency": "BRL"})
    assert form.is_valid()

    form_error_apply(form, ApplicationError("The period is frozen.", fields={"start_date": ["Frozen."],
                                                                              "other": ["Elsewhere."]}))

    assert form.errors["start_date"] == ["Frozen."]
    assert form.non_field_errors() == ["The period is frozen.", "other: Elsewhere."]
