"""Provisioning a campaign in TLP from its rule document (idempotent), and participants' TLP members."""

from __future__ import annotations

import copy

import pytest
from django.core.files.storage import default_storage

from apps.core.errors import ApplicationError
from apps.tlp.models import TLPEntity, TLPOutbox
from apps.tlp.services import (
    tlp_campaign_provision,
    tlp_member_create_now,
    tlp_member_ensure,
    tlp_outbox_drain,
    tlp_outbox_enqueue,
)
from tests.factories.tlp import accrual_payload

RULES = {
    "version": 1, "language": "en", "name": "Premium Line Q1",
    "period": {"start": "2026-01-01", "end": "2026-03-31"}, "currency": "BRL",
    "goals": [
        {"id": "individual", "scope": "individual", "metric": "line_amount", "target": "50000.00",
         "filters": {"product_lines": ["Premium Line"], "categories": [], "skus": [], "regions": []},
         "rewards": [{"at_percent": 80, "points": 500}, {"at_percent": 100, "points": 1000},
                     {"at_percent": 120, "points": 1500}],
         "points_per_unit": None},
        {"id": "regional", "scope": "region", "metric": "line_amount", "target": "500000.00",
         "filters": {"product_lines": [], "categories": [], "skus": [], "regions": []},
         "rewards": [{"at_percent": 100, "points": 500}], "points_per_unit": {"points": 1, "per": "100.00"}},
    ],
    "eligibility": {"employed_through_end": True, "excluded_statuses": [], "regions": [], "min_order_value": None,
                    "new_customers_only": False},
    "prizes": [{"id": "tv", "name": 'Smart TV 55"', "points_cost": 1000},
               {"id": "cabo", "name": "Vacation to Cabo", "points_cost": 50000}],
    "caps": {"max_points_per_participant": None, "budget_points": None},
    "warnings": [],
}


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):  # type: ignore[no-untyped-def]
    settings.MEDIA_ROOT = tmp_path


def _offers(sandbox, api_key):
    with sandbox.state.lock:
        return copy.deepcopy(list(sandbox.state.accounts[api_key].offers.values()))


def test_provisioning_creates_the_point_type_and_offers_as_in_the_seed(tlp_configured, sandbox_clean, tlp_key):
    result = tlp_campaign_provision(campaign_key="c-1", name="Premium Line Q1", rule_document=RULES, currency="BRL",
                                    base_url="https://acme.example.test")

    assert result.point_type_id == "point.premium_line_q1_points"
    assert (len(result.accrual_offers), len(result.redemption_offers), result.created) == (5, 2, 8)
    offers = {offer["name"]: offer for offer in _offers(sandbox_clean, tlp_key)}
    individual = offers["Premium Line Q1 – individual 100%"]
    assert (individual["offerType"], individual["offerSubtype"], individual["points"], individual["minimumSpend"],
            individual["pointType"], individual["online"], individual["location"]) == (
        "accrual", "dynamic", 1000, 50000, result.point_type_id, False, True)
    assert offers["Premium Line Q1 – individual 80%"]["minimumSpend"] == 40000
    assert offers["Premium Line Q1 – individual 120%"]["minimumSpend"] == 60000
    assert offers["Premium Line Q1 – regional"]["minimumSpend"] == 100  # 1 point per 100.00
    cabo = offers["Vacation to Cabo"]
    assert (cabo["offerType"], cabo["offerSubtype"], cabo["points"]) == ("redemption", "product", 50000)
    assert cabo["imageUrl"].startswith("https://acme.example.test/media/tlp/graphics/alpha/c-1/cabo-")
    entity = TLPEntity.objects.get(kind="redemption_offer", local_ref="campaign:c-1:prize:cabo")
    assert entity.tlp_id == cabo["id"]
    assert default_storage.exists(entity.data["image_path"])


