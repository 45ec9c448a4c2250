"""allauth's server-rendered flows on a tenant host: sign-in, email confirmation, password reset, sign-out, MFA
and rate limits. The links in the emails must point at the tenant's own host."""

from __future__ import annotations

import re

from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from django.conf import settings
from django.test import Client as DjangoClient

from apps.accounts.models import User
from tests.factories.accounts import DEFAULT_PASSWORD, UserFactory, mfa_enable, totp_code

HOST = "alpha.localhost"
LOGIN = "/accounts/login/"
NEW_PASSWORD = "Fresh-meadow-7730"


def _browser(ip: str = "192.0.2.10") -> DjangoClient:
    return DjangoClient(HTTP_HOST=HOST, REMOTE_ADDR=ip)


def _signed_in_user_id(client: DjangoClient) -> str | None:
    return client.session.get("_auth_user_id")


def _link(message, path_prefix: str) -> str:  # type: ignore[no-untyped-def]
    match = re.search(rf"http://{re.escape(HOST)}({re.escape(path_prefix)}\S+/)", message.body)
    assert match, message.body
    return match.group(1)


def test_login_page_uses_the_product_layout_and_offers_no_signup(tenant):
    response = _browser().get(LOGIN)

    assert response.status_code == 200
    html = response.content.decode()
    assert 'class="topbar"' in html  # templates/base.html
    assert "Alpha" in html  # the tenant's name in the header and title
    assert 'name="login"' in html
    assert 'name="password"' in html
    assert "/accounts/signup/" not in html
    assert "/accounts/password/reset/" in html


def test_password_login_signs_in_and_logout_signs_out(tenant):
    user = UserFactory(email="ana@example.test")
    client = _browser()

    response = client.post(LOGIN, {"login": "ana@example.test", "password": DEFAULT_PASSWORD})

    assert response.status_code == 302
    assert response["Location"] == settings.LOGIN_REDIRECT_URL
    assert _signed_in_user_id(client) == str(user.pk)
    assert client.get("/").status_code == 200

    logout = client.post("/accounts/logout/")

    assert logout.status_code == 302
    assert _signed_in_user_id(client) is None
    assert client.get("/")["Location"].startswith(LOGIN)


def test_wrong_password_shows_the_form_again_and_signs_nobody_in(tenant):
    user = UserFactory(email="ana@example.test")
    client = _browser()

    response = client.post(LOGIN, {"login": "ana@example.test", "password": "wrong-password"})

    assert response.status_code == 200
    assert response.context["form"].errors
    assert _signed_in_user_id(client) is None
    user.refresh_from_db()
    assert user.last_login is None


def test_signup_is_closed(tenant):
    client = _browser()

    page = client.get("/accounts/signup/")
    post = client.post("/accounts/signup/", {"email": "me@example.test", "password1": NEW_PASSWORD,
                                             "password2": NEW_PASSWORD})

    assert "Sign Up Closed" in page.content.decode()
    assert post.status_code == 200
    assert "Sign Up Closed" in post.content.decode()
    assert not User.objects.filter(email="me@example.test").exists()


def test_an_unverified_email_must_be_confirmed_before_signing_in(tenant, mailoutbox):
    user = UserFactory(email="new@example.test")
    EmailAddress.objects.filter(user=user).update(verified=False)
    client = _browser()

    first = client.post(LOGIN, {"login": "new@example.test", "password": DEFAULT_PASSWORD})

    assert first.status_code == 302
    assert first["Location"] == "/accounts/confirm-email/"
    assert _signed_in_user_id(client) is None
    assert len(mailoutbox) == 1
    assert mailoutbox[0].to == ["new@example.test"]
    confirm_path = _link(mailoutbox[0], "/accounts/confirm-email/")

    assert client.get(confirm_path).status_code == 200
    confirmed = client.post(confirm_path)

    assert confirmed.status_code == 302
    assert EmailAddress.objects.get(user=user).verified
    again = _browser().post(LOGIN, {"login": "new@example.test", "password": DEFAULT_PASSWORD})
    assert again.status_code == 302
    assert again["Location"] == settings.LOGIN_REDIRECT_URL


