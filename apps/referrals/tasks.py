"""Referral jobs: idempotent, per tenant (the schema travels in the message; see apps.core.jobs)."""

from __future__ import annotations

from apps.core.jobs import tenant_job
from apps.referrals.services import referral_expire_due


@tenant_job(name="referrals.expire_due")
def referral_expire_due_task() -> int:
    """Expire the tenant's pending referrals past their conversion window. Safe to run twice."""
    return referral_expire_due()
