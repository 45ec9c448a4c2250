from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone

from apps.core.errors import ApplicationError, ConflictError, NotFoundError, UnprocessableError
from apps.referrals import selectors
from apps.referrals.models import Fingerprint, Referral, ReferralCampaign, ReferralClick
from apps.referrals.services import (
    fingerprints_record,
    referral_campaign_create,
    referral_campaign_delete,
    referral_campaign_update,
    referral_click_record,
    referral_email_verify,
    referral_expire_due,
    referral_on_first_purchase,
    referral_review,
    referral_signup,
)
from tests.factories.referrals import ReferralCampaignFactory


def _counters_match(campaign: ReferralCampaign) -> None:
    campaign.refresh_from_db()
    expected = selectors.referral_campaign_counters_recount(campaign=campaign)
    assert {field: getattr(campaign, field) for field in expected} == expected


# ------------------------------------------------------------------------------------------ campaigns
def test_campaign_create_takes_the_programs_currency_and_orders_channels(program):
    campaign = referral_campaign_create(program=program, name="Friends", referrer_reward_value=500,
                                        referred_reward_value=250, channels=["whatsapp", "email"])

    assert campaign.currency == program.currency
    assert campaign.channels == ["email", "whatsapp"]
    assert campaign.status == ReferralCampaign.Status.ACTIVE


@pytest.mark.parametrize(
    ("attributes", "field"),
    [
        ({"referrer_reward_value": Decimal("10.5")}, "referrer_reward_value"),
        ({"channels": ["email", "email"]}, "channels"),
        ({"channels": ["carrier-pigeon"]}, "channels"),
        ({"currency": "XXX"}, "currency"),
        ({"fraud_threshold": Decimal("1.5")}, "fraud_threshold"),
        ({"status": "archived"}, "status"),
        ({"bogus": 1}, "bogus"),
    ],
)
def test_campaign_create_refuses_invalid_values_and_writes_nothing(program, attributes, field):
    arguments = {"referrer_reward_value": 500, "referred_reward_value": 250, **attributes}

    with pytest.raises(ApplicationError) as raised:
        referral_campaign_create(program=program, name="Bad", **arguments)

    assert raised.value.status_code == 400
    assert field in raised.value.fields
    assert not ReferralCampaign.objects.exists()


def test_campaign_update_changes_only_the_given_fields(campaign):
    updated = referral_campaign_update(campaign=campaign, data={"name": "Renamed", "min_purchase_amount": 30})

    assert updated.name == "Renamed"
    assert updated.min_purchase_amount == Decimal("30")
    assert updated.referrer_reward_value == campaign.referrer_reward_value


def test_campaign_update_refuses_another_program_once_it_has_referrals(campaign, referral, other_program):
    with pytest.raises(ConflictError):
        referral_campaign_update(campaign=campaign, data={"program": other_program, "name": "Moved"})

    campaign.refresh_from_db()
    assert campaign.program_id != other_program.pk and campaign.name != "Moved"


def test_campaign_delete_removes_a_campaign_without_history(campaign):
    assert referral_campaign_delete(campaign=campaign) is True
    assert not ReferralCampaign.objects.filter(pk=campaign.pk).exists()


def test_campaign_delete_archives_a_campaign_with_referrals_and_its_links_stop_working(campaign, referral):
    assert referral_campaign_delete(campaign=campaign) is False

    campaign.refresh_from_db()
    assert campaign.status == ReferralCampaign.Status.ARCHIVED and campaign.deleted_at is not None
    assert Referral.objects.filter(pk=referral.pk).exists()
    assert selectors.referral_campaign_get(campaign_id=campaign.pk) is None
    with pytest.raises(NotFoundError):
        referral_click_record(code=referral.referrer.referral_code, channel="email", ip="198.51.100.1",
                              user_agent="UA")


