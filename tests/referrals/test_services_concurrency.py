"""Referral sign-ups under real concurrency: threads, each on its own PostgreSQL connection and transaction,
against data committed in alpha's schema (a rolled-back test transaction would hide exactly what is tested).
The fixture deletes everything the test committed.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from django.db import connections
from django_tenants.utils import schema_context

from apps.core.errors import ApplicationError
from apps.loyalty.models import Member, Program
from apps.loyalty.services import member_enroll, program_create
from apps.referrals import selectors
from apps.referrals.models import Fingerprint, Referral, ReferralCampaign
from apps.referrals.services import referral_signup
from tests.factories.referrals import ReferralCampaignFactory

THREADS = 8


@pytest.fixture
def committed(django_db_setup, django_db_blocker) -> Iterator[dict[str, Any]]:  # type: ignore[no-untyped-def]
    """A program with a campaign (at most 3 referrals per member) and THREADS members, committed in alpha."""
    tag = uuid.uuid4().hex[:8]
    with django_db_blocker.unblock():
        with schema_context("alpha"):
            program = program_create(name=f"Concurrency {tag}", status="active", currency="USD")
            campaign = ReferralCampaignFactory(program=program, max_referrals_per_member=3,
                                               velocity_max_referrals=100)
            members = [member_enroll(program=program, customer_id=f"{tag}-{index}",
                                     email=f"{tag}-{index}@example.test") for index in range(THREADS)]
        try:
            yield {"program": program, "campaign": campaign, "members": members, "tag": tag}
        finally:
            with schema_context("alpha"):
                Fingerprint.objects.filter(referral__campaign=campaign).delete()
                Referral.objects.filter(campaign=campaign).delete()
                ReferralCampaign.objects.filter(pk=campaign.pk).delete()
                Member.objects.filter(program=program).delete()
                Program.objects.filter(pk=program.pk).delete()
            connections.close_all()


def _race(calls: list[Callable[[], Any]]) -> list[Any]:
    """Run the calls at the same moment, each in its own thread and connection; results or exceptions."""
    barrier = threading.Barrier(len(calls))

    def run(call: Callable[[], Any]) -> Any:
        try:
            with schema_context("alpha"):
                barrier.wait(timeout=15)
                return call()
        except ApplicationError as exc:
            return exc
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return [future.result(timeout=60) for future in [pool.submit(run, call) for call in calls]]


def test_one_person_referred_by_many_at_once_is_referred_exactly_once(committed):
    email = f"{committed['tag']}-friend@example.test"
    calls = [lambda member=member: referral_signup(code=member.referral_code, referred_email=email)
             for member in committed["members"]]

    results = _race(calls)

    created = [result for result in results if isinstance(result, tuple)]
    refused = [result for result in results if isinstance(result, ApplicationError)]
    assert len(created) == 1 and created[0][1] is True
    assert len(refused) == THREADS - 1 and {exc.code for exc in refused} == {"already_referred"}
    with schema_context("alpha"):
        assert Referral.objects.filter(campaign=committed["campaign"]).count() == 1


def test_a_referrers_limit_holds_when_sign_ups_arrive_together(committed):
    referrer = committed["members"][0]
    calls = [lambda index=index: referral_signup(code=referrer.referral_code,
                                                 referred_email=f"{committed['tag']}-f{index}@example.test")
             for index in range(THREADS)]

    results = _race(calls)

    refused = [result for result in results if isinstance(result, ApplicationError)]
    assert len(refused) == THREADS - 3 and {exc.code for exc in refused} == {"referral_limit_reached"}
    with schema_context("alpha"):
        campaign = ReferralCampaign.objects.get(pk=committed["campaign"].pk)
        assert Referral.objects.filter(campaign=campaign, referrer=referrer).count() == 3
        expected = selectors.referral_campaign_counters_recount(campaign=campaign)
        assert {field: getattr(campaign, field) for field in expected} == expected
