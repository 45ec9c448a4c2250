from __future__ import annotations

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME

from apps.referrals.models import Referral, ReferralCampaign
from apps.referrals.services import fingerprints_record, referral_signup


@pytest.fixture
def staff_client(web_client, make_user):  # type: ignore[no-untyped-def]
    return web_client(user=make_user(role="owner", is_staff=True, is_superuser=True))


def _flagged(campaign, make_member, email):  # type: ignore[no-untyped-def]
    referrer = make_member()
    fingerprints_record(member=referrer, device_id=f"dev-{email}")
    referral, _created = referral_signup(code=referrer.referral_code, referred_email=email,
                                         device_id=f"dev-{email}")
    assert referral.status == Referral.Status.FLAGGED
    return referral


@pytest.mark.parametrize("model", ["referralcampaign", "referral", "referralclick", "fingerprint"])
def test_changelists_load(staff_client, campaign, referral, model):
    response = staff_client.get(f"/admin/referrals/{model}/", {"q": "friend"})
    assert response.status_code == 200


def test_referral_changelist_filters_by_status(staff_client, campaign, make_member, referral):
    flagged = _flagged(campaign, make_member, "flag@example.com")

    page = staff_client.get("/admin/referrals/referral/", {"status__exact": "flagged"}).content.decode()

    assert flagged.referred_email in page and referral.referred_email not in page


@pytest.mark.parametrize(("action", "status"), [("approve_referrals", "pending"), ("reject_referrals", "fraud")])
def test_review_actions_go_through_the_service(staff_client, campaign, make_member, action, status):
    flagged = _flagged(campaign, make_member, "flag@example.com")

    response = staff_client.post("/admin/referrals/referral/",
                                 {"action": action, ACTION_CHECKBOX_NAME: [str(flagged.pk)]}, follow=True)

    assert response.status_code == 200
    flagged.refresh_from_db()
    assert flagged.status == status and flagged.reviewed_by is not None
    campaign.refresh_from_db()
    assert campaign.flagged_referrals == 0


def test_approve_action_reports_referrals_that_are_not_flagged(staff_client, campaign, referral):
    response = staff_client.post("/admin/referrals/referral/",
                                 {"action": "approve_referrals", ACTION_CHECKBOX_NAME: [str(referral.pk)]},
                                 follow=True)

    assert "Only flagged referrals can be approved." in response.content.decode()
    referral.refresh_from_db()
    assert referral.status == "pending"


def test_campaign_add_form_creates_through_the_service(staff_client, program):
    data = {
        "program": str(program.pk), "name": "Admin campaign", "description": "", "status": "active",
        "currency": "", "signup_url": "", "channels": "email,whatsapp",
        "referrer_reward_type": "points", "referrer_reward_value": "300", "referrer_reward_description": "",
        "referred_reward_type": "points", "referred_reward_value": "100", "referred_reward_description": "",
        "min_purchase_amount": "0", "max_referrals_per_member": "", "allow_self_referral": "",
        "require_email_verification": "on", "referral_window_days": "30", "fraud_policy": "flag",
        "fraud_threshold": "0.5", "velocity_max_referrals": "5", "velocity_window_hours": "24",
    }

    response = staff_client.post("/admin/referrals/referralcampaign/add/", data)

    assert response.status_code == 302, response.content.decode()[:3000]
    campaign = ReferralCampaign.objects.get(name="Admin campaign")
    assert campaign.currency == "USD" and campaign.channels == ["email", "whatsapp"]


def test_campaign_add_form_shows_the_services_errors(staff_client, program):
    data = {
        "program": str(program.pk), "name": "Fractional", "status": "active", "channels": "email",
        "referrer_reward_type": "points", "referrer_reward_value": "2.5",
        "referred_reward_type": "points", "referred_reward_value": "1", "min_purchase_amount": "0",
        "require_email_verification": "on", "referral_window_days": "30", "fraud_policy": "flag",
        "fraud_threshold": "0.5", "velocity_max_referrals": "5", "velocity_window_hours": "24",
    }

    response = staff_client.post("/admin/referrals/referralcampaign/add/", data)

    assert response.status_code == 200
    assert "Points are whole numbers." in response.content.decode()
    assert not ReferralCampaign.objects.exists()