# ------------------------------------------------------------------------------------------ clicks
def test_click_record_stores_hashes_and_channel_and_counts_once_per_visitor(campaign, make_member):
    referrer = make_member()

    visit = referral_click_record(code=referrer.referral_code.lower(), channel="whatsapp", ip="203.0.113.9",
                                  user_agent="Mozilla/5.0 Test")
    repeat = referral_click_record(code=referrer.referral_code, channel="whatsapp", ip="203.0.113.9",
                                   user_agent="Mozilla/5.0 Test")
    other = referral_click_record(code=referrer.referral_code, channel="twitter", ip="203.0.113.10",
                                  user_agent="Mozilla/5.0 Test")

    assert visit.click is not None and visit.referrer == referrer and visit.campaign == campaign
    assert repeat.click is None
    assert other.click is not None and other.click.channel == "x"
    click = ReferralClick.objects.get(pk=visit.click.pk)
    assert click.channel == "whatsapp" and click.code == referrer.referral_code
    assert "203.0.113.9" not in click.ip_hash and len(click.ip_hash) == 64
    assert ReferralClick.objects.filter(campaign=campaign).count() == 2
    _counters_match(campaign)


@pytest.mark.parametrize("code", ["NOPE2345", "", "../../etc", "x" * 40])
def test_click_record_refuses_unknown_codes_and_writes_nothing(campaign, code):
    with pytest.raises(NotFoundError):
        referral_click_record(code=code, channel="email", ip="203.0.113.1", user_agent="UA")
    assert not ReferralClick.objects.exists()


def test_click_record_refuses_when_the_program_has_no_active_campaign(campaign, make_member):
    referrer = make_member()
    referral_campaign_update(campaign=campaign, data={"status": ReferralCampaign.Status.PAUSED})

    with pytest.raises(NotFoundError):
        referral_click_record(code=referrer.referral_code, channel="email", ip="203.0.113.1", user_agent="UA")
    assert not ReferralClick.objects.exists()


# ------------------------------------------------------------------------------------------ sign-ups
def test_signup_creates_a_pending_referral_with_hashed_fingerprints(campaign, make_member):
    referrer = make_member()
    referred = make_member()
    raw = {"ip": "198.51.100.23", "device_id": "device-abc-123", "billing_address": "1 Main Street, Springfield",
           "card_fingerprint": "fp_Card9Zq"}

    referral, created = referral_signup(code=referrer.referral_code, referred_customer_id=referred.customer_id,
                                        channel="email", **raw)

    assert created and referral.status == Referral.Status.PENDING
    assert referral.referred == referred and referral.referred_email == referred.email
    assert referral.fraud_score == Decimal("0") and referral.fraud_signals == []
    assert referral.expires_at == referral.signed_up_at + timedelta(days=campaign.referral_window_days)
    fingerprints = list(Fingerprint.objects.filter(referral=referral))
    assert sorted(fp.kind for fp in fingerprints) == ["billing_address", "card", "device", "ip"]
    assert all(fp.member_id == referred.pk for fp in fingerprints)
    with connection.cursor() as cursor:
        cursor.execute("SELECT row_to_json(f)::text FROM referrals_fingerprint f "
                       "UNION ALL SELECT row_to_json(r)::text FROM referrals_referral r")
        stored = " ".join(row[0] for row in cursor.fetchall())
    for value in raw.values():
        assert value not in stored
    _counters_match(campaign)


def test_signup_again_for_the_same_pair_returns_the_first_referral(campaign, make_member):
    referrer = make_member()
    first, _created = referral_signup(code=referrer.referral_code, referred_email="Friend+x@Example.com")

    again, created = referral_signup(code=referrer.referral_code, referred_email="friend@example.com")

    assert not created and again.pk == first.pk
    assert Referral.objects.count() == 1
    _counters_match(campaign)


def test_signup_refuses_a_person_already_referred_by_someone_else(campaign, make_member):
    first_referrer, second_referrer = make_member(), make_member()
    referral_signup(code=first_referrer.referral_code, referred_email="friend@example.com")

    with pytest.raises(ConflictError):
        referral_signup(code=second_referrer.referral_code, referred_email="FRIEND@example.com")

    assert Referral.objects.filter(referrer=second_referrer).count() == 0
    _counters_match(campaign)


def test_signup_refuses_a_member_referring_themselves(campaign, make_member):
    member = make_member()

    with pytest.raises(UnprocessableError) as raised:
        referral_signup(code=member.referral_code, referred_customer_id=member.customer_id)

    assert raised.value.code == "self_referral"
    assert not Referral.objects.exists()


