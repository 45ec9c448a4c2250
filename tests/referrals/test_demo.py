from __future__ import annotations

from apps.referrals import selectors
from apps.referrals.demo import referrals_demo_data
from apps.referrals.models import Referral


def test_demo_data_creates_a_campaign_with_referrals_among_the_members(program, make_member):
    members = [make_member() for _index in range(24)]

    campaign = referrals_demo_data(program=program, members=members)

    referrals = Referral.objects.filter(campaign=campaign)
    statuses = set(referrals.values_list("status", flat=True))
    assert referrals.count() >= 6
    assert Referral.Status.COMPLETED in statuses
    member_ids = {member.pk for member in members}
    assert set(referrals.values_list("referrer_id", flat=True)) <= member_ids
    assert set(referrals.values_list("referred_id", flat=True)) <= member_ids
    expected = selectors.referral_campaign_counters_recount(campaign=campaign)
    assert {field: getattr(campaign, field) for field in expected} == expected