def test_password_reset_by_email_end_to_end(tenant, mailoutbox):
    user = UserFactory(email="forgetful@example.test")
    client = _browser()

    requested = client.post("/accounts/password/reset/", {"email": "Forgetful@example.test"})

    assert requested.status_code == 302
    assert len(mailoutbox) == 1
    assert mailoutbox[0].subject.startswith("[Alpha] ")
    reset_path = _link(mailoutbox[0], "/accounts/password/reset/key/")
    form_page = client.get(reset_path, follow=True)
    assert form_page.status_code == 200
    set_password_path = form_page.redirect_chain[-1][0] if form_page.redirect_chain else reset_path

    done = client.post(set_password_path, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD})

    assert done.status_code == 302
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)
    old = _browser().post(LOGIN, {"login": "forgetful@example.test", "password": DEFAULT_PASSWORD})
    assert old.status_code == 200  # the old password no longer works
    fresh = _browser()
    new = fresh.post(LOGIN, {"login": "forgetful@example.test", "password": NEW_PASSWORD})
    assert new.status_code == 302
    assert _signed_in_user_id(fresh) == str(user.pk)
    # The link is single use.
    reused = _browser().get(reset_path, follow=True)
    assert "password1" not in reused.content.decode()


def test_password_reset_with_a_weak_password_changes_nothing(tenant, mailoutbox):
    user = UserFactory(email="forgetful@example.test")
    client = _browser()
    client.post("/accounts/password/reset/", {"email": "forgetful@example.test"})
    form_page = client.get(_link(mailoutbox[0], "/accounts/password/reset/key/"), follow=True)

    response = client.post(form_page.redirect_chain[-1][0], {"password1": "123", "password2": "123"})

    assert response.status_code == 200
    assert response.context["form"].errors
    user.refresh_from_db()
    assert user.check_password(DEFAULT_PASSWORD)


def test_failed_browser_logins_are_rate_limited(tenant):
    user = UserFactory(email="ana@example.test")
    client = _browser(ip="192.0.2.77")
    for _ in range(5):  # ACCOUNT_RATE_LIMITS["login_failed"] = 5/m/ip,5/5m/key
        assert client.post(LOGIN, {"login": "ana@example.test", "password": "wrong"}).status_code == 200

    blocked = client.post(LOGIN, {"login": "ana@example.test", "password": DEFAULT_PASSWORD})

    assert blocked.status_code == 200
    assert "Too many failed login attempts" in blocked.content.decode()
    assert _signed_in_user_id(client) is None
    user.refresh_from_db()
    assert user.last_login is None


def test_the_login_form_answers_429_after_the_attempt_limit(tenant):
    client = _browser(ip="192.0.2.99")
    limit = int(settings.ACCOUNT_RATE_LIMITS["login"].split("/")[0])
    statuses = [client.post(LOGIN, {"login": f"u{i}@example.test", "password": "x"}).status_code
                for i in range(limit)]

    response = client.post(LOGIN, {"login": "last@example.test", "password": "x"})

    assert set(statuses) == {200}
    assert response.status_code == 429
    assert _browser(ip="192.0.2.100").post(LOGIN, {"login": "x@example.test", "password": "x"}).status_code == 200


# ------------------------------------------------------------------------------------------ MFA


def _login_until_mfa(email: str) -> DjangoClient:
    client = _browser()
    response = client.post(LOGIN, {"login": email, "password": DEFAULT_PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == "/accounts/2fa/authenticate/"
    assert _signed_in_user_id(client) is None
    return client


def test_browser_login_asks_for_the_totp_code(tenant):
    user = UserFactory(email="mfa@example.test")
    secret, _codes = mfa_enable(user)
    client = _login_until_mfa("mfa@example.test")

    page = client.get("/accounts/2fa/authenticate/")
    wrong = client.post("/accounts/2fa/authenticate/", {"code": totp_code(secret, offset_periods=40)})
    right = client.post("/accounts/2fa/authenticate/", {"code": totp_code(secret)})

    assert page.status_code == 200
    assert 'class="topbar"' in page.content.decode()
    assert wrong.status_code == 200
    assert right.status_code == 302
    assert _signed_in_user_id(client) == str(user.pk)


def test_browser_login_accepts_a_recovery_code_once(tenant):
    user = UserFactory(email="mfa@example.test")
    _secret, codes = mfa_enable(user)

    first = _login_until_mfa("mfa@example.test")
    ok = first.post("/accounts/2fa/authenticate/", {"code": codes[0]})
    second = _login_until_mfa("mfa@example.test")
    reused = second.post("/accounts/2fa/authenticate/", {"code": codes[0]})

    assert ok.status_code == 302
    assert _signed_in_user_id(first) == str(user.pk)
    assert reused.status_code == 200
    assert _signed_in_user_id(second) is None
    remaining = Authenticator.objects.get(user=user, type="recovery_codes").wrap().get_unused_codes()
    assert codes[0] not in remaining
