from __future__ import annotations

from datetime import timedelta

import pytest
from celery import current_app
from django.conf import settings
from django.utils import timezone
from django_tenants.utils import schema_context

from apps.core.models import JobRun
from apps.loyalty import services
from apps.loyalty.models import LedgerEntry, LoyaltyNotification
from apps.loyalty.tasks import (
    expiry_warnings_send_task,
    points_expire_due_task,
    points_unlock_due_task,
    redemptions_release_expired_task,
    tier_downgrades_apply_due_task,
)
from tests.factories.loyalty import RewardFactory

ALPHA = {"_schema_name": "alpha"}


def _later(days: float) -> str:
    return (timezone.now() + timedelta(days=days)).isoformat()


def test_unlock_task_runs_in_the_message_schema_and_is_safe_twice(member, award, consistent):
    award(member, 70, pending_days=3)
    first = points_unlock_due_task.apply(task_id="unlock-1", headers=ALPHA, kwargs={"now": _later(4)})
    second = points_unlock_due_task.apply(task_id="unlock-2", headers=ALPHA, kwargs={"now": _later(4)})
    assert (first.get(), second.get()) == (1, 0)
    assert consistent(member).available == 70
    assert JobRun.objects.filter(task_name="loyalty.points_unlock_due", status="succeeded").count() == 2


def test_unlock_task_in_another_schema_leaves_this_tenant_alone(member, award, other_tenant):
    award(member, 70, pending_days=3)
    result = points_unlock_due_task.apply(task_id="unlock-beta", headers={"_schema_name": "beta"},
                                          kwargs={"now": _later(4)})
    assert result.get() == 0
    member.refresh_from_db()
    assert member.pending == 70
    with schema_context("beta"):
        assert JobRun.objects.filter(task_id="unlock-beta").exists()


def test_expire_task_is_safe_twice(program, member, award, consistent):
    program.expiration_enabled = True
    program.save()
    award(member, 40, expires_at=timezone.now() + timedelta(days=1))
    results = [points_expire_due_task.apply(task_id=f"expire-{n}", headers=ALPHA, kwargs={"now": _later(2)}).get()
               for n in range(2)]
    assert results == [1, 0]
    assert consistent(member).available == 0
    assert LedgerEntry.objects.filter(member=member, kind="expire").count() == 1


def test_expiry_warning_task_notifies_once_per_member_and_day(program, make_member, award):
    program.expiration_enabled, program.expiry_warning_days = True, 30
    program.save()
    soon, later, spent = make_member(), make_member(), make_member()
    expiry = (timezone.now() + timedelta(days=10)).replace(hour=10, minute=0)  # both awards on one day
    award(soon, 50, expires_at=expiry)
    award(soon, 25, expires_at=expiry + timedelta(hours=1))
    award(later, 50, expires_at=timezone.now() + timedelta(days=90))
    award(spent, 20, expires_at=expiry)
    services.points_deduct(member=spent, points=20, reason="used", idempotency_key="used")

    results = [expiry_warnings_send_task.apply(task_id=f"warn-{n}", headers=ALPHA).get() for n in range(2)]

    notification = LoyaltyNotification.objects.get()
    assert results == [1, 1]  # the second run finds the same warning already queued
    assert notification.member == soon
    assert (notification.kind, notification.status, notification.payload["points"]) == ("expiry_warning",
                                                                                          "pending", 75)


def test_expiry_warning_hook_is_a_plain_function(member):
    first = services.loyalty_expiry_warning_notify(member, 10, timezone.now() + timedelta(days=3))
    again = services.loyalty_expiry_warning_notify(member, 10, timezone.now() + timedelta(days=3))
    assert first.pk == again.pk


def test_release_and_downgrade_tasks(program, member, award, consistent):
    award(member, 100)
    services.redemption_reserve(member=member, reward=RewardFactory(program=program, points_cost=100),
                                idempotency_key="hold")
    later = _later(1)
    assert redemptions_release_expired_task.apply(task_id="rel-1", headers=ALPHA, kwargs={"now": later}).get() == 1
    assert redemptions_release_expired_task.apply(task_id="rel-2", headers=ALPHA, kwargs={"now": later}).get() == 0
    assert consistent(member).available == 100
    assert tier_downgrades_apply_due_task.apply(task_id="tier-1", headers=ALPHA).get() == 0


@pytest.mark.parametrize("name", ["loyalty-points-unlock-due", "loyalty-points-expire-due",
                                  "loyalty-expiry-warnings-send", "loyalty-redemptions-release-expired",
                                  "loyalty-tier-downgrades-apply-due"])
def test_beat_fans_each_job_out_to_every_tenant(name):
    entry = settings.CELERY_BEAT_SCHEDULE[name]
    assert entry["task"] == "core.run_for_all_tenants"
    assert entry["kwargs"]["task_name"] in current_app.tasks