def test_provisioning_again_changes_nothing_or_only_what_changed(tlp_configured, sandbox_clean, tlp_key):
    tlp_campaign_provision(campaign_key="c-1", name="Premium Line Q1", rule_document=RULES, currency="BRL")
    before = sandbox_clean.stats(tlp_key)

    again = tlp_campaign_provision(campaign_key="c-1", name="Premium Line Q1", rule_document=RULES, currency="BRL")
    assert (again.created, again.updated, again.unchanged) == (0, 0, 8)
    assert sandbox_clean.stats(tlp_key)["offers"] == before["offers"] == 7

    cheaper = copy.deepcopy(RULES)
    cheaper["prizes"][0]["points_cost"] = 800
    changed = tlp_campaign_provision(campaign_key="c-1", name="Premium Line Q1", rule_document=cheaper,
                                     currency="BRL")
    assert (changed.created, changed.updated) == (0, 1)
    tv = next(offer for offer in _offers(sandbox_clean, tlp_key) if offer["name"] == 'Smart TV 55"')
    assert tv["points"] == 800
    assert sandbox_clean.stats(tlp_key)["offers"] == 7


def test_a_run_cut_short_is_finished_without_duplicates(tlp_configured, sandbox_clean, tlp_key):
    tlp_campaign_provision(campaign_key="c-2", name="Cut", rule_document=RULES, currency="BRL")
    # We lost our record of what was created (a crash before saving), TLP did not.
    TLPEntity.objects.filter(local_ref__startswith="campaign:c-2").delete()
    tlp_campaign_provision(campaign_key="c-2", name="Cut", rule_document=RULES, currency="BRL")
    stats = sandbox_clean.stats(tlp_key)
    assert (stats["pointTypes"], stats["offers"]) == (1, 7)


def test_provisioning_needs_tlp_configured(tenant):
    with pytest.raises(ApplicationError) as refused:
        tlp_campaign_provision(campaign_key="c-1", name="X", rule_document=RULES, currency="BRL")
    assert refused.value.status_code == 422
    assert not TLPEntity.objects.exists()


def test_an_invalid_rule_document_is_refused(tlp_configured, sandbox_clean, tlp_key):
    broken = copy.deepcopy(RULES)
    broken["goals"][0]["target"] = "lots"
    with pytest.raises(ApplicationError) as refused:
        tlp_campaign_provision(campaign_key="c-3", name="Broken", rule_document=broken, currency="BRL")
    assert refused.value.code == "invalid_rule_document"
    assert "goals.individual.target" in refused.value.fields


def test_a_participant_gets_a_member_before_any_of_their_points(tlp_configured, sandbox_clean, tlp_key):
    assert tlp_member_ensure(participant_key="u-1", email="ana@acme.test", name="Ana Lima") is None
    tlp_outbox_enqueue(operation="accrue", payload=accrual_payload(40), member_key="participant:u-1",
                       idempotency_key="u-1-first")
    assert tlp_outbox_drain().delivered == 2

    with sandbox_clean.state.lock:
        members = list(sandbox_clean.state.accounts[tlp_key].members.values())
    assert [(m["externalId"], m["email"], m["firstName"], m["lastName"]) for m in members] == [
        ("participant:u-1", "ana@acme.test", "Ana", "Lima")]
    member_id = tlp_member_ensure(participant_key="u-1", email="ana@acme.test", name="Ana Lima")
    assert member_id == members[0]["id"]
    assert TLPOutbox.objects.filter(operation="member_upsert").count() == 1


def test_a_member_can_be_created_right_away(tlp_configured, sandbox_clean, tlp_key):
    first = tlp_member_create_now(participant_key="u-2", email="bo@acme.test", name="Bo")
    assert tlp_member_create_now(participant_key="u-2") == first
    TLPEntity.objects.all().delete()
    assert tlp_member_create_now(participant_key="u-2") == first  # found by its external id, not duplicated
    assert sandbox_clean.stats(tlp_key)["members"] == 1
