from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from apps.referrals.fraud import (
    SIGNAL_WEIGHTS,
    FraudSignal,
    fraud_policy_outcome,
    fraud_score,
    referral_fraud_assess,
)
from apps.referrals.models import Referral, ReferralCampaign
from apps.referrals.services import fingerprints_record, referral_campaign_update, referral_signup

D = Decimal


def _signal(code: str) -> FraudSignal:
    return FraudSignal(code, SIGNAL_WEIGHTS[code])


def _codes(assessment) -> list[str]:  # type: ignore[no-untyped-def]
    return sorted(signal.code for signal in assessment.signals)


# ------------------------------------------------------------------------------------------ scoring (pure)
def test_no_signal_scores_zero():
    assert fraud_score([]).score == D("0")


@pytest.mark.parametrize("code", sorted(SIGNAL_WEIGHTS))
def test_a_single_signal_scores_its_weight(code):
    assert fraud_score([_signal(code)]).score == SIGNAL_WEIGHTS[code]


def test_signals_combine_as_independent_evidence_and_stay_within_one():
    weak_pair = fraud_score([_signal("shared_ip"), _signal("velocity")])
    everything = fraud_score([_signal(code) for code in SIGNAL_WEIGHTS])

    assert weak_pair.score == D("0.580")  # 1 - 0.7 * 0.6
    assert weak_pair.score > max(SIGNAL_WEIGHTS["shared_ip"], SIGNAL_WEIGHTS["velocity"])
    assert everything.score == D("1.000")
    assert [signal.code for signal in weak_pair.signals] == ["velocity", "shared_ip"]  # heaviest first


@pytest.mark.parametrize(
    ("policy", "score", "expected"),
    [
        ("allow", D("1.000"), "allow"),
        ("flag", D("0.499"), "allow"),
        ("flag", D("0.500"), "flag"),
        ("flag", D("0.900"), "flag"),
        ("block", D("0.499"), "allow"),
        ("block", D("0.500"), "block"),
    ],
)
def test_policy_outcome_applies_the_threshold(policy, score, expected):
    assert fraud_policy_outcome(policy=policy, threshold=D("0.5"), score=score) == expected


# ------------------------------------------------------------------------------------------ each check
def _assess(campaign, referrer, *, email="someone@example.com", member=None, **hashes):  # type: ignore[no-untyped-def]
    from apps.referrals.fingerprints import fingerprint_hash

    hashed = {kind: fingerprint_hash(kind=kind, value=value) for kind, value in hashes.items()}
    return referral_fraud_assess(campaign=campaign, referrer=referrer, referred_member=member,
                                 referred_email=email, fingerprint_hashes=hashed, now=timezone.now())


def test_a_clean_signup_raises_no_signal(campaign, make_member):
    referrer = make_member()
    fingerprints_record(member=referrer, ip="198.51.100.1", device_id="dev-referrer", card_fingerprint="fp_r",
                        billing_address="1 Referrer Road")

    assessment = _assess(campaign, referrer, ip="203.0.113.50", device="dev-friend", card="fp_f",
                         billing_address="9 Friend Avenue")

    assert assessment.score == D("0") and assessment.signals == ()


@pytest.mark.parametrize("alias", ["jane.doe+ref@gmail.com", "JaneDoe@googlemail.com", "j.a.n.e.doe@gmail.com"])
def test_self_referral_by_a_mailbox_alias_is_detected(campaign, make_member, alias):
    referrer = make_member(email="janedoe@gmail.com")

    assessment = _assess(campaign, referrer, email=alias)

    assert _codes(assessment) == ["self_referral"]
    assert assessment.signals[0].detail == {"match": "email"}
    assert assessment.score == D("1.000")


def test_self_referral_is_not_a_signal_when_the_campaign_allows_it(campaign, make_member):
    campaign = referral_campaign_update(campaign=campaign, data={"allow_self_referral": True})
    referrer = make_member(email="janedoe@gmail.com")

    assert _assess(campaign, referrer, email="jane.doe+x@gmail.com").signals == ()


