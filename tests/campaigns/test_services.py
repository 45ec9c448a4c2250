from __future__ import annotations

import datetime as dt

import pytest

from apps.campaigns.models import Campaign
from apps.campaigns.selectors import campaign_get
from apps.campaigns.services import campaign_create
from apps.core.errors import ApplicationError


def test_campaign_create_makes_a_draft(tenant, make_user):
    admin = make_user(role="admin")
    campaign = campaign_create(name="Premium Line Q1", start_date=dt.date(2026, 1, 1), end_date=dt.date(2026, 3, 31),
                               currency="BRL", language="pt-br", created_by=admin)

    assert campaign.status == Campaign.Status.DRAFT
    assert campaign_get(campaign_id=campaign.pk) == campaign
    assert campaign.source_schema is None


def test_campaign_that_ends_before_it_starts_is_refused_and_nothing_is_written(tenant):
    with pytest.raises(ApplicationError):
        campaign_create(name="Backwards", start_date=dt.date(2026, 3, 31), end_date=dt.date(2026, 1, 1))
    assert not Campaign.objects.exists()


def test_campaign_get_with_a_malformed_id_is_none(tenant):
    assert campaign_get(campaign_id="not-a-uuid") is None


# ------------------------------------------------------------------------------------------ lifecycle
from django.db import connection  # noqa: E402

from apps.campaigns.models import CampaignRuleVersion  # noqa: E402
from apps.campaigns.selectors import campaign_open_version, campaign_running_version  # noqa: E402
from apps.campaigns.services import (  # noqa: E402
    campaign_approve,
    campaign_cancel,
    campaign_connection_set,
    campaign_delete,
    campaign_rule_version_save,
    campaign_submit,
    campaign_update,
    schedule_name,
)
from apps.core.crypto import secret_decrypt  # noqa: E402
from apps.core.errors import ConflictError, UnprocessableError  # noqa: E402
from apps.core.jobs import periodic_task_list  # noqa: E402
from apps.loyalty.selectors import program_resolve  # noqa: E402
from apps.rules.source_db import SourceDatabaseError  # noqa: E402


def _schedules() -> dict[str, int]:
    return {task.name.rsplit(":", 2)[-2] + ":" + task.name.rsplit(":", 1)[-1]: task.interval.every
            for task in periodic_task_list(schema_name=connection.schema_name) if task.interval}


def test_submit_then_approve_freezes_the_version_and_provisions(campaign_with_source, make_user):
    campaign = campaign_with_source("en", execution_interval_seconds=60)
    approver = make_user(role="admin")
    campaign_submit(campaign=campaign)
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.PENDING_APPROVAL

    version = campaign_approve(campaign=campaign, user=approver, comment="Looks right")

    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.APPROVED
    assert version.status == CampaignRuleVersion.Status.APPROVED
    assert version.approved_by == approver and version.approved_at and version.approval_comment == "Looks right"
    assert version.sql.lstrip().upper().startswith("WITH") and version.dialect == "sqlite"
    assert "Premium Line" not in version.sql  # values are bound parameters
    assert {"type": "plain", "value": "premium line"} in version.params
    program = program_resolve(program_id=campaign.loyalty_program_id)
    assert program.type == "points" and program.status == "active"
    assert campaign.tlp_status == Campaign.TlpStatus.SKIPPED and "not configured" in campaign.tlp_note
    tasks = {t.name: t for t in periodic_task_list(schema_name=connection.schema_name)}
    task = next(t for name, t in tasks.items() if name.endswith(schedule_name(campaign)))
    assert task.interval.every == 60 and task.task == "campaigns.execute"
    assert str(campaign.pk) in task.kwargs


def test_approve_provisions_tlp_when_configured(campaign_with_source, tlp_configured, make_user):
    campaign = campaign_with_source("en")
    campaign_submit(campaign=campaign)
    campaign_approve(campaign=campaign, user=make_user(role="admin"))
    campaign.refresh_from_db()
    assert campaign.tlp_status == Campaign.TlpStatus.PROVISIONED
    assert campaign.tlp_point_type_id


@pytest.mark.parametrize("action", ["approve_draft", "approve_twice", "submit_without_draft"])
def test_illegal_transitions_are_409_and_change_nothing(campaign_with_source, make_user, action):
    campaign = campaign_with_source("en")
    admin = make_user(role="admin")
    if action == "approve_draft":
        with pytest.raises(ConflictError):
            campaign_approve(campaign=campaign, user=admin)
        expected = Campaign.Status.DRAFT
    elif action == "approve_twice":
        campaign_submit(campaign=campaign)
        campaign_approve(campaign=campaign, user=admin)
        with pytest.raises(ConflictError):
            campaign_approve(campaign=campaign, user=admin)
        expected = Campaign.Status.APPROVED
    else:
        campaign_submit(campaign=campaign)
        with pytest.raises(ConflictError):
            campaign_submit(campaign=campaign)
        expected = Campaign.Status.PENDING_APPROVAL
    campaign.refresh_from_db()
    assert campaign.status == expected
    assert campaign.rule_versions.count() == 1


