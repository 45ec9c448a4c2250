from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from apps.referrals.models import Referral
from apps.referrals.services import referral_signup
from apps.referrals.tasks import referral_expire_due_task


def test_expire_task_runs_in_the_schema_of_the_message_and_is_safe_twice(campaign, make_member):
    referrer = make_member()
    long_ago = timezone.now() - timedelta(days=campaign.referral_window_days + 2)
    old, _created = referral_signup(code=referrer.referral_code, referred_email="old@example.com", now=long_ago)

    first = referral_expire_due_task.apply(task_id="referrals-expire-1", headers={"_schema_name": "alpha"})
    second = referral_expire_due_task.apply(task_id="referrals-expire-2", headers={"_schema_name": "alpha"})

    assert first.get() == 1 and second.get() == 0
    old.refresh_from_db()
    assert old.status == Referral.Status.EXPIRED


def test_expire_task_in_another_schema_leaves_this_tenant_alone(campaign, make_member, other_tenant):
    referrer = make_member()
    long_ago = timezone.now() - timedelta(days=campaign.referral_window_days + 2)
    old, _created = referral_signup(code=referrer.referral_code, referred_email="old@example.com", now=long_ago)

    result = referral_expire_due_task.apply(task_id="referrals-expire-beta", headers={"_schema_name": "beta"})

    assert result.get() == 0
    old.refresh_from_db()
    assert old.status == Referral.Status.PENDING


def test_beat_fans_the_expiry_out_to_every_tenant_with_a_registered_task():
    from celery import current_app
    from django.conf import settings

    entry = settings.CELERY_BEAT_SCHEDULE["referrals-expire-due"]

    assert entry["task"] == "core.run_for_all_tenants"
    assert entry["kwargs"]["task_name"] in current_app.tasks