@pytest.mark.parametrize(
    ("kind", "recorded", "submitted", "code"),
    [
        ("ip", "198.51.100.77", " 198.51.100.77", "shared_ip"),
        ("device", "Device-ABC", "device-abc", "shared_device"),
        ("billing_address", "12 Rue de l'Église, Paris", "12 rue de l eglise paris", "shared_billing_address"),
        ("card", "fp_1AbC", "fp_1AbC", "shared_card"),
    ],
)
def test_a_fingerprint_shared_with_the_referrer_is_detected(campaign, make_member, kind, recorded, submitted, code):
    referrer = make_member()
    field = {"ip": "ip", "device": "device_id", "billing_address": "billing_address", "card": "card_fingerprint"}
    fingerprints_record(member=referrer, **{field[kind]: recorded})

    assessment = _assess(campaign, referrer, **{kind: submitted})

    assert _codes(assessment) == [code]
    assert assessment.score == SIGNAL_WEIGHTS[code]


def test_a_fingerprint_of_someone_else_is_not_a_signal(campaign, make_member):
    referrer, stranger = make_member(), make_member()
    fingerprints_record(member=stranger, device_id="dev-stranger", card_fingerprint="fp_stranger")

    assert _assess(campaign, referrer, device="dev-stranger", card="fp_stranger").signals == ()


def test_a_fingerprint_shared_with_another_referral_of_the_same_referrer_is_a_ring(campaign, make_member):
    referrer, other_referrer = make_member(), make_member()
    referral_signup(code=referrer.referral_code, referred_email="one@example.com", device_id="farm-device")
    referral_signup(code=other_referrer.referral_code, referred_email="two@example.com", device_id="other-device")

    ring = _assess(campaign, referrer, email="three@example.com", device="farm-device")
    unrelated = _assess(campaign, referrer, email="four@example.com", device="other-device")

    assert _codes(ring) == ["referral_ring"] and ring.signals[0].detail == {"kinds": ["device"]}
    assert unrelated.signals == ()


def test_velocity_counts_referrals_in_the_window(campaign, make_member):
    campaign = referral_campaign_update(campaign=campaign,
                                        data={"velocity_max_referrals": 2, "velocity_window_hours": 24})
    referrer = make_member()
    referral_signup(code=referrer.referral_code, referred_email="old@example.com",
                    now=timezone.now() - timedelta(hours=30))
    referral_signup(code=referrer.referral_code, referred_email="a@example.com")
    within_limit = _assess(campaign, referrer, email="b@example.com")
    referral_signup(code=referrer.referral_code, referred_email="b@example.com")

    over_limit = _assess(campaign, referrer, email="c@example.com")

    assert within_limit.signals == ()
    assert _codes(over_limit) == ["velocity"]
    assert over_limit.signals[0].detail == {"referrals": 3, "limit": 2, "window_hours": 24}


# ------------------------------------------------------------------------------------------ policy on sign-up
@pytest.mark.parametrize(
    ("policy", "status", "counter"),
    [
        ("allow", Referral.Status.PENDING, "pending_referrals"),
        ("flag", Referral.Status.FLAGGED, "flagged_referrals"),
        ("block", Referral.Status.FRAUD, "fraud_referrals"),
    ],
)
def test_campaign_policy_decides_what_a_suspicious_signup_becomes(campaign, make_member, policy, status, counter):
    referral_campaign_update(campaign=campaign, data={"fraud_policy": policy})
    referrer = make_member()
    fingerprints_record(member=referrer, card_fingerprint="fp_shared")

    referral, _created = referral_signup(code=referrer.referral_code, referred_email="f@example.com",
                                         card_fingerprint="fp_shared")

    assert referral.status == status
    assert referral.fraud_score == D("0.800") and referral.fraud_outcome == policy
    assert [signal["code"] for signal in referral.fraud_signals] == ["shared_card"]
    assert getattr(ReferralCampaign.objects.get(pk=campaign.pk), counter) == 1


def test_a_score_below_the_threshold_passes_under_every_policy(campaign, make_member):
    referral_campaign_update(campaign=campaign, data={"fraud_policy": "block", "fraud_threshold": D("0.5")})
    referrer = make_member()
    fingerprints_record(member=referrer, ip="198.51.100.9")

    referral, _created = referral_signup(code=referrer.referral_code, referred_email="f@example.com",
                                         ip="198.51.100.9")

    assert referral.status == Referral.Status.PENDING
    assert referral.fraud_score == D("0.300") and referral.fraud_outcome == "allow"