def test_approval_refuses_an_invalid_document_and_writes_nothing(campaign_with_source, make_user):
    campaign = campaign_with_source("en")
    version = campaign_open_version(campaign=campaign)
    version.document = {**version.document, "goals": []}
    version.status = CampaignRuleVersion.Status.PENDING
    version.save()
    Campaign.objects.filter(pk=campaign.pk).update(status=Campaign.Status.PENDING_APPROVAL)
    with pytest.raises(UnprocessableError):
        campaign_approve(campaign=campaign, user=make_user(role="admin"))
    campaign.refresh_from_db()
    version.refresh_from_db()
    assert campaign.status == Campaign.Status.PENDING_APPROVAL and campaign.loyalty_program_id is None
    assert version.status == CampaignRuleVersion.Status.PENDING and version.sql == ""


def test_editing_an_approved_campaign_makes_a_draft_while_the_approved_one_runs(campaign_with_source, make_user):
    campaign = campaign_with_source("en")
    admin = make_user(role="admin")
    campaign_submit(campaign=campaign)
    first = campaign_approve(campaign=campaign, user=admin)
    document = {**first.document, "goals": [{**first.document["goals"][0], "target": "40000.00"},
                                            first.document["goals"][1]]}

    campaign_update(campaign=campaign, document=document, user=admin)

    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.APPROVED
    assert campaign_running_version(campaign=campaign) == first
    draft = campaign_open_version(campaign=campaign)
    assert draft.number == 2 and draft.status == CampaignRuleVersion.Status.DRAFT

    campaign_submit(campaign=campaign)
    second = campaign_approve(campaign=campaign, user=admin)
    first.refresh_from_db()
    assert second.number == 2 and first.status == CampaignRuleVersion.Status.SUPERSEDED
    assert campaign_running_version(campaign=campaign) == second


def test_running_campaign_period_is_frozen(campaign_with_source, make_user):
    campaign = campaign_with_source("en")
    campaign_submit(campaign=campaign)
    campaign_approve(campaign=campaign, user=make_user(role="admin"))
    with pytest.raises(ConflictError):
        campaign_update(campaign=campaign, end_date=dt.date(2026, 6, 30))
    campaign.refresh_from_db()
    assert campaign.end_date == dt.date(2026, 3, 31)


def test_interval_under_a_minute_is_refused(tenant):
    with pytest.raises(ApplicationError):
        campaign_create(name="Too fast", start_date=dt.date(2026, 1, 1), end_date=dt.date(2026, 3, 31),
                        execution_interval_seconds=30)
    assert not Campaign.objects.exists()


def test_cancel_unschedules_and_cancelled_is_closed(campaign_with_source, make_user):
    campaign = campaign_with_source("en")
    campaign_submit(campaign=campaign)
    campaign_approve(campaign=campaign, user=make_user(role="admin"))
    campaign_cancel(campaign=campaign)
    assert not [t for t in periodic_task_list(schema_name=connection.schema_name)
                if t.name.endswith(schedule_name(campaign))]
    with pytest.raises(ConflictError):
        campaign_rule_version_save(campaign=campaign, document={})
    with pytest.raises(ConflictError):
        campaign_cancel(campaign=campaign)


def test_delete_only_before_it_ran(campaign_with_source):
    campaign = campaign_with_source("en")
    campaign_delete(campaign=campaign)
    assert not Campaign.objects.filter(pk=campaign.pk).exists()


def test_connection_is_tried_then_stored_encrypted(tenant, sales_db):
    campaign = campaign_create(name="C", start_date=dt.date(2026, 1, 1), end_date=dt.date(2026, 3, 31))
    url = f"sqlite:///{sales_db}"
    campaign_connection_set(campaign=campaign, url=url, allow_sqlite=True)
    campaign.refresh_from_db()
    assert str(sales_db) not in campaign.connection_encrypted
    assert secret_decrypt(campaign.connection_encrypted) == url


def test_unreachable_or_sqlite_connection_is_refused_and_not_saved(tenant, tmp_path):
    campaign = campaign_create(name="C", start_date=dt.date(2026, 1, 1), end_date=dt.date(2026, 3, 31))
    with pytest.raises(SourceDatabaseError):
        campaign_connection_set(campaign=campaign, url="postgresql://nobody@127.0.0.1:1/nothing")
    with pytest.raises(ApplicationError):
        campaign_connection_set(campaign=campaign, url=f"sqlite:///{tmp_path}/x.db")
    campaign.refresh_from_db()
    assert campaign.connection_encrypted == ""