def test_signup_refuses_beyond_the_referrers_limit(campaign, make_member):
    referral_campaign_update(campaign=campaign, data={"max_referrals_per_member": 2})
    referrer = make_member()
    for index in range(2):
        referral_signup(code=referrer.referral_code, referred_email=f"friend{index}@example.com")

    with pytest.raises(UnprocessableError) as raised:
        referral_signup(code=referrer.referral_code, referred_email="friend9@example.com")

    assert raised.value.code == "referral_limit_reached"
    assert Referral.objects.filter(referrer=referrer).count() == 2


@pytest.mark.parametrize("code", ["UNKNOWN9", "bad code!"])
def test_signup_refuses_unknown_codes(campaign, code):
    with pytest.raises(UnprocessableError):
        referral_signup(code=code, referred_email="friend@example.com")
    assert not Referral.objects.exists()


def test_signup_refuses_an_inactive_campaign(campaign, make_member):
    referrer = make_member()
    referral_campaign_update(campaign=campaign, data={"status": ReferralCampaign.Status.PAUSED})

    with pytest.raises(UnprocessableError):
        referral_signup(code=referrer.referral_code, campaign=campaign, referred_email="friend@example.com")
    assert not Referral.objects.exists()


def test_signup_refuses_a_campaign_of_another_program(campaign, make_member, other_program):
    referrer = make_member()
    foreign = ReferralCampaignFactory(program=other_program)

    with pytest.raises(UnprocessableError):
        referral_signup(code=referrer.referral_code, campaign=foreign, referred_email="friend@example.com")
    assert not Referral.objects.exists()


def test_fingerprints_record_is_idempotent_and_refuses_nothing_to_record(make_member, program):
    member = make_member()

    assert fingerprints_record(member=member, ip="198.51.100.1", device_id="dev-1") == 2
    assert fingerprints_record(member=member, ip="198.51.100.1", card_fingerprint="fp_1") == 1
    with pytest.raises(ApplicationError):
        fingerprints_record(member=member)
    assert Fingerprint.objects.filter(member=member).count() == 3


# ------------------------------------------------------------------------------------------ conversion
def test_first_purchase_completes_and_awards_both_sides_once(campaign, make_member, points_of):
    referrer, referred = make_member(), make_member()
    referral, _created = referral_signup(code=referrer.referral_code, referred_customer_id=referred.customer_id,
                                         email_verified=True)

    completed = referral_on_first_purchase(member=referred, order_id="A-1", order_total=Decimal("80.00"),
                                           currency="usd")
    replay = referral_on_first_purchase(member=referred, order_id="A-1", order_total=Decimal("80.00"),
                                        currency="USD")

    assert completed.pk == replay.pk == referral.pk and completed.status == Referral.Status.COMPLETED
    assert completed.first_purchase_value == Decimal("80.00") and completed.first_purchase_order_id == "A-1"
    assert completed.referrer_reward_issued and completed.referred_reward_issued
    assert points_of(referrer) == 500 and points_of(referred) == 250
    assert completed.referrer_ledger_entry_id and completed.referred_ledger_entry_id
    _counters_match(campaign)
    campaign.refresh_from_db()
    assert campaign.revenue_generated == Decimal("80.00") and campaign.successful_referrals == 1


def test_first_purchase_below_the_minimum_keeps_the_referral_pending_and_pays_nothing(campaign, make_member,
                                                                                      points_of):
    referrer, referred = make_member(), make_member()
    referral_signup(code=referrer.referral_code, referred_customer_id=referred.customer_id, email_verified=True)

    referral = referral_on_first_purchase(member=referred, order_id="A-2", order_total=Decimal("19.99"),
                                          currency="USD")

    assert referral.status == Referral.Status.PENDING and referral.first_purchase_value == Decimal("19.99")
    assert points_of(referrer) == 0 and points_of(referred) == 0
    _counters_match(campaign)


def test_first_purchase_in_another_currency_does_not_qualify(campaign, make_member, points_of):
    referrer, referred = make_member(), make_member()
    referral_signup(code=referrer.referral_code, referred_customer_id=referred.customer_id, email_verified=True)

    referral = referral_on_first_purchase(member=referred, order_id="A-3", order_total=Decimal("500"),
                                          currency="EUR")

    assert referral.status == Referral.Status.PENDING
    assert points_of(referrer) == 0


