"""The demo's Premium Line campaign (written in Portuguese) on a generated Portuguese-shaped SQLite sales
database: analysis -> rules -> approval -> one execution -> points, participants imported, ana linked to the
best Premium Line seller; a second run creates nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from apps.campaigns.demo import DEMO_PARTICIPANT_EMAIL, campaign_demo_seed
from apps.campaigns.models import Campaign, CampaignExecution, PointAllocation
from apps.loyalty.selectors import member_list
from apps.rules.demo_data import sales_database_load, sales_generate
from apps.rules.source_db import source_parse_url


@pytest.fixture(scope="module")
def pt_sales_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("demo-sales") / "acme-sales.sqlite"
    data = sales_generate(lines=6000, shape="pt", seed=7)
    sales_database_load(source=source_parse_url(url=f"sqlite:///{path}"), shape="pt", data=data)
    return path


@pytest.fixture
def pt_sales_db(tmp_path: Path, pt_sales_template: Path) -> Path:
    import shutil

    path = tmp_path / "acme-sales.sqlite"
    shutil.copy(pt_sales_template, path)
    return path


def test_the_demo_runs_the_seed_campaign_once(tenant, make_user, pt_sales_db, django_capture_on_commit_callbacks):
    make_user(role="owner", email="admin@acme.test")
    ana = make_user(role="participant", email=DEMO_PARTICIPANT_EMAIL)

    with django_capture_on_commit_callbacks(execute=True):
        seeded = campaign_demo_seed(sales_db_path=str(pt_sales_db))

    campaign = seeded.campaign
    assert seeded.created and campaign.language == "pt-br" and campaign.currency == "BRL"
    assert campaign.status == Campaign.Status.ACTIVE and campaign.tlp_status == Campaign.TlpStatus.SKIPPED
    document = campaign.rule_versions.get(status="approved").document
    goals = {goal["id"]: goal for goal in document["goals"]}
    assert goals["individual"]["target"] == "50000.00" and goals["regional"]["target"] == "500000.00"
    assert goals["individual"]["filters"]["product_lines"] == ["Premium Line"]
    assert {prize["points_cost"] for prize in document["prizes"]} == {50_000, 100_000}
    assert document["eligibility"]["employed_through_end"] is True
    assert set(document["eligibility"]["excluded_statuses"]) == {"cancelled", "returned"}
    assert seeded.execution.status == CampaignExecution.Status.SUCCEEDED and seeded.execution.points_allocated > 0
    assert sum(m.available for m in member_list().filter(program_id=campaign.loyalty_program_id)) == \
        seeded.execution.points_allocated
    # Ana is the best Premium Line seller, who reached the individual goal.
    mine = campaign.participants.get(user=ana)
    assert mine.participant_key == seeded.linked_salesperson
    assert mine.progress["goals"]["individual"]["points"] > 0 and mine.points_allocated >= 50_000
    best = max((p for p in campaign.participants.filter(eligible=True)),
               key=lambda p: float(p.progress["goals"]["individual"]["attained"]))
    assert best.pk == mine.pk
    # Every other salesperson imported from the sales database as a participant user.
    assert campaign.participants.filter(user__isnull=True).count() == 0
    # Each participant's loyalty member carries their real email (ana's for her seller), never a placeholder.
    members = {m.pk: m for m in member_list().filter(program_id=campaign.loyalty_program_id)}
    assert members[mine.member_id].email == DEMO_PARTICIPANT_EMAIL
    assert all(members[p.member_id].email == p.user.email != "" for p in campaign.participants.select_related("user"))
    assert not [m.email for m in members.values() if "invalid" in m.email]
    counts = (Campaign.objects.count(), PointAllocation.objects.count(), campaign.participants.count(),
              campaign.executions.count())

    again = campaign_demo_seed(sales_db_path=str(pt_sales_db))

    assert not again.created and again.campaign.pk == campaign.pk and again.linked_salesperson == mine.participant_key
    assert (Campaign.objects.count(), PointAllocation.objects.count(), campaign.participants.count(),
            campaign.executions.count()) == counts


def test_a_demo_seeded_with_placeholder_emails_is_mended_by_the_next_run(tenant, make_user, pt_sales_db):
    from apps.loyalty.models import Member

    make_user(role="owner", email="admin@acme.test")
    make_user(role="participant", email=DEMO_PARTICIPANT_EMAIL)
    campaign = campaign_demo_seed(sales_db_path=str(pt_sales_db)).campaign
    mine = campaign.participants.get(user__email=DEMO_PARTICIPANT_EMAIL)
    Member.objects.filter(program_id=campaign.loyalty_program_id).update(  # what older demos stored
        email="x@participants.invalid")

    campaign_demo_seed(sales_db_path=str(pt_sales_db))

    assert member_list().get(pk=mine.member_id).email == DEMO_PARTICIPANT_EMAIL
    assert not member_list().filter(program_id=campaign.loyalty_program_id, email__endswith=".invalid").exists()


def test_an_interrupted_demo_run_is_finished_by_the_next_one(tenant, make_user, pt_sales_db, monkeypatch):
    make_user(role="owner", email="admin@acme.test")
    make_user(role="participant", email=DEMO_PARTICIPANT_EMAIL)

    def lost(**kwargs):  # type: ignore[no-untyped-def]
        raise RuntimeError("demo interrupted")

    monkeypatch.setattr("apps.campaigns.demo.participants_import_source", lost)
    with pytest.raises(RuntimeError):
        campaign_demo_seed(sales_db_path=str(pt_sales_db))
    campaign = Campaign.objects.get()
    assert campaign.participants.filter(user__isnull=True).exists() and campaign.executions.count() == 1

    monkeypatch.undo()
    again = campaign_demo_seed(sales_db_path=str(pt_sales_db))

    assert not again.created and again.campaign.pk == campaign.pk and campaign.executions.count() == 1
    assert not campaign.participants.filter(user__isnull=True).exists()
    assert campaign.participants.filter(user__email=DEMO_PARTICIPANT_EMAIL).count() == 1
