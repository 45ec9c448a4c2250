from __future__ import annotations

from django.test import Client as DjangoClient

from apps.accounts.models import User
from tests.factories.accounts import UserFactory, mfa_enable


def _admin_client() -> DjangoClient:
    client = DjangoClient(HTTP_HOST="alpha.localhost")
    client.force_login(UserFactory(role="owner", is_staff=True, is_superuser=True))
    return client


def test_user_admin_lists_and_searches_users(tenant):
    UserFactory(email="findme@example.test")
    client = _admin_client()

    response = client.get("/admin/accounts/user/", {"q": "findme"})

    assert response.status_code == 200
    assert "findme@example.test" in response.content.decode()


def test_user_admin_shows_two_factor_status_read_only(tenant):
    with_mfa = UserFactory(email="mfa@example.test")
    _secret, codes = mfa_enable(with_mfa)
    without = UserFactory(email="plain@example.test")
    client = _admin_client()

    mfa_page = client.get(f"/admin/accounts/user/{with_mfa.pk}/change/").content.decode()
    plain_page = client.get(f"/admin/accounts/user/{without.pk}/change/").content.decode()

    assert f"{len(codes)} unused recovery codes" in mfa_page
    assert 'name="two_factor"' not in mfa_page
    assert "Off" in plain_page


def test_user_admin_adds_a_user(tenant):
    client = _admin_client()

    response = client.post("/admin/accounts/user/add/", {
        "email": "added@example.test", "role": "analyst", "password1": "Violet-harbour-5512",
        "password2": "Violet-harbour-5512", "usable_password": "true",
    })

    assert response.status_code == 302, response.content.decode()[:3000]
    assert User.objects.get(email="added@example.test").role == "analyst"


def test_non_staff_users_cannot_open_the_admin(tenant):
    client = DjangoClient(HTTP_HOST="alpha.localhost")
    client.force_login(UserFactory(role="participant"))

    response = client.get("/admin/accounts/user/")

    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]
