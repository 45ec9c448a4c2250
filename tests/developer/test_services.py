from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from oauth2_provider.models import Application

from apps.core.errors import ApplicationError
from apps.developer.models import APIKey, PartnerApplication
from apps.developer.selectors import api_key_get_by_raw_key, application_allowed_scopes
from apps.developer.services import (
    api_key_create,
    api_key_revoke,
    api_key_touch,
    partner_application_create,
    partner_application_delete,
)


def test_api_key_create_stores_only_the_hash(tenant):
    issued = api_key_create(name=" Sync ", scopes=["loyalty:read", "loyalty:read", "campaigns:read"])

    stored = APIKey.objects.get()
    assert stored.name == "Sync"
    assert stored.scopes == ["campaigns:read", "loyalty:read"]
    assert issued.raw_key not in (stored.key_hash, stored.prefix)
    assert api_key_get_by_raw_key(raw_key=issued.raw_key) == stored


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [({"name": " ", "scopes": ["loyalty:read"]}, "name"), ({"name": "x", "scopes": []}, "scopes"),
     ({"name": "x", "scopes": ["nope"]}, "scopes"),
     ({"name": "x", "scopes": ["loyalty:read"], "expires_at": timezone.now() - timedelta(minutes=1)}, "expires_at")],
)
def test_api_key_create_refuses_bad_input_and_writes_nothing(tenant, kwargs, field):
    with pytest.raises(ApplicationError) as error:
        api_key_create(**kwargs)

    assert field in error.value.fields
    assert not APIKey.objects.exists()


def test_an_expired_or_revoked_key_does_not_authenticate(tenant):
    expiring = api_key_create(name="soon", scopes=["loyalty:read"], expires_at=timezone.now() + timedelta(hours=1))
    revoked = api_key_create(name="gone", scopes=["loyalty:read"])
    api_key_revoke(api_key=revoked.api_key)
    APIKey.objects.filter(pk=expiring.api_key.pk).update(expires_at=timezone.now() - timedelta(seconds=1))

    assert api_key_get_by_raw_key(raw_key=expiring.raw_key) is None
    assert api_key_get_by_raw_key(raw_key=revoked.raw_key) is None


def test_revoking_twice_keeps_the_first_revocation_time(tenant):
    api_key = api_key_create(name="x", scopes=["loyalty:read"]).api_key
    first = api_key_revoke(api_key=api_key).revoked_at

    assert api_key_revoke(api_key=api_key).revoked_at == first


def test_touch_writes_at_most_once_a_minute(tenant):
    api_key = api_key_create(name="x", scopes=["loyalty:read"]).api_key
    api_key_touch(api_key=api_key)
    first = APIKey.objects.get().last_used_at

    api_key_touch(api_key=api_key)
    assert APIKey.objects.get().last_used_at == first
    APIKey.objects.update(last_used_at=timezone.now() - timedelta(minutes=2))
    api_key.refresh_from_db()
    api_key_touch(api_key=api_key)
    assert APIKey.objects.get().last_used_at > first


def test_partner_application_create_hashes_the_secret_and_records_scopes(tenant):
    registered = partner_application_create(name="ERP", scopes=["loyalty:read"])

    application = Application.objects.get()
    assert registered.client_secret and application.client_secret != registered.client_secret
    assert application_allowed_scopes(application=application) == {"loyalty:read"}


def test_a_public_authorization_code_client_has_no_secret_to_show(tenant):
    registered = partner_application_create(name="SPA", scopes=["loyalty:read"], grant_type="authorization-code",
                                            client_type="public", redirect_uris=["https://spa.example/cb"])

    assert registered.client_secret is None


def test_a_redirect_uri_dot_refuses_is_a_400(tenant):
    with pytest.raises(ApplicationError) as error:
        partner_application_create(name="x", scopes=["loyalty:read"], grant_type="authorization-code",
                                   redirect_uris=["javascript:alert(1)"])

    assert "redirect_uris" in error.value.fields
    assert not Application.objects.exists()


def test_partner_application_delete_removes_the_oauth_application(tenant):
    partner = partner_application_create(name="x", scopes=["loyalty:read"]).partner

    partner_application_delete(partner=partner)

    assert not Application.objects.exists()
    assert not PartnerApplication.objects.exists()