def test_unverified_email_waits_then_verification_completes_the_referral(campaign, make_member, points_of):
    referrer, referred = make_member(), make_member()
    referral, _created = referral_signup(code=referrer.referral_code, referred_customer_id=referred.customer_id)

    waiting = referral_on_first_purchase(member=referred, order_id="A-4", order_total=Decimal("50"),
                                         currency="USD")
    assert waiting.status == Referral.Status.PENDING and points_of(referrer) == 0

    verified = referral_email_verify(referral=referral)

    assert verified.status == Referral.Status.COMPLETED
    assert points_of(referrer) == 500 and points_of(referred) == 250
    _counters_match(campaign)


def test_email_only_referral_is_linked_to_the_member_at_first_purchase(campaign, make_member, points_of):
    referrer = make_member()
    referral, _created = referral_signup(code=referrer.referral_code, referred_email="New.Friend+shop@gmail.com",
                                         email_verified=True, device_id="dev-new-friend")
    member = make_member(email="newfriend@gmail.com")

    converted = referral_on_first_purchase(member=member, order_id="A-5", order_total=Decimal("25"),
                                           currency="USD")

    assert converted.pk == referral.pk and converted.referred == member
    assert converted.status == Referral.Status.COMPLETED
    assert points_of(member) == 250
    assert Fingerprint.objects.get(referral=referral).member == member


def test_first_purchase_of_a_member_nobody_referred_changes_nothing(campaign, make_member):
    assert referral_on_first_purchase(member=make_member(), order_id="A-6", order_total=Decimal("99"),
                                      currency="USD") is None
    assert not Referral.objects.exists()


def test_discount_and_gift_incentives_are_recorded_as_issued_without_points(program, make_member, points_of):
    campaign = ReferralCampaignFactory(program=program, referrer_reward_type="discount",
                                       referrer_reward_value=Decimal("10"), referred_reward_type="gift",
                                       referred_reward_value=Decimal("1"), require_email_verification=False)
    referrer, referred = make_member(), make_member()
    referral_signup(code=referrer.referral_code, campaign=campaign, referred_customer_id=referred.customer_id)

    referral = referral_on_first_purchase(member=referred, order_id="A-7", order_total=Decimal("40"),
                                          currency="USD")

    assert referral.status == Referral.Status.COMPLETED
    assert referral.referrer_reward_issued and referral.referred_reward_issued
    assert referral.referrer_ledger_entry_id is None and referral.referred_ledger_entry_id is None
    assert points_of(referrer) == 0 and points_of(referred) == 0


# ------------------------------------------------------------------------------------------ review
def test_flagged_referral_keeps_its_purchase_until_approved_then_completes(campaign, make_member,
                                                                          points_of, reviewer):
    referrer, referred = make_member(), make_member()
    fingerprints_record(member=referrer, device_id="shared-device")
    referral, _created = referral_signup(code=referrer.referral_code, referred_customer_id=referred.customer_id,
                                         email_verified=True, device_id="shared-device")
    assert referral.status == Referral.Status.FLAGGED

    held = referral_on_first_purchase(member=referred, order_id="B-1", order_total=Decimal("60"), currency="USD")
    assert held.status == Referral.Status.FLAGGED and held.first_purchase_order_id == "B-1"
    assert points_of(referrer) == 0

    approved = referral_review(referral=referral, decision="approve", reviewer=reviewer, note="Same household")

    assert approved.status == Referral.Status.COMPLETED
    assert approved.review_decision == "approved" and approved.reviewed_by == reviewer
    assert approved.review_note == "Same household"
    assert points_of(referrer) == 500 and points_of(referred) == 250
    _counters_match(campaign)


def test_approving_a_flagged_referral_without_purchase_gives_it_a_fresh_window(campaign, make_member,
                                                                               reviewer):
    referrer = make_member()
    fingerprints_record(member=referrer, card_fingerprint="fp_same")
    referral, _created = referral_signup(code=referrer.referral_code, referred_email="f@example.com",
                                         card_fingerprint="fp_same",
                                         now=timezone.now() - timedelta(days=40))

    approved = referral_review(referral=referral, decision="approve", reviewer=reviewer)

    assert approved.status == Referral.Status.PENDING
    assert approved.expires_at > timezone.now() + timedelta(days=campaign.referral_window_days - 1)


