"""The TLP back office: read-only lists, dead letters visible and sent again, the key never shown."""

from __future__ import annotations

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME

from apps.tlp.models import TLPOutbox
from tests.factories.tlp import TLPEntityFactory, TLPOutboxFactory


@pytest.fixture
def staff_client(web_client, make_user):  # type: ignore[no-untyped-def]
    return web_client(user=make_user(role="owner", is_staff=True, is_superuser=True))


@pytest.mark.parametrize("model", ["tlpconfiguration", "tlpentity", "tlpoutbox", "tlpreconciliationreport"])
def test_changelists_load(staff_client, tlp_configured, model):
    TLPEntityFactory()
    TLPOutboxFactory(status=TLPOutbox.Status.DEAD, last_error="TLPValidationError 422: points")
    response = staff_client.get(f"/admin/tlp/{model}/")
    assert response.status_code == 200


def test_the_configuration_page_never_shows_the_key(staff_client, tlp_configured, tlp_key):
    page = staff_client.get(f"/admin/tlp/tlpconfiguration/{tlp_configured.pk}/change/").content.decode()
    assert tlp_configured.endpoint_url in page
    assert tlp_key not in page and tlp_configured.api_key_encrypted not in page


def test_dead_letters_are_listed_and_sent_again(staff_client, tlp_configured):
    dead = TLPOutboxFactory(status=TLPOutbox.Status.DEAD, attempts=12, last_error="TLPUnavailable 503")
    delivered = TLPOutboxFactory(status=TLPOutbox.Status.DELIVERED)
    listing = staff_client.get("/admin/tlp/tlpoutbox/", {"status__exact": "dead"}).content.decode()
    assert dead.member_key in listing and delivered.member_key not in listing

    response = staff_client.post("/admin/tlp/tlpoutbox/", {"action": "requeue",
                                                           ACTION_CHECKBOX_NAME: [dead.pk, delivered.pk]})
    assert response.status_code == 302
    dead.refresh_from_db()
    delivered.refresh_from_db()
    assert (dead.status, dead.attempts) == (TLPOutbox.Status.PENDING, 0)
    assert delivered.status == TLPOutbox.Status.DELIVERED
