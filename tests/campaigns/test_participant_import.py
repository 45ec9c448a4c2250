"""Participants imported from a CSV file and from the customer's database: users created (role participant)
or linked by email, invited with a password-set link, idempotent on the salesperson id; an invalid file writes
nothing and reports each line."""

from __future__ import annotations

import io
import re

import pytest
from allauth.account.forms import default_token_generator
from allauth.account.utils import url_str_to_user_pk
from django.core import mail

from apps.accounts.models import User
from apps.campaigns.models import CampaignParticipant
from apps.campaigns.services import (
    campaign_create,
    campaign_participant_link,
    participants_import_csv,
    participants_import_source,
)
from apps.core.errors import ApplicationError, UnprocessableError

CSV = """salesperson_id,email,name,region
101,Maria.Souza@acme.test,Maria Souza,Sudeste
102,joao@acme.test,João Lima,Sul
"""


@pytest.fixture
def campaign(tenant):  # type: ignore[no-untyped-def]
    import datetime as dt

    return campaign_create(name="Linha Premium", start_date=dt.date(2026, 1, 1), end_date=dt.date(2026, 3, 31),
                           language="pt-br")


def _file(text: str) -> io.BytesIO:
    return io.BytesIO(text.encode("utf-8"))


def test_a_csv_creates_participant_users_links_and_invites_them_once(campaign, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        result = participants_import_csv(campaign=campaign, file=_file(CSV))

    assert (result.created, result.linked, result.unchanged) == (2, 0, 0)
    maria = User.objects.get(email="maria.souza@acme.test")
    assert maria.role == User.Role.PARTICIPANT and not maria.has_usable_password()
    participant = CampaignParticipant.objects.get(campaign=campaign, participant_key="101")
    assert participant.user == maria and participant.region == "Sudeste" and participant.name == "Maria Souza"
    assert len(mail.outbox) == 2
    invite = next(m for m in mail.outbox if m.to == ["maria.souza@acme.test"])
    assert "Linha Premium" in invite.subject and maria.preferred_language == "pt-br"  # the campaign's language
    uidb36, key = re.search(r"http://alpha\.localhost/accounts/password/reset/key/(\w+)-(\S+)/", invite.body).groups()
    assert str(url_str_to_user_pk(uidb36)) == str(maria.pk) and default_token_generator.check_token(maria, key)

    with django_capture_on_commit_callbacks(execute=True):
        again = participants_import_csv(campaign=campaign, file=_file(CSV))

    assert (again.created, again.linked, again.unchanged) == (0, 0, 2)
    assert User.objects.filter(email__endswith="@acme.test").count() == 2 and len(mail.outbox) == 2


def test_an_existing_user_is_linked_and_told_without_a_password_link(campaign, make_user,
                                                                       django_capture_on_commit_callbacks):
    existing = make_user(role="participant", email="joao@acme.test", preferred_language="en")
    with django_capture_on_commit_callbacks(execute=True):
        result = participants_import_csv(campaign=campaign, file=_file(CSV))

    assert (result.created, result.linked) == (1, 1)
    assert CampaignParticipant.objects.get(campaign=campaign, participant_key="102").user == existing
    told = next(m for m in mail.outbox if m.to == ["joao@acme.test"])
    assert "You take part" in told.subject and "/password/reset/key/" not in told.body


def test_an_invalid_file_is_refused_per_line_and_writes_nothing(campaign, django_capture_on_commit_callbacks):
    bad = CSV + ",nobody@acme.test,No Id,Sul\n103,not-an-email,X,Sul\n101,other@acme.test,Dup,Sul\n"
    users_before = User.objects.count()
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(ApplicationError) as caught:
        participants_import_csv(campaign=campaign, file=_file(bad))

    assert caught.value.code == "invalid_lines"
    assert set(caught.value.fields) == {"line_4", "line_5", "line_6"}
    assert "line 2" in caught.value.fields["line_6"][0]
    assert User.objects.count() == users_before and not campaign.participants.exists() and not mail.outbox


def test_a_file_without_the_columns_is_refused(campaign):
    with pytest.raises(ApplicationError) as caught:
        participants_import_csv(campaign=campaign, file=_file("id,mail\n1,a@b.test\n"))
    assert "file" in caught.value.fields and not campaign.participants.exists()


def test_a_salesperson_linked_to_someone_else_refuses_the_whole_file(campaign, make_user):
    campaign_participant_link(campaign=campaign, participant_key="102", user=make_user(email="other@acme.test"))
    users_before = User.objects.count()

    with pytest.raises(ApplicationError) as caught:
        participants_import_csv(campaign=campaign, file=_file(CSV))

    assert set(caught.value.fields) == {"line_3"}
    assert User.objects.count() == users_before and campaign.participants.count() == 1


def test_the_customer_database_salespeople_are_imported_once(campaign_with_source, sales_data,
                                                             django_capture_on_commit_callbacks):
    campaign = campaign_with_source("en")
    with django_capture_on_commit_callbacks(execute=True):
        result = participants_import_source(campaign=campaign)

    assert result.created == len(sales_data.salespeople) and not result.skipped
    imported = {p.participant_key: (p.email, p.name, p.user.role) for p in campaign.participants.select_related("user")}
    assert imported == {str(sp[0]): (sp[2], sp[1], User.Role.PARTICIPANT) for sp in sales_data.salespeople}
    assert len(mail.outbox) == len(sales_data.salespeople)

    again = participants_import_source(campaign=campaign)
    assert (again.created, again.linked, again.unchanged) == (0, 0, len(sales_data.salespeople))


def test_importing_from_the_database_needs_a_mapped_schema(campaign):
    with pytest.raises(UnprocessableError):
        participants_import_source(campaign=campaign)
    assert not campaign.participants.exists()


def test_participants_imported_into_an_approved_campaign_join_with_their_email(campaign_with_source, make_user):
    from apps.campaigns.services import campaign_approve, campaign_submit
    from apps.loyalty.selectors import member_list

    campaign = campaign_with_source("en")
    participants_import_csv(campaign=campaign, file=_file(CSV))  # before approval: no program, no member yet
    assert not CampaignParticipant.objects.filter(member_id__isnull=False).exists()
    campaign_submit(campaign=campaign)
    campaign_approve(campaign=campaign, user=make_user(role="admin"))
    participants_import_csv(campaign=campaign, file=_file("salesperson_id,email,name\n103,ines@acme.test,Inês\n"))

    members = {m.customer_id: m for m in member_list().filter(program_id=campaign.loyalty_program_id)}
    assert {key: (m.email, m.name) for key, m in members.items()} == {
        "101": ("maria.souza@acme.test", "Maria Souza"), "102": ("joao@acme.test", "João Lima"),
        "103": ("ines@acme.test", "Inês")}
    assert set(CampaignParticipant.objects.values_list("member_id", flat=True)) == {m.pk for m in members.values()}