def test_rejecting_a_completed_referral_reverses_both_rewards(campaign, make_member, points_of, reviewer):
    referrer, referred = make_member(), make_member()
    referral, _created = referral_signup(code=referrer.referral_code, referred_customer_id=referred.customer_id,
                                         email_verified=True)
    referral_on_first_purchase(member=referred, order_id="C-1", order_total=Decimal("30"), currency="USD")
    assert points_of(referrer) == 500

    rejected = referral_review(referral=referral, decision="reject", reviewer=reviewer, note="Ring")

    assert rejected.status == Referral.Status.FRAUD and rejected.review_decision == "rejected"
    assert points_of(referrer) == 0 and points_of(referred) == 0
    _counters_match(campaign)
    campaign.refresh_from_db()
    assert campaign.revenue_generated == Decimal("0")


@pytest.mark.parametrize("decision", ["approve", "reject"])
def test_review_refuses_closed_referrals_and_changes_nothing(campaign, referral, reviewer, decision):
    Referral.objects.filter(pk=referral.pk).update(status=Referral.Status.EXPIRED)
    referral.refresh_from_db()

    with pytest.raises(ConflictError):
        referral_review(referral=referral, decision=decision, reviewer=reviewer)

    referral.refresh_from_db()
    assert referral.status == Referral.Status.EXPIRED and referral.reviewed_by is None


def test_review_refuses_approving_a_referral_that_is_not_flagged(campaign, referral, reviewer):
    with pytest.raises(ConflictError):
        referral_review(referral=referral, decision="approve", reviewer=reviewer)
    referral.refresh_from_db()
    assert referral.status == Referral.Status.PENDING and not referral.review_decision


def test_review_refuses_an_unknown_decision(campaign, referral, reviewer):
    with pytest.raises(ApplicationError):
        referral_review(referral=referral, decision="maybe", reviewer=reviewer)


# ------------------------------------------------------------------------------------------ expiry
def test_expire_due_expires_pending_referrals_past_their_window_once(campaign, make_member):
    referrer = make_member()
    long_ago = timezone.now() - timedelta(days=campaign.referral_window_days + 1)
    old, _created = referral_signup(code=referrer.referral_code, referred_email="old@example.com", now=long_ago)
    fresh, _created = referral_signup(code=referrer.referral_code, referred_email="fresh@example.com")
    fingerprints_record(member=referrer, card_fingerprint="fp_flag")
    flagged, _created = referral_signup(code=referrer.referral_code, referred_email="flag@example.com",
                                        card_fingerprint="fp_flag", now=long_ago)
    assert flagged.status == Referral.Status.FLAGGED

    assert referral_expire_due() == 1
    assert referral_expire_due() == 0

    statuses = dict(Referral.objects.values_list("pk", "status"))
    assert statuses == {old.pk: "expired", fresh.pk: "pending", flagged.pk: "flagged"}
    _counters_match(campaign)


# ------------------------------------------------------------------------------------------ with apps.loyalty
def test_the_referred_members_first_order_completes_the_referral_through_the_loyalty_hook(campaign, make_member,
                                                                                          points_of):
    from apps.loyalty.services import OrderLineInput, order_record

    referrer, referred = make_member(), make_member()
    referral, _created = referral_signup(code=referrer.referral_code, referred_customer_id=referred.customer_id,
                                         email_verified=True)

    order_record(member=referred, external_id="ORD-1",
                 lines=[OrderLineInput(sku="SKU-1", quantity=2, unit_price=Decimal("15.00"))])
    order_record(member=referred, external_id="ORD-2",
                 lines=[OrderLineInput(sku="SKU-1", quantity=1, unit_price=Decimal("99.00"))])

    referral.refresh_from_db()
    assert referral.status == Referral.Status.COMPLETED
    assert referral.first_purchase_order_id == "ORD-1" and referral.first_purchase_value == Decimal("30.00")
    assert points_of(referrer) == 500
    assert points_of(referred) == 250  # the test program has no earn rules of its own
